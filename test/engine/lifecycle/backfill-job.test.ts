/**
 * A backfill computes over the log in event-time order (timestamp, then log position), whatever the
 * arrival order: its history equals the oracle's over the events as if each had arrived on time;
 * events appended after it started count from their arrival, as live. At the switch the live
 * runtime, which applied the same events in arrival order, adopts its states and answers as the
 * oracle does from then on.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { BackfillJob } from '../../../engine/lifecycle/backfill-job.ts';
import { EventTimeIndex } from '../../../engine/lifecycle/event-time-order.ts';
import { DirectResolver } from '../../../engine/identity/resolver.ts';
import { compilePlan } from '../../../engine/plan/compile.ts';
import type { DefinitionInput } from '../../../engine/plan/plan.ts';
import type { Change } from '../../../engine/runtime/change.ts';
import type { FlockEvent } from '../../../engine/event/model.ts';
import { candidates, checkAgainstOracle, keyOf, oracleRuntime, same } from '../../oracle/harness.ts';
import { oracleAt, type HistoryEntry } from '../../oracle/oracle.ts';
import { printDefinitionsForReport } from '../../oracle/report.ts';
import { definitionsArb, stepsArb, T0, type Step } from '../../support/arbitraries.ts';
import { memoryEventLog } from '../../support/memory-event-log.ts';
import { track } from '../../support/events.ts';

const runs = Number(process.env.FLOCK_ORACLE_RUNS ?? 1000);
const SPACE = 'spa_test';

const eventsOf = (steps: readonly Step[]) => steps.flatMap((s) => (s.kind === 'event' ? [s.event] : []));

/** `events` in the arrival order `keys` gives (a random permutation). */
function shuffled(events: readonly FlockEvent[], keys: readonly number[]): FlockEvent[] {
  return events.map((e, i) => ({ e, k: keys[i % keys.length]! * 1000 + i })).sort((a, b) => a.k - b.k).map((x) => x.e);
}

/** Runs a backfill of `defs` over a log holding `log`, the first `cut` of them there when it starts, in steps of `step` events. */
async function backfill(defs: readonly DefinitionInput[], log: readonly FlockEvent[], cut: number, step: number, clock: number, maxEvents?: number): Promise<BackfillJob> {
  const eventLog = memoryEventLog();
  await eventLog.append(log);
  const job = new BackfillJob({
    space: SPACE,
    inputs: defs,
    targets: new Set(defs.map((d) => d.id)),
    eventLog,
    resolver: new DirectResolver(),
    clock: () => clock,
    history: true,
    ...(maxEvents === undefined ? {} : { maxEvents }),
  });
  await job.step(step, cut); // the live position when it starts: the cut
  for (let i = 0; i < 10_000 && !job.caughtUp(log.length); i++) await job.step(step, log.length);
  assert.ok(job.caughtUp(log.length));
  return job;
}

/** The oracle's view of a backfill: up to the cut in (timestamp, log position) order, each known when it happened; after it, in log order from max(ts, watermark). */
function backfillHistory(log: readonly FlockEvent[], cut: number, clock: number): HistoryEntry[] {
  const ordered = log
    .slice(0, cut)
    .map((event, seq) => ({ event, seq }))
    .sort((a, b) => a.event.timestamp - b.event.timestamp || a.seq - b.seq)
    .map((x) => x.event)
    .concat(log.slice(cut));
  let w = Number.NEGATIVE_INFINITY;
  return ordered.map((event, seq) => {
    w = Math.max(w, Math.min(event.timestamp, clock));
    return { event, profileId: `user_id:${event.userId}`, arrival: Math.max(event.timestamp, w), seq };
  });
}

test(`a backfill over a log in shuffled arrival order = the oracle in event time, on ${runs} random definition sets and streams`, async () => {
  await fc.assert(
    fc.asyncProperty(definitionsArb, stepsArb, fc.array(fc.nat(1000), { minLength: 1, maxLength: 30 }), fc.nat(), fc.integer({ min: 1, max: 9 }), async (defs, steps, keys, cutPick, step) => {
      const log = shuffled(eventsOf(steps), keys);
      if (log.length === 0) return;
      const cut = 1 + (cutPick % log.length); // (events after the cut arrive while the backfill runs)
      const clock = T0 + 10 * 60_000;
      const job = await backfill(defs, log, cut, step, clock);
      const end = clock + 10 * 60_000;
      job.finishAt(end);
      try {
        checkAgainstOracle(defs, { changes: job.history, history: backfillHistory(log, cut, clock), end });
      } catch (err) {
        throw new Error(`${(err as Error).message}\ncut ${cut} of ${log.length}\n${printDefinitionsForReport(defs)}`);
      }
    }),
    { numRuns: runs, ...(process.env.FLOCK_ORACLE_SEED === undefined ? {} : { seed: Number(process.env.FLOCK_ORACLE_SEED) }) },
  );
});

