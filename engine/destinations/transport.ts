/** What a destination kind's transport answers for one request: delivered, or failed with whether a retry may succeed. */

export type SendResult =
  | { readonly ok: true }
  /** `retry`: a network error, a timeout, 408, 429 or 5xx; otherwise the receiver refused the batch for good. */
  | { readonly ok: false; readonly retry: boolean; readonly retryAfterMs?: number | undefined; readonly error: string };

/** A message as JSON text, with its id (NATS dedup). */
export interface EncodedMessage {
  readonly messageId: string;
  readonly json: string;
}

export interface Transport {
  /** sends one batch. */
  send(messages: readonly EncodedMessage[]): Promise<SendResult>;
  close(): Promise<void>;
}

/** Retry on network failure, 408, 429 and 5xx; a receiver's other 4xx is its final word. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
