/**
 * The management API of the API role (`--role api`): the definition routes of one process —
 * `/spaces/:spaceId/{audiences,computed-traits}` create, list, get, update, delete,
 * `audience-references`, `validations` — with the same bodies and error codes, over the cluster's
 * shared definitions home (home-registry.ts), which the workers and the identity stage follow.
 * Sizes show what one process shows of a definition with no serving version (null) until the
 * workers' reports are gathered; what needs every worker's state answers 501 (not-in-api-role.ts).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { DefinitionsReplica, SpaceDirectory } from '../../engine/index.ts';
import type { Logger } from '../logger.ts';
import { managementAuth } from '../management/bearer-auth.ts';
import { definitionRoutes } from '../management/definitions-router.ts';
import { AUDIENCES, COMPUTED_TRAITS } from '../management/present.ts';
import { validationRoutes } from '../management/validation-routes.ts';
import { homeRegistry, syncDefinitions } from './home-registry.ts';
import { notInApiRoleManagementRoutes } from './not-in-api-role.ts';

export function clusterManagementRoutes(router: OpenAPIHono, deps: { readonly spaces: SpaceDirectory; readonly definitions: DefinitionsReplica; readonly logger: Logger }): void {
  router.openAPIRegistry.registerComponent('securitySchemes', 'managementToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'a management token of the space (spaces file `managementTokens`)',
  });
  router.use('/spaces/:spaceId/*', managementAuth(deps.spaces));
  router.use('/spaces/:spaceId/*', syncDefinitions(deps.definitions));
  const registry = homeRegistry(deps.definitions);
  // (no engine state here: a size is what one process shows with no serving version)
  const store = { get: () => undefined, close: async () => {} };
  for (const spec of [AUDIENCES, COMPUTED_TRAITS]) {
    validationRoutes(router, spec, { registry });
    definitionRoutes(router, spec, { registry, store, logger: deps.logger });
  }
  notInApiRoleManagementRoutes(router, { spaces: deps.spaces, definitions: true });
}
