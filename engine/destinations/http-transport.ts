/**
 * The HTTP transports: `webhook` POSTs `{"batch":[…],"sentAt"}` signed with HMAC-SHA256
 * (signature.ts); `segment` POSTs the same body to `<url>/v1/batch` with the write key as Basic
 * auth, as Segment's libraries do. A request times out after `timeoutMs`.
 */
import { parseRetryAfter } from './backoff.ts';
import { signBody, SIGNATURE_HEADER } from './signature.ts';
import { retryableStatus, type SendResult, type Transport } from './transport.ts';

export interface HttpTransportConfig {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** webhook: the signing secret. */
  readonly signingSecret?: string | undefined;
  /** segment: the write key (Basic auth user, empty password). */
  readonly writeKey?: string | undefined;
  readonly timeoutMs?: number;
  readonly clock?: () => number;
}

export function webhookTransport(url: string, secret: string | undefined, headers: Readonly<Record<string, string>> | undefined, timeoutMs?: number): Transport {
  return httpTransport({ url, signingSecret: secret, headers, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}

export function segmentTransport(baseUrl: string, writeKey: string | undefined, timeoutMs?: number): Transport {
  return httpTransport({ url: `${baseUrl.replace(/\/+$/, '')}/v1/batch`, writeKey, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}

export function httpTransport(config: HttpTransportConfig): Transport {
  const clock = config.clock ?? Date.now;
  const post = httpPoster(config);
  return {
    send: (messages) => post(`{"batch":[${messages.map((m) => m.json).join(',')}],"sentAt":"${new Date(clock()).toISOString()}"}`),
    async close() {},
  };
}

/** POSTs a JSON body (signed, or with Basic auth, as configured) and classifies the answer. */
export function httpPoster(config: HttpTransportConfig): (body: string) => Promise<SendResult> {
  const clock = config.clock ?? Date.now;
  return async (body) => {
      const now = clock();
      const headers: Record<string, string> = { ...config.headers, 'content-type': 'application/json', 'user-agent': 'flock-destinations/0.1' };
      if (config.signingSecret !== undefined) headers[SIGNATURE_HEADER] = signBody(config.signingSecret, Math.floor(now / 1000), body);
      if (config.writeKey !== undefined) headers['authorization'] = `Basic ${Buffer.from(`${config.writeKey}:`).toString('base64')}`;
      let response: Response;
      try {
        response = await fetch(config.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(config.timeoutMs ?? 10_000) });
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        return { ok: false, retry: true, error: `request failed: ${cause?.code ?? cause?.message ?? (error as Error).message}` };
      }
      // the body is read so the connection can be reused
      const text = await response.text().catch(() => '');
      if (response.ok) return { ok: true } satisfies SendResult;
      return {
        ok: false,
        retry: retryableStatus(response.status),
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), clock()),
        error: `HTTP ${response.status}${text === '' ? '' : `: ${text.slice(0, 200)}`}`,
      };
  };
}
