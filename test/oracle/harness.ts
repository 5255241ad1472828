/** Runs the engine over random steps and checks its change stream against the oracle at every instant that matters. */
import { compilePlan, DEFAULT_COMPILE_OPTIONS } from '../../engine/plan/compile.ts';
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import { Runtime } from '../../engine/runtime/runtime.ts';
import type { Change } from '../../engine/runtime/change.ts';
import { toInstant } from '../../engine/eval/values.ts';
import { oracleAt, type HistoryEntry } from './oracle.ts';
import { DATE_POOL, durationsOf, T0, type Step } from '../support/arbitraries.ts';

export type Mode = 'replay' | 'live';

export interface EngineRun {
  readonly changes: Change[];
  readonly history: HistoryEntry[];
  readonly end: number;
}

export interface RunOptions {
  /** the generated timeline's unit (ms): 1000 = seconds, 3_600_000 = hours. */
  readonly unitMs?: number;
  /** the event log's retention the engine is compiled with (0 = forever: late events of any lateness count). */
  readonly retentionMs?: number;
}

/** A runtime over `defs` in space `spa_test` (the production compile options: late events inside the retention placed exactly), recording its changes. */
export function oracleRuntime(defs: readonly DefinitionInput[], retentionMs = 0): { rt: Runtime; changes: Change[] } {
  const { plan, failures } = compilePlan(defs, { ...DEFAULT_COMPILE_OPTIONS, retentionMs });
  if (failures.size > 0) throw new Error(`compile failed: ${[...failures.values()].map((f) => f.message).join('; ')}`);
  const changes: Change[] = [];
  return { rt: new Runtime({ plans: new Map([['spa_test', plan]]), onChange: (c) => changes.push(c) }), changes };
}

/** Drives a fresh runtime: replay = watermark follows event time; live = one batch per step at a wall clock. */
export function runEngine(defs: readonly DefinitionInput[], steps: readonly Step[], mode: Mode, options: RunOptions = {}): EngineRun {
  const { rt, changes } = oracleRuntime(defs, options.retentionMs);
  const unit = options.unitMs ?? 1000;
  const history: HistoryEntry[] = [];
  let wall = T0;
  let seq = 0;
  for (const step of steps) {
    if (step.kind === 'tick') {
      wall = tick(rt, mode, wall, step.dt);
      continue;
    }
    const { event, profileId } = step;
    if (mode === 'replay') rt.replay([{ event, profileId }]);
    else {
      if (event.timestamp > wall && event.timestamp <= wall + 20 * unit) wall = event.timestamp;
      rt.live([{ event, profileId }], wall);
    }
    history.push({ event, profileId, arrival: rt.watermark, seq: seq++ });
  }
  const durations = durationsOf(defs);
  const maxTs = Math.max(rt.watermark, ...history.map((h) => h.event.timestamp), ...DATE_POOL.map(Date.parse));
  const end = maxTs + 2 * Math.max(1000, ...durations) + 1000;
  rt.advanceTo(end);
  rt.close();
  return { changes, history, end };
}

/** A clock tick of `dt` with no event: replay advances the watermark, live moves the wall clock; returns the new wall clock. */
export function tick(rt: Runtime, mode: Mode, wall: number, dt: number): number {
  if (mode === 'replay') rt.advanceTo(Math.max(rt.watermark, T0) + dt);
  else rt.live([], wall + dt);
  return wall + dt;
}

/** Instants at which some output may change: arrivals, window ends, date flips, and every engine change. */
export function candidates(defs: readonly DefinitionInput[], run: Pick<EngineRun, 'changes' | 'end'> & { readonly history: ReadonlyArray<{ readonly arrival: number; readonly event: { readonly timestamp: number } }> }): number[] {
  const durations = [0, ...durationsOf(defs)];
  const out = new Set<number>();
  for (const h of run.history) {
    out.add(h.arrival);
    for (const d of durations) {
      out.add(h.event.timestamp + d);
      out.add(h.event.timestamp + d + 1);
    }
  }
  for (const iso of DATE_POOL) {
    const t = toInstant(iso);
    for (const d of durations) for (const x of [t - d, t - d + 1, t + d, t + d + 1]) out.add(x);
  }
  for (const c of run.changes) out.add(c.at);
  const start = Math.min(T0, ...run.history.map((h) => h.event.timestamp)) - 120_000;
  return [...out].filter((t) => t >= start && t <= run.end).sort((a, b) => a - b);
}

