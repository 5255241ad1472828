/**
 * The registry the API role's management routes use: the process's replica of the cluster's shared
 * definitions home (engine/cluster/definitions-replica.ts). Reads are the replica's registry (synced
 * before each request: `syncDefinitions`); writes go through the home, so every API process, worker and
 * the identity stage apply them in one order. Previews are computed by an engine over the whole log,
 * which the API role has not: 501 `not-in-api-role`.
 */
import type { MiddlewareHandler } from 'hono';
import type { DefinitionsReplica } from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';
import type { ManagedRegistry } from '../management/definitions-router.ts';

export const NOT_IN_API_ROLE_MANAGEMENT = 'not-in-api-role';

const noPreviews = (): never => {
  throw new HttpError(501, NOT_IN_API_ROLE_MANAGEMENT, 'previews are computed by an engine over the whole log: not served by the API role (ask a process running with --role all)');
};

export function homeRegistry(replica: DefinitionsReplica): ManagedRegistry & Pick<DefinitionsReplica['registry'], 'validate'> {
  const r = replica.registry;
  return {
    get: (space, id, options) => r.get(space, id, options),
    list: (space, kind, page) => r.list(space, kind, page),
    consumers: (space, key) => r.consumers(space, key),
    validate: (space, input) => r.validate(space, input),
    create: (input) => replica.create(input),
    update: (space, id, patch) => replica.update(space, id, patch),
    remove: (space, id) => replica.remove(space, id),
    createPreview: noPreviews,
    getPreview: noPreviews,
  };
}

/** Brings the replica up to the home before a management request: its answer reflects every write accepted before it. */
export function syncDefinitions(replica: DefinitionsReplica): MiddlewareHandler {
  return async (_c, next) => {
    try {
      await replica.sync();
    } catch (error) {
      throw new HttpError(503, 'definitions-unavailable', `the definitions home (KV bucket flock_definitions) did not answer: ${error instanceof Error ? error.message : String(error)}; retry shortly`, { 'Retry-After': '1' }, { cause: error });
    }
    await next();
  };
}
