/**
 * The routes the API role (`--role api`) does not serve, answering 501 with a stable code instead of
 * an answer made of one owner's share: a profile's history (`not_in_api_role`: `timeline`, `as_of`,
 * `explain/:key` read the history and definitions of a version as one process computed it), and the
 * management API beyond definitions (`not-in-api-role`: members, changes, size history, exports and
 * destinations need every worker's state or a change-log consumer of their own; without a
 * definitions home, every management route). Auth comes first, as on every route: a caller without a
 * token of the space learns nothing more than elsewhere.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { SpaceDirectory } from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';
import { managementAuth } from '../management/bearer-auth.ts';

export const NOT_IN_API_ROLE = 'not_in_api_role';

/** The history paths (mount after the Profile API routes, whose auth middleware covers them). */
export function notInApiRoleHistoryRoutes(router: OpenAPIHono): void {
  const profile = '/v1/spaces/:spaceId/collections/:collection/profiles/:identifier';
  for (const path of [`${profile}/timeline`, `${profile}/as_of`, `${profile}/explain/:key`]) {
    router.get(path, () => {
      throw new HttpError(501, NOT_IN_API_ROLE, "a profile's history is not served by the API role yet: ask a process running with --role all");
    });
  }
}

/** Every management route not mounted before it (`definitions`: whether the definition routes are). */
export function notInApiRoleManagementRoutes(router: OpenAPIHono, deps: { readonly spaces: SpaceDirectory; readonly definitions: boolean }): void {
  if (!deps.definitions) router.use('/spaces/:spaceId/*', managementAuth(deps.spaces));
  router.all('/spaces/:spaceId/*', () => {
    throw new HttpError(
      501,
      'not-in-api-role',
      deps.definitions
        ? "not served by the API role: members, changes, size history, exports and destinations need every worker's state — ask a process running with --role all"
        : 'the management API is not served by this API process: it runs without the definitions home (NATS) — manage definitions with --role all or the definitions file',
    );
  });
}
