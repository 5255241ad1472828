/**
 * The checkpoint writer thread: owns the checkpoint store's writes, so the engine's thread only
 * evaluates. The engine hands it a checkpoint in plain form (a structured clone, taken at once) and
 * goes on; the writer commits checkpoints one after the other, in the order given, each in one LMDB
 * transaction (state, timers, outputs, outbox, identity, history and event index), encodes the
 * change-log records on the way, and answers with the outbox seq and those records.
 */
import { Worker } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import { fileURLToPath } from 'node:url';
import type { Change } from '../runtime/change.ts';
import { CheckpointError, unpackRecords, type CheckpointSink, type CommitResult, type PlainCheckpoint, type TakenCheckpoint } from './checkpoint-store.ts';
import { StorageFullError } from './storage-guard.ts';

/** What the writer thread answers (see checkpoint-writer-worker.ts). */
export type WriterReply =
  | { readonly type: 'ready' }
  | { readonly type: 'committed'; readonly id: number; readonly seq: number; readonly outbox: Uint8Array }
  | { readonly type: 'failed'; readonly id: number; readonly error: WriterFailure }
  | { readonly type: 'closed'; readonly profile?: unknown };

/** A failed commit, across the thread boundary: a full disk stays recognisable (the engine retries it). */
export interface WriterFailure {
  readonly message: string;
  /** not tried: an earlier checkpoint failed and has not been committed since (send it again after that one). */
  readonly skipped?: boolean;
  readonly storageFull?: { readonly path: string; readonly freeBytes: number; readonly minFreeBytes: number };
}

export interface CheckpointWriterConfig {
  /** the checkpoint store's directory. */
  readonly path: string;
  /** free bytes kept in reserve (StorageGuardConfig.minFreeBytes); 0 turns the check off. */
  readonly minFreeBytes?: number;
  /** test hook: the n-th commit attempts (1-based, counted in the writer) fail as a full disk would. */
  readonly failAttempts?: readonly number[];
  /** benchmarks: run the V8 CPU profiler in the writer thread from start to close (`profile()` has it then). */
  readonly profile?: boolean;
}

/** An earlier checkpoint failed: this one was not tried and goes again once that one is in. */
class SkippedCommitError extends Error {}

/**
 * A checkpoint crosses to the writer as one msgpack buffer (records: each object shape written once):
 * several times cheaper for the engine's thread than postMessage's structured clone of the same objects.
 */
export const checkpointPackr = new Packr({ useRecords: true, moreTypes: false });

/**
 * The checkpoint as it crosses: history's changes are mostly the outbox's and held changes (the same
 * objects), so those go as their index in `[...changes, ...held]` instead of a second copy.
 */
export function toWire(input: PlainCheckpoint): Uint8Array {
  const history = input.history;
  if (history === undefined || history.changes.length === 0) return checkpointPackr.pack(input);
  const index = new Map<Change, number>();
  let n = 0;
  for (const c of input.changes) index.set(c, n++);
  for (const c of input.held ?? []) index.set(c, n++);
  const refs = history.changes.map((c) => index.get(c) ?? c);
  return checkpointPackr.pack({ ...input, history: { ...history, changes: [] }, historyRefs: refs });
}

export function fromWire(bytes: Uint8Array): PlainCheckpoint {
  const wire = checkpointPackr.unpack(bytes) as PlainCheckpoint & { historyRefs?: Array<number | Change> };
  const { historyRefs, ...input } = wire;
  if (historyRefs === undefined || input.history === undefined) return input;
  const all = input.held === undefined ? input.changes : [...input.changes, ...input.held];
  return { ...input, history: { ...input.history, changes: historyRefs.map((r) => (typeof r === 'number' ? all[r]! : r)) } };
}

