/** `createApp(deps)`: the Hono app that composes every router, with request ids, metrics and the one error handler. */
import { OpenAPIHono } from '@hono/zod-openapi';
import { Hono, type Context } from 'hono';
import { requestId } from 'hono/request-id';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClusterReadError,
  directProfileLocator,
  ExportJobs,
  indexedProfileEvents,
  ProfileReader,
  type DefinitionRegistry,
  type DestinationStore,
  type EngineStats,
  type EventLog,
  type EventSource,
  type ExplorerStore,
  type ProfileEventIndex,
  type ProfileLinkIndex,
  type ProfileLocator,
  type RemoteProfiles,
  type DefinitionsReplica,
  type RemoteSizes,
  type SpaceDirectory,
  type StoreHandle,
} from '../engine/index.ts';
import { HttpError } from './http-error.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { RateLimitConfig } from './ingest/rate-limiter.ts';
import { settingsRouter } from './ingest/settings-router.ts';
import { trackingRouter } from './ingest/tracking-router.ts';
import { managementRoutes } from './management/management-router.ts';
import { createMetrics } from './ops/metrics.ts';
import { opsRoutes, type Readiness } from './ops/ops-routes.ts';
import { profileRoutes } from './profiles/profile-routes.ts';
import { historyRoutes } from './history/history-routes.ts';
import { dashboardRoutes } from './dashboard/dashboard-routes.ts';
import { notInApiRoleHistoryRoutes, notInApiRoleManagementRoutes } from './api-role/not-in-api-role.ts';
import { clusterManagementRoutes } from './api-role/cluster-management.ts';

export interface AppDeps {
  readonly eventLog: Pick<EventLog, 'append'>;
  readonly spaces: SpaceDirectory;
  /** per-space ingest limit; default: none. */
  readonly rateLimit?: RateLimitConfig;
  /** epoch ms; default `Date.now`. */
  readonly clock?: () => number;
  readonly logger?: Logger;
  readonly publicApiHost?: string | undefined;
  /** ids for calls sent without `messageId`; default `flock-<uuid>`. */
  readonly newMessageId?: () => string;
  /** the definition registry and the engine's state (read-only): with both, the management and Profile APIs are served. */
  readonly registry?: DefinitionRegistry | undefined;
  readonly store?: StoreHandle | undefined;
  /** the explorer store this process keeps from the change log (recent changes, size over time). */
  readonly explorer?: ExplorerStore | undefined;
  /** how Profile API identifiers find profiles; default: today's direct `user_id:` / `anonymous_id:` ids. */
  readonly locator?: ProfileLocator | undefined;
  readonly profileEvents?: ProfileEventIndex | undefined;
  /** the event log by position: with it, the Profile API's `events` and explanations read the engine's per-profile event index. */
  readonly eventSource?: EventSource | undefined;
  readonly profileLinks?: ProfileLinkIndex | undefined;
  /** Profile API requests per second per space (0 = none); default: none. */
  readonly profileRateLimit?: number | undefined;
  /** `/readyz`; default: always ready. */
  readonly readiness?: (() => Readiness | Promise<Readiness>) | undefined;
  /** the engine thread's stats and the event log's end, for `/metrics`. */
  readonly engineStats?: (() => EngineStats | undefined) | undefined;
  readonly eventLogLastSeq?: (() => Promise<number>) | undefined;
  /** whether this process's event-log connection is up (metrics: flock_log_reachable). */
  readonly logReachable?: (() => boolean) | undefined;
  /** spaces whose definitions `/metrics` counts. */
  readonly spaceIds?: readonly string[] | undefined;
  /** CSV export jobs; default: jobs writing to a fresh temp directory (created by the first export). */
  readonly exports?: ExportJobs | undefined;
  /** destinations (their management API and /metrics); default: not served. */
  readonly destinations?: DestinationStore | undefined;
  /** the change log's newest position: destination lag. */
  readonly changeLogLastSeq?: (() => Promise<number>) | undefined;
  /**
   * the API role (`--role api`): the Profile API read from the cluster's owners over NATS instead of a
   * store (engine/cluster/remote-profiles.ts); the routes it cannot serve answer 501 (api-role/).
   */
  readonly cluster?: RemoteProfiles | undefined;
  /** the API role: its replica of the cluster's shared definitions home — with it, the definition routes of the management API are served. */
  readonly clusterDefinitions?: DefinitionsReplica | undefined;
  /** the API role: definition sizes gathered from the workers (without it, null). */
  readonly clusterSizes?: RemoteSizes | undefined;
}

const VERSION = '0.1.0';

