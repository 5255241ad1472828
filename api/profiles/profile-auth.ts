/** Profile API auth and rate limit: HTTP Basic with an access token of the space in the path, then that space's request budget. */
import type { MiddlewareHandler } from 'hono';
import type { SpaceDirectory, TokenGrant } from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';
import { RateLimiter } from '../ingest/rate-limiter.ts';
import { basicAuthWriteKey } from '../ingest/write-key.ts';

export interface ProfileAuthConfig {
  readonly spaces: SpaceDirectory;
  /** requests per second per space unless the space sets its own; 0 = no limit. */
  readonly requestsPerSecond: number;
  readonly clock: () => number;
}

/**
 * Admits `/v1/spaces/:spaceId/…` only with `Authorization: Basic base64("<access token>:")` of that
 * space. Unknown tokens, write keys, management tokens and other spaces' tokens all get the same 401.
 * Then each space's token bucket (burst: two seconds' worth) answers 429 with `Retry-After` when empty.
 */
export function profileAuth(config: ProfileAuthConfig): MiddlewareHandler {
  const shared = new RateLimiter({ eventsPerSecond: config.requestsPerSecond, burst: Math.max(1, config.requestsPerSecond * 2) });
  const own = new Map<string, RateLimiter>();
  const limiterFor = (grant: TokenGrant): RateLimiter => {
    if (grant.profileRateLimit === undefined) return shared;
    let limiter = own.get(grant.space.id);
    if (limiter === undefined) {
      limiter = new RateLimiter({ eventsPerSecond: grant.profileRateLimit, burst: Math.max(1, grant.profileRateLimit * 2) });
      own.set(grant.space.id, limiter);
    }
    return limiter;
  };
  return async (c, next) => {
    const token = basicAuthWriteKey(c.req.header('authorization'));
    if (token === undefined || token === '') throw new HttpError(401, 'authentication_error', 'send the access token as HTTP Basic auth ("<token>:")');
    const spaceId = c.req.param('spaceId') ?? '';
    const grant = (await config.spaces.byAccessToken?.(token)) ?? null;
    if (grant === null || grant.space.id !== spaceId) throw new HttpError(401, 'authentication_error', `the token is not an access token of space "${spaceId}"`);
    const admission = limiterFor(grant).admit(spaceId, 1, config.clock());
    if (!admission.ok) {
      const seconds = String(Math.max(1, Math.ceil(admission.retryAfterMs / 1000)));
      throw new HttpError(429, 'rate_limit_error', `space ${spaceId} is over its Profile API rate limit`, { 'Retry-After': seconds, 'X-RateLimit-Reset': seconds });
    }
    await next();
  };
}
