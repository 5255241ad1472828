/**
 * `npm run bench:history`: what membership history and the per-profile event index cost — the engine
 * from the event log to the change log with checkpoints, with them and without (the baseline, same
 * run, same workload) — their bytes per change and per event, and the as-of queries and explanations
 * they serve.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../engine/engine.ts';
import type { FlockEvent } from '../engine/event/model.ts';
import { explainProfile } from '../engine/history/history-reader.ts';
import { DirectResolver } from '../engine/identity/resolver.ts';
import type { EncodedEventLog } from '../engine/log/encoded-event-log.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../engine/log/open-event-log.ts';
import { compilePlan } from '../engine/plan/compile.ts';
import type { DefinitionInput } from '../engine/plan/plan.ts';
import { CheckpointStore } from '../engine/store/checkpoint-store.ts';
import type { EventLog } from '../engine/log/event-log.ts';
import { open } from 'lmdb';
import { EventIndex, type IndexedEvent } from '../engine/history/event-index.ts';
import { HistoryStore } from '../engine/history/history-store.ts';
import type { Change } from '../engine/runtime/change.ts';
import { Runtime } from '../engine/runtime/runtime.ts';
import { writeResults, type ResultRow } from './results.ts';
import { benchAudiences, compileQueryDefinitions } from './workload/definitions.ts';
import { generateEvents } from './workload/generator.ts';
import { Random } from './workload/random.ts';

const EVENTS = Number(process.env.FLOCK_BENCH_EVENTS ?? 300_000);
const PROFILES = Number(process.env.FLOCK_BENCH_PROFILES ?? 30_000);
const END = Date.parse('2026-06-01T00:00:00Z');
const SPACE = 'spa_bench';

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

const n = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

interface Run {
  readonly perSecond: number;
  readonly checkpointP50: number;
  readonly checkpointP99: number;
  readonly checkpointMean: number;
  readonly checkpoints: number;
  readonly changes: number;
}

/** Event log → engine → change log with checkpoints (every 20k events), catching up, from position 1. */
async function logToChangeLog(dir: string, eventLog: EventLog, last: number, definitions: readonly DefinitionInput[], history: boolean): Promise<Run> {
  const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
  const store = CheckpointStore.open(join(dir, 'engine'));
  const engine = await Engine.open({
    eventLog,
    changeLog,
    store,
    plans: new Map([[SPACE, compilePlan(definitions).plan]]),
    resolver: new DirectResolver(),
    checkpointEvents: 20_000,
    catchUpCheckpointEvents: 20_000,
    history,
  });
  const times: number[] = [];
  const start = performance.now();
  let next = 1;
  while (next <= last) {
    const batch = await eventLog.read(next, 2000);
    next = batch.at(-1)!.seq + 1;
    engine.process(batch);
    if (engine.checkpointDue()) {
      await engine.checkpoint();
      times.push(engine.stats.lastCheckpointMs);
    }
  }
  engine.tick();
  await engine.checkpoint();
  times.push(engine.stats.lastCheckpointMs);
  const seconds = (performance.now() - start) / 1000;
  const changes = engine.stats.changesOut;
  await store.close();
  await changeLog.close();
  times.sort((a, b) => a - b);
  return {
    perSecond: last / seconds,
    checkpointP50: quantile(times, 0.5),
    checkpointP99: quantile(times, 0.99),
    checkpointMean: times.reduce((a, b) => a + b, 0) / times.length,
    checkpoints: times.length,
    changes,
  };
}

/**
 * The two parts apart, on the first `count` events: the runtime's changes written to the history and
 * the events to the index, each in checkpoint-sized transactions of its own (20k events' worth).
 */
