/**
 * `npm run bench:destinations`: delivery to a local HTTP receiver (node:http on 127.0.0.1).
 * 1. throughput: a backlog of enter changes on the change log delivered to a webhook in batches
 *    (500 events, 4 requests in flight), beside the baseline of the same bodies POSTed straight to
 *    the receiver with no delivery machinery;
 * 2. latency at half that load: changes appended every 10 ms, change appended → message received, p50/p99;
 * 3. a rate limit (100 requests/s): the rate the receiver saw;
 * 4. a list destination's first sync of a large audience (hashed emails).
 * The engine is not run: changes and published outputs are written directly (not timed), so the
 * figures are the delivery side's alone. Profiles are keyed by user id (no identity graph), so the
 * new-identifier ledger (written per profile whose identifiers come from the graph) is not exercised.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { DefinitionRegistry } from '../engine/definitions/registry.ts';
import { DeliveryService } from '../engine/destinations/delivery-service.ts';
import { DEFAULT_LIMITS, DEFAULT_NAMES, DEFAULT_RETRY } from '../engine/destinations/destination-record.ts';
import { DestinationStore } from '../engine/destinations/destination-store.ts';
import { encodeChangeRecords } from '../engine/engine.ts';
import { CHANGE_LOG, openAppendLog } from '../engine/log/open-event-log.ts';
import type { MembershipChange } from '../engine/runtime/change.ts';
import { CheckpointStore } from '../engine/store/checkpoint-store.ts';
import { writeResults, type ResultRow } from './results.ts';

const EVENTS = Number(process.env.FLOCK_BENCH_DEST_EVENTS ?? 200_000);
const LIST = Number(process.env.FLOCK_BENCH_DEST_LIST ?? 1_000_000);
const LATENCY_MS = Number(process.env.FLOCK_BENCH_DEST_LATENCY_MS ?? 5000);
const RATE_REQUESTS = Number(process.env.FLOCK_BENCH_DEST_RATE_REQUESTS ?? 400);
const RESULTS = process.env.FLOCK_BENCH_RESULTS;
const SPACE = 'spa_bench';
const began = performance.now();
const loadBefore = loadavg()[0]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// the receiver runs in its own process (as a real receiver would be elsewhere, and so this process's
// CPU time is the delivery's alone): it parses every body,
// counts messages per path, the latency of each (received − its timestamp) and the request times
const receiverSource = `
const { createServer } = require('node:http');
const received = {}; const requestTimes = {}; let latencies = null; let listValues = 0;
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    const path = req.url;
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    (requestTimes[path] ??= []).push(performance.timeOrigin + performance.now());
    if (body.added !== undefined) listValues += body.added.length;
    for (const m of body.batch ?? []) {
      received[path] = (received[path] ?? 0) + 1;
      if (latencies !== null) latencies.push(now - Date.parse(m.timestamp));
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}');
  });
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (m) => {
  if (m === 'latency-on') latencies = [];
  if (m === 'report') { process.send({ received, requestTimes, latencies, listValues }); latencies = null; }
  if (m === 'close') server.close(() => process.exit(0));
});
`;
interface ReceiverReport {
  readonly received: Record<string, number>;
  readonly requestTimes: Record<string, number[]>;
  readonly latencies: number[] | null;
  readonly listValues: number;
}
const receiver = spawn(process.execPath, ['-e', receiverSource], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const port = await new Promise<number>((resolve) => receiver.once('message', (m: { port: number }) => resolve(m.port)));
const report = () => {
  receiver.send('report');
  return new Promise<ReceiverReport>((resolve) => receiver.once('message', resolve));
};
const base = `http://127.0.0.1:${port}`;

const dir = mkdtempSync(join(tmpdir(), 'flock-bench-destinations-'));
const registry = DefinitionRegistry.open(join(dir, 'registry'));
const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
const engine = CheckpointStore.open(join(dir, 'engine'));
const store = DestinationStore.open(DestinationStore.pathIn(dir));
const audience = await registry.create({ space: SPACE, kind: 'audience', key: 'buyers', name: 'buyers', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' } });

let changeNo = 0;
const enter = (profile: number, at: number): MembershipChange => ({
  id: `${audience.id}.1.user_id:u${profile}.${at}.e.m${++changeNo}`,
  kind: 'enter',
  audienceKey: 'buyers',
  space: SPACE,
  collection: 'users',
  definitionId: audience.id,
  version: 1,
  profileId: `user_id:u${profile}`,
  at,
});
const append = async (changes: MembershipChange[]) => {
  for (let i = 0; i < changes.length; i += 10_000) await changeLog.append(encodeChangeRecords(changes.slice(i, i + 10_000), 1));
};

/** A webhook destination reading the log from `cursor`, its connection needing no backfill. */
async function webhook(path: string, cursor: number, limits: Partial<typeof DEFAULT_LIMITS>): Promise<string> {
  const d = await store.createDestination({
    space: SPACE,
    name: path,
    enabled: true,
    settings: { kind: 'webhook', webhook: { url: `${base}${path}` } },
    limits: { ...DEFAULT_LIMITS, ...limits },
    retry: DEFAULT_RETRY,
    names: DEFAULT_NAMES,
  });
  const c = await store.createConnection({ space: SPACE, destinationId: d.id, definitionId: audience.id, identify: true, track: false, group: false, accountUsers: false, identifiers: [{ type: 'user_id', strategy: 'all' }], includeAnonymous: false, enrichTraits: [], backfill: false });
  await store.saveProgress(d.id, { cursor, backfills: [[c.id, { fromSeq: cursor, after: null, done: true }]] });
  return d.id;
}
async function caughtUp(id: string): Promise<void> {
  const last = await changeLog.lastSeq();
  while ((store.cursor(id) ?? 0) < last) await sleep(2);
}

