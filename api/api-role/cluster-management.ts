/**
 * The management API of the API role (`--role api`): the definition routes of one process —
 * `/spaces/:spaceId/{audiences,computed-traits}` create, list, get, update, delete,
 * `audience-references`, `validations` — with the same bodies and error codes, over the cluster's
 * shared definitions home (home-registry.ts), which the workers and the identity stage follow.
 * A size is gathered from the workers (every partition set's outputs summed, 503
 * `partition_unavailable` while a partition has no owner); a status is the home's (the workers
 * report none: they compute their definitions from the log's start). What needs every worker's
 * state row by row (members, changes, size history, exports) or a change-log consumer of its own
 * (destinations) answers 501 (not-in-api-role.ts).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { servingVersion, type DefinitionsReplica, type RemoteSizes, type SpaceDirectory } from '../../engine/index.ts';
import type { Logger } from '../logger.ts';
import { mountManagementAuth } from '../management/bearer-auth.ts';
import { definitionRoutes, type SizeSource } from '../management/definitions-router.ts';
import { AUDIENCES, COMPUTED_TRAITS } from '../management/present.ts';
import { validationRoutes } from '../management/validation-routes.ts';
import { homeRegistry, syncDefinitions } from './home-registry.ts';
import { notInApiRoleManagementRoutes } from './not-in-api-role.ts';

export interface ClusterManagementDeps {
  readonly spaces: SpaceDirectory;
  readonly definitions: DefinitionsReplica;
  /** sizes gathered from the workers (engine/cluster/remote-sizes.ts); without it, null as with no engine state. */
  readonly sizes?: RemoteSizes | undefined;
  readonly logger: Logger;
}

export function clusterManagementRoutes(router: OpenAPIHono, deps: ClusterManagementDeps): void {
  mountManagementAuth(router, deps.spaces);
  router.use('/spaces/:spaceId/*', syncDefinitions(deps.definitions));
  const registry = homeRegistry(deps.definitions);
  // (no engine state here: sizes are the workers' outputs summed, null without a serving version as in one process)
  const store = { get: () => undefined, close: async () => {} };
  const remote = deps.sizes;
  const sizes: SizeSource | undefined =
    remote === undefined
      ? undefined
      : async (space, records) => {
          const serving = records.filter((r) => servingVersion(r) !== undefined).map((r) => r.id);
          const counts = await remote(space, serving);
          return new Map(records.map((r) => [r.id, counts.get(r.id) ?? null]));
        };
  for (const spec of [AUDIENCES, COMPUTED_TRAITS]) {
    validationRoutes(router, spec, { registry });
    definitionRoutes(router, spec, { registry, store, logger: deps.logger, ...(sizes === undefined ? {} : { sizes }) });
  }
  notInApiRoleManagementRoutes(router, { spaces: deps.spaces, definitions: true });
}
