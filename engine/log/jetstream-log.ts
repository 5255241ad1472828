/** The AppendLog on NATS JetStream: one stream of records, plus a KV bucket for named positions and the structure registry. */
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type Consumer,
  type ConsumerMessages,
  type ConsumerNotification,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { pack, unpack } from 'msgpackr';
import { PipelinedPublisher, type PublishAck, type PublishMessage } from './jetstream-publisher.ts';
import type {
  AppendLog,
  AppendOptions,
  AppendResult,
  LogEntry,
  LogRecord,
  ReadOptions,
  Structure,
  StructureAppend,
} from './append-log.ts';
import {
  LogAppendError,
  LogClosedError,
  LogCommitError,
  LogConfigError,
  LogOpenError,
  LogReadError,
  StructureConflictError,
} from './log-errors.ts';

/** Retention limits of the stream, applied at every open (created, or updated when they differ). */
export interface StreamLimits {
  /** oldest record kept (ms); 0 keeps records forever: the default, since every replay needs the whole log. */
  readonly maxAgeMs?: number;
  /** size cap (bytes); the oldest records go first. Default -1: unbounded. */
  readonly maxBytes?: number;
  /** how long a record id is remembered for dedupe (ms). Default 120 000, JetStream's own default. */
  readonly duplicateWindowMs?: number;
  /**
   * copies of the stream (and its `_META` KV bucket) kept by a NATS cluster: 1 on a single server,
   * 3 on a 3-node cluster (R3). Default 1; an existing stream is scaled to it only when it is given.
   */
  readonly replicas?: number;
}

export interface JetStreamLogConfig {
  readonly servers: string | readonly string[];
  /** stream name, e.g. `FLOCK_EVENTS`. */
  readonly stream: string;
  /** records are published to `<subjectPrefix>.<record key>`, e.g. `flock.events`. */
  readonly subjectPrefix: string;
  readonly limits?: StreamLimits;
  /** publish and API request timeout (ms); an append waiting longer fails with LogAppendError. Default 5000. */
  readonly timeoutMs?: number;
}

const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;
const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_TAIL_BATCH = 1000;
/** JetStream API error code for "wrong last sequence" (a KV create of a key that exists). */
const WRONG_LAST_SEQUENCE = 10071;
const STREAM_NOT_FOUND = 10059;
/**
 * Pull request lifetime of a tail. It also paces recovery: after a server restart the client retries
 * a failed consumer check after this long (JetStream may still be starting when the client
 * reconnects), and two missed heartbeats (half of it each) make it check the consumer again.
 * nats.js defaults to 30 s, which stalls a tail that long after a restart.
 */
const TAIL_EXPIRES_MS = 5_000;
/**
 * A tail's consumer that is waited on hears from the server at least every TAIL_EXPIRES_MS / 2 (a
 * message, an idle heartbeat, a pull's expiry). Silence this long (four heartbeats) means the consumer
 * is gone without a word: on a cluster its only copy (an ordered consumer is R1) was on a node that
 * died. nats.js then checks it with consumer info requests, which time out for as long as the node is
 * away, and recreates it only on "consumer not found" — never, so the tail would wait forever. The
 * tail re-creates it itself from the next record.
 */
const TAIL_SILENCE_MS = 2 * TAIL_EXPIRES_MS;
/** consumer notifications that come from the server answering (not the client's own pulls, resets or missed-heartbeat checks). */
const SIGNS_OF_LIFE: ReadonlySet<ConsumerNotification['type']> = new Set(['heartbeat', 'discard', 'debug', 'flow_control', 'ordered_consumer_recreated']);
/** ephemeral reader consumers are dropped by the server this long after their reader goes away. */
const READER_INACTIVE_MS = 30_000;

