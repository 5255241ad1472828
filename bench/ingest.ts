/**
 * Ingest throughput: events/s accepted over HTTP (batches, many connections, autocannon in a child
 * process) into the embedded log and into JetStream, beside each log's raw append rate for the same
 * events in the same run (bench/log.ts helpers).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createApp } from '../api/app.ts';
import { startServer } from '../api/serve.ts';
import type { FlockEvent } from '../engine/event/model.ts';
import { normalizeBatch } from '../engine/event/normalize-batch.ts';
import type { EventLog } from '../engine/log/event-log.ts';
import { openAppendLog, openEventLog } from '../engine/log/open-event-log.ts';
import { staticSpaceDirectory } from '../engine/space/space-directory.ts';
import { DEVELOPMENT_SPACE } from '../engine/space/space.ts';
import { findNatsServer, startNatsServer, type NatsServer } from '../test/support/nats-server.ts';
import { appendRate, encodedRecords } from './log.ts';
import { writeResults } from './results.ts';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    batch: { type: 'string', default: '100' },
    events: { type: 'string', default: '100000' },
    only: { type: 'string' },
  },
});
const DURATION_S = Number(flags.duration);
const CONNECTIONS = Number(flags.connections);
const BATCH = Number(flags.batch);
/** events per raw-append baseline. */
const BASELINE_EVENTS = Number(flags.events);
const USERS = 10_000;
const repo = dirname(dirname(fileURLToPath(import.meta.url)));

interface Row {
  readonly log: string;
  readonly path: string;
  readonly eventsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly note: string;
}

/** One analytics.js-like track call (~600 bytes of JSON), the shape most ingest traffic has. */
function call(user: number, messageId: string): Record<string, unknown> {
  return {
    type: 'track',
    event: 'Product Viewed',
    userId: `user-${user}`,
    anonymousId: `anon-${user}`,
    messageId,
    timestamp: '2024-05-01T11:59:58.000Z',
    properties: { product_id: `sku-${user % 500}`, price: 19.99, currency: 'EUR', category: 'Shoes' },
    context: {
      library: { name: 'analytics.js', version: 'next-1.70.0' },
      page: { path: '/shoes', url: 'https://shop.example/shoes', title: 'Shoes', referrer: '' },
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
      locale: 'en-GB',
      timezone: 'Europe/Berlin',
      ip: '203.0.113.9',
    },
    integrations: {},
  };
}

/** The HTTP body: autocannon replaces `[<id>]` with a fresh id per request, so every messageId is unique. */
function batchBody(ids: (i: number) => string, offset = 0): { batch: Record<string, unknown>[]; sentAt: string } {
  const batch = Array.from({ length: BATCH }, (_, i) => call(((offset + i) * 7919) % USERS, ids(i)));
  return { batch, sentAt: '2024-05-01T12:00:00.000Z' };
}

/** The very events the HTTP path stores, normalised the same way, for the baselines that skip HTTP. */
function normalisedEvents(count: number, tag: string): FlockEvent[] {
  const events: FlockEvent[] = [];
  for (let n = 0; events.length < count; n++) {
    const result = normalizeBatch(batchBody((i) => `${tag}-${n}-${i}`, n * BATCH), {
      space: DEVELOPMENT_SPACE.id,
      receivedAt: Date.now(),
      sourceId: 'src_default',
    });
    if (!result.ok) throw new Error(`bench events do not validate: ${result.rejection.message}`);
    events.push(...result.events);
  }
  return events.slice(0, count);
}

interface AutocannonResult {
  readonly '2xx': number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly duration: number;
  readonly latency: { readonly p50: number; readonly p99: number };
}

