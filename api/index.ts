/** The public surface of api/: the app factory, the server, the error type and the logger. */
export { createApp, type AppDeps } from './app.ts';
export { HttpError, type ErrorBody } from './http-error.ts';
export { jsonLogger, silentLogger, type Logger, type LogFields, type LogLevel } from './logger.ts';
export { startServer, ServerListenError, type RunningServer } from './serve.ts';
export { TRACKING_PATHS, type TrackingDeps } from './ingest/tracking-router.ts';
export type { RateLimitConfig } from './ingest/rate-limiter.ts';
