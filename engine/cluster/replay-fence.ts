/**
 * The replay fence of a takeover: it decides which of a worker's changes are left out of the change
 * log because the partition set's previous holder already published them.
 *
 * The engine commits its position on the resolved log (under the set's consumer name) only after
 * the changes of every checkpoint through that position are on the change log; a worker node also
 * notes, beside it, how far the change log reached then (`FencedSource`). A worker that takes the set
 * over reads both — the fence:
 *
 * 1. From its store's position up to the fence position it replays with every append dropped: the
 *    changes it recomputes there are the ones already published (a function of the log), and since
 *    its checkpoints group them into change-log records differently from the previous holder's, the
 *    change log's duplicate window (on record ids) would not drop them all.
 * 2. After it, it drops the changes whose ids are on the change log past the noted end: what the
 *    previous holder published of its last checkpoints before it could commit their position (it
 *    died between the two). Those ids are read once, at the takeover (the log's tail since the mark:
 *    about a second and a lease TTL of every worker's changes).
 *
 * State transfers (to other partitions) are published again as they come: their ids do not depend
 * on checkpoints, so the resolved log drops them. A previous holder still running after it lost its
 * lease (a lease is not instantaneous) can still put a change on the log twice — as the same change
 * id, which consumers drop (DESIGN §3).
 */
import type { Engine } from '../engine.ts';
import type { AppendLog, AppendResult, LogRecord } from '../log/append-log.ts';
import { AppendLogView } from '../log/append-log-view.ts';
import type { EventLog } from '../log/event-log.ts';
import { decodeChangeRecord, encodeChangeRecords } from '../runtime/change-records.ts';
import { ResolvedSource } from './resolved-source.ts';

/** The position name beside the consumer's under which the change log's end is noted. */
const changesMark = (consumer: string): string => `${consumer}.changes`;

/** What a takeover reads: the position the previous holder published through, and a change-log position it had published through then. */
export interface Fence {
  readonly position: number;
  /** the change log held no later change of the previous holder's through `position` than this. */
  readonly changeLogEnd: number;
}

export async function readFence(resolved: AppendLog, consumer: string): Promise<Fence> {
  const position = await resolved.position(consumer);
  return { position, changeLogEnd: await resolved.position(changesMark(consumer)) };
}

/**
 * A worker's input that notes the change log's end beside each position it commits — at most every
 * `everyMs` (a mark from an earlier commit is still a bound: a takeover only reads more of the log),
 * and only when the position moved: a checkpoint can publish changes with no new position (time
 * moved for an event that waits: a `prepare`), and a takeover that replays to that position leaves
 * the prepare to its unmuted run, which must find those changes past the mark.
 */
export class FencedSource extends ResolvedSource {
  #noted = Number.NEGATIVE_INFINITY;
  #position = -1;
  #committing: boolean;

  constructor(
    log: AppendLog,
    owned: ReadonlySet<number>,
    partitions: number,
    readonly changeLog: AppendLog,
    readonly everyMs = 1000,
    /** false for a warm standby (warm-standby.ts): its checkpoints commit nothing — the fence is the holder's — until `startCommitting`. */
    committing = true,
  ) {
    super(log, owned, partitions);
    this.#committing = committing;
  }

  /** The lease is this worker's now: its checkpoints commit the position (and note the mark) from here on. */
  startCommitting(): void {
    this.#committing = true;
  }

  override async commit(name: string, seq: number): Promise<void> {
    if (!this.#committing) return;
    const due = seq > this.#position && performance.now() - this.#noted >= this.everyMs;
    this.#position = Math.max(this.#position, seq);
    // (read before the position is committed: the engine committed it after publishing, so the end includes that)
    const end = due ? await this.changeLog.lastSeq() : 0;
    await super.commit(name, seq);
    if (!due) return;
    await this.log.commit(changesMark(name), end);
    this.#noted = performance.now();
  }
}

/**
 * The ids of the changes on the change log after `from`, up to its end now. All of them, not only
 * those filed under the set's partitions: a merge across partitions emits the absorbed profile's
 * exits where the survivor is computed, filed under the absorbed profile's partition.
 */
export async function publishedSince(changeLog: AppendLog, from: number): Promise<Set<string>> {
  const ids = new Set<string>();
  const end = await changeLog.lastSeq();
  for (let next = from + 1; next <= end; ) {
    const entries = await changeLog.read(next, Math.min(5000, end - next + 1));
    if (entries.length === 0) break;
    for (const e of entries) for (const c of decodeChangeRecord(e.data)) ids.add(c.id);
    next = entries[entries.length - 1]!.seq + 1;
  }
  return ids;
}

/**
 * The change log as a takeover writes to it: every append dropped until `open()`, then the changes
 * in `published` left out (each once: ids are unique) until none is left to meet — or the worker
 * clears it once past every position the previous holder could have reached.
 */
export class FencedChangeLog extends AppendLogView {
  #muted: boolean;
  /** records dropped while muted, and changes left out after. */
  dropped = 0;
  skipped = 0;