/** Runs autocannon's CLI in a child process so the load generator does not share the server's event loop. */
function autocannon(url: string, bodyFile: string): Promise<AutocannonResult> {
  const args = [
    join(repo, 'node_modules/autocannon/autocannon.js'),
    '--connections', String(CONNECTIONS),
    '--duration', String(DURATION_S),
    '--method', 'POST',
    '--headers', `Authorization=Basic ${Buffer.from('dev_write_key:').toString('base64')}`,
    '--headers', 'Content-Type=application/json',
    '--input', bodyFile,
    '--idReplacement',
    '--json',
    url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code}: ${err}`));
      try {
        resolve(JSON.parse(out) as AutocannonResult);
      } catch (error) {
        reject(new Error(`autocannon output is not JSON: ${out.slice(0, 500)}`, { cause: error }));
      }
    });
  });
}

async function httpIngest(log: EventLog, label: string, bodyFile: string): Promise<Row> {
  const app = createApp({ eventLog: log, spaces: staticSpaceDirectory([DEVELOPMENT_SPACE]) });
  const server = await startServer(app, { host: '127.0.0.1', port: 0 });
  const before = await log.lastSeq();
  try {
    const result = await autocannon(`${server.url}/v1/batch`, bodyFile);
    const stored = (await log.lastSeq()) - before;
    const accepted = result['2xx'] * BATCH;
    const failed = result.non2xx + result.errors + result.timeouts;
    // every accepted event must be in the log; autocannon stops with up to one request per
    // connection in flight, which the server still stores without the answer being counted.
    const consistent = stored >= accepted && stored - accepted <= CONNECTIONS * BATCH;
    return {
      log: label,
      path: `HTTP POST /v1/batch, ${CONNECTIONS} connections (autocannon, ${DURATION_S} s)`,
      eventsPerSecond: accepted / result.duration,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      note: `${result['2xx'].toLocaleString('en-US')} requests answered success, ${failed} failed; ${
        consistent ? 'every accepted event is in the log' : `MISMATCH: stored ${stored}, accepted ${accepted}`
      }`,
    };
  } finally {
    await server.close(5_000);
  }
}

async function measure(label: string, dataDir: string, natsUrl: string | undefined, bodyFile: string): Promise<Row[]> {
  const rows: Row[] = [];
  // 1. the log alone: records pre-encoded, only the append is timed.
  const raw = await openAppendLog({
    dataDir: join(dataDir, 'raw'),
    natsUrl,
    log: { name: 'ingest-raw', stream: 'INGEST_RAW_BENCH', subjectPrefix: 'ingestrawbench' },
  });
  try {
    const { records } = await encodedRecords(raw, normalisedEvents(BASELINE_EVENTS, `raw-${label}`), 'raw');
    const rate = await appendRate(label, (b) => raw.append(b), records, BATCH, CONNECTIONS);
    rows.push({ log: label, path: `raw append of pre-encoded records, ${CONNECTIONS} batches in flight`, eventsPerSecond: rate.perSecond, p50Ms: rate.p50Ms ?? 0, p99Ms: rate.p99Ms ?? 0, note: `${rate.records.toLocaleString('en-US')} records` });
  } finally {
    await raw.close();
  }

  const log = await openEventLog({ dataDir: join(dataDir, 'events'), natsUrl });
  try {
    // 2. what ingest asks of the log: EventLog.append (encode + append) of the same events, no HTTP.
    const rate = await appendRate(label, (b) => log.append(b), normalisedEvents(BASELINE_EVENTS, `event-${label}`), BATCH, CONNECTIONS);
    rows.push({ log: label, path: `EventLog.append (encode + append), ${CONNECTIONS} batches in flight`, eventsPerSecond: rate.perSecond, p50Ms: rate.p50Ms ?? 0, p99Ms: rate.p99Ms ?? 0, note: `${rate.records.toLocaleString('en-US')} events` });
    // 3. the whole ingest path.
    rows.push(await httpIngest(log, label, bodyFile));
  } finally {
    await log.close();
  }
  return rows;
}

function table(rows: readonly Row[]): string {
  const header = ['log', 'path', 'events/s', 'batch p50 ms', 'batch p99 ms', 'notes'];
  const body = rows.map((r) => [
    r.log,
    r.path,
    Math.round(r.eventsPerSecond).toLocaleString('en-US'),
    r.p50Ms.toFixed(1),
    r.p99Ms.toFixed(1),
    r.note,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'flock-bench-ingest-'));
  const bodyFile = join(dir, 'batch.json');
  const body = JSON.stringify(batchBody((i) => `[<id>]-${i}`));
  writeFileSync(bodyFile, body);
  let nats: NatsServer | undefined;
  const rows: Row[] = [];
  try {
    if (flags.only === undefined || flags.only === 'embedded') {
      rows.push(...(await measure('embedded', join(dir, 'embedded'), undefined, bodyFile)));
    }
    if (flags.only === undefined || flags.only === 'jetstream') {
      if (findNatsServer() === undefined) throw new Error('nats-server not found (apt-get install nats-server)');
      nats = await startNatsServer();
      rows.push(...(await measure('jetstream', join(dir, 'jetstream'), nats.url, bodyFile)));
    }
  } finally {
    await nats?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  const title = `Ingest — batches of ${BATCH} analytics.js-like events (~${Math.round(body.length / BATCH)} B of JSON each), ${CONNECTIONS} connections`;
  process.stdout.write(`\n${title}; load from a child process\n\n${table(rows)}\n`);
  writeResults(
    'ingest',
    title,
    rows.map((r) => ({
      measurement: `${r.log}: ${r.path}`,
      value: `${Math.round(r.eventsPerSecond).toLocaleString('en-US')} events/s`,
      note: `batch p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms; ${r.note}`,
    })),
    { command: 'npm run bench:ingest', seconds: (performance.now() - started) / 1000 },
  );
}

await main();
