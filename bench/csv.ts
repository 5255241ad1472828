/**
 * `npm run bench:csv`: CSV exports of a large audience (default 1M members, `FLOCK_BENCH_CSV_ROWS`).
 * The store is written directly (bench/csv-store.ts: profile cores with custom traits and definition
 * cells, identity records with three identifier types, published outputs of the audience and two
 * computed traits) — not timed. Timed: each format through the export job (one snapshot → a file),
 * beside the floor of the same run (a range scan of the members alone), and the streamed download
 * over the Hono app, plain and gzip. Memory: RSS sampled every 10 ms while each export streams,
 * split into anonymous memory (heap, buffers: what the export holds) and file pages (LMDB's memory
 * map: the pages read, the kernel's to reclaim).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../api/app.ts';
import { DefinitionRegistry } from '../engine/definitions/registry.ts';
import { ExportJobs, type ExportJob } from '../engine/export/export-jobs.ts';
import { exportOptions, type ExportOptionsInput } from '../engine/export/export-format.ts';
import type { StoreHandle } from '../engine/profiles/store-handle.ts';
import { staticSpaceDirectory } from '../engine/space/space-directory.ts';
import { CheckpointStore } from '../engine/store/checkpoint-store.ts';
import { writeSynthetic, type SyntheticOutput, type SyntheticProfile } from './csv-store.ts';
import { writeResults, type ResultRow } from './results.ts';

const ROWS = Number(process.env.FLOCK_BENCH_CSV_ROWS ?? 1_000_000);
const RESULTS = process.env.FLOCK_BENCH_RESULTS;
const SPACE = 'spa_bench';
const TOKEN = 'mgt_bench';
const T0 = Date.parse('2026-06-01T00:00:00Z');
const BATCH = 20_000;
const MB = 2 ** 20;
const PLANS = ['free', 'pro', 'enterprise', '=cmd', 'team'];

const began = performance.now();
const dir = mkdtempSync(join(tmpdir(), 'flock-bench-csv-'));
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** Resident memory now: anonymous (heap, buffers) and file-backed (the LMDB map) pages, from /proc. */
function rss(): { anon: number; file: number; total: number } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { anon: kb('RssAnon'), file: kb('RssFile') + kb('RssShmem'), total: kb('VmRSS') };
  } catch {
    const total = process.memoryUsage().rss;
    return { anon: total, file: 0, total };
  }
}

/** Runs `work` while sampling RSS; returns its time and the largest growth over the start. */
async function measured<T>(work: () => Promise<T>): Promise<{ value: T; ms: number; cpuMs: number; anon: number; file: number; total: number; heap: number }> {
  gc();
  const start = rss();
  const heap0 = process.memoryUsage().heapUsed;
  const peak = { ...start, heap: heap0 };
  const sample = () => {
    const now = rss();
    peak.anon = Math.max(peak.anon, now.anon);
    peak.file = Math.max(peak.file, now.file);
    peak.total = Math.max(peak.total, now.total);
    peak.heap = Math.max(peak.heap, process.memoryUsage().heapUsed);
  };
  const timer = setInterval(sample, 10);
  const t = performance.now();
  const cpu = process.cpuUsage();
  const value = await work();
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  clearInterval(timer);
  sample();
  return { value, ms, cpuMs: (used.user + used.system) / 1000, anon: peak.anon - start.anon, file: peak.file - start.file, total: peak.total - start.total, heap: peak.heap - heap0 };
}

const registry = DefinitionRegistry.open(join(dir, 'registry'));
const store = CheckpointStore.open(join(dir, 'engine'));
const handle: StoreHandle = { get: () => store, close: async () => {} };
const create = async (kind: 'audience' | 'trait', key: string, query: string) => (await registry.create({ space: SPACE, kind, key, name: key, definition: { query, type: 'USERS' } })).id;
const audience = await create('audience', 'members', "event('Signed Up').count() >= 1");
const ltv = await create('trait', 'ltv', "event('Order Completed').sum(property('total'))");
const orders = await create('trait', 'orders', "event('Order Completed').count()");

// --- the store (not timed) ---------------------------------------------------------------------
const build = performance.now();
const id = (i: number) => `use_${String(i).padStart(27, '0')}`;
for (let from = 0, position = 1; from < ROWS; from += BATCH, position++) {
  const profiles: SyntheticProfile[] = [];
  const outputs: SyntheticOutput[] = [];
  for (let i = from; i < Math.min(ROWS, from + BATCH); i++) {
    const p = id(i);
    const ids: Array<[string, string]> = [['user_id', `user-${i}`], ['email', `person${i}@example.com`], ['anonymous_id', `anon-${i.toString(36)}-a`]];
    if (i % 10 === 0) ids.push(['email', `second${i}@example.org`]);
    profiles.push({ id: p, ids, traits: { first_name: `Name ${i}`, plan: PLANS[i % PLANS.length], city: i % 7 === 0 ? 'Zürich, "CH"' : 'Berlin', age: 20 + (i % 50) } });
    outputs.push({ definitionId: audience, kind: 'audience', profileId: p, value: true }, { definitionId: ltv, kind: 'trait', profileId: p, value: (i % 1000) * 1.5 }, { definitionId: orders, kind: 'trait', profileId: p, value: i % 17 });
  }
  await writeSynthetic(store, { space: SPACE, position, at: T0, cells: 8 }, profiles, outputs);
}
const buildSeconds = (performance.now() - build) / 1000;
const record = registry.get(SPACE, audience)!;

