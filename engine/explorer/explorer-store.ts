/**
 * The explorer's LMDB store (`<dataDir>/explorer`), kept by following the change log: each
 * definition's recent changes (enters, exits, trait values) and its size over time.
 *
 * Size over time is stored as deltas: +1 when a profile enters (or gets a value), −1 when it exits
 * (or loses it), bucketed by the minute of the change's event-time instant, with a daily roll-up.
 * The size at t is the sum of every delta up to t: days before t's day, then minutes of that day.
 * Deltas, unlike sampled counts, need no clock on the reading side, come out the same on a replay,
 * and a backfill (whose changes carry historical instants) fills in history as it runs.
 */
import { closeEnv } from '../store/close-env.ts';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { Change } from '../runtime/change.ts';

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** One recent change of a definition. */
export interface RecentChange {
  readonly id: string;
  readonly kind: Change['kind'];
  readonly profileId: string;
  readonly version: number;
  /** the event-time instant of the flip (epoch ms). */
  readonly at: number;
  /** trait changes: the new and previous value (undefined: none). */
  readonly value?: unknown;
  readonly previous?: unknown;
}

export interface SizePoint {
  /** end of the bucket (exclusive), epoch ms. */
  readonly at: number;
  readonly count: number;
}

export type Step = 'minute' | 'hour' | 'day';
export const STEP_MS: Readonly<Record<Step, number>> = { minute: MINUTE_MS, hour: 3_600_000, day: DAY_MS };

export interface ExplorerStoreOptions {
  /** recent changes kept per definition. */
  readonly recentPerDefinition?: number;
}

type DeltaKey = [string, string, number, number];

export class ExplorerStore {
  readonly #env: RootDatabase;
  /** [space, definitionId, at, changeId] → the change. */
  readonly #recent: Database<RecentChange, [string, string, number, string]>;
  /** [space, definitionId, version, minute start] → Σ deltas of that minute. */
  readonly #minutes: Database<number, DeltaKey>;
  /** [space, definitionId, version, day start] → Σ deltas of that day. */
  readonly #days: Database<number, DeltaKey>;
  /** 'position' → last change-log seq applied; [space, definitionId] → recent entries kept. */
  readonly #meta: Database<number, string | [string, string]>;
  readonly #keep: number;
  #closed = false;

  private constructor(path: string, options: ExplorerStoreOptions) {
    mkdirSync(path, { recursive: true });
    this.#env = open({ path, compression: false });
    this.#recent = this.#env.openDB({ name: 'recent', encoding: 'msgpack' });
    this.#minutes = this.#env.openDB({ name: 'minutes', encoding: 'msgpack' });
    this.#days = this.#env.openDB({ name: 'days', encoding: 'msgpack' });
    this.#meta = this.#env.openDB({ name: 'meta', encoding: 'msgpack' });
    this.#keep = options.recentPerDefinition ?? 1000;
  }

  static open(path: string, options: ExplorerStoreOptions = {}): ExplorerStore {
    return new ExplorerStore(path, options);
  }

  static pathIn(dataDir: string): string {
    return join(dataDir, 'explorer');
  }

  /** The last change-log position applied (0: none). */
  position(): number {
    return this.#meta.get('position') ?? 0;
  }

