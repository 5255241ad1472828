/**
 * A real HTTP receiver for destination tests and the bench (node:http on 127.0.0.1): records every
 * batch it acknowledges, verifies the webhook signature, and misbehaves on demand — answers slowly,
 * fails with 5xx, 429s with Retry-After, drops the connection before or after reading the body.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER, verifySignature } from '../../engine/destinations/signature.ts';

/** What the receiver does with one request. */
export type Fault =
  | { readonly kind: 'ok' }
  | { readonly kind: 'slow'; readonly ms: number }
  | { readonly kind: 'status'; readonly status: number; readonly retryAfter?: string }
  /** destroys the socket before reading the body: nothing was received. */
  | { readonly kind: 'drop-before' }
  /** reads (and records) the body, then destroys the socket: the sender never learns it arrived. */
  | { readonly kind: 'drop-after' };

export interface ReceivedRequest {
  readonly at: number;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly signed: boolean;
}

export interface Receiver {
  readonly url: string;
  /** every request whose body was read (in arrival order), acknowledged or not. */
  readonly requests: ReceivedRequest[];
  /** messages of the batches read, in arrival order (redeliveries included). */
  readonly messages: Array<Record<string, any>>;
  /** requests whose signature did not verify (a secret was given). */
  badSignatures: number;
  /** the fault for the next request (default: ok). */
  fault: (n: number) => Fault;
  close(): Promise<void>;
}

export async function startReceiver(options: { secret?: string; path?: string } = {}): Promise<Receiver> {
  let n = 0;
  const receiver: Receiver = {
    url: '',
    requests: [],
    messages: [],
    badSignatures: 0,
    fault: () => ({ kind: 'ok' }),
    close: async () => {},
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const fault = receiver.fault(++n);
    if (fault.kind === 'drop-before') {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if (fault.kind === 'status') {
      res.writeHead(fault.status, fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter }).end('{"error":"try later"}');
      return;
    }
    const header = req.headers[SIGNATURE_HEADER] as string | undefined;
    const signed = options.secret !== undefined && verifySignature(options.secret, header, body, Math.floor(Date.now() / 1000));
    if (options.secret !== undefined && !signed) {
      receiver.badSignatures++;
      res.writeHead(401).end();
      return;
    }
    receiver.requests.push({ at: performance.now(), path: req.url ?? '', headers: req.headers, body, signed });
    const parsed = JSON.parse(body) as { batch?: Array<Record<string, any>> };
    for (const m of parsed.batch ?? []) receiver.messages.push(m);
    if (fault.kind === 'drop-after') {
      req.socket.destroy();
      return;
    }
    if (fault.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}');
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}${options.path ?? '/hook'}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** The messages, first arrival of each messageId only. */
export function deduplicated(messages: ReadonlyArray<Record<string, any>>): Array<Record<string, any>> {
  const seen = new Set<string>();
  return messages.filter((m) => !seen.has(m['messageId']) && seen.add(m['messageId']));
}
