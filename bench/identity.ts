/**
 * `npm run bench:identity` (or `tsx bench/identity.ts`): identity resolution with 1M identifiers in the graph — resolution alone
 * (warm in memory, and cold from the LMDB checkpoint), the checkpoint cost of the graph's writes, and
 * resolution's share of the engine's time beside the runtime (100 audiences) on the same events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlockEvent } from '../engine/event/model.ts';
import { IdentityGraph } from '../engine/identity/identity-graph.ts';
import type { IdentityWrites } from '../engine/identity/records.ts';
import { compilePlan } from '../engine/plan/compile.ts';
import type { RuntimeInput } from '../engine/runtime/runtime.ts';
import { Runtime } from '../engine/runtime/runtime.ts';
import { CheckpointStore } from '../engine/store/checkpoint-store.ts';
import { writeResults, type ResultRow } from './results.ts';
import { benchAudiences, compileQueryDefinitions } from './workload/definitions.ts';
import { generateEvents } from './workload/generator.ts';

const USERS = Number(process.env.FLOCK_BENCH_IDENTITY_USERS ?? 200_000);
const EVENTS = Number(process.env.FLOCK_BENCH_IDENTITY_EVENTS ?? 1_000_000);
/** the runtime is ~50× slower than resolution: it runs on a prefix, compared per event. */
const RUNTIME_EVENTS = Number(process.env.FLOCK_BENCH_IDENTITY_RUNTIME_EVENTS ?? 100_000);
const END = Date.parse('2026-06-01T00:00:00Z');
const SPACE = 'spa_bench';
const CHECKPOINT_EVERY = 100_000;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function event(e: Partial<FlockEvent> & { messageId: string; timestamp: number }): FlockEvent {
  return { space: SPACE, type: 'track', event: null, userId: null, anonymousId: null, groupId: null, previousId: null, traits: null, properties: null, context: null, integrations: null, receivedAt: e.timestamp, sourceId: 'src_web', ...e };
}

/**
 * The graph's history: per user an anonymous iPhone visit, a sign-in on the web (user id, anonymous id,
 * email), then a sign-in on the iPhone — which merges the phone's anonymous profile into the user's.
 * Five identifiers per user: user_id, email, two anonymous ids, ios.id.
 */
function* history(users: number, start: number): Generator<FlockEvent> {
  for (let u = 0; u < users; u++) {
    const ts = start + u * 3;
    const userId = `user_${u}`;
    yield event({ messageId: `h_${u}_0`, timestamp: ts, event: 'Page Viewed', type: 'page', anonymousId: `anon_${u}_1`, context: { device: { type: 'ios', id: `dev_${u}_1` } } });
    yield event({ messageId: `h_${u}_1`, timestamp: ts + 1, type: 'identify', userId, anonymousId: `anon_${u}_0`, traits: { email: `${userId}@example.com` } });
    yield event({ messageId: `h_${u}_2`, timestamp: ts + 2, type: 'identify', userId, anonymousId: `anon_${u}_1` });
  }
}

function heapMb(): number {
  global.gc?.();
  return process.memoryUsage().heapUsed / 1048576;
}

