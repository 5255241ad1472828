/**
 * The one HTTP error type: a status, a stable code and a message. It renders in either of the two
 * envelopes Flock's APIs use: `{"error":{"code","message"}}` (tracking and Profile API) or, on the
 * management API (Segment Public API shape), `{"errors":[{"type","message","field",…}]}`.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/** One problem of a request: a field, or a place in a definition's query (line and column, 1-based). */
export interface HttpIssue {
  readonly message: string;
  readonly field?: string;
  /** a finer code than the error's, e.g. a query diagnostic's (`syntax_error`, `reference_cycle`). */
  readonly code?: string;
  readonly line?: number;
  readonly column?: number;
}

export interface PublicApiErrorBody {
  readonly errors: ReadonlyArray<{ readonly type: string; readonly message: string; readonly field?: string; readonly code?: string; readonly line?: number; readonly column?: number }>;
}

/** Which envelope a route's errors use; set by the management router for its paths. */
export type ErrorEnvelope = 'public-api';

declare module 'hono' {
  interface ContextVariableMap {
    errorEnvelope: ErrorEnvelope;
  }
}

/**
 * Thrown by handlers and middleware; `onError` turns it into the response. `headers` carries what
 * the client needs to act on the error (`Retry-After` on 429 and 503).
 */
export class HttpError extends Error {
  readonly issues: readonly HttpIssue[];

  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    options?: { readonly cause?: unknown; readonly issues?: readonly HttpIssue[] },
  ) {
    super(message, options);
    this.name = 'HttpError';
    this.issues = options?.issues ?? [];
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }

  /** Segment Public API errors: one entry per issue (or the error itself), `type` = the error's code. */
  publicApiBody(): PublicApiErrorBody {
    const issues: readonly HttpIssue[] = this.issues.length > 0 ? this.issues : [{ message: this.message }];
    return {
      errors: issues.map((issue) => ({
        type: this.code,
        message: issue.message,
        ...(issue.field === undefined ? {} : { field: issue.field }),
        ...(issue.code === undefined ? {} : { code: issue.code }),
        ...(issue.line === undefined ? {} : { line: issue.line }),
        ...(issue.column === undefined ? {} : { column: issue.column }),
      })),
    };
  }
}