function configFor(config: JetStreamLogConfig): Partial<StreamConfig> & { name: string } {
  const limits = config.limits ?? {};
  const maxAgeMs = limits.maxAgeMs ?? 0;
  let duplicateWindowMs = limits.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
  // JetStream rejects a duplicate window longer than the max age
  if (maxAgeMs > 0 && duplicateWindowMs > maxAgeMs) duplicateWindowMs = maxAgeMs;
  return {
    name: config.stream,
    subjects: [`${config.subjectPrefix}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(maxAgeMs),
    max_bytes: limits.maxBytes ?? -1,
    duplicate_window: nanos(duplicateWindowMs),
    num_replicas: limits.replicas ?? 1,
  };
}

/** a function, so TypeScript does not narrow `aborted` across awaits */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

/** KV keys allow `[-/_=.A-Za-z0-9]`; any other character of a position name becomes `=XX` per UTF-8 byte. */
function positionKey(name: string): string {
  let out = 'positions.';
  for (const byte of Buffer.from(name, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : '=' + byte.toString(16).padStart(2, '0');
  }
  return out;
}

const structureKey = (from: number) => `structures.${from}`;

/**
 * AppendLog on a JetStream stream.
 *
 * - Append publishes every record with `Nats-Msg-Id` = record id, all in flight on one reply
 *   subscription (PipelinedPublisher), and awaits the acks together; the server's duplicate window
 *   drops repeats and answers with the original's seq.
 * - Reads use ordered pull consumers (AckNone, server-side flow control, recreated after a server
 *   restart from the last seen position) fetching large batches.
 * - Named positions live in a KV bucket, not in a durable consumer's ack floor: the engine commits
 *   a position only after its own checkpoint, may move it backwards to replay, and reads it at start;
 *   a KV entry does all three (a consumer's ack floor only moves forward, message by message, and
 *   costs ack traffic). The bucket is a file-stored stream, so it survives client and server restarts.
 * - The same bucket holds the structure registry as `structures.<from>` entries, each created with
 *   compare-and-set (`create` fails if the key exists) before the records that need it are published.
 *   The bucket has no age limit, so the registry outlives every record that refers to it.
 */
export class JetStreamLog implements AppendLog {
  readonly kind = 'jetstream' as const;
  readonly stream: string;
  readonly subjectPrefix: string;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #publisher: PipelinedPublisher;
  readonly #jsm: JetStreamManager;
  readonly #kv: KV;
  readonly #timeoutMs: number;
  readonly #subjects = new Map<string, string>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #readers = new Set<ConsumerFeed>();
  #closed = false;
  #closing: Promise<void> | undefined;
  /** false from a disconnect until the client has reconnected. */
  #connected = true;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, kv: KV, config: JetStreamLogConfig) {
    this.stream = config.stream;
    this.subjectPrefix = config.subjectPrefix;
    this.#nc = nc;
    this.#jsm = jsm;
    this.#js = jetstream(nc, { timeout: config.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    this.#kv = kv;
    this.#timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#publisher = new PipelinedPublisher(nc, this.#timeoutMs);
    void this.#watchConnection();
  }

  /** Follows the connection's status until it closes: disconnected from a disconnect to the reconnect. */
  async #watchConnection(): Promise<void> {
    for await (const status of this.#nc.status()) {
      if (status.type === 'disconnect') this.#connected = false;
      else if (status.type === 'reconnect') this.#connected = true;
    }
  }

  reachable(): boolean {
    return this.#connected && !this.#nc.isClosed();
  }

  static async open(config: JetStreamLogConfig): Promise<JetStreamLog> {
    const timeout = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: typeof config.servers === 'string' ? config.servers : [...config.servers],
        // otherwise every publish captures a stack trace: about half of publish CPU
        noAsyncTraces: true,
        name: `flock ${config.stream}`,
        timeout,
        // once connected, ride out server restarts: appends fail by timeout meanwhile, readers resume
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      });
    } catch (error) {
      throw new LogOpenError(`cannot connect to NATS at ${String(config.servers)}`, { cause: error });
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout });
      await ensureStream(jsm, config);
      // (replicas only when given: an existing bucket opened without them keeps its own)
      const replicas = config.limits?.replicas;
      const kv = await new Kvm(jetstream(nc, { timeout })).create(`${config.stream}_META`, {
        history: 1,
        storage: StorageType.File,
        ...(replicas === undefined ? {} : { replicas }),
      });
      return new JetStreamLog(nc, jsm, kv, config);
    } catch (error) {
      await nc.close();
      if (error instanceof LogConfigError) throw error;
      throw new LogOpenError(`cannot open stream ${config.stream} at ${String(config.servers)}`, { cause: error });
    }
  }

  async append(records: readonly LogRecord[], options?: AppendOptions): Promise<AppendResult> {
    this.#assertOpen('append');
    return this.#track(this.#append(records, options?.structures));
  }

  async #append(records: readonly LogRecord[], update: StructureAppend | undefined): Promise<AppendResult> {
    if (update !== undefined) await this.#register(update);
    const seqs: number[] = new Array(records.length);
    // a repeat inside the batch is never published: it takes the seq of its first copy
    const firstOf = new Map<string, number>();
    const messages: PublishMessage[] = [];
    const published: number[] = [];
    let duplicates = 0;
    try {
      for (let i = 0; i < records.length; i++) {
        const record = records[i] as LogRecord;
        if (firstOf.has(record.id)) {
          duplicates++;
          continue;
        }
        firstOf.set(record.id, i);
        published.push(i);
        messages.push({ subject: this.#subject(record.key), data: record.data, msgId: record.id });
      }
      const acks = await this.#publisher.publish(messages);
      for (let j = 0; j < acks.length; j++) {
        const ack = acks[j] as PublishAck;
        seqs[published[j] as number] = ack.seq;
        if (ack.duplicate) duplicates++;
      }
    } catch (error) {
      throw new LogAppendError(`publish of ${records.length} records to stream ${this.stream} failed`, { cause: error });
    }
    for (let i = 0; i < records.length; i++) {
      if (seqs[i] === undefined) seqs[i] = seqs[firstOf.get((records[i] as LogRecord).id) as number] as number;
    }
    return { seqs, duplicates };
  }

  #subject(key: string): string {
    let subject = this.#subjects.get(key);
    if (subject === undefined) {
      if (key === '' || /[\s*>]/.test(key) || key.split('.').includes('')) {
        throw new RangeError(`record key ${JSON.stringify(key)} is not a valid subject suffix`);
      }
      subject = `${this.subjectPrefix}.${key}`;
      this.#subjects.set(key, subject);
    }
    return subject;
  }

  async #register(update: StructureAppend): Promise<void> {
    try {
      await this.#kv.create(structureKey(update.from), pack(update.added));
    } catch (error) {
      if (isApiError(error, WRONG_LAST_SEQUENCE)) throw new StructureConflictError(update.from, undefined);
      throw new LogAppendError(`registering ${update.added.length} structures in ${this.stream}_META failed`, {
        cause: error,
      });
    }
  }

  async read(from: number, max: number): Promise<LogEntry[]> {
    this.#assertOpen('read');
    try {
      const info = await this.#jsm.streams.info(this.stream);
      const start = Math.max(1, from, info.state.first_seq);
      const last = info.state.last_seq;
      if (max <= 0 || start > last) return [];
      const want = Math.min(max, last - start + 1);
      const consumer = await this.#reader(start);
      const out: LogEntry[] = [];
      const expires = Math.max(1000, this.#timeoutMs);
      let silent = false;
      try {
        const messages = await consumer.fetch({ max_messages: want, expires });
        // The server ends a fetch by `expires`. Nothing for that long and a round trip more: the
        // consumer is gone (its node died), and nats.js would wait for it forever.
        const watch = new SilenceWatch(expires + this.#timeoutMs, () => {
          silent = true;
          messages.stop();
        });
        try {
          for await (const m of messages) {
            watch.heard();
            out.push(this.#entry(m));
            if (out.length >= want || m.seq >= last) break;
          }
        } finally {
          watch.stop();
        }
      } finally {
        await this.#dropReader(consumer);
      }
      if (silent) throw new Error(`the consumer sent nothing for ${expires + this.#timeoutMs} ms`);
      return out;
    } catch (error) {
      throw new LogReadError(`read from ${from} in stream ${this.stream} failed`, { cause: error });
    }
  }

  /**
   * A feed (ConsumerFeed) pumps messages from the consumer into a bounded buffer; the generator yields
   * everything buffered once the pump has drained what arrived (a macrotask later), so batches are
   * large under load and a lone record still arrives within a round trip. A full buffer stalls the
   * pump, which stops the consumer's pull requests: memory stays bounded when the reader is slow.
   * A consumer that falls silent is replaced by a new one from the record after the last one taken.
   */
  async *tail(from: number, options: ReadOptions = {}): AsyncIterable<LogEntry[]> {
    this.#assertOpen('tail');
    const max = options.maxBatch ?? DEFAULT_TAIL_BATCH;
    const signal = options.signal;
    if (signal?.aborted === true) return;
    let buffer: LogEntry[] = [];
    /** the last record taken into the buffer: a replacement consumer starts after it. */
    let last = Math.max(1, from) - 1;
    let wake: (() => void) | undefined;
    let drained: (() => void) | undefined;
    /** the tail is ending: the feed's last buffered messages are taken without waiting for room (nobody reads the buffer any more). */
    let closing = false;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const receive = (m: JsMsg): Promise<void> | undefined => {
      // (a replacement starts after `last`: an older record would be one taken already)
      if (m.seq <= last) return undefined;
      last = m.seq;
      buffer.push(this.#entry(m));
      if (buffer.length === 1) setImmediate(notify);
      return buffer.length >= 4 * max && !closing ? new Promise<void>((resolve) => (drained = resolve)) : undefined;
    };
    let feed = await this.#feed(last + 1, max, receive, notify);
    const onAbort = () => feed.stop();
    signal?.addEventListener('abort', onAbort, { once: true });
    // (stopped while the consumer was being created: the feed ends at once)
    if (this.#closed || isAborted(signal)) feed.stop();
    try {
      for (;;) {
        if (buffer.length === 0) {
          if (!feed.ended) {
            await new Promise<void>((resolve) => (wake = resolve));
            continue;
          }
          if (this.#closed || isAborted(signal)) break;
          if (!feed.silent) {
            // A tail never ends by itself: a consumer that stops without an error (nats.js gives up an
            // ordered consumer it could not recreate while the stream's leader moved) is a failed read,
            // which the engine retries from its position — not the end of the log.
            throw new LogReadError(`tail of stream ${this.stream} ${feed.failure === undefined ? 'stopped' : 'failed'}`, { cause: feed.failure });
          }
          // (the silent one is deleted meanwhile; a replacement that cannot be created fails the tail)
          void this.#dropFeed(feed);
          feed = await this.#feed(last + 1, max, receive, notify);
          if (this.#closed || isAborted(signal)) break;
          continue;
        }
        const batch = buffer.length <= max ? buffer : buffer.slice(0, max);
        buffer = buffer.length <= max ? [] : buffer.slice(max);
        if (drained !== undefined && buffer.length < 2 * max) {
          const d = drained;
          drained = undefined;
          d();
        }
        yield batch;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // (a stopped consumer still hands over what it had fetched: with the buffer full, each of those
      // would wait for room nobody makes, and the feed — and this return — would never end)
      closing = true;
      feed.stop();
      drained?.();
      await feed.done;
      if (!this.#closed) await this.#dropFeed(feed);
    }
  }

  /** A consumer from `start` and the feed of its messages, registered so `close` stops it. */
  async #feed(start: number, max: number, receive: (m: JsMsg) => Promise<void> | undefined, onEnd: () => void): Promise<ConsumerFeed> {
    let consumer: Consumer;
    let messages: ConsumerMessages;
    try {
      consumer = await this.#reader(start);
      messages = await consumer.consume({ max_messages: Math.max(max, 256), expires: TAIL_EXPIRES_MS });
    } catch (error) {
      throw new LogReadError(`tail from ${start} in stream ${this.stream} failed`, { cause: error });
    }
    const feed = new ConsumerFeed(consumer, messages, receive, onEnd, TAIL_SILENCE_MS);
    this.#readers.add(feed);
    void feed.done.then(() => this.#readers.delete(feed));
    return feed;
  }

  /** deletes a feed's consumer once (see #dropReader). */
  #dropFeed(feed: ConsumerFeed): Promise<void> {
    feed.dropped ??= this.#dropReader(feed.consumer);
    return feed.dropped;
  }

  #entry(m: JsMsg): LogEntry {
    return { seq: m.seq, key: m.subject.slice(this.subjectPrefix.length + 1), data: m.data };
  }

  #reader(start: number): Promise<Consumer> {
    return this.#js.consumers.get(this.stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: start,
      inactive_threshold: READER_INACTIVE_MS,
    });
  }

  /**
   * Deletes a reader's ephemeral consumer. A failed delete needs no handling: the server drops the
   * consumer by itself once it has been inactive for READER_INACTIVE_MS.
   */
  async #dropReader(consumer: Consumer): Promise<void> {
    await consumer.delete().then(
      () => undefined,
      () => undefined,
    );
  }

  async lastSeq(): Promise<number> {
    this.#assertOpen('lastSeq');
    let info: StreamInfo;
    try {
      info = await this.#jsm.streams.info(this.stream);
    } catch (error) {
      throw new LogReadError(`reading the state of stream ${this.stream} failed`, { cause: error });
    }
    return info.state.last_seq;
  }

  async position(name: string): Promise<number> {
    this.#assertOpen('position');
    try {
      const entry = await this.#kv.get(positionKey(name));
      if (entry === null || entry.operation !== 'PUT') return 0;
      return unpack(entry.value) as number;
    } catch (error) {
      throw new LogReadError(`reading position ${name} of stream ${this.stream} failed`, { cause: error });
    }
  }

  async commit(name: string, seq: number): Promise<void> {
    this.#assertOpen('commit');
    const work = (async () => {
      try {
        await this.#kv.put(positionKey(name), pack(seq));
      } catch (error) {
        throw new LogCommitError(`commit of position ${name}=${seq} in stream ${this.stream} failed`, { cause: error });
      }
    })();
    return this.#track(work);
  }

  async structures(from: number): Promise<Structure[]> {
    this.#assertOpen('structures');
    const out: Structure[] = [];
    try {
      for (;;) {
        const entry = await this.#kv.get(structureKey(from + out.length));
        if (entry === null || entry.operation !== 'PUT') return out;
        const added = unpack(entry.value) as string[][];
        if (!Array.isArray(added) || added.length === 0) throw new Error(`malformed registry entry ${from + out.length}`);
        out.push(...added);
      }
    } catch (error) {
      throw new LogReadError(`reading structures from ${from} of stream ${this.stream} failed`, { cause: error });
    }
  }

  /** stops readers, waits for in-flight appends and commits, then drains the connection. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    for (const feed of this.#readers) feed.stop();
    this.#closing = (async () => {
      await Promise.allSettled([...this.#pending]);
      this.#publisher.close();
      if (!this.#nc.isClosed()) await this.#nc.close();
    })();
    return this.#closing;
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#pending.add(work);
    const forget = () => this.#pending.delete(work);
    work.then(forget, forget);
    return work;
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new LogClosedError(`${what} on stream ${this.stream}`);
  }
}

/**
 * Calls `onSilent` once when nothing was `heard` for `limitMs` while listening. Checked every quarter
 * of it, so it fires after between `limitMs` and 1.25 × `limitMs` of silence. A counter, not a clock
 * read, per message.
 */
class SilenceWatch {
  #heard = 0;
  #checked = 0;
  #quiet = 0;
  #listening = true;
  readonly #timer: NodeJS.Timeout;

  constructor(limitMs: number, onSilent: () => void) {
    this.#timer = setInterval(() => {
      if (!this.#listening || this.#heard !== this.#checked) {
        this.#checked = this.#heard;
        this.#quiet = 0;
      } else if (++this.#quiet >= 4) {
        this.stop();
        onSilent();
      }
    }, limitMs / 4);
    // (a watch alone does not keep a process alive)
    this.#timer.unref();
  }

  heard(): void {
    this.#heard++;
  }

  /** off while the listener itself holds things up (a full buffer): the silence is its own then. */
  listen(on: boolean): void {
    this.#listening = on;
    this.#quiet = 0;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/**
 * One consumer's messages pumped into `receive` (which returns a promise while it has no room: the
 * pump, and so the pull requests, wait for it). When the server sends nothing — no message, heartbeat
 * or pull expiry — for `silenceMs` while the pump waits for it, the feed stops as `silent`.
 */
class ConsumerFeed {
  ended = false;
  silent = false;
  failure: unknown;
  /** the consumer's deletion, once asked for. */
  dropped: Promise<void> | undefined;
  readonly consumer: Consumer;
  readonly #messages: ConsumerMessages;
  readonly done: Promise<void>;

  constructor(consumer: Consumer, messages: ConsumerMessages, receive: (m: JsMsg) => Promise<void> | undefined, onEnd: () => void, silenceMs: number) {
    this.consumer = consumer;
    this.#messages = messages;
    const watch = new SilenceWatch(silenceMs, () => {
      this.silent = true;
      messages.stop();
    });
    void (async () => {
      for await (const status of messages.status()) if (SIGNS_OF_LIFE.has(status.type)) watch.heard();
    })();
    this.done = (async () => {
      try {
        for await (const m of messages) {
          watch.heard();
          const full = receive(m);
          if (full !== undefined) {
            watch.listen(false);
            await full;
            watch.listen(true);
          }
        }
      } catch (error) {
        this.failure = error;
      } finally {
        watch.stop();
        this.ended = true;
        onEnd();
      }
    })();
  }

  stop(): void {
    this.#messages.stop();
  }
}

/** Creates the stream, or checks an existing one serves this log and brings its limits up to date. */
async function ensureStream(jsm: JetStreamManager, config: JetStreamLogConfig): Promise<void> {
  const want = configFor(config);
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(config.stream);
  } catch (error) {
    if (!isApiError(error, STREAM_NOT_FOUND)) throw error;
    await jsm.streams.add(want);
    return;
  }
  const have = info.config;
  const subject = `${config.subjectPrefix}.>`;
  if (have.subjects.length !== 1 || have.subjects[0] !== subject) {
    throw new LogConfigError(`stream ${config.stream} has subjects ${have.subjects.join(', ')}, expected ${subject}`);
  }
  if (have.storage !== StorageType.File || have.retention !== RetentionPolicy.Limits) {
    throw new LogConfigError(
      `stream ${config.stream} uses ${have.storage} storage and ${have.retention} retention, expected file and limits`,
    );
  }
  const rescale = config.limits?.replicas !== undefined && have.num_replicas !== want.num_replicas;
  if (rescale || have.max_age !== want.max_age || have.max_bytes !== want.max_bytes || have.duplicate_window !== want.duplicate_window) {
    await jsm.streams.update(config.stream, {
      max_age: want.max_age as number,
      max_bytes: want.max_bytes as number,
      duplicate_window: want.duplicate_window as number,
      ...(rescale ? { num_replicas: want.num_replicas as number } : {}),
    });
  }
}

export function openJetStreamLog(config: JetStreamLogConfig): Promise<JetStreamLog> {
  return JetStreamLog.open(config);
}