async function writesApart(dir: string, events: readonly FlockEvent[], definitions: readonly DefinitionInput[]): Promise<{ perChange: number; perEvent: number; changes: number }> {
  const { plan } = compilePlan(definitions);
  const resolver = new DirectResolver();
  const env = open({ path: dir, compression: false });
  const history = new HistoryStore(env);
  const index = new EventIndex(env);
  let historyMs = 0;
  let indexMs = 0;
  let changes = 0;
  for (let i = 0; i < events.length; i += 20_000) {
    const chunk = events.slice(i, i + 20_000);
    const collected: Change[] = [];
    const runtime = new Runtime({ plans: new Map([[SPACE, plan]]), onChange: (c) => collected.push(c) });
    const indexed: IndexedEvent[] = [];
    chunk.forEach((event, k) => {
      const profileId = resolver.resolve(event).profileId!;
      runtime.replay([{ event, profileId }], END + 86_400_000);
      indexed.push({ space: SPACE, profileId, timestamp: event.timestamp, messageId: event.messageId, seq: i + k + 1, name: event.event, applied: runtime.watermark });
    });
    runtime.close();
    let t = performance.now();
    await env.transaction(() => history.write(collected));
    historyMs += performance.now() - t;
    t = performance.now();
    await env.transaction(() => index.write(indexed, []));
    indexMs += performance.now() - t;
    changes += collected.length;
  }
  await env.close();
  return { perChange: (historyMs * 1000) / Math.max(1, changes), perEvent: (indexMs * 1000) / events.length, changes };
}

