/**
 * Ingest throughput: events/s accepted over HTTP (batches, many connections, autocannon in a child
 * process) into the embedded log and into JetStream, beside the raw append rate of each log in the same run.
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
import type { EventLog } from '../engine/log/event-log.ts';
import { openEventLog } from '../engine/log/open-event-log.ts';
import { staticSpaceDirectory } from '../engine/space/space-directory.ts';
import { DEVELOPMENT_SPACE } from '../engine/space/space.ts';
import { findNatsServer, startNatsServer, type NatsServer } from '../test/support/nats-server.ts';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    batch: { type: 'string', default: '100' },
    only: { type: 'string' },
  },
});
const DURATION_S = Number(flags.duration);
const CONNECTIONS = Number(flags.connections);
const BATCH = Number(flags.batch);
const USERS = 10_000;
const repo = dirname(dirname(fileURLToPath(import.meta.url)));

interface Row {
  readonly log: string;
  readonly path: string;
  readonly eventsPerSecond: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
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

/** The HTTP body: `[<id>]` is replaced by autocannon with a fresh id per request, so every messageId is unique. */
function batchTemplate(): string {
  const batch = Array.from({ length: BATCH }, (_, i) => call((i * 7919) % USERS, `[<id>]-${i}`));
  return JSON.stringify({ batch, sentAt: '2024-05-01T12:00:00.000Z' });
}

/** The same events as FlockEvents, for the raw append baseline. */
function flockBatch(run: string, n: number): FlockEvent[] {
  const receivedAt = Date.now();
  return Array.from({ length: BATCH }, (_, i) => {
    const raw = call((n * BATCH + i) % USERS, `${run}-${n}-${i}`);
    return {
      space: DEVELOPMENT_SPACE.id,
      type: 'track',
      event: 'Product Viewed',
      messageId: String(raw['messageId']),
      userId: String(raw['userId']),
      anonymousId: String(raw['anonymousId']),
      groupId: null,
      previousId: null,
      traits: null,
      properties: raw['properties'] as FlockEvent['properties'],
      context: raw['context'] as FlockEvent['context'],
      integrations: {},
      timestamp: receivedAt - 2_000,
      receivedAt,
      sourceId: 'src_default',
    };
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);
}

/** Raw append rate: `CONNECTIONS` appenders each awaiting batches of `BATCH`, as the HTTP handlers do. */
async function rawAppend(log: EventLog, label: string): Promise<Row> {
  const run = `raw-${label}-${Date.now()}`;
  let next = 0;
  let events = 0;
  let errors = 0;
  const latencies: number[] = [];
  const deadline = performance.now() + DURATION_S * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const n = next++;
      // built fresh each time (ids must be unique, or the log drops them as duplicates); latency covers the append only.
      const batch = flockBatch(run, n);
      const started = performance.now();
      try {
        await log.append(batch);
        events += batch.length;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    log: label,
    path: `raw append (${CONNECTIONS} × ${BATCH}-event batches in flight)`,
    eventsPerSecond: events / seconds,
    requestsPerSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    errors,
    note: '',
  };
}

interface AutocannonResult {
  readonly '2xx': number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly duration: number;
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly requests: { readonly average: number };
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
    return {
      log: label,
      path: `HTTP /v1/batch (${CONNECTIONS} connections, ${BATCH}/batch)`,
      eventsPerSecond: accepted / result.duration,
      requestsPerSecond: result['2xx'] / result.duration,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      errors: result.non2xx + result.errors + result.timeouts,
      // every accepted event must be in the log; autocannon stops with up to one request per
      // connection in flight, which the server still stores without the answer being counted.
      note:
        stored >= accepted && stored - accepted <= CONNECTIONS * BATCH
          ? `all ${accepted.toLocaleString('en-US')} accepted stored`
          : `MISMATCH: stored ${stored}, accepted ${accepted}`,
    };
  } finally {
    await server.close(5_000);
  }
}

async function measure(label: string, open: () => Promise<EventLog>, bodyFile: string): Promise<Row[]> {
  const log = await open();
  try {
    const raw = await rawAppend(log, label);
    const http = await httpIngest(log, label, bodyFile);
    return [raw, http];
  } finally {
    await log.close();
  }
}

function table(rows: readonly Row[]): string {
  const header = ['log', 'path', 'events/s', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'check'];
  const body = rows.map((r) => [
    r.log,
    r.path,
    Math.round(r.eventsPerSecond).toLocaleString('en-US'),
    Math.round(r.requestsPerSecond).toLocaleString('en-US'),
    r.p50Ms.toFixed(1),
    r.p99Ms.toFixed(1),
    String(r.errors),
    r.note,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'flock-bench-ingest-'));
  const bodyFile = join(dir, 'batch.json');
  const template = batchTemplate();
  writeFileSync(bodyFile, template);
  let nats: NatsServer | undefined;
  const rows: Row[] = [];
  try {
    if (flags.only === undefined || flags.only === 'embedded') {
      rows.push(...(await measure('embedded', () => openEventLog({ dataDir: join(dir, 'embedded') }), bodyFile)));
    }
    if (flags.only === undefined || flags.only === 'jetstream') {
      if (findNatsServer() === undefined) throw new Error('nats-server not found (apt-get install nats-server)');
      nats = await startNatsServer();
      const url = nats.url;
      rows.push(...(await measure('jetstream', () => openEventLog({ dataDir: join(dir, 'jetstream'), natsUrl: url }), bodyFile)));
    }
  } finally {
    await nats?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    `\nIngest: ${DURATION_S}s per row, batches of ${BATCH} events (~${Math.round(template.length / BATCH)} B each), ` +
      `${CONNECTIONS} connections, ${USERS} users, load from a child process (autocannon)\n\n${table(rows)}\n`,
  );
}

await main();
