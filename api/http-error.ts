/** The one HTTP error type: a status, a stable code and a message, answered as `{"error":{"code","message"}}`. */
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/**
 * Thrown by handlers and middleware; `onError` turns it into the response. `headers` carries what
 * the client needs to act on the error (`Retry-After` on 429 and 503).
 */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    options?: { readonly cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpError';
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}