export function createApp(deps: AppDeps): Hono {
  const logger = deps.logger ?? silentLogger;
  const clock = deps.clock ?? Date.now;
  const app = new Hono();
  // every response, errors included, carries a Request-Id (a valid incoming one is kept).
  app.use(requestId({ headerName: 'Request-Id' }));
  const metrics = createMetrics({
    engineStats: deps.engineStats,
    eventLogLastSeq: deps.eventLogLastSeq,
    logReachable: deps.logReachable,
    registry: deps.registry,
    spaceIds: deps.spaceIds,
    destinations: deps.destinations,
    changeLogLastSeq: deps.changeLogLastSeq,
    clock,
  });
  app.use(metrics.middleware);
  app.route(
    '/v1',
    trackingRouter({
      eventLog: deps.eventLog,
      spaces: deps.spaces,
      rateLimit: deps.rateLimit ?? { eventsPerSecond: 0, burst: 1 },
      clock,
      logger,
      ...(deps.newMessageId === undefined ? {} : { newMessageId: deps.newMessageId }),
    }),
  );
  app.route('/v1', settingsRouter({ spaces: deps.spaces, publicApiHost: deps.publicApiHost }));

  // The documented APIs: routes declared with zod schemas, which validate requests and make /openapi.json.
  const api = new OpenAPIHono({ defaultHook: (result, c) => (result.success ? undefined : validationFailed(c, result.target, result.error)) });
  if (deps.cluster !== undefined) {
    profileRoutes(api, {
      spaces: deps.spaces,
      reader: deps.cluster.reader,
      locator: deps.cluster.locator,
      events: deps.cluster.events,
      links: deps.cluster.links,
      requestsPerSecond: deps.profileRateLimit ?? 0,
      clock,
    });
    notInApiRoleHistoryRoutes(api);
    if (deps.clusterDefinitions !== undefined) clusterManagementRoutes(api, { spaces: deps.spaces, definitions: deps.clusterDefinitions, sizes: deps.clusterSizes, logger });
    else notInApiRoleManagementRoutes(api, { spaces: deps.spaces, definitions: false });
  } else if (deps.registry !== undefined && deps.store !== undefined) {
    const exports = deps.exports ?? new ExportJobs({ store: deps.store, registry: deps.registry, dir: join(tmpdir(), `flock-exports-${randomUUID()}`), clock });
    managementRoutes(api, {
      registry: deps.registry,
      store: deps.store,
      explorer: deps.explorer,
      spaces: deps.spaces,
      clock,
      logger,
      exports,
      destinations: deps.destinations,
      changeLogLastSeq: deps.changeLogLastSeq,
      locator: deps.locator ?? directProfileLocator,
    });
    profileRoutes(api, {
      spaces: deps.spaces,
      reader: new ProfileReader(deps.store, deps.registry),
      locator: deps.locator ?? directProfileLocator,
      events: deps.profileEvents ?? (deps.eventSource === undefined ? undefined : indexedProfileEvents(deps.store, deps.eventSource)),
      links: deps.profileLinks,
      requestsPerSecond: deps.profileRateLimit ?? 0,
      clock,
    });
    historyRoutes(api, { registry: deps.registry, store: deps.store, locator: deps.locator ?? directProfileLocator, events: deps.eventSource });
  }
  opsRoutes(api, { readiness: deps.readiness ?? (() => ({ ready: true, details: {} })), metrics: metrics.registry, version: VERSION });
  app.route('/', api);
  // the web dashboard at `/`: pages and a session's door to the routes above
  dashboardRoutes(app, { spaces: deps.spaces, clock, fetch: (request) => app.fetch(request) });

  app.notFound((c) => {
    const error = new HttpError(404, c.req.path.startsWith('/spaces/') ? 'not-found' : 'not_found', `no route for ${c.req.method} ${c.req.path}`);
    return c.req.path.startsWith('/spaces/') ? c.json(error.publicApiBody(), 404) : c.json(error.body(), 404);
  });
  app.onError((caught, c) => {
    const publicApi = c.get('errorEnvelope') === 'public-api';
    let error: HttpError;
    if (caught instanceof HttpError) error = caught;
    else if (caught instanceof ClusterReadError) {
      // the API role: no owner answered (503, retry), or a read it does not serve (501)
      error = caught.code === 'not_in_api_role' ? new HttpError(501, caught.code, caught.message) : new HttpError(503, caught.code, caught.message, { 'Retry-After': '1' });
    } else if (caught instanceof HTTPException) {
      // e.g. the JSON validator's "Malformed JSON in request body"
      const code = publicApi ? (caught.status === 415 ? 'unsupported-media-type' : 'input-validation') : caught.status === 400 || caught.status === 415 ? 'invalid_request_error' : 'http_error';
      error = new HttpError(caught.status as HttpError['status'], code, caught.status === 415 ? 'send the body as JSON (Content-Type: application/json)' : caught.message);
    } else {
      logger.error('unhandled error', { requestId: c.get('requestId'), method: c.req.method, path: c.req.path, error: caught });
      error = new HttpError(500, publicApi ? 'internal' : 'internal_error', 'internal error');
    }
    return c.json(publicApi ? error.publicApiBody() : error.body(), error.status, error.headers);
  });
  return app;
}

/** A request that does not match its route's schema: 400 with one issue per problem, named by field. */
function validationFailed(c: Context, target: string, zodError: ZodError): never {
  const issues = zodError.issues.map((issue) => {
    const field = issue.path.map(String).join('.') || target;
    return { message: `${field}: ${issue.message}`, field };
  });
  const publicApi = c.get('errorEnvelope') === 'public-api';
  // a schema may name its failure (path-params.ts: an over-long id); otherwise the API's generic code
  const own = zodError.issues.map((issue) => (issue.code === 'custom' ? issue.params?.['code'] : undefined)).find((code) => typeof code === 'string');
  throw new HttpError(400, typeof own === 'string' ? own : publicApi ? 'input-validation' : 'validation_error', issues.map((i) => i.message).join('; ') || `invalid ${target}`, {}, { issues });
}