function countWrites(w: IdentityWrites): number {
  return w.profiles.length + w.identifiers.length + w.merges.length + w.accounts.length + w.accountUsers.length;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'flock-bench-identity-'));
  const rows: ResultRow[] = [];
  try {
    // 1. Build the graph (creates and merges), checkpointing it as the engine would.
    console.log(`building the graph: ${fmt(USERS)} users, 3 events each …`);
    const past = [...history(USERS, END - 120 * 86_400_000)];
    const heapBefore = heapMb();
    const store = CheckpointStore.open(join(dir, 'engine'));
    const build = new IdentityGraph({ source: store });
    let t = performance.now();
    for (const e of past) build.resolve(e);
    const buildSeconds = (performance.now() - t) / 1000;
    const heapGraph = heapMb() - heapBefore;
    const writes = build.checkpointWrites();
    const written = countWrites(writes);
    t = performance.now();
    await store.commit({ position: past.length, watermark: 0, profiles: [], pending: [], changes: [], records: [], publishedThrough: 0, identity: writes });
    const commitSeconds = (performance.now() - t) / 1000;
    const identifiers = writes.identifiers.length;
    console.log(`graph: ${fmt(identifiers)} identifiers, ${fmt(build.stats.created)} profiles created, ${fmt(build.stats.merges)} merges`);

    // 2. The workload: Zipf traffic with identity journeys, against the 1M-identifier graph.
    console.log(`generating ${fmt(EVENTS)} events with identity journeys …`);
    const events = [...generateEvents({ seed: 42, events: EVENTS, profiles: USERS, spanMs: 30 * 86_400_000, end: END, space: SPACE, identity: {} })];

    // (JIT warm-up on a throwaway graph, so the first timed pass is not also the compiler's.)
    const warmup = new IdentityGraph();
    for (const e of past.slice(0, 30_000)) warmup.resolve(e);
    for (const e of events.slice(0, 30_000)) warmup.resolve(e);

    // Warm: the graph that built the history, everything in memory.
    const before = { ...build.stats, demotions: { ...build.stats.demotions } };
    const resolved: RuntimeInput[] = [];
    t = performance.now();
    for (const e of events) {
      const r = build.resolve(e);
      if (r.profileId !== null) resolved.push(r.merges.length === 0 ? { event: e, profileId: r.profileId } : { event: e, profileId: r.profileId, merges: r.merges });
    }
    const warmSeconds = (performance.now() - t) / 1000;
    const warm = events.length / warmSeconds;
    const demotions = Object.entries(build.stats.demotions).map(([why, n]) => `${why} ${fmt(n - (before.demotions[why] ?? 0))}`);
    const stats = { created: build.stats.created - before.created, merges: build.stats.merges - before.merges, unidentified: build.stats.unidentified - before.unidentified };
    console.log(`resolution alone, warm: ${fmt(warm)} events/s`);

    // Cold: a restarted engine's graph, reading LMDB lazily; its writes checkpointed every 100k events.
    const cold = new IdentityGraph({ source: store });
    const commits: number[] = [];
    let writesPerCommit = 0;
    let resolveSeconds = 0;
    for (let i = 0; i < events.length; i += CHECKPOINT_EVERY) {
      const slice = events.slice(i, i + CHECKPOINT_EVERY);
      t = performance.now();
      for (const e of slice) cold.resolve(e);
      resolveSeconds += (performance.now() - t) / 1000;
      const w = cold.checkpointWrites();
      writesPerCommit += countWrites(w);
      t = performance.now();
      await store.commit({ position: past.length + i + slice.length, watermark: 0, profiles: [], pending: [], changes: [], records: [], publishedThrough: 0, identity: w });
      commits.push(performance.now() - t);
    }
    const coldRate = events.length / resolveSeconds;
    commits.sort((a, b) => a - b);
    console.log(`resolution alone, cold from LMDB: ${fmt(coldRate)} events/s`);
    await store.close();

    // 3. The runtime on the same resolved events (100 audiences), for resolution's share of the engine's time.
    const definitions = compileQueryDefinitions(benchAudiences());
    const { plan } = compilePlan(definitions);
    let changes = 0;
    const runtime = new Runtime({ plans: new Map([[SPACE, plan]]), onChange: () => changes++ });
    const prefix = resolved.slice(0, RUNTIME_EVENTS);
    t = performance.now();
    for (let i = 0; i < prefix.length; i += 1000) runtime.replay(prefix.slice(i, i + 1000), END + 86_400_000);
    runtime.close();
    const runtimeRate = prefix.length / ((performance.now() - t) / 1000);
    const share = 1 / warm / (1 / warm + 1 / runtimeRate);
    const shareCold = 1 / coldRate / (1 / coldRate + 1 / runtimeRate);
    console.log(`runtime (100 audiences): ${fmt(runtimeRate)} events/s → resolution is ${(share * 100).toFixed(1)} % of the engine's time`);

    const p = (q: number) => commits[Math.min(commits.length - 1, Math.floor(q * commits.length))] ?? 0;
    rows.push(
      { measurement: 'identifiers in the graph / profiles', value: `${fmt(identifiers)} / ${fmt(before.created - before.merges)}`, note: `${fmt(USERS)} users × (user_id, email, 2 anonymous ids, ios.id); ${fmt(before.merges)} merges building it` },
      { measurement: 'resolution alone, warm (graph in memory)', value: `${fmt(warm)} events/s`, note: `${fmt(events.length)} Zipf events with identity journeys: ${fmt(stats.created)} profiles created, ${fmt(stats.merges)} merges, demotions: ${demotions.join(', ')}; ${fmt(stats.unidentified)} unidentified` },
      { measurement: 'resolution alone, cold (restarted: graph read lazily from LMDB)', value: `${fmt(coldRate)} events/s`, note: `same events; ${((coldRate / warm) * 100).toFixed(0)} % of warm` },
      { measurement: 'building the graph (creates and merges)', value: `${fmt(past.length / buildSeconds)} events/s`, note: `${fmt(past.length)} events: every user created twice and merged once` },
      { measurement: 'runtime alone on the resolved events (100 audiences, replay)', value: `${fmt(runtimeRate)} events/s`, note: `first ${fmt(prefix.length)} events, ${fmt(changes)} changes` },
      { measurement: "resolution's share of the engine's time (resolution + runtime)", value: `${(share * 100).toFixed(1)} %`, note: `cold graph: ${(shareCold * 100).toFixed(1)} %` },
      { measurement: 'checkpoint of the whole graph (one transaction)', value: `${(commitSeconds * 1000).toFixed(0)} ms`, note: `${fmt(written)} writes (profiles, identifiers, merges, counters)` },
      { measurement: 'checkpoint of the graph writes per 100k events', value: `p50 ${p(0.5).toFixed(0)} ms, max ${p(1).toFixed(0)} ms`, note: `${fmt(writesPerCommit / commits.length)} writes each on average (new identifiers and profiles, merges)` },
      { measurement: 'heap of the graph in memory', value: `${heapGraph.toFixed(0)} MB`, note: `${fmt((heapGraph * 1048576) / identifiers)} bytes per identifier (owner index + profile records)${global.gc === undefined ? '; run with --expose-gc for an exact figure' : ''}` },
    );
    for (const r of rows) console.log(`${r.measurement.padEnd(70)} ${r.value.padStart(22)}  ${r.note ?? ''}`);
    writeResults('identity', `Identity resolution — ${fmt(identifiers)} identifiers, ${fmt(EVENTS)} events`, rows, { command: 'npm run bench:identity', seconds: (performance.now() - t0) / 1000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
