/**
 * `npm run bench:engine`: the audience engine on 100 audiences over a deterministic Zipf workload —
 * engine alone, event log → change log with checkpoints (embedded and JetStream), beside the raw
 * consume + decode rate, a decode-and-count floor and a naive recompute baseline, all in one run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import type { FlockEvent } from '../engine/event/model.ts';
import { DirectResolver } from '../engine/identity/resolver.ts';
import type { EncodedEventLog } from '../engine/log/encoded-event-log.ts';
import { openEventLog } from '../engine/log/open-event-log.ts';
import { compilePlan } from '../engine/plan/compile.ts';
import type { DefinitionInput } from '../engine/plan/plan.ts';
import { profileToPlain } from '../engine/runtime/profile-state.ts';
import { Runtime } from '../engine/runtime/runtime.ts';
import { evaluateProfile, type HistoryEntry } from '../test/oracle/oracle.ts';
import { findNatsServer, startNatsServer } from '../test/support/nats-server.ts';
import { logToChangeLog, quantile } from './suite/log-to-change-log.ts';
import { accountPropagation } from './accounts.ts';
import { writeResults, type ResultRow } from './results.ts';
import { benchAudiences, benchFunnels, benchTraits, compileQueryDefinitions } from './workload/definitions.ts';
import { EVENT_NAMES, generateEvents } from './workload/generator.ts';

const EVENTS = Number(process.env.FLOCK_BENCH_EVENTS ?? 1_000_000);
const PROFILES = Number(process.env.FLOCK_BENCH_PROFILES ?? 100_000);
const NAIVE_SECONDS = Number(process.env.FLOCK_BENCH_NAIVE_SECONDS ?? 10);
const END = Date.parse('2026-06-01T00:00:00Z');
const BATCH = 1000;
/** events for the comparisons between definition sets (traits by kind, funnels): a slice of the workload. */
const SLICE = Number(process.env.FLOCK_BENCH_SLICE ?? 300_000);

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MB`;
}

export interface EngineBenchOptions {
  readonly events: number;
  readonly profiles: number;
  readonly definitions: readonly DefinitionInput[];
  readonly label: string;
}

/** Engine alone: decoded, resolved batches straight into the runtime (replay, exact instants). */
export function engineAlone(events: readonly FlockEvent[], definitions: readonly DefinitionInput[]) {
  const { plan, failures } = compilePlan(definitions);
  if (failures.size > 0) throw new Error(`bench definitions failed: ${[...failures.values()].map((f) => f.message).join('; ')}`);
  const resolver = new DirectResolver();
  const resolved = events.map((event) => ({ event, profileId: resolver.resolve(event).profileId! }));
  const batches: Array<typeof resolved> = [];
  for (let i = 0; i < resolved.length; i += BATCH) batches.push(resolved.slice(i, i + BATCH));
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let changes = 0;
  const runtime = new Runtime({ plans: new Map([[events[0]!.space, plan]]), onChange: () => changes++ });
  const latencies: number[] = [];
  const start = performance.now();
  for (const batch of batches) {
    const t = performance.now();
    runtime.replay(batch, END + 86_400_000);
    latencies.push(performance.now() - t);
  }
  runtime.close();
  const seconds = (performance.now() - start) / 1000;
  global.gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  latencies.sort((a, b) => a - b);
  // Checkpoint bytes: the msgpack record each profile is written as.
  let stateBytes = 0;
  const profiles = runtime.size;
  const sample = new Set(resolved.slice(0, 20_000).map((r) => r.profileId));
  let sampled = 0;
  for (const id of sample) {
    const st = runtime.profile(events[0]!.space, id);
    if (st === undefined) continue;
    stateBytes += pack(profileToPlain(st)).length;
    sampled++;
  }
  // The heaviest profile (the Zipf head) after the run.
  const heaviest = runtime.profile(events[0]!.space, 'user_id:user_0');
  return {
    heaviestBytes: heaviest === undefined ? 0 : pack(profileToPlain(heaviest)).length,
    perSecond: events.length / seconds,
    seconds,
    changes,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    profiles,
    aggregates: plan.aggregates.length,
    heapPerProfile: (heapAfter - heapBefore) / profiles,
    checkpointBytesPerProfile: stateBytes / Math.max(1, sampled),
    rss: process.memoryUsage().rss,
    runtime,
  };
}

/** The floor: decode every record and count it into one of 100 counters by event name (4 of them hot). */
function decodeAndCount(encoded: readonly Uint8Array[], decode: (b: Uint8Array) => FlockEvent): number {
  const counters = new Float64Array(100);
  const index = new Map<string, number>(EVENT_NAMES.map((n, i) => [n, i * 5]));
  const start = performance.now();
  for (const b of encoded) {
    const e = decode(b);
    const i = e.event === null ? 99 : index.get(e.event);
    if (i !== undefined) counters[i]! += 1;
  }
  const seconds = (performance.now() - start) / 1000;
  if (counters.reduce((a, b) => a + b, 0) !== encoded.length) throw new Error('floor lost events');
  return encoded.length / seconds;
}

/** The naive baseline: on every event, recompute every audience of its profile from the profile's whole history. */
function naiveRecompute(events: readonly FlockEvent[], definitions: readonly DefinitionInput[], budgetSeconds: number): { perSecond: number; events: number } {
  const histories = new Map<string, HistoryEntry[]>();
  const start = performance.now();
  let n = 0;
  for (const event of events) {
    const profileId = event.userId!;
    const history = histories.get(profileId) ?? [];
    history.push({ event, profileId, arrival: event.timestamp, seq: n });
    histories.set(profileId, history);
    evaluateProfile(definitions, history, event.timestamp);
    n++;
    if ((n & 255) === 0 && performance.now() - start > budgetSeconds * 1000) break;
  }
  return { perSecond: n / ((performance.now() - start) / 1000), events: n };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  console.log(`generating ${EVENTS.toLocaleString('en-US')} events over ${PROFILES.toLocaleString('en-US')} profiles (Zipf), 90 days …`);
  const events = [...generateEvents({ seed: 42, events: EVENTS, profiles: PROFILES, spanMs: 90 * 86_400_000, end: END })];
  const definitions = compileQueryDefinitions(benchAudiences());
  const rows: ResultRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'flock-bench-engine-'));
  const server = findNatsServer() === undefined ? undefined : await startNatsServer();
  try {
    // Encoded records for the floor, with the embedded log's codec.
    const { plan } = compilePlan(definitions);
    const pipeline = (kind: 'embedded' | 'jetstream', natsUrl?: string) =>
      logToChangeLog({ kind, dir: join(dir, kind), natsUrl, events, space: events[0]!.space, plan, resolver: () => new DirectResolver() });
    const embedded = await pipeline('embedded');
    console.log(`embedded log → change log: ${Math.round(embedded.perSecond).toLocaleString('en-US')} events/s`);
    const js = server === undefined ? undefined : await pipeline('jetstream', server.url);
    if (js !== undefined) console.log(`JetStream log → change log: ${Math.round(js.perSecond).toLocaleString('en-US')} events/s`);

    const floorLog = await openEventLog({ dataDir: join(dir, 'floor') });
    await floorLog.append(events.slice(0, Math.min(events.length, 200_000)));
    const encoded = (await (floorLog as EncodedEventLog).appendLog.read(1, 1e9)).map((e) => e.data);
    const codec = (floorLog as EncodedEventLog).codec;
    const floor = decodeAndCount(encoded, (b) => codec.decode(b));
    await floorLog.close();

    const alone = engineAlone(events, definitions);
    console.log(`engine alone: ${Math.round(alone.perSecond).toLocaleString('en-US')} events/s`);
    const naive = naiveRecompute(events, definitions, NAIVE_SECONDS);

    // Definition sets compared on the same slice of the workload.
    const slice = events.slice(0, Math.min(SLICE, events.length));
    const traitSet = benchTraits();
    const sets: Array<[string, DefinitionInput[]]> = [
      ['100 audiences (plain mix)', definitions],
      ['100 audiences + 20 computed traits', [...definitions, ...compileQueryDefinitions(traitSet)]],
      ['20 funnel audiences', compileQueryDefinitions(benchFunnels())],
      ['100 audiences + 20 funnel audiences', [...definitions, ...compileQueryDefinitions(benchFunnels())]],
    ];
    const setRows: ResultRow[] = [];
    for (const [label, defs] of sets) {
      const r = engineAlone(slice, defs);
      console.log(`${label}: ${Math.round(r.perSecond).toLocaleString('en-US')} events/s`);
      setRows.push({
        measurement: `engine alone, ${label}`,
        value: `${Math.round(r.perSecond).toLocaleString('en-US')} events/s`,
        note: `${r.aggregates} nodes; ${(r.changes / slice.length).toFixed(2)} changes/event; checkpoint record ${Math.round(r.checkpointBytesPerProfile).toLocaleString('en-US')} B/profile, heaviest profile ${Math.round(r.heaviestBytes / 1024).toLocaleString('en-US')} KiB`,
      });
    }
    const kinds = [...new Set(traitSet.map((t) => t.group!))];
    for (const kind of kinds) {
      const defs = compileQueryDefinitions(traitSet.filter((t) => t.group === kind));
      const r = engineAlone(slice, defs);
      setRows.push({
        measurement: `computed traits: ${kind} (${defs.length} trait${defs.length === 1 ? '' : 's'})`,
        value: `${Math.round(r.perSecond).toLocaleString('en-US')} events/s`,
        note: `${((r.seconds * 1e6) / slice.length / defs.length).toFixed(2)} µs per event per trait; checkpoint record ${Math.round(r.checkpointBytesPerProfile).toLocaleString('en-US')} B/profile`,
      });
    }

    rows.push(
      { measurement: 'engine alone (decoded batches of 1,000, replay)', value: `${Math.round(alone.perSecond).toLocaleString('en-US')} events/s`, note: `${alone.changes.toLocaleString('en-US')} changes; batch p50 ${alone.p50.toFixed(2)} ms, p99 ${alone.p99.toFixed(2)} ms` },
      { measurement: 'naive recompute of every audience from the profile history, per event', value: `${Math.round(naive.perSecond).toLocaleString('en-US')} events/s`, note: `first ${naive.events.toLocaleString('en-US')} events (${NAIVE_SECONDS} s budget); engine is ${(alone.perSecond / naive.perSecond).toFixed(1)}× faster` },
      { measurement: 'floor: decode + count into 1 of 100 counters (tight loop)', value: `${Math.round(floor).toLocaleString('en-US')} events/s`, note: `engine alone = ${((alone.perSecond / floor) * 100).toFixed(1)} % of it` },
      { measurement: 'embedded log → change log, catching up: checkpoint every 100k events', value: `${Math.round(embedded.perSecond).toLocaleString('en-US')} events/s`, note: `raw consume + decode ${Math.round(embedded.raw).toLocaleString('en-US')}/s → ${((embedded.perSecond / embedded.raw) * 100).toFixed(1)} %; ${embedded.checkpoints} checkpoints, p50 ${embedded.checkpointP50.toFixed(1)} ms, p99 ${embedded.checkpointP99.toFixed(1)} ms` },
    );
    if (js !== undefined) {
      rows.push({
        measurement: 'JetStream log → change log, catching up: checkpoint every 100k events',
        value: `${Math.round(js.perSecond).toLocaleString('en-US')} events/s`,
        note: `raw consume + decode ${Math.round(js.raw).toLocaleString('en-US')}/s → ${((js.perSecond / js.raw) * 100).toFixed(1)} %; ${js.checkpoints} checkpoints, p50 ${js.checkpointP50.toFixed(1)} ms, p99 ${js.checkpointP99.toFixed(1)} ms`,
      });
    }
    rows.push(
      { measurement: 'profiles / shared aggregate nodes', value: `${alone.profiles.toLocaleString('en-US')} / ${alone.aggregates}`, note: `${definitions.length} audiences share ${alone.aggregates} aggregate nodes` },
      { measurement: 'heap per profile (engine alone, after GC)', value: `${Math.round(alone.heapPerProfile).toLocaleString('en-US')} bytes`, note: `resident set ${mb(alone.rss)} including the ${EVENTS.toLocaleString('en-US')} generated events` },
      { measurement: 'checkpoint record per profile (msgpack)', value: `${Math.round(alone.checkpointBytesPerProfile).toLocaleString('en-US')} bytes`, note: 'mean over the profiles of the first 20k events' },
    );
    rows.push(...setRows.map((r) => ({ ...r, measurement: `${r.measurement} — first ${slice.length.toLocaleString('en-US')} events` })));
    rows.push(...accountPropagation(Number(process.env.FLOCK_BENCH_ACCOUNTS ?? 10_000), 20));
    for (const r of rows) console.log(`${r.measurement.padEnd(72)} ${r.value.padStart(18)}  ${r.note ?? ''}`);
    writeResults('engine', `Audience engine — ${EVENTS.toLocaleString('en-US')} events, ${PROFILES.toLocaleString('en-US')} profiles, 100 audiences`, rows, {
      command: 'npm run bench:engine',
      seconds: (performance.now() - t0) / 1000,
    });
  } finally {
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