export function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The output key of a change: profile and definition key. */
export const keyOf = (c: Change) => `${c.profileId}|${c.kind === 'trait' ? c.traitKey : c.audienceKey}`;

/** The engine's change stream must be well formed: in time order, enters and exits alternating, traits chaining their values, ids unique. */
export function checkWellFormed(changes: readonly Change[]): void {
  const lastValue = new Map<string, unknown>();
  let lastAt = Number.NEGATIVE_INFINITY;
  for (const c of changes) {
    if (c.at < lastAt) throw new Error(`changes out of order: ${c.id}`);
    lastAt = c.at;
    const k = keyOf(c);
    if (c.kind === 'trait') {
      if (!same(lastValue.get(k), c.previous)) throw new Error(`trait change ${c.id}: previous ${JSON.stringify(c.previous)} but was ${JSON.stringify(lastValue.get(k))}`);
      lastValue.set(k, c.value);
    } else {
      if ((c.kind === 'enter') === (lastValue.get(k) === true)) throw new Error(`repeated ${c.kind}: ${c.id}`);
      lastValue.set(k, c.kind === 'enter');
    }
  }
  if (new Set(changes.map((c) => c.id)).size !== changes.length) throw new Error('duplicate change ids');
}

/** Throws with a readable report when the engine and the oracle disagree at some instant. */
export function checkAgainstOracle(defs: readonly DefinitionInput[], run: EngineRun): void {
  const profiles = [
    ...new Set([
      ...run.history.map((h) => h.profileId),
      ...run.history.filter((h) => h.event.type === 'group' && h.event.groupId !== null).map((h) => `group_id:${h.event.groupId}`),
    ]),
  ];
  const collectionOf = (p: string) => (p.startsWith('group_id:') ? 'ACCOUNTS' : 'USERS');
  checkWellFormed(run.changes);

  const cursor = new Map<string, unknown>();
  let next = 0;
  for (const t of candidates(defs, run)) {
    while (next < run.changes.length && run.changes[next]!.at <= t) {
      const c = run.changes[next++]!;
      cursor.set(keyOf(c), c.kind === 'trait' ? c.value : c.kind === 'enter');
    }
    const expected = oracleAt(defs, run.history, t);
    for (const p of profiles) {
      const exp = expected.get(p);
      for (const d of defs) {
        if (d.target !== collectionOf(p)) continue;
        const want = exp === undefined ? (d.kind === 'audience' ? false : undefined) : d.kind === 'audience' ? exp.get(d.key) === true : exp.get(d.key);
        const got = cursor.has(`${p}|${d.key}`) ? cursor.get(`${p}|${d.key}`) : d.kind === 'audience' ? false : undefined;
        if (!same(want, got)) {
          throw new Error(
            `at T0+${(t - T0) / 1000}s profile ${p} definition ${d.key}: oracle ${JSON.stringify(want)}, engine ${JSON.stringify(got)}\n` +
              `changes: ${run.changes.map((c) => `${c.id}=${c.kind === 'trait' ? JSON.stringify(c.value) : c.kind}`).join(', ')}`,
          );
        }
      }
    }
  }
}

/**
 * Instants to check the history at, from random numbers `picks`: uniform over the run, at and just
 * before engine changes, and minute-aligned (where size series are exact).
 */
export function historyInstants(run: EngineRun, picks: readonly number[]): number[] {
  const lo = T0 - 60_000;
  const span = run.end - lo;
  const out = new Set<number>();
  picks.forEach((p, i) => {
    const change = run.changes.length === 0 ? undefined : run.changes[p % run.changes.length];
    if (i % 3 === 0 || change === undefined) out.add(lo + (p % span));
    else if (i % 3 === 1) out.add(change.at - (p % 2));
    else out.add(Math.floor((change.at + (p % 120_000)) / 60_000) * 60_000);
  });
  return [...out].sort((a, b) => a - b);
}
