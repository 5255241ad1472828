/**
 * What the engine adds to each checkpoint for history: the changes to record, the events and merges
 * to index, versions to compact, and the retention horizons — collected between checkpoints and
 * written in the checkpoint's transaction, so a crash loses none of it and a restart writes none twice.
 */
import type { Change } from '../runtime/change.ts';
import type { RuntimeInput } from '../runtime/runtime.ts';
import type { EventIndex, IndexedEvent, IndexedMerge } from './event-index.ts';
import type { HistoryStore } from './history-store.ts';

export interface HistoryWrites {
  readonly changes: readonly Change[];
  readonly events: readonly IndexedEvent[];
  readonly merges: readonly IndexedMerge[];
  /** superseded versions whose history goes. */
  readonly compact: ReadonlyArray<{ readonly space: string; readonly definitionId: string; readonly version: number }>;
  /** versions computed again: their history goes before `changes` are written (at once, in this checkpoint). */
  readonly replace?: ReadonlyArray<{ readonly space: string; readonly definitionId: string; readonly version: number }>;
  /** versions a backfill computed up to a log position, when they went live. */
  readonly replayed?: ReadonlyArray<BackfilledVersion & { readonly through: number; readonly ordered?: number }>;
  /** history before this instant may go (−∞: keep everything) … */
  readonly horizon: number;
  /** … and index entries of events before this one. */
  readonly eventHorizon: number;
}

/** A definition version whose history a backfill computed. */
export interface BackfilledVersion {
  readonly space: string;
  readonly definitionId: string;
  readonly version: number;
  readonly kind: 'audience' | 'trait';
  readonly key: string;
}

export interface HistoryRetention {
  /** how long history is kept (ms of event time behind the watermark); 0 = forever. */
  readonly historyMs: number;
  /** how long the event index keeps an event (the event log's retention); 0 = forever. */
  readonly eventsMs: number;
}

/** A batch the runtime applied: its events (with their log position) and the instant each was applied at. */
export interface AppliedBatch {
  readonly events: ReadonlyArray<RuntimeInput & { readonly seq?: number }>;
  readonly instants: readonly number[];
}

/** Records visited by the retention sweeps per record written (they keep up with what is written). */
const SWEEP_PER_WRITE = 2;
/** Records of superseded versions deleted per checkpoint. */
const COMPACT_BUDGET = 20_000;

/** Collects history between checkpoints (the engine feeds it; `take` empties it into one checkpoint). */
export class HistoryCollector {
  #changes: Change[] = [];
  #batches: AppliedBatch[] = [];
  #compact: Array<{ space: string; definitionId: string; version: number }> = [];
  #replace: Array<{ space: string; definitionId: string; version: number }> = [];
  #replayed: Array<BackfilledVersion & { through: number; ordered: number }> = [];

  constructor(readonly retention: HistoryRetention) {}

  /** A change of the runtime or of a backfill (a switch's announced difference is not history). */
  change(c: Change): void {
    this.#changes.push(c);
  }

  changes(cs: readonly Change[]): void {
    for (const c of cs) this.#changes.push(c);
  }

  applied(batch: AppliedBatch): void {
    if (batch.events.length > 0) this.#batches.push(batch);
  }

  compact(space: string, definitionId: string, version: number): void {
    this.#compact.push({ space, definitionId, version });
  }

  /**
   * A backfill's history of `version`, computed up to log position `through` (the live engine
   * computes the version from there on), up to `ordered` in event-time order; `replace`: the version was computed before (enabled again),
   * its old history goes first.
   */
  backfilled(version: BackfilledVersion, changes: readonly Change[], through: number, replace: boolean, ordered = 0): void {
    const { space, definitionId } = version;
    if (replace) {
      this.#replace.push({ space, definitionId, version: version.version });
      this.#changes = this.#changes.filter((c) => c.space !== space || c.definitionId !== definitionId || c.version !== version.version);
    }
    this.changes(changes);
    this.#replayed.push({ ...version, through, ordered });
  }

  /** Everything collected since the last call, for the checkpoint at `watermark`. */
  take(watermark: number): HistoryWrites {
    const events: IndexedEvent[] = [];
    const merges: IndexedMerge[] = [];
    for (const { events: inputs, instants } of this.#batches) {
      for (let i = 0; i < inputs.length; i++) {
        const { event, profileId, seq = 0, merges: linked } = inputs[i]!;
        const at = instants[i]!;
        if (linked !== undefined) for (const m of linked) merges.push({ space: event.space, from: m.from, into: m.into, at, seq });
        events.push({ space: event.space, profileId, timestamp: event.timestamp, messageId: event.messageId, seq, name: event.event, applied: at });
      }
    }
    const writes: HistoryWrites = {
      changes: this.#changes,
      events,
      merges,
      compact: this.#compact,
      replace: this.#replace,
      replayed: this.#replayed,
      horizon: this.retention.historyMs > 0 ? watermark - this.retention.historyMs : Number.NEGATIVE_INFINITY,
      eventHorizon: this.retention.eventsMs > 0 ? watermark - this.retention.eventsMs : Number.NEGATIVE_INFINITY,
    };
    this.#changes = [];
    this.#batches = [];
    this.#compact = [];
    this.#replace = [];
    this.#replayed = [];
    return writes;
  }
}

/** Writes one checkpoint's history (inside its transaction). */
export function writeHistory(history: HistoryStore, index: EventIndex, w: HistoryWrites): void {
  for (const r of w.replace ?? []) history.dropVersion(r.space, r.definitionId, r.version);
  const records = history.write(w.changes);
  for (const v of w.replayed ?? []) history.setReplayedThrough(v.space, v.definitionId, v.version, v, v.through, v.ordered ?? 0);
  index.write(w.events, w.merges);
  for (const c of w.compact) history.requestCompaction(c.space, c.definitionId, c.version);
  history.compactStep(COMPACT_BUDGET);
  const budget = Math.max(1000, SWEEP_PER_WRITE * (records + w.events.length));
  if (Number.isFinite(w.horizon)) {
    history.setRetainedFrom(w.horizon);
    history.sweep(w.horizon, budget);
  }
  if (Number.isFinite(w.eventHorizon)) index.sweep(w.eventHorizon, budget);
}
