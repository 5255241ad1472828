/** The Segment HTTP tracking API: `POST /v1/{track,identify,page,screen,group,alias,batch}` and the short paths `/v1/{t,i,p,s,g,a,b}`. */
import { Hono, type Context } from 'hono';
import {
  DEFAULT_IDENTITY_RULES,
  MAX_BATCH_EVENTS,
  MAX_EVENT_BYTES,
  MAX_REQUEST_BYTES,
  normalizeBatch,
  normalizeCall,
  unidentified,
  type EventLog,
  type EventType,
  type FlockEvent,
  type NormalizeMeta,
  type SpaceDirectory,
  type WriteKeyGrant,
  isStorageFull,
} from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';
import type { Logger } from '../logger.ts';
import { parseJsonObject } from './parse-json.ts';
import { readBody } from './read-body.ts';
import { RateLimiter, type RateLimitConfig } from './rate-limiter.ts';
import { trackingCors } from './tracking-cors.ts';
import { authorize, basicAuthWriteKey, bodyWriteKey } from './write-key.ts';

export interface TrackingDeps {
  readonly eventLog: Pick<EventLog, 'append'>;
  readonly spaces: SpaceDirectory;
  readonly rateLimit: RateLimitConfig;
  /** epoch ms; injected so tests control `receivedAt` and the rate limiter. */
  readonly clock: () => number;
  readonly logger: Logger;
  readonly newMessageId?: () => string;
}

type Kind = EventType | 'batch';

/** a full disk is freed by an operator, not in a second: clients wait longer before retrying. */
const STORAGE_FULL_RETRY_S = 10;

/** Every path, long and short: analytics.js posts to the first letter of the type, mobile libraries to `/b`. */
export const TRACKING_PATHS: Readonly<Record<string, Kind>> = {
  track: 'track',
  t: 'track',
  identify: 'identify',
  i: 'identify',
  page: 'page',
  p: 'page',
  screen: 'screen',
  s: 'screen',
  group: 'group',
  g: 'group',
  alias: 'alias',
  a: 'alias',
  batch: 'batch',
  b: 'batch',
};

/**
 * A call is answered `{"success":true}` only once the event log has made it durable; if the append
 * fails the answer is 503 and the client retries (the messageId makes the retry a no-op if the
 * first attempt was stored after all).
 */
export function trackingRouter(deps: TrackingDeps): Hono {
  const router = new Hono();
  const limiter = new RateLimiter(deps.rateLimit);

  const accept = async (c: Context, kind: Kind): Promise<Response> => {
    const headerKey = basicAuthWriteKey(c.req.header('authorization'));
    // with Basic auth a wrong key is refused before the body is read.
    let grant: WriteKeyGrant | undefined = headerKey === undefined ? undefined : await authorize(deps.spaces, headerKey);
    const bytes = await readBody(c.req.raw, MAX_REQUEST_BYTES);
    if (kind !== 'batch' && bytes.length > MAX_EVENT_BYTES) {
      throw new HttpError(400, 'event_too_large', `an event must be at most ${MAX_EVENT_BYTES} bytes of JSON`);
    }
    const { body, batchItemBytes } = parseJsonObject(bytes);
    grant ??= await authorize(deps.spaces, bodyWriteKey(body));

    const admission = limiter.admit(grant.space.id, kind === 'batch' ? batchCost(body) : 1, deps.clock());
    if (!admission.ok) {
      const seconds = String(Math.max(1, Math.ceil(admission.retryAfterMs / 1000)));
      throw new HttpError(429, 'rate_limited', `space ${grant.space.id} is over its ingest rate limit`, {
        'Retry-After': seconds,
        'X-RateLimit-Reset': seconds,
      });
    }

    const rules = grant.identity ?? DEFAULT_IDENTITY_RULES;
    const meta: NormalizeMeta = {
      space: grant.space.id,
      receivedAt: deps.clock(),
      sourceId: grant.sourceId,
      // the engine's own test: a call identifying nobody would be skipped, so it is refused here
      refuse: (event) => unidentified(event, rules),
      ...(deps.newMessageId === undefined ? {} : { newMessageId: deps.newMessageId }),
    };
    if (kind === 'batch') {
      const result = normalizeBatch(body, meta, { bodyBytes: bytes.length, itemBytes: batchItemBytes });
      if (!result.ok) throw new HttpError(400, result.rejection.code, result.rejection.message);
      await append(c, result.events);
      return c.json(result.rejected.length > 0 ? { success: true, rejected: result.rejected } : { success: true });
    }
    const result = normalizeCall(kind, body, meta);
    if (!result.ok) throw new HttpError(400, result.rejection.code, result.rejection.message);
    await append(c, [result.event]);
    return c.json({ success: true });
  };

  const append = async (c: Context, events: readonly FlockEvent[]): Promise<void> => {
    if (events.length === 0) return;
    try {
      await deps.eventLog.append(events);
    } catch (error) {
      deps.logger.error('event log append failed', { requestId: c.get('requestId'), events: events.length, error });
      if (isStorageFull(error)) {
        throw new HttpError(503, 'storage_full', 'the server is out of disk space: the events were not stored; retry later', { 'Retry-After': String(STORAGE_FULL_RETRY_S) }, { cause: error });
      }
      throw new HttpError(503, 'log_unavailable', 'the events were not stored; retry the request', { 'Retry-After': '1' }, { cause: error });
    }
  };

  for (const [path, kind] of Object.entries(TRACKING_PATHS)) {
    router.use(`/${path}`, trackingCors);
    router.post(`/${path}`, (c) => accept(c, kind));
  }
  return router;
}

/** Events a batch asks to store, for the rate limiter: only the ones that can be kept count. */
function batchCost(body: Readonly<Record<string, unknown>>): number {
  const batch = body['batch'];
  return Array.isArray(batch) ? Math.min(batch.length, MAX_BATCH_EVENTS) : 1;
}