/** Runs `f` `count` times (arguments from `arg`), returns p50 and p99 in ms. */
async function latency(count: number, arg: (i: number) => unknown, f: (a: never) => unknown): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const a = arg(i);
    const t = performance.now();
    await f(a as never);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99) };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  console.log(`generating ${n(EVENTS)} events over ${n(PROFILES)} profiles (Zipf), 90 days …`);
  const events: FlockEvent[] = [...generateEvents({ seed: 42, events: EVENTS, profiles: PROFILES, spanMs: 90 * 86_400_000, end: END })];
  const definitions = compileQueryDefinitions(benchAudiences());
  const root = mkdtempSync(join(tmpdir(), 'flock-bench-history-'));
  try {
    const eventLog = await openEventLog({ dataDir: join(root, 'log') });
    for (let i = 0; i < events.length; i += 5000) await eventLog.append(events.slice(i, i + 5000));
    const last = await eventLog.lastSeq();
    // alternate, so both see the machine in the same state; the better of two runs each
    const runs: { with: Run[]; without: Run[] } = { with: [], without: [] };
    for (let round = 0; round < 2; round++) {
      for (const history of [false, true]) {
        const dir = join(root, `${history ? 'with' : 'without'}-${round}`);
        const r = await logToChangeLog(dir, eventLog, last, definitions, history);
        console.log(`${history ? 'with' : 'without'} history: ${n(r.perSecond)} events/s, checkpoint p50 ${r.checkpointP50.toFixed(0)} ms`);
        (history ? runs.with : runs.without).push(r);
        if (round === 0 || !history) rmSync(dir, { recursive: true, force: true });
      }
    }
    const best = (rs: Run[]) => rs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    const withHistory = best(runs.with);
    const without = best(runs.without);

    // The store of the last run with history: its sizes, and the queries it serves.
    const store = CheckpointStore.open(join(root, 'with-1', 'engine'), { readOnly: true });
    const h = store.history.stats();
    const x = store.events.stats();
    const versions = store.history.versions(SPACE);
    const watermark = store.meta().watermark;
    const r = new Random(7);
    const profiles = [...new Set(events.slice(0, 50_000).map((e) => `user_id:${e.userId}`))];
    const instant = () => END - r.int(0, 60) * 86_400_000;
    const members = await latency(200, () => ({ v: r.pick(versions), t: instant() }), ({ v, t }: { v: (typeof versions)[number]; t: number }) => store.history.membersAt(SPACE, v.definitionId, v.version, t, { limit: 100 }));
    const timeline = await latency(500, () => r.pick(profiles), (p: string) => store.history.timeline(SPACE, p, { sort: 'desc', limit: 50 }));
    const size = await latency(100, () => r.pick(versions), (v: (typeof versions)[number]) => store.history.sizeSeries(SPACE, v.definitionId, v.version, { from: END - 90 * 86_400_000, to: END, step: 'day' }));
    const byId = new Map(definitions.map((d) => [d.id, d]));
    const explained = await latency(
      100,
      () => ({ p: r.pick(profiles), d: byId.get(r.pick(versions).definitionId)! }),
      ({ p, d }: { p: string; d: DefinitionInput }) => explainProfile(store, eventLog, SPACE, [d, ...definitions], p, watermark),
    );
    await store.close();
    await (eventLog as EncodedEventLog).close();
    const apart = await writesApart(join(root, 'apart'), events.slice(0, Math.min(events.length, 100_000)), definitions);

    const slowdown = (1 - withHistory.perSecond / without.perSecond) * 100;
    const rows: ResultRow[] = [
      {
        measurement: 'event log → change log with checkpoints every 20k events, with history and event index',
        value: `${n(withHistory.perSecond)} events/s`,
        note: `${n(withHistory.changes)} changes; ${withHistory.checkpoints} checkpoints, p50 ${withHistory.checkpointP50.toFixed(0)} ms, p99 ${withHistory.checkpointP99.toFixed(0)} ms`,
      },
      {
        measurement: 'the same without history and event index (baseline, same run)',
        value: `${n(without.perSecond)} events/s`,
        note: `checkpoint p50 ${without.checkpointP50.toFixed(0)} ms, p99 ${without.checkpointP99.toFixed(0)} ms; history costs ${slowdown.toFixed(1)} % of the throughput, +${(withHistory.checkpointMean - without.checkpointMean).toFixed(0)} ms per checkpoint (mean)`,
      },
      {
        measurement: 'history bytes per change (LMDB pages)',
        value: `${n(h.bytes / Math.max(1, h.records))} B`,
        note: `${n(h.records)} records for ${n(withHistory.changes)} changes (${n(h.bytes / 1048576, 1)} MiB); size buckets ${n(h.sizeBuckets)} (${n(h.sizeBytes / 1048576, 1)} MiB) for ${versions.length} versions`,
      },
      {
        measurement: 'event index bytes per event (LMDB pages)',
        value: `${n(x.bytes / Math.max(1, x.entries))} B`,
        note: `${n(x.entries)} events indexed (${n(x.bytes / 1048576, 1)} MiB): [space, profile, timestamp, message id] → log position, name`,
      },
      {
        measurement: 'history write alone, per change (checkpoint-sized transactions)',
        value: `${apart.perChange.toFixed(1)} µs`,
        note: `${n(apart.changes)} changes of the first ${n(Math.min(events.length, 100_000))} events; the event index alone ${apart.perEvent.toFixed(1)} µs per event`,
      },
      { measurement: 'members as of a random instant, first page of 100', value: `p50 ${members.p50.toFixed(2)} ms`, note: `p99 ${members.p99.toFixed(2)} ms; a random audience of ${versions.length}, instants over the last 60 days` },
      { measurement: 'a profile’s timeline, newest 50 changes', value: `p50 ${timeline.p50.toFixed(2)} ms`, note: `p99 ${timeline.p99.toFixed(2)} ms; merged over ${versions.length} versions` },
      { measurement: 'size over 90 days by day', value: `p50 ${size.p50.toFixed(2)} ms`, note: `p99 ${size.p99.toFixed(2)} ms` },
      { measurement: 'an explanation (index + log reads, compile, replay of the profile)', value: `p50 ${explained.p50.toFixed(1)} ms`, note: `p99 ${explained.p99.toFixed(1)} ms; Zipf profiles, some with thousands of events` },
    ];
    for (const row of rows) console.log(`${row.measurement.padEnd(90)} ${row.value.padStart(16)}  ${row.note ?? ''}`);
    writeResults('history', `Membership history — ${n(EVENTS)} events, ${n(PROFILES)} profiles, 100 audiences`, rows, { command: 'npm run bench:history', seconds: (performance.now() - t0) / 1000 });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
