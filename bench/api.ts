/**
 * Profile API throughput: `GET …/profiles/user_id:<random>/traits` on 1,000,000 profiles, with
 * autocannon in another process on loopback, beside `/healthz` on the same server (the HTTP floor)
 * and the same work in-process without HTTP (the read floor), all in one run.
 *
 * The profiles are written by the engine itself (identity resolution, runtime, checkpoint) from a
 * generated stream, in chunks of fresh engines so memory stays bounded: what the API reads is
 * exactly what `npm start` would have checkpointed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createApp } from '../api/app.ts';
import { startServer } from '../api/serve.ts';
import { DefinitionRegistry } from '../engine/definitions/registry.ts';
import { Engine } from '../engine/engine.ts';
import type { FlockEvent } from '../engine/event/model.ts';
import { IdentityGraph } from '../engine/identity/identity-graph.ts';
import type { AppendLog } from '../engine/log/append-log.ts';
import type { EventLog, LoggedEvent } from '../engine/log/event-log.ts';
import { compilePlan } from '../engine/plan/compile.ts';
import type { Plan } from '../engine/plan/plan.ts';
import { identityProfileLocator } from '../engine/profiles/identity-locator.ts';
import { ProfileReader } from '../engine/profiles/profile-reader.ts';
import { engineStorePath, readOnlyStore } from '../engine/profiles/store-handle.ts';
import { staticSpaceDirectory } from '../engine/space/space-directory.ts';
import { CheckpointStore } from '../engine/store/checkpoint-store.ts';
import { writeResults, type ResultRow } from './results.ts';

const { values: flags } = parseArgs({
  options: {
    profiles: { type: 'string', default: '1000000' },
    chunk: { type: 'string', default: '100000' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    hot: { type: 'string', default: '10000' },
    /** keep the written store here and reuse it on the next run with the same profile count */
    'store-dir': { type: 'string' },
  },
});
const PROFILES = Number(flags.profiles);
const CHUNK = Number(flags.chunk);
const DURATION_S = Number(flags.duration);
const CONNECTIONS = Number(flags.connections);
/** the hot set: the first profiles, few enough to stay in the page cache. */
const HOT = Math.min(Number(flags.hot), Number(flags.profiles));
const SPACE = 'spa_bench';
const TOKEN = 'acc_bench_token';
const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const started = performance.now();
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const DEFINITIONS = [
  { kind: 'audience', key: 'buyers', query: "event('Order Completed').count() >= 1" },
  { kind: 'audience', key: 'viewers', query: "event('Product Viewed').within(30 days).count() >= 1" },
  { kind: 'audience', key: 'pro_users', query: "trait('plan') = 'pro'" },
  { kind: 'trait', key: 'revenue', query: "event('Order Completed').sum(property('total'))" },
  { kind: 'trait', key: 'last_category', query: "event('Product Viewed').last(property('category'))" },
] as const;

/** Profile i: one identify with eight traits and one track (an order for even i, a view for odd i). */
function eventsOf(i: number, now: number): FlockEvent[] {
  const base = {
    space: SPACE,
    anonymousId: null,
    groupId: null,
    previousId: null,
    context: null,
    integrations: null,
    sourceId: 'src_bench',
  };
  const ts = now - 3_600_000 + (i % 3_000_000);
  return [
    {
      ...base,
      type: 'identify',
      event: null,
      messageId: `i-${i}`,
      userId: `u${i}`,
      traits: { email: `u${i}@example.com`, plan: ['free', 'pro', 'team', 'free'][i % 4], country: ['FR', 'DE', 'US', 'JP', 'BR'][i % 5], age: 18 + (i % 60), score: (i * 7919) % 1000, signup: '2024-05-01T12:00:00Z', newsletter: i % 3 === 0, company: `c${i % 1000}` },
      properties: null,
      timestamp: ts,
      receivedAt: ts,
    },
    {
      ...base,
      type: 'track',
      event: i % 2 === 0 ? 'Order Completed' : 'Product Viewed',
      messageId: `t-${i}`,
      userId: `u${i}`,
      traits: null,
      properties: i % 2 === 0 ? { total: 10 + (i % 90) } : { category: ['shoes', 'hats', 'bags'][i % 3] },
      timestamp: ts + 1,
      receivedAt: ts + 1,
    },
  ];
}

/** Whether the kernel's DAMON runs a pageout scheme (it evicts cold page-cache pages, the store's included). */
function damonPageout(): boolean {
  try {
    const root = '/sys/kernel/mm/damon/admin/kdamonds/0';
    return readFileSync(`${root}/state`, 'utf8').trim() === 'on' && readFileSync(`${root}/contexts/0/schemes/0/action`, 'utf8').trim() === 'pageout';
  } catch {
    return false;
  }
}