  constructor(
    log: AppendLog,
    muted: boolean,
    readonly published: Set<string>,
    /** the engine's change-log partitions (records are re-encoded with them). */
    readonly partitions: number,
  ) {
    super(log);
    this.#muted = muted;
  }

  get muted(): boolean {
    return this.#muted;
  }

  /** From now on appends go to the change log (less what `published` holds). */
  open(): void {
    this.#muted = false;
  }

  append(records: readonly LogRecord[]): Promise<AppendResult> {
    if (this.#muted) {
      this.dropped += records.length;
      // (a mark older than the fence lists changes below it too: met here, they need no looking for later)
      if (this.published.size > 0) for (const record of records) for (const c of decodeChangeRecord(record.data)) this.published.delete(c.id);
      // (already on the log, where the previous holder put them: positions unknown here)
      return Promise.resolve({ seqs: records.map(() => 0), duplicates: records.length });
    }
    if (this.published.size === 0) return this.log.append(records);
    const out: LogRecord[] = [];
    for (const record of records) {
      const changes = decodeChangeRecord(record.data);
      const left = changes.filter((c) => !this.published.delete(c.id));
      this.skipped += changes.length - left.length;
      if (left.length === changes.length) out.push(record);
      else if (left.length > 0) out.push(...encodeChangeRecords(left, this.partitions));
    }
    return out.length === 0 ? Promise.resolve({ seqs: [], duplicates: records.length }) : this.log.append(out);
  }
}

/**
 * Records applied between two turns of the event loop while replaying: a takeover's replay of
 * thousands of cold profiles on one turn stalled the loop for seconds on this shared machine, and
 * the standby lost the lease it had just taken (its renewal timer could not run) — again at each
 * try, as the replay starts over from the same checkpoint.
 */
export const REPLAY_SLICE = 250;

/**
 * Applies `source` from the engine's position through `fence` (not beyond: a batch is cut there, and
 * before a prepare of an event past it — the previous holder may not have reached that prepare, so
 * its changes are the unmuted run's), `slice` records per turn of the event loop, and checkpoints
 * once at the end — a checkpoint before
 * it (or on a stop midway) would commit a position below the fence on the resolved log, and the
 * next takeover would publish more again.
 */
export async function replayToFence(engine: Engine, source: EventLog, fence: number, signal: AbortSignal, maxBatch = 2000, slice = REPLAY_SLICE): Promise<void> {
  if (engine.position >= fence) return;
  const iterator = source.tail(engine.position + 1, { maxBatch, signal })[Symbol.asyncIterator]();
  try {
    while (engine.position < fence && !signal.aborted) {
      const r = await iterator.next();
      if (r.done === true) break;
      const cut = r.value.findIndex((e) => e.seq > fence || (e.resolved?.kind === 'prepare' && e.resolved.event > fence));
      const ready = cut < 0 ? r.value : r.value.slice(0, cut);
      for (let i = 0; i < ready.length && !signal.aborted; i += slice) {
        engine.process(ready.slice(i, i + slice));
        // (the lease is renewed on this event loop: a tail hands over buffered batches without a turn of it)
        await new Promise((resolve) => setImmediate(resolve));
      }
      await engine.publishHandovers();
      // (what follows the fence is the run loop's: it tails again from the engine's position)
      if (cut >= 0) break;
    }
  } finally {
    await iterator.return?.();
  }
  if (!signal.aborted) await engine.checkpoint();
}
