/** CORS for the tracking and settings routes: any origin, and the headers analytics.js reads on a 429. */
import { cors } from 'hono/cors';

/**
 * Browsers post `text/plain` JSON to skip the preflight, but still need `Access-Control-Allow-Origin`
 * on the answer, and can only read `X-RateLimit-Reset` if it is exposed. Write keys are not
 * secrets and no cookies are used, so `*` is safe.
 */
export const trackingCors = cors({
  origin: '*',
  allowMethods: ['GET', 'POST', 'OPTIONS'],
  allowHeaders: ['Content-Type', 'Content-Encoding', 'Authorization'],
  exposeHeaders: ['Request-Id', 'Retry-After', 'X-RateLimit-Reset'],
  maxAge: 86_400,
});
