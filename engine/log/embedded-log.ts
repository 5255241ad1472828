/** The embedded AppendLog: an LMDB environment holding records, dedupe ids, named positions and the structure registry. */
import { closeEnv } from '../store/close-env.ts';
import { storageGuard, type StorageGuardConfig } from '../store/storage-guard.ts';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { open, type Database, type RootDatabase } from 'lmdb';
import type {
  AppendLog,
  AppendOptions,
  AppendResult,
  LogEntry,
  LogRecord,
  ReadOptions,
  Structure,
} from './append-log.ts';
import {
  LogAppendError,
  LogClosedError,
  LogCommitError,
  LogOpenError,
  LogReadError,
  StructureConflictError,
} from './log-errors.ts';

export interface EmbeddedLogConfig {
  /** directory of the LMDB environment (created when missing). Each log gets its own. */
  readonly path: string;
  /**
   * How often a waiting `tail` looks for records appended by another process (ms). Appends from
   * this process, in any thread, wake it at once through a BroadcastChannel.
   */
  readonly pollMs?: number;
  /** the free-space reserve: appends and commits are refused (StorageFullError as the cause) below it. */
  readonly storage?: StorageGuardConfig | undefined;
}

/** LMDB keys are at most 511 bytes; long ids are stored as their digest (collisions are not a practical concern). */
const MAX_ID_BYTES = 400;
const DEFAULT_POLL_MS = 20;
const DEFAULT_TAIL_BATCH = 1000;

/** Record value: `[key length: uint16 LE][key utf8][data]`, so one read yields key and data. */
function frame(record: LogRecord): Buffer {
  const keyBytes = Buffer.byteLength(record.key);
  if (keyBytes > 0xffff) throw new RangeError(`log key longer than 65535 bytes: ${record.key.slice(0, 40)}…`);
  const out = Buffer.allocUnsafe(2 + keyBytes + record.data.length);
  out.writeUInt16LE(keyBytes, 0);
  out.write(record.key, 2, 'utf8');
  out.set(record.data, 2 + keyBytes);
  return out;
}

function unframe(seq: number, value: Buffer): LogEntry {
  const keyBytes = value.readUInt16LE(0);
  return { seq, key: value.toString('utf8', 2, 2 + keyBytes), data: value.subarray(2 + keyBytes) };
}

function idKey(id: string): string {
  if (Buffer.byteLength(id) <= MAX_ID_BYTES) return id;
  return 'sha256:' + createHash('sha256').update(id).digest('hex');
}

/**
 * AppendLog in LMDB. Append-only, positions from 1; every id ever appended is kept, so dedupe is
 * forever. One append is one child transaction (all or nothing, even if a put throws), and resolves
 * after the commit is flushed to disk. LMDB serialises writers across threads and processes, so
 * several handles on one path (a worker thread, a second process) append safely.
 */
export class EmbeddedLog implements AppendLog {
  readonly kind = 'embedded' as const;
  readonly path: string;
  readonly #env: RootDatabase;
  readonly #records: Database<Buffer, number>;
  readonly #ids: Database<number, string>;
  readonly #positions: Database<number, string>;
  readonly #structures: Database<string[], number>;
  readonly #channel: BroadcastChannel;
  readonly #pollMs: number;
  readonly #waiters = new Set<() => void>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #checkSpace: () => void;
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(path: string, env: RootDatabase, pollMs: number, storage: StorageGuardConfig | undefined) {
    this.path = path;
    this.#checkSpace = storageGuard(path, storage);
    this.#env = env;
    this.#pollMs = pollMs;
    this.#records = env.openDB<Buffer, number>({ name: 'records', encoding: 'binary' });
    this.#ids = env.openDB<number, string>({ name: 'ids' });
    this.#positions = env.openDB<number, string>({ name: 'positions' });
    this.#structures = env.openDB<string[], number>({ name: 'structures' });
    // every handle on this path in this process (any thread) hears about appends at once
    this.#channel = new BroadcastChannel(`flock-log:${path}`);
    this.#channel.onmessage = () => this.#wake();
    // a waiting tail keeps the process alive through its poll timer, not through the channel
    this.#channel.unref();
  }

  static async open(config: EmbeddedLogConfig): Promise<EmbeddedLog> {
    const path = resolve(config.path);
    let env: RootDatabase;
    try {
      mkdirSync(path, { recursive: true });
      env = open({ path, maxDbs: 8 });
    } catch (error) {
      throw new LogOpenError(`cannot open the embedded log at ${path}`, { cause: error });
    }
    return new EmbeddedLog(path, env, config.pollMs ?? DEFAULT_POLL_MS, config.storage);
  }

  async append(records: readonly LogRecord[], options?: AppendOptions): Promise<AppendResult> {
    this.#assertOpen('append');
    return this.#track(this.#append(records, options?.structures));
  }