const rows: ResultRow[] = [];
const service = new DeliveryService({ store, changeLog, engine: () => engine, registry, reconcileMs: 20 });

// 1. throughput ---------------------------------------------------------------------------------
await append(Array.from({ length: EVENTS }, (_, i) => enter(i, Date.now())));
const hook = await webhook('/hook', 0, { eventsPerRequest: 500, concurrency: 4 });
let t0 = performance.now();
const cpu0 = process.cpuUsage();
service.start();
await caughtUp(hook);
const deliverySeconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const delivered = (await report()).received['/hook'] ?? 0;
const rate = delivered / deliverySeconds;

// baseline: the same number of events in 500-event bodies POSTed straight to the receiver, 4 in flight
const sample = JSON.stringify({ type: 'identify', messageId: 'personas_0123456789012345678901234567', userId: 'u123456', traits: { buyers: true }, context: { personas: { computation_class: 'audience', computation_id: audience.id, computation_key: 'buyers', namespace: SPACE, space_id: SPACE } }, timestamp: new Date().toISOString(), integrations: { All: false, hook: true } });
const body = `{"batch":[${Array.from({ length: 500 }, () => sample).join(',')}]}`;
const requests = Math.ceil(EVENTS / 500);
let next = 0;
t0 = performance.now();
await Promise.all(
  Array.from({ length: 4 }, async () => {
    while (next++ < requests) await (await fetch(`${base}/raw`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text();
  }),
);
const rawRate = (requests * 500) / ((performance.now() - t0) / 1000);
rows.push({ measurement: 'webhook: delivered events/s (backlog, 500 per request, 4 in flight)', value: fmt(rate), note: `${fmt(delivered)} events in ${deliverySeconds.toFixed(2)} s; ${((rate / rawRate) * 100).toFixed(1)} % of the baseline` });
const cpuPerEvent = (cpu.user + cpu.system) / delivered;
rows.push({ measurement: 'webhook: delivery CPU per event (µs) → events/s per core', value: `${cpuPerEvent.toFixed(1)} → ${fmt(1e6 / cpuPerEvent)}`, note: 'user + system time of the delivering process (log reads, messages, JSON, HTTP, cursor commits)' });
rows.push({ measurement: 'baseline: the same bodies POSTed straight to the receiver (events/s)', value: fmt(rawRate), note: 'fetch, 4 in flight, no log, no message building' });

// 2. latency at half load ------------------------------------------------------------------------
receiver.send('latency-on');
const perTick = Math.max(1, Math.round(rate / 2 / 100));
const until = performance.now() + LATENCY_MS;
let profile = EVENTS;
while (performance.now() < until) {
  const tick = performance.now();
  await append(Array.from({ length: perTick }, () => enter(profile++, Date.now())));
  await sleep(Math.max(0, 10 - (performance.now() - tick)));
}
await caughtUp(hook);
const sorted = (await report()).latencies!.sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
rows.push({ measurement: 'webhook: change appended → received, p50 / p99 (ms) at half load', value: `${pct(0.5)} / ${pct(0.99)}`, note: `${fmt(perTick * 100)} events/s offered for ${LATENCY_MS / 1000} s (${fmt(sorted.length)} events); the worker polls a caught-up log every 20 ms` });
await store.deleteDestination(SPACE, hook);

// 3. rate limit ------------------------------------------------------------------------------------
const limited = await webhook('/rate', await changeLog.lastSeq(), { requestsPerSecond: 100, eventsPerRequest: 10, concurrency: 2 });
await append(Array.from({ length: RATE_REQUESTS * 10 }, () => enter(profile++, Date.now())));
await caughtUp(limited);
const times = (await report()).requestTimes['/rate'] ?? [];
const held = ((times.length - 1) / ((times.at(-1)! - times[0]!) / 1000));
rows.push({ measurement: 'rate limit 100 requests/s: rate the receiver saw', value: held.toFixed(1), note: `${times.length} requests; ${(((held - 100) / 100) * 100).toFixed(1)} % off the limit` });
await store.deleteDestination(SPACE, limited);

// 4. list first sync ------------------------------------------------------------------------------
const listAudience = await registry.create({ space: SPACE, kind: 'audience', key: 'newsletter', name: 'newsletter', definition: { query: "event('Subscribed').count() >= 1", type: 'USERS' } });
const t1 = performance.now();
for (let i = 0; i < LIST; i += 100_000) {
  const changes = Array.from({ length: Math.min(100_000, LIST - i) }, (_, j): MembershipChange => ({
    id: `l${i + j}`,
    kind: 'enter',
    audienceKey: 'newsletter',
    space: SPACE,
    collection: 'users',
    definitionId: listAudience.id,
    version: 1,
    // a profile keyed by its email: the list reads the identifier off the id (no identity records to build)
    profileId: `email:User${i + j}@Example.com`,
    at: 0,
  }));
  await engine.commit({ position: 0, watermark: 0, profiles: [], pending: [], changes, records: [], publishedThrough: engine.meta().outboxNext });
}
const buildSeconds = (performance.now() - t1) / 1000;
const list = await store.createDestination({
  space: SPACE,
  name: 'ads',
  enabled: true,
  settings: { kind: 'list', list: { url: `${base}/list`, identifier: 'email', hashed: true, periodMs: 3_600_000, valuesPerRequest: 10_000 } },
  limits: DEFAULT_LIMITS,
  retry: DEFAULT_RETRY,
  names: DEFAULT_NAMES,
});
t0 = performance.now();
const listConnection = await store.createConnection({ space: SPACE, destinationId: list.id, definitionId: listAudience.id, identify: true, track: false, group: false, accountUsers: false, identifiers: [], includeAnonymous: false, enrichTraits: [], backfill: true });
// (the connection's first full sync, not the destination's: a sync may run between the destination's
// creation and its connection's, with nothing to send)
while (store.backfill(listConnection.id)?.done !== true) await sleep(20);
const syncSeconds = (performance.now() - t0) / 1000;
const listed = await report();
rows.push({ measurement: `list: first sync of a ${fmt(LIST)}-member audience (s)`, value: syncSeconds.toFixed(1), note: `${fmt(listed.listValues)} SHA-256 emails in ${listed.requestTimes['/list']?.length ?? 0} requests of 10,000; published rows written directly in ${buildSeconds.toFixed(0)} s (not timed)` });

await service.stop();
receiver.send('close');
await new Promise((r) => receiver.once('exit', r));
await store.close();
await engine.close();
await changeLog.close();
await registry.close();
rmSync(dir, { recursive: true, force: true });

writeResults('destinations', 'Destinations (npm run bench:destinations)', rows, {
  command: 'npm run bench:destinations',
  seconds: (performance.now() - began) / 1000,
  details: [
    `Load average (1 min) ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end: the machine is shared, and the baseline row shows how much of it the run got.`,
    'A local node:http receiver in its own process (it parses every body); the delivery service runs in the main thread of the bench, as it does in its worker thread. Profiles are keyed by user id (no identity graph: no new-identifier ledger writes). CPU per event is the bench process\'s CPU time (user + system) over the delivery: what the delivery costs whatever share of the machine it got. Targets (issue 19): ≥ 50,000 events/s, first sync of 1M ≤ 30 s, p99 ≤ 100 ms at half load, rate limits within 5 %.',
  ],
  ...(RESULTS === undefined ? {} : { file: RESULTS }),
});
for (const r of rows) process.stdout.write(`${r.measurement}: ${r.value}  ${r.note ?? ''}\n`);
