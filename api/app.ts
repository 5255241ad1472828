/** `createApp(deps)`: the Hono app that composes every router, with request ids and the one error handler. */
import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { HTTPException } from 'hono/http-exception';
import type { EventLog, SpaceDirectory } from '../engine/index.ts';
import { HttpError } from './http-error.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { RateLimitConfig } from './ingest/rate-limiter.ts';
import { settingsRouter } from './ingest/settings-router.ts';
import { trackingRouter } from './ingest/tracking-router.ts';

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
}

/** Later routers (management, Profile API) mount here too. */
export function createApp(deps: AppDeps): Hono {
  const logger = deps.logger ?? silentLogger;
  const app = new Hono();
  // every response, errors included, carries a Request-Id (a valid incoming one is kept).
  app.use(requestId({ headerName: 'Request-Id' }));
  app.route(
    '/v1',
    trackingRouter({
      eventLog: deps.eventLog,
      spaces: deps.spaces,
      rateLimit: deps.rateLimit ?? { eventsPerSecond: 0, burst: 1 },
      clock: deps.clock ?? Date.now,
      logger,
      ...(deps.newMessageId === undefined ? {} : { newMessageId: deps.newMessageId }),
    }),
  );
  app.route('/v1', settingsRouter({ spaces: deps.spaces, publicApiHost: deps.publicApiHost }));

  app.notFound((c) => c.json(new HttpError(404, 'not_found', `no route for ${c.req.method} ${c.req.path}`).body(), 404));
  app.onError((error, c) => {
    if (error instanceof HttpError) return c.json(error.body(), error.status, error.headers);
    if (error instanceof HTTPException) {
      return c.json(new HttpError(error.status as HttpError['status'], 'http_error', error.message).body(), error.status);
    }
    logger.error('unhandled error', { requestId: c.get('requestId'), method: c.req.method, path: c.req.path, error });
    return c.json(new HttpError(500, 'internal_error', 'internal error').body(), 500);
  });
  return app;
}