/** An event log over an array: only what `Engine.process` and `checkpoint` touch. */
function arrayLog(events: readonly FlockEvent[]): EventLog {
  return {
    kind: 'embedded',
    append: () => Promise.reject(new Error('read-only')),
    read: async (from, max) => events.slice(from - 1, from - 1 + max).map((event, i) => ({ seq: from + i, event })),
    tail: () => {
      throw new Error('not tailed');
    },
    lastSeq: async () => events.length,
    position: async () => 0,
    commit: async () => {},
    close: async () => {},
  };
}

/** A change log that keeps nothing: the bench needs the engine's state, not its change stream. */
function discardLog(): AppendLog {
  let seq = 0;
  return {
    kind: 'embedded',
    append: async (records) => ({ seqs: records.map(() => ++seq), duplicates: 0 }),
    read: async () => [],
    tail: () => {
      throw new Error('not tailed');
    },
    lastSeq: async () => seq,
    position: async () => 0,
    commit: async () => {},
    structures: async () => [],
    close: async () => {},
  };
}

/** Writes `count` profiles through the engine in chunks of fresh engines; returns profiles/s. */
async function writeProfiles(store: CheckpointStore, plans: ReadonlyMap<string, Plan>, count: number): Promise<{ rate: number; changes: number }> {
  const t0 = performance.now();
  let changes = 0;
  const now = Date.now();
  for (let from = 0; from < count; from += CHUNK) {
    const events: FlockEvent[] = [];
    for (let i = from; i < Math.min(count, from + CHUNK); i++) events.push(...eventsOf(i, now));
    const log = arrayLog(events);
    const engine = await Engine.open({ eventLog: log, changeLog: discardLog(), store, plans, resolver: new IdentityGraph({ source: store }), checkpointEvents: 1e12, catchUpCheckpointEvents: 1e12 });
    for (let seq = 1; seq <= events.length; seq += 2000) {
      const batch: LoggedEvent[] = await log.read(seq, 2000);
      engine.process(batch);
    }
    await engine.checkpoint();
    changes += engine.stats.changesOut;
    process.stderr.write(`  ${fmt(Math.min(count, from + CHUNK))} profiles written\r`);
  }
  process.stderr.write('\n');
  return { rate: count / ((performance.now() - t0) / 1000), changes };
}

interface LoadResult {
  readonly total: number;
  readonly average: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly ok: number;
}

