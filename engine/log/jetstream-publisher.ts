/** Publishes batches to a JetStream stream with every message in flight and one reply subscription, instead of one request (promise, timer, inbox entry) per message. */
import { createInbox, headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';

export interface PublishMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** `Nats-Msg-Id`: the stream drops a repeat within its duplicate window and acks it with the original's seq. */
  readonly msgId: string;
}

export interface PublishAck {
  readonly seq: number;
  readonly duplicate: boolean;
}

/** The stream refused a message, or no ack came in time. */
export class PublishError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PublishError';
  }
}

interface Pending {
  readonly acks: Array<PublishAck | undefined>;
  remaining: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * Like nats.go's PublishAsync: messages go out with reply subjects `<inbox>.<batch>.<index>` on one
 * wildcard subscription, and a batch resolves when every ack arrived. js.publish costs a promise,
 * a timer and a request-map entry per message, which measured at about half this throughput.
 * Messages of one connection reach the server in order, so seqs follow input order.
 */
export class PipelinedPublisher {
  readonly #nc: NatsConnection;
  readonly #timeoutMs: number;
  readonly #inbox: string;
  readonly #subscription: Subscription;
  readonly #pending = new Map<number, Pending>();
  #nextBatch = 0;

  constructor(nc: NatsConnection, timeoutMs: number) {
    this.#nc = nc;
    this.#timeoutMs = timeoutMs;
    this.#inbox = createInbox();
    this.#subscription = nc.subscribe(`${this.#inbox}.>`, { callback: (error, msg) => this.#onAck(error, msg) });
  }

  /** resolves with one ack per message, in order; rejects with PublishError on a refusal or timeout. */
  async publish(messages: readonly PublishMessage[], window = 4096): Promise<PublishAck[]> {
    const out: PublishAck[] = [];
    for (let start = 0; start < messages.length; start += window) {
      out.push(...(await this.#publishWindow(messages, start, Math.min(messages.length, start + window))));
    }
    return out;
  }

  #publishWindow(messages: readonly PublishMessage[], start: number, end: number): Promise<PublishAck[]> {
    const batch = this.#nextBatch++;
    const acks = new Array<PublishAck | undefined>(end - start);
    return new Promise<PublishAck[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        const pending = this.#pending.get(batch);
        this.#pending.delete(batch);
        const missing = pending?.remaining ?? 0;
        reject(new PublishError(`no ack for ${missing} of ${end - start} messages within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(batch, {
        acks,
        remaining: end - start,
        resolve: () => {
          clearTimeout(timer);
          resolve(acks as PublishAck[]);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      const prefix = `${this.#inbox}.${batch}.`;
      try {
        for (let i = start; i < end; i++) {
          const message = messages[i] as PublishMessage;
          const h = headers();
          h.set('Nats-Msg-Id', message.msgId);
          this.#nc.publish(message.subject, message.data, { reply: prefix + (i - start), headers: h });
        }
      } catch (error) {
        this.#pending.delete(batch);
        clearTimeout(timer);
        reject(new PublishError(`publishing to ${messages[start]?.subject ?? 'stream'} failed`, { cause: error }));
      }
    });
  }

  #onAck(error: Error | null, msg: Msg): void {
    const dot = msg.subject.lastIndexOf('.');
    const batch = Number(msg.subject.slice(msg.subject.lastIndexOf('.', dot - 1) + 1, dot));
    const index = Number(msg.subject.slice(dot + 1));
    const pending = this.#pending.get(batch);
    // an ack arriving after its batch timed out has no one waiting: the caller already retries
    if (pending === undefined || pending.acks[index] !== undefined) return;
    let ack: AckBody | undefined;
    let failure: Error | undefined = error ?? undefined;
    if (failure === undefined) {
      try {
        ack = parseAck(msg);
      } catch (cause) {
        failure = cause instanceof PublishError ? cause : new PublishError('unreadable publish ack', { cause });
      }
    }
    if (failure !== undefined || ack === undefined) {
      this.#pending.delete(batch);
      pending.reject(failure ?? new PublishError('empty publish ack'));
      return;
    }
    pending.acks[index] = { seq: ack.seq, duplicate: ack.duplicate === true };
    if (--pending.remaining === 0) {
      this.#pending.delete(batch);
      pending.resolve();
    }
  }

  /** rejects what is in flight and stops listening. */
  close(): void {
    this.#subscription.unsubscribe();
    for (const [batch, pending] of this.#pending) {
      this.#pending.delete(batch);
      pending.reject(new PublishError('publisher closed with messages in flight'));
    }
  }
}

interface AckBody {
  readonly seq: number;
  readonly duplicate?: boolean;
}

/** An ack `{"stream","seq","duplicate"?}`; a refusal is a status reply (e.g. 503: no stream listens) or an API error body. */
function parseAck(msg: Msg): AckBody {
  if (msg.data.length === 0) {
    const code = msg.headers?.code ?? 0;
    throw new PublishError(`publish refused with status ${code} ${msg.headers?.description ?? ''}`.trim());
  }
  const body = msg.json<Partial<AckBody> & { error?: { code: number; err_code?: number; description: string } }>();
  if (body.error !== undefined) {
    throw new PublishError(`JetStream refused the message: ${body.error.description} (${body.error.err_code ?? body.error.code})`);
  }
  if (typeof body.seq !== 'number') throw new PublishError(`publish ack without a seq: ${msg.string()}`);
  return body as AckBody;
}