const rows: ResultRow[] = [];
const per = (ms: number) => `${((ms * 1e6) / ROWS).toFixed(0)} ns per row`;
/** CPU time of this process (all its threads) beside the wall time: the machine is shared, so the wall time includes waiting for a core. */
const cpu = (m: { cpuMs: number }) => `CPU ${(m.cpuMs / 1000).toFixed(2)} s`;
const mem = (m: { anon: number; file: number; total: number; heap: number }) => `RSS +${(m.total / MB).toFixed(0)} MB (anonymous +${(m.anon / MB).toFixed(0)} MB, LMDB map pages +${(m.file / MB).toFixed(0)} MB), heap +${(m.heap / MB).toFixed(0)} MB`;

// --- the floor: the members alone, one range scan in one snapshot ---------------------------------
const floor = await measured(async () => {
  const snap = store.snapshot();
  let n = 0;
  try {
    for (const _ of snap.outputs(SPACE, audience)) n++;
  } finally {
    snap.release();
  }
  return n;
});
if (floor.value !== ROWS) throw new Error(`the floor read ${floor.value} members, expected ${ROWS}`);
rows.push({ measurement: 'floor: range scan of the members (one snapshot)', value: `${(floor.ms / 1000).toFixed(2)} s`, note: `${per(floor.ms)}, ${cpu(floor)}` });

// --- each format through the export job --------------------------------------------------------
const jobs = new ExportJobs({ store: handle, registry, dir: join(dir, 'exports') });
const formats: Array<[string, ExportOptionsInput]> = [
  ['formatted, 3 identifier types + 5 traits (3 custom, 2 computed)', { format: 'columns', externalIds: ['user_id', 'email', 'anonymous_id'], customTraits: ['first_name', 'plan', 'city'], computedTraits: ['ltv', 'orders'] }],
  ['unformatted (key, external_ids JSON, traits JSON), 5 traits', { format: 'columns', formatted: false, customTraits: ['first_name', 'plan', 'city'], computedTraits: ['ltv', 'orders'] }],
  ['key,external_ids', { format: 'unformatted' }],
  ['indexed columns (email, email_1, …; a counting pass first)', { format: 'indexed' }],
  ['single column, SHA-256 email', { format: 'identifier', identifier: 'email' }],
];
let headline: { ms: number; cpuMs: number; total: number; anon: number } | undefined;
let download: ExportJob | undefined;
for (const [name, input] of formats) {
  const checked = exportOptions('audience', input);
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  const m = await measured(async () => {
    const started = jobs.start(record, checked.options);
    if (!started.ok) throw new Error(started.message);
    await jobs.settled(started.job.exportId);
    if (started.job.status !== 'SUCCESS') throw new Error(`export failed: ${started.job.error}`);
    return started.job;
  });
  headline ??= { ms: m.ms, cpuMs: m.cpuMs, total: m.total, anon: m.anon };
  download ??= m.value;
  rows.push({ measurement: `export: ${name}`, value: `${(m.ms / 1000).toFixed(2)} s`, note: `${per(m.ms)}, ${cpu(m)}, ${(m.value.bytes / MB).toFixed(0)} MB; ${mem(m)}` });
  process.stderr.write(`${name}: ${(m.ms / 1000).toFixed(2)} s, ${cpu(m)}, ${mem(m)}\n`);
}

// --- the download, streamed over the Hono app --------------------------------------------------
const app = createApp({
  eventLog: { append: async () => ({ seqs: [] }) } as never,
  spaces: staticSpaceDirectory([{ id: SPACE, name: 'bench', writeKeys: [], accessTokens: [], managementTokens: [TOKEN] }]),
  registry,
  store: handle,
  exports: jobs,
});
for (const gzip of [false, true]) {
  const m = await measured(async () => {
    const res = await app.request(`/spaces/${SPACE}/audiences/${audience}/exports/${download!.exportId}/download`, { headers: { authorization: `Bearer ${TOKEN}`, ...(gzip ? { 'accept-encoding': 'gzip' } : {}) } });
    if (res.status !== 200) throw new Error(`download: ${res.status} ${await res.text()}`);
    let bytes = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
    return bytes;
  });
  rows.push({ measurement: `download of the formatted export${gzip ? ', gzip' : ''}`, value: `${(m.ms / 1000).toFixed(2)} s`, note: `${(m.value / MB).toFixed(0)} MB sent, ${cpu(m)}; ${mem(m)}` });
}

const target = headline!;
rows.push({
  measurement: 'targets: formatted export ≤ 2 s; RSS growth ≤ 50 MB while streaming',
  value: `${(target.ms / 1000).toFixed(2)} s (${cpu(target)}); +${(target.total / MB).toFixed(0)} MB`,
  note: `time ${target.ms <= 2000 ? 'met' : 'NOT met'}; total RSS ${target.total <= 50 * MB ? 'met' : 'NOT met'} (anonymous memory +${(target.anon / MB).toFixed(0)} MB: ${target.anon <= 50 * MB ? 'within' : 'over'} 50 MB)`,
});

await jobs.close();
await store.close();
await registry.close();
rmSync(dir, { recursive: true, force: true });
writeResults('csv', 'CSV export (npm run bench:csv)', rows, {
  command: 'npm run bench:csv',
  seconds: (performance.now() - began) / 1000,
  details: [
    `${ROWS.toLocaleString('en')} members; store built directly in ${buildSeconds.toFixed(0)} s (not timed): 3 identifier types (10 % with a second email), 4 custom traits, 8 definition cells per core, 2 computed traits.`,
    "RSS is sampled every 10 ms: anonymous memory is what the export holds (heap, buffers); LMDB map pages are the store's file pages mapped by reading it (file-backed, shared with the page cache, reclaimable) — they grow with the first export that touches the data, not with the file written.",
  ],
  ...(RESULTS === undefined ? {} : { file: RESULTS }),
});
for (const r of rows) process.stdout.write(`${r.measurement}: ${r.value}  ${r.note ?? ''}\n`);
