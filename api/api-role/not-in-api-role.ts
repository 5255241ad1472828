/**
 * The routes the API role (`--role api`) does not serve, answering 501 with a stable code instead of
 * an answer made of one owner's share: the management API (`not-in-api-role`: definitions, sizes,
 * members, exports and destinations need every worker's state and a registry the workers would pick
 * up), and a profile's history (`not_in_api_role`: `timeline`, `as_of`, `explain/:key` read the history
 * and definitions of a version as one process computed it). Auth comes first, as on every route: a
 * caller without a token of the space learns nothing more than elsewhere.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { SpaceDirectory } from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';
import { managementAuth } from '../management/bearer-auth.ts';

export const NOT_IN_API_ROLE = 'not_in_api_role';

/** Mounts after the Profile API routes (whose auth middleware covers the history paths). */
export function notInApiRoleRoutes(router: OpenAPIHono, deps: { readonly spaces: SpaceDirectory }): void {
  const profile = '/v1/spaces/:spaceId/collections/:collection/profiles/:identifier';
  for (const path of [`${profile}/timeline`, `${profile}/as_of`, `${profile}/explain/:key`]) {
    router.get(path, () => {
      throw new HttpError(501, NOT_IN_API_ROLE, "a profile's history is not served by the API role yet: ask a process running with --role all");
    });
  }
  router.use('/spaces/:spaceId/*', managementAuth(deps.spaces));
  router.all('/spaces/:spaceId/*', () => {
    throw new HttpError(501, 'not-in-api-role', 'the management API is not served by the API role: definitions are read by workers at start and sizes span every worker — manage definitions with --role all or the definitions file');
  });
}
