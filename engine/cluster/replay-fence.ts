/**
 * The replay fence of a takeover: it decides which of a worker's change-log appends are left out
 * because the partition set's previous holder already published them.
 *
 * The engine commits its position on the resolved log (under the set's consumer name) only after
 * the changes of every checkpoint through that position are on the change log. A worker that takes
 * the set over reads that position — the fence — and replays from its snapshot up to it with its
 * appends dropped: the changes it recomputes there are the ones already published (a function of
 * the log), and since its checkpoints group them into change-log records differently from the
 * previous holder's, the change log's duplicate window (on record ids) would not drop them all.
 * State transfers (to other partitions) are published again as they come: their ids do not depend
 * on checkpoints, so the resolved log drops them.
 *
 * After the fence the worker publishes as usual. The previous holder's checkpoints past the fence —
 * published, position not yet committed when it died — can reach the change log again: as the same
 * change ids, which consumers drop (DESIGN §3).
 */
import type { Engine } from '../engine.ts';
import type { AppendLog, AppendResult, LogEntry, LogRecord, ReadOptions, Structure } from '../log/append-log.ts';
import type { EventLog } from '../log/event-log.ts';

/** A change log whose appends are dropped until `open()`. */
export class FencedChangeLog implements AppendLog {
  readonly kind: AppendLog['kind'];
  #muted: boolean;
  /** records dropped while muted. */
  dropped = 0;

  constructor(
    readonly log: AppendLog,
    muted: boolean,
  ) {
    this.kind = log.kind;
    this.#muted = muted;
  }

  get muted(): boolean {
    return this.#muted;
  }

  /** From now on appends go to the change log. */
  open(): void {
    this.#muted = false;
  }

  append(records: readonly LogRecord[]): Promise<AppendResult> {
    if (!this.#muted) return this.log.append(records);
    this.dropped += records.length;
    // (already on the log, where the previous holder put them: positions unknown here)
    return Promise.resolve({ seqs: records.map(() => 0), duplicates: records.length });
  }

  read(from: number, max: number): Promise<LogEntry[]> {
    return this.log.read(from, max);
  }

  tail(from: number, options?: ReadOptions): AsyncIterable<LogEntry[]> {
    return this.log.tail(from, options);
  }

  lastSeq(): Promise<number> {
    return this.log.lastSeq();
  }

  position(name: string): Promise<number> {
    return this.log.position(name);
  }

  commit(name: string, seq: number): Promise<void> {
    return this.log.commit(name, seq);
  }

  reachable(): boolean {
    return this.log.reachable?.() ?? true;
  }

  structures(from: number): Promise<Structure[]> {
    return this.log.structures(from);
  }

  /** The change log is the worker's, not this view's: closing the view leaves it open. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Applies `source` from the engine's position through `fence` (not beyond: a batch is cut there) and
 * checkpoints once at the end — a checkpoint before it (or on a stop midway) would commit a position
 * below the fence on the resolved log, and the next takeover would publish more again.
 */
export async function replayToFence(engine: Engine, source: EventLog, fence: number, signal: AbortSignal, maxBatch = 2000): Promise<void> {
  if (engine.position >= fence) return;
  const iterator = source.tail(engine.position + 1, { maxBatch, signal })[Symbol.asyncIterator]();
  try {
    while (engine.position < fence && !signal.aborted) {
      const r = await iterator.next();
      if (r.done === true) break;
      const cut = r.value.findIndex((e) => e.seq > fence);
      engine.process(cut < 0 ? r.value : r.value.slice(0, cut));
      await engine.publishHandovers();
      // (what follows the fence is the run loop's: it tails again from the engine's position)
      if (cut >= 0) break;
    }
  } finally {
    await iterator.return?.();
  }
  if (!signal.aborted) await engine.checkpoint();
}