function load(url: string, profiles: number, fixedPath?: string): Promise<LoadResult> {
  const args = ['--import', 'tsx', join(repo, 'bench/api-load.ts'), url, `Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}`, String(profiles), String(DURATION_S), String(CONNECTIONS)];
  if (fixedPath !== undefined) args.push(fixedPath);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load generator exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const keep = flags['store-dir'];
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'flock-bench-api-'));
  const marker = join(dir, `written-${PROFILES}.json`);
  try {
    const registry = DefinitionRegistry.open(join(dir, 'registry'));
    let written: { rate: number; changes: number };
    if (existsSync(marker)) {
      written = JSON.parse(readFileSync(marker, 'utf8')) as typeof written;
      console.error(`reusing the ${fmt(PROFILES)} profiles in ${dir}`);
    } else {
      for (const d of DEFINITIONS) await registry.create({ space: SPACE, kind: d.kind, key: d.key, name: d.key, definition: { query: d.query, type: 'USERS' } });
      const plans = new Map<string, Plan>();
      for (const [space, inputs] of registry.planInputs()) plans.set(space, compilePlan(inputs).plan);
      console.error(`writing ${fmt(PROFILES)} profiles through the engine…`);
      const writer = CheckpointStore.open(engineStorePath(dir));
      written = await writeProfiles(writer, plans, PROFILES);
      await writer.close();
      if (keep !== undefined) writeFileSync(marker, JSON.stringify(written));
    }
    const bytes = statSync(join(engineStorePath(dir), 'data.mdb')).size;

    // what npm start does: the API reads the engine's store read-only, profiles found through the identity graph
    const store = readOnlyStore(engineStorePath(dir));
    const locator = identityProfileLocator(store);
    const reader = new ProfileReader(store, registry);
    const app = createApp({
      eventLog: arrayLog([]),
      spaces: staticSpaceDirectory([{ id: SPACE, name: 'Bench', writeKeys: [], accessTokens: [TOKEN] }]),
      registry,
      store,
      locator,
      // the limiter is measured by the tests; here it would only cap the figure
      profileRateLimit: 0,
    });

    // floor without HTTP: locate + read + the response object, serialised
    let x = 0x2545f491;
    const random = (n: number) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const readOnce = (n: number) => {
      const found = locator.locate(SPACE, 'users', `user_id:u${random(n)}`);
      if (!found.ok) throw new Error(`profile not found: ${found.message}`);
      const view = reader.read(SPACE, found.profileId);
      if (view === undefined) throw new Error('no state');
      return JSON.stringify({ traits: Object.fromEntries(view.traits.filter((t) => t.class !== 'audience' || t.member === true).map((t) => [t.key, t.value])) });
    };
    const sample = readOnce(HOT);
    const floor = (n: number) => {
      const start = performance.now();
      const latencies: number[] = [];
      while (performance.now() - start < 3000) {
        const t = performance.now();
        readOnce(n);
        latencies.push(performance.now() - t);
      }
      latencies.sort((a, b) => a - b);
      const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]! * 1000;
      return { rate: latencies.length / ((performance.now() - start) / 1000), p50: pct(50), p99: pct(99) };
    };
    for (let i = 0; i < HOT; i++) readOnce(HOT); // warm the hot set
    const floorHot = floor(HOT);
    const floorAll = floor(PROFILES);

    // in-process app.request (routing, auth, validation, JSON) without sockets, on the hot set
    const inProcessStart = performance.now();
    let inProcess = 0;
    while (performance.now() - inProcessStart < 3000) {
      const res = await app.request(`/v1/spaces/${SPACE}/collections/users/profiles/user_id:u${random(HOT)}/traits?limit=50`, { headers: { authorization: `Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}` } });
      if (res.status !== 200) throw new Error(`in-process request answered ${res.status}`);
      await res.arrayBuffer();
      inProcess++;
    }
    const inProcessRate = inProcess / ((performance.now() - inProcessStart) / 1000);

    const server = await startServer(app, { host: '127.0.0.1', port: 0 });
    console.error(`loading ${server.url} with ${CONNECTIONS} connections for ${DURATION_S} s…`);
    const load0 = loadavg()[0]!;
    const traits = await load(server.url, PROFILES);
    const hot = await load(server.url, HOT);
    const health = await load(server.url, HOT, '/healthz');
    await server.close(1000);
    await store.close();
    await registry.close();

    const rows: ResultRow[] = [
      {
        measurement: `GET /traits, random profile of ${fmt(PROFILES)}, ${CONNECTIONS} connections (autocannon in another process, ${DURATION_S} s)`,
        value: `${fmt(traits.average)} requests/s`,
        note: `p50 ${traits.p50} ms, p99 ${traits.p99} ms; ${fmt(traits.ok)} answered 200, ${fmt(traits.non2xx)} other, ${traits.errors} errors; ${Buffer.byteLength(sample)} B bodies (13 traits); load average ${load0.toFixed(1)} at the start`,
      },
      {
        measurement: `GET /traits, random profile of the first ${fmt(HOT)} (a hot set), same load`,
        value: `${fmt(hot.average)} requests/s`,
        note: `p50 ${hot.p50} ms, p99 ${hot.p99} ms; ${fmt(hot.ok)} answered 200, ${fmt(hot.non2xx)} other, ${hot.errors} errors`,
      },
      {
        measurement: 'HTTP floor: GET /healthz on the same server, same load',
        value: `${fmt(health.average)} requests/s`,
        note: `p50 ${health.p50} ms, p99 ${health.p99} ms; /traits reaches ${fmt((traits.average / health.average) * 100, 1)} % of it (${fmt((hot.average / health.average) * 100, 1)} % on the hot set)`,
      },
      {
        measurement: `in process: app.request() of /traits on the hot set (routing, auth, validation, read, JSON), no sockets`,
        value: `${fmt(inProcessRate)} requests/s`,
        note: 'one at a time; app.request() builds a fetch Request per call, which the node server does not',
      },
      {
        measurement: `read floor, random of ${fmt(PROFILES)}: identity lookup + profile view + traits JSON, no HTTP`,
        value: `${fmt(floorAll.rate)} reads/s`,
        note: `p50 ${fmt(floorAll.p50)} µs, p99 ${fmt(floorAll.p99)} µs; two LMDB point reads: the identifier's owner and the profile's view (engine/store/profile-views.ts: custom traits and every definition's published value in one record)${damonPageout() ? '; DAMON pageout runs on this machine and evicts cold page-cache pages, so random reads of the store fault to disk' : ''}`,
      },
      {
        measurement: `read floor, hot set of ${fmt(HOT)}`,
        value: `${fmt(floorHot.rate)} reads/s`,
        note: `p50 ${fmt(floorHot.p50)} µs, p99 ${fmt(floorHot.p99)} µs`,
      },
      {
        measurement: `writing the profiles through the engine (identity, runtime, checkpoint; ${fmt(CHUNK)} per engine)`,
        value: `${fmt(written.rate)} profiles/s`,
        note: `${fmt(PROFILES * 2)} events, ${fmt(written.changes)} changes; store ${fmt(bytes / 2 ** 20)} MiB`,
      },
    ];
    writeResults('api', `Profile API — /traits on ${fmt(PROFILES)} profiles`, rows, { command: 'npm run bench:api', seconds: (performance.now() - started) / 1000 });
    for (const r of rows) console.log(`${r.measurement}: ${r.value} (${r.note})`);
  } finally {
    if (keep === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