  async #append(records: readonly LogRecord[], update: AppendOptions['structures']): Promise<AppendResult> {
    // frame before the transaction: the write lock is held as briefly as possible
    const framed = records.map(frame);
    const keys = records.map((record) => idKey(record.id));
    let result: AppendResult;
    try {
      this.#checkSpace();
      result = await this.#env.childTransaction(() => {
        if (update !== undefined) {
          const count = this.#structureCount();
          if (count !== update.from) throw new StructureConflictError(update.from, count);
        }
        let last = this.#lastSeqNow();
        const seqs: number[] = new Array(records.length);
        const batch = new Map<string, number>();
        let duplicates = 0;
        for (let i = 0; i < framed.length; i++) {
          const key = keys[i] as string;
          const kept = batch.get(key) ?? this.#ids.get(key);
          if (kept !== undefined) {
            seqs[i] = kept;
            duplicates++;
            continue;
          }
          last++;
          this.#records.putSync(last, framed[i] as Buffer, { append: true });
          this.#ids.putSync(key, last);
          batch.set(key, last);
          seqs[i] = last;
        }
        if (update !== undefined) {
          update.added.forEach((structure, i) => this.#structures.putSync(update.from + i, [...structure]));
        }
        return { seqs, duplicates };
      });
      await this.#env.flushed;
    } catch (error) {
      if (error instanceof StructureConflictError) throw error;
      throw new LogAppendError(`append of ${records.length} records to ${this.path} failed`, { cause: error });
    }
    if (result.seqs.length > result.duplicates) {
      this.#channel.postMessage(0);
      this.#wake();
    }
    return result;
  }

  async read(from: number, max: number): Promise<LogEntry[]> {
    this.#assertOpen('read');
    try {
      return this.#readNow(from, max);
    } catch (error) {
      throw new LogReadError(`read from ${from} in ${this.path} failed`, { cause: error });
    }
  }

  #readNow(from: number, max: number): LogEntry[] {
    // another thread or process may have committed since this thread's read snapshot was taken
    this.#env.resetReadTxn();
    const out: LogEntry[] = [];
    for (const { key, value } of this.#records.getRange({ start: Math.max(1, from), limit: max })) {
      out.push(unframe(key, value));
    }
    return out;
  }

  async *tail(from: number, options: ReadOptions = {}): AsyncIterable<LogEntry[]> {
    this.#assertOpen('tail');
    const max = options.maxBatch ?? DEFAULT_TAIL_BATCH;
    const signal = options.signal;
    let next = Math.max(1, from);
    while (!this.#closed && signal?.aborted !== true) {
      let batch: LogEntry[];
      try {
        batch = this.#readNow(next, max);
      } catch (error) {
        throw new LogReadError(`tail from ${next} in ${this.path} failed`, { cause: error });
      }
      const last = batch[batch.length - 1];
      if (last !== undefined) {
        next = last.seq + 1;
        yield batch;
        continue;
      }
      await this.#waitForAppend(signal);
    }
  }

  /** resolves on an append by any handle in this process, a poll tick (other processes), abort or close. */
  #waitForAppend(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.#pollMs);
      signal?.addEventListener('abort', done, { once: true });
      this.#waiters.add(done);
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  async lastSeq(): Promise<number> {
    this.#assertOpen('lastSeq');
    this.#env.resetReadTxn();
    return this.#lastSeqNow();
  }

  /** inside a write transaction this sees the transaction's own writes. */
  #lastSeqNow(): number {
    for (const key of this.#records.getKeys({ reverse: true, limit: 1 })) return key;
    return 0;
  }

  #structureCount(): number {
    for (const key of this.#structures.getKeys({ reverse: true, limit: 1 })) return key + 1;
    return 0;
  }

  async position(name: string): Promise<number> {
    this.#assertOpen('position');
    this.#env.resetReadTxn();
    return this.#positions.get(name) ?? 0;
  }

  async commit(name: string, seq: number): Promise<void> {
    this.#assertOpen('commit');
    const work = (async () => {
      try {
        this.#checkSpace();
        await this.#positions.put(name, seq);
        await this.#env.flushed;
      } catch (error) {
        throw new LogCommitError(`commit of position ${name}=${seq} in ${this.path} failed`, { cause: error });
      }
    })();
    return this.#track(work);
  }

  async structures(from: number): Promise<Structure[]> {
    this.#assertOpen('structures');
    try {
      this.#env.resetReadTxn();
      const out: Structure[] = [];
      for (const { key, value } of this.#structures.getRange({ start: from })) {
        if (key !== from + out.length) throw new Error(`structure registry gap at ${from + out.length}`);
        out.push(value);
      }
      return out;
    } catch (error) {
      throw new LogReadError(`reading structures from ${from} in ${this.path} failed`, { cause: error });
    }
  }

  /**
   * Waits for in-flight appends and commits, then closes the environment in a later event-loop turn
   * (lmdb-js hung when an environment closed in the same turn as a write).
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    this.#wake();
    this.#closing = (async () => {
      await Promise.allSettled([...this.#pending]);
      // after the pending appends: their broadcasts still wake tails in other threads
      this.#channel.close();
      await closeEnv(this.#env);
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
    if (this.#closed) throw new LogClosedError(`${what} on ${this.path}`);
  }
}

export function openEmbeddedLog(config: EmbeddedLogConfig): Promise<EmbeddedLog> {
  return EmbeddedLog.open(config);
}