export class CheckpointWriter implements CheckpointSink {
  readonly pipelined = true;
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: (r: CommitResult) => void; reject: (e: Error) => void }>();
  #next = 1;
  /** next checkpoint's place in the commit order (the writer thread counts the same way). */
  #order = 1;
  #dead: Error | undefined;
  #closed: Promise<void> | undefined;
  #profile: unknown;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (m: WriterReply) => {
      if (m.type === 'committed') {
        this.#settle(m.id)?.resolve({ seq: m.seq, records: m.seq === 0 ? [] : unpackRecords(m.outbox, false), outbox: m.outbox });
      } else if (m.type === 'failed') {
        const { message, storageFull, skipped } = m.error;
        const cause = storageFull === undefined ? new Error(message) : new StorageFullError(storageFull.path, storageFull.freeBytes, storageFull.minFreeBytes);
        this.#settle(m.id)?.reject(skipped === true ? new SkippedCommitError(message) : new CheckpointError(message, { cause }));
      }
    });
    const die = (error: Error) => {
      this.#dead ??= error;
      for (const [, w] of this.#waiting) w.reject(this.#dead);
      this.#waiting.clear();
    };
    worker.on('error', (e) => die(new CheckpointError(`the checkpoint writer thread failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => die(new CheckpointError(`the checkpoint writer thread ended (exit code ${code})`, { cause: undefined })));
  }

  /** Starts the writer thread and resolves once it has opened the store. */
  static async start(config: CheckpointWriterConfig): Promise<CheckpointWriter> {
    const worker = new Worker(fileURLToPath(new URL('../service/ts-worker.mjs', import.meta.url)), {
      workerData: { entry: new URL('./checkpoint-writer-worker.ts', import.meta.url).href, config },
    });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: WriterReply) => {
        if (m.type !== 'ready') return;
        worker.off('error', reject);
        worker.off('message', onMessage);
        resolve();
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
    return new CheckpointWriter(worker);
  }

  #settle(id: number) {
    const w = this.#waiting.get(id);
    this.#waiting.delete(id);
    return w;
  }

  /**
   * Copies the checkpoint now (one msgpack buffer) and sends it at once: the writer commits it as
   * soon as the ones before it are in, while the engine still publishes those. Each checkpoint has its
   * place (`order`); after a failed commit the writer skips every later one until the failed one is
   * sent again and committed, so they are committed in order or not at all. `commit()` answers the
   * first attempt, and sends again after a failure (a skipped one at once).
   */
  take(input: PlainCheckpoint): TakenCheckpoint {
    const bytes = toWire(input);
    const order = this.#order++;
    let first: Promise<CommitResult> | undefined = this.#commit(order, bytes);
    // (answered by `commit()`: not unhandled while it waits for the engine to ask)
    first.catch(() => {});
    return {
      commit: async () => {
        const attempt = first ?? this.#commit(order, bytes);
        first = undefined;
        try {
          return await attempt;
        } catch (error) {
          if (error instanceof SkippedCommitError) return this.#commit(order, bytes);
          throw error;
        }
      },
    };
  }

  #commit(order: number, bytes: Uint8Array): Promise<CommitResult> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead);
    if (this.#closed !== undefined) return Promise.reject(new CheckpointError('the checkpoint writer is closed', { cause: undefined }));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.postMessage({ type: 'commit', id, order, input: bytes });
    });
  }

  /** The writer thread's V8 CPU profile (`profile: true`), once closed. */
  profile(): unknown {
    return this.#profile;
  }

  /** Waits for the commits handed over, closes the writer's store and ends the thread. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      if (this.#dead === undefined) {
        const closed = new Promise<void>((resolve) => {
          this.#worker.on('message', (m: WriterReply) => {
            if (m.type !== 'closed') return;
            this.#profile = m.profile;
            resolve();
          });
          this.#worker.once('exit', () => resolve());
        });
        this.#worker.postMessage({ type: 'close' });
        await closed;
      }
      await this.#worker.terminate();
    })();
    return this.#closed;
  }
}