  /** Applies the changes of change-log records up to `position`, in one transaction. */
  async apply(changes: readonly Change[], position: number): Promise<void> {
    const minutes = new Map<string, { key: DeltaKey; delta: number }>();
    const days = new Map<string, { key: DeltaKey; delta: number }>();
    const recent = new Map<string, { space: string; definitionId: string; list: RecentChange[] }>();
    const add = (into: Map<string, { key: DeltaKey; delta: number }>, key: DeltaKey, delta: number) => {
      const id = key.join('\u0000');
      const entry = into.get(id);
      if (entry === undefined) into.set(id, { key, delta });
      else entry.delta += delta;
    };
    for (const c of changes) {
      const delta = sizeDelta(c);
      if (delta !== 0) {
        add(minutes, [c.space, c.definitionId, c.version, floorTo(c.at, MINUTE_MS)], delta);
        add(days, [c.space, c.definitionId, c.version, floorTo(c.at, DAY_MS)], delta);
      }
      const group = `${c.space}\u0000${c.definitionId}`;
      let entry = recent.get(group);
      if (entry === undefined) recent.set(group, (entry = { space: c.space, definitionId: c.definitionId, list: [] }));
      entry.list.push(
        c.kind === 'trait'
          ? { id: c.id, kind: c.kind, profileId: c.profileId, version: c.version, at: c.at, value: c.value, previous: c.previous }
          : { id: c.id, kind: c.kind, profileId: c.profileId, version: c.version, at: c.at },
      );
    }
    await this.#env.transaction(() => {
      for (const [into, db] of [[minutes, this.#minutes], [days, this.#days]] as const) {
        for (const { key, delta } of into.values()) {
          if (delta === 0) continue;
          const next = (db.get(key) ?? 0) + delta;
          if (next === 0) db.remove(key);
          else db.put(key, next);
        }
      }
      for (const { space, definitionId, list } of recent.values()) {
        // a backfill sends far more than is kept: write only the newest of the batch
        const newest = list.length > this.#keep ? [...list].sort((a, b) => a.at - b.at).slice(-this.#keep) : list;
        let kept = this.#meta.get([space, definitionId]) ?? 0;
        for (const r of newest) {
          const key: [string, string, number, string] = [space, definitionId, r.at, r.id];
          if (this.#recent.get(key) !== undefined) continue;
          this.#recent.put(key, r);
          kept++;
        }
        // trim the oldest in chunks, so a busy definition does not trim on every batch
        if (kept > this.#keep + Math.max(10, this.#keep / 10)) {
          let drop = kept - this.#keep;
          for (const { key } of this.#recent.getRange({ start: [space, definitionId, Number.NEGATIVE_INFINITY, ''], end: [space, definitionId, Number.POSITIVE_INFINITY, ''] })) {
            if (drop-- <= 0) break;
            this.#recent.remove(key);
            kept--;
          }
        }
        this.#meta.put([space, definitionId], kept);
      }
      this.#meta.put('position', position);
    });
  }

  /** Recent changes of a definition, newest first; `before` continues from a previous page's last entry. */
  recent(space: string, definitionId: string, options: { limit: number; before?: { at: number; id: string }; kinds?: ReadonlySet<Change['kind']> }): { changes: RecentChange[]; hasMore: boolean } {
    const out: RecentChange[] = [];
    const start: [string, string, number, string] = options.before === undefined ? [space, definitionId, Number.POSITIVE_INFINITY, ''] : [space, definitionId, options.before.at, options.before.id];
    for (const { key, value } of this.#recent.getRange({ start, end: [space, definitionId, Number.NEGATIVE_INFINITY, ''], reverse: true })) {
      if (options.before !== undefined && key[2] === options.before.at && key[3] >= options.before.id) continue;
      if (options.kinds !== undefined && !options.kinds.has(value.kind)) continue;
      out.push(value);
      if (out.length > options.limit) break;
    }
    return { changes: out.slice(0, options.limit), hasMore: out.length > options.limit };
  }

  /**
   * The size of a definition version at the end of each `step` from `from` to `to` (epoch ms,
   * aligned down to the step): one point per step, at the end of its bucket.
   */
  sizeSeries(space: string, definitionId: string, version: number, range: { from: number; to: number; step: Step }): SizePoint[] {
    const step = STEP_MS[range.step];
    const from = floorTo(range.from, step);
    const to = floorTo(range.to, step);
    // the size just before `from`: whole days before from's day, then the minutes of that day before from
    const fromDay = floorTo(from, DAY_MS);
    let size = 0;
    for (const { value } of this.#days.getRange({ start: [space, definitionId, version, Number.NEGATIVE_INFINITY], end: [space, definitionId, version, fromDay] })) size += value;
    for (const { value } of this.#minutes.getRange({ start: [space, definitionId, version, fromDay], end: [space, definitionId, version, from] })) size += value;
    const points: SizePoint[] = [];
    const minutes = this.#minutes.getRange({ start: [space, definitionId, version, from], end: [space, definitionId, version, to + step] })[Symbol.iterator]();
    let next = minutes.next();
    for (let bucket = from; bucket <= to; bucket += step) {
      const end = bucket + step;
      while (next.done !== true && next.value.key[3] < end) {
        size += next.value.value;
        next = minutes.next();
      }
      points.push({ at: end, count: size });
    }
    return points;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await closeEnv(this.#env);
  }
}

function floorTo(t: number, step: number): number {
  return Math.floor(t / step) * step;
}

/** +1 when a profile enters or a trait gets a value, −1 when it exits or loses it, 0 for a new value. */
export function sizeDelta(c: Change): number {
  if (c.kind !== 'trait') return c.kind === 'enter' ? 1 : -1;
  const had = c.previous !== undefined && c.previous !== null;
  const has = c.value !== undefined && c.value !== null;
  return had === has ? 0 : has ? 1 : -1;
}