test(`at the switch the live runtime (arrival order) adopts the backfill's states (event-time order) and answers as the oracle from then on, on ${runs / 2} random sets`, async () => {
  await fc.assert(
    fc.asyncProperty(definitionsArb, stepsArb, stepsArb, fc.array(fc.nat(1000), { minLength: 1, maxLength: 30 }), async (defs, before, after, keys) => {
      const log = shuffled(eventsOf(before), keys);
      if (log.length === 0) return;
      const target = defs[defs.length - 1]!;
      const others = defs.slice(0, -1);
      // the live runtime: every definition but the target, the log applied in arrival order
      const { rt, changes } = oracleRuntime(others);
      const history: HistoryEntry[] = [];
      let wall = T0;
      for (const event of log) {
        wall = Math.max(wall + 1000, Math.min(event.timestamp, T0 + 20 * 60_000));
        rt.live([{ event, profileId: `user_id:${event.userId}` }], wall);
        history.push({ event, profileId: `user_id:${event.userId}`, arrival: rt.watermark, seq: history.length });
      }
      // the backfill of the target (with what it reads) over the same log, in event time; then the switch
      const job = await backfill(defs, log, log.length, 5, wall);
      rt.close();
      const at = rt.watermark;
      job.finishAt(at);
      const { plan } = compilePlan(defs);
      rt.setPlan(SPACE, plan);
      const adopted = rt.adopt(SPACE, job.runtime, job.adoptFps);
      const fp = plan.definitions.find((d) => d.input.id === target.id)!.fp;
      const value = new Map<string, unknown>();
      for (const [profileId, cells] of adopted) if (cells.has(fp)) value.set(`${profileId}|${target.key}`, cells.get(fp)!.v);
      changes.length = 0;
      // live from then on: more events (some late), ticks
      for (const s of after) {
        if (s.kind === 'tick') {
          wall += s.dt;
          rt.live([], wall);
          continue;
        }
        const event = { ...s.event, timestamp: s.event.timestamp - T0 + wall - 30_000 };
        wall += 1000;
        rt.live([{ event, profileId: s.profileId }], wall);
        history.push({ event, profileId: s.profileId, arrival: rt.watermark, seq: history.length });
      }
      const end = wall + 10 * 60_000;
      rt.advanceTo(end);
      rt.close();
      const mine = changes.filter((c) => c.definitionId === target.id);
      let next = 0;
      for (const t of candidates(defs, { changes: mine, history, end }).filter((x) => x >= at)) {
        while (next < mine.length && mine[next]!.at <= t) {
          const c = mine[next++]!;
          value.set(keyOf(c), c.kind === 'trait' ? c.value : c.kind === 'enter');
        }
        const expected = oracleAt(defs, history, t);
        for (const p of new Set(history.map((h) => h.profileId))) {
          const raw = expected.get(p)?.get(target.key);
          const want = target.kind === 'audience' ? raw === true : raw;
          const k = `${p}|${target.key}`;
          const got = value.has(k) ? value.get(k) : target.kind === 'audience' ? false : undefined;
          if (!same(want, got)) throw new Error(`at T0+${(t - T0) / 1000}s (switch at T0+${(at - T0) / 1000}s) ${p} ${target.key}: oracle ${JSON.stringify(want)}, engine ${JSON.stringify(got)}\n${printDefinitionsForReport(defs)}`);
        }
      }
    }),
    { numRuns: Math.max(1, Math.floor(runs / 2)), ...(process.env.FLOCK_ORACLE_SEED === undefined ? {} : { seed: Number(process.env.FLOCK_ORACLE_SEED) }) },
  );
});

test('a log of more events than the backfill may order in memory fails it with a reason', async () => {
  const defs = [{ id: 'aud_a', key: 'a', kind: 'audience' as const, target: 'USERS' as const, version: 1, definition: { kind: 'audience' as const, target: 'USERS' as const, condition: { kind: 'comparison' as const, subject: { kind: 'trait' as const, path: ['x'] }, comparator: 'exists' as const, args: [] } } }];
  const log = Array.from({ length: 12 }, (_, i) => track('u', 'A', T0 + i * 1000));
  const failure = await backfill(defs, log, log.length, 5, T0 + 60_000, 10).then(
    () => undefined,
    (err: Error) => err,
  );
  assert.is(failure?.name, 'BackfillError');
  assert.match(failure!.message, /more than 10 events of space spa_test/);
});

test('the event-time index reads nearby positions together and skips what the log no longer holds', async () => {
  const eventLog = memoryEventLog();
  await eventLog.append(Array.from({ length: 2000 }, (_, i) => track('u', 'A', T0 + (i % 7) * 1000)));
  const index = new EventTimeIndex(10_000);
  for (let seq = 1; seq <= 2000; seq++) index.add(T0 + ((seq - 1) % 7) * 1000, seq);
  let reads = 0;
  // (position 8 is gone: the log's retention removed it after it was indexed)
  const counting = { ...eventLog, read: async (from: number, max: number) => (reads++, (await eventLog.read(from, max)).filter((e) => e.seq !== 8)) };
  const first = await index.take(counting, 100);
  assert.equal(first.map((e) => e.seq).slice(0, 3), [1, 15, 22]);
  assert.ok(first.every((e) => e.event.timestamp === T0));
  assert.is(reads, 1, 'one ranged read for positions a few apart');
  let n = first.length;
  while (!index.done) n += (await index.take(counting, 500)).length;
  assert.is(n, 1999);
  assert.is(index.missing, 1);
});

test.run();
