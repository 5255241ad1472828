/**
 * Stage `live`: `npm start` (embedded log, the realistic definitions) in a child process, fed over
 * HTTP at a fixed rate below saturation, while this process follows the change log:
 * - latency: a probe event (its own request, a fresh user) → its computed-trait change in the change log;
 * - timer accuracy: a probe with a `within(N seconds)` window leaves the audience exactly N seconds
 *   after its timestamp, with no event to trigger it — how late after that instant the exit is in
 *   the change log, and whether it carries the exact instant.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeChangeRecord } from '../../../engine/engine.ts';
import type { FlockEvent } from '../../../engine/event/model.ts';
import { openEmbeddedLog } from '../../../engine/log/embedded-log.ts';
import { CHANGE_LOG } from '../../../engine/log/open-event-log.ts';
import { realisticDefinitions } from '../../workload/definitions.ts';
import { generateEvents } from '../../workload/generator.ts';
import { workload, type SuiteConfig } from '../config.ts';
import { fmt, type Figure } from '../figures.ts';
import { quantile } from '../log-to-change-log.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const SPACE = 'spa_default';
const WRITE_KEY = `Basic ${Buffer.from('dev_write_key:').toString('base64')}`;
/** load ticks (ms): every tick sends what the fixed rates make due. */
const TICK_MS = 10;

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The service, started as `npm start` would, with its JSON log lines parsed. */
function startService(dir: string, definitionsFile: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'api/main.ts'), '--port', '0', '--data-dir', dir, '--definitions-file', definitionsFile], {
    cwd: repo,
    // (FLOCK_* settings pass through: a live run can compare e.g. --checkpoint-writer or --checkpoint-interval)
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('FLOCK_') && k !== 'FLOCK_BENCH_SIZE')) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        const parsed = JSON.parse(line) as { message?: string; url?: string };
        if (parsed.message === 'flock listening' && parsed.url !== undefined) resolve(parsed.url);
      }
    });
    child.once('exit', (code) => reject(new Error(`npm start exited ${code}: ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, url, exited };
}

/** A generated event as the Segment call a client would send, at `timestamp`. */
function call(e: FlockEvent, timestamp: string, messageId: string): Record<string, unknown> {
  const c: Record<string, unknown> = { type: e.type, messageId, timestamp };
  if (e.type === 'track') c['event'] = e.event;
  for (const key of ['userId', 'anonymousId', 'groupId', 'traits', 'properties', 'context'] as const) if (e[key] !== null) c[key] = e[key];
  if (e.type === 'page') c['name'] = (e.properties as { page_name?: string } | null)?.page_name;
  return c;
}

export async function live(config: SuiteConfig, progress: (line: string) => void): Promise<Figure[]> {
  const dir = join(config.dir, 'live');
  mkdirSync(dir, { recursive: true });
  const window = config.timerWindowSeconds;
  const definitionsFile = join(config.dir, 'live-definitions.json');
  const probes = [
    { space: SPACE, key: 'bench_probe', kind: 'trait', query: "event('Bench Probe').last(property('n'))" },
    { space: SPACE, key: 'bench_timer', kind: 'audience', query: `event('Timer Probe').within(${window} seconds).count() >= 1` },
  ];
  writeFileSync(definitionsFile, JSON.stringify({ definitions: [...realisticDefinitions().map((d) => ({ space: SPACE, key: d.key, kind: d.kind, query: d.query, target: d.target ?? 'USERS' })), ...probes] }));
  const service = startService(dir, definitionsFile);
  const url = await service.url;
  const post = async (batch: unknown[]) => {
    const res = await fetch(`${url}/v1/batch`, { method: 'POST', headers: { authorization: WRITE_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ batch }) });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`ingest answered ${res.status}`);
  };
  for (let i = 0; (await fetch(`${url}/readyz`)).status !== 200; i++) {
    if (i > 600) throw new Error('npm start never became ready');
    await sleep(50);
  }

  // Follow the change log from this process, as a consumer would.
  const changes = await openEmbeddedLog({ path: join(dir, CHANGE_LOG.name), pollMs: 1 });
  const sentProbe = new Map<number, number>();
  const latencies: number[] = [];
  /** when the slow probes (over a second) were sent: stalls show as clusters. */
  const slow: number[] = [];
  /** probes sent before this instant warm the path up and are not measured. */
  let measuredFrom = Number.POSITIVE_INFINITY;
  /** exact exit instant → probes due to exit then (two probes may share a millisecond). */
  const expectedExits = new Map<number, number>();
  const lateness: number[] = [];
  let exact = 0;
  const controller = new AbortController();
  const following = (async () => {
    for await (const batch of changes.tail(1, { signal: controller.signal })) {
      const seen = now();
      for (const record of batch) {
        for (const c of decodeChangeRecord(record.data)) {
          if (c.kind === 'trait' && c.traitKey === 'bench_probe' && typeof c.value === 'number') {
            const sent = sentProbe.get(c.value);
            if (sent !== undefined && sent >= measuredFrom) {
              latencies.push(seen - sent);
              if (seen - sent > 1000) slow.push(sent);
            }
            sentProbe.delete(c.value);
          } else if (c.kind === 'exit' && c.audienceKey === 'bench_timer') {
            lateness.push(seen - c.at);
            const due = expectedExits.get(c.at);
            if (due === undefined) continue;
            exact++;
            if (due === 1) expectedExits.delete(c.at);
            else expectedExits.set(c.at, due - 1);
          }
        }
      }
    }
  })().catch((error: unknown) => {
    if (!controller.signal.aborted) throw error;
  });

  let errors = 0;
  let inFlight = 0;
  const send = (batch: unknown[]) => {
    inFlight++;
    post(batch)
      .catch(() => errors++)
      .finally(() => inFlight--);
  };
  const probe = (n: number) => {
    sentProbe.set(n, now());
    send([{ type: 'track', event: 'Bench Probe', userId: `probe_${n}`, messageId: `probe_${n}`, properties: { n }, timestamp: new Date().toISOString() }]);
  };
  try {
    // Warm-up: one probe through the whole path before the clock starts.
    probe(-1);
    for (let i = 0; sentProbe.has(-1); i++) {
      if (i > 1200) throw new Error('the warm-up probe never reached the change log');
      await sleep(50);
    }
    progress(`npm start is up; ${config.liveSeconds} s at ${config.liveRate} events/s, ${config.probeRate} latency probes/s, ${config.timerRate} timer probes/s (window ${window} s)`);

    const background = generateEvents({ ...workload(config, Number.MAX_SAFE_INTEGER), seed: 7 })[Symbol.iterator]();
    // A warm-up of the same load first (JIT, first batches), then the measured seconds.
    const warmup = Math.max(1, Math.round(config.liveSeconds / 10));
    const start = now();
    measuredFrom = start + warmup * 1000;
    const timerUntil = measuredFrom + (config.liveSeconds - window - 1) * 1000;
    let sent = 0;
    let probes = 0;
    let timers = 0;
    for (let t = start; t - start < (warmup + config.liveSeconds) * 1000; t = now()) {
      const elapsed = (t - start) / 1000;
      const iso = new Date(Math.floor(t)).toISOString();
      const batch: unknown[] = [];
      for (; sent < Math.floor(elapsed * config.liveRate); sent++) batch.push(call(background.next().value as FlockEvent, iso, `live_${sent}`));
      if (batch.length > 0) send(batch);
      for (; probes < Math.floor(elapsed * config.probeRate); probes++) probe(probes);
      for (; t >= measuredFrom && t < timerUntil && timers < Math.floor(((t - measuredFrom) / 1000) * config.timerRate); timers++) {
        const ts = Math.floor(now());
        expectedExits.set(ts + window * 1000, (expectedExits.get(ts + window * 1000) ?? 0) + 1);
        send([{ type: 'track', event: 'Timer Probe', userId: `timer_${timers}`, messageId: `timer_${timers}`, timestamp: new Date(ts).toISOString() }]);
      }
      await sleep(TICK_MS);
    }
    const loadSeconds = (now() - start) / 1000;
    // The last probes and exits arrive (or the stage reports them missing).
    for (let i = 0; (sentProbe.size > 0 || expectedExits.size > 0 || inFlight > 0) && i < (window + 20) * 20; i++) await sleep(50);
    controller.abort();
    await following;
    progress(`latency p50 ${fmt(quantile(sorted(latencies), 0.5), 1)} ms over ${latencies.length} probes; exits ${fmt(quantile(sorted(lateness), 0.99), 1)} ms late (p99), ${exact}/${timers} at the exact instant`);
    latencies.sort((a, b) => a - b);
    lateness.sort((a, b) => a - b);
    const lost = `${sentProbe.size} probes without a change, ${errors} failed requests`;
    return [
      { id: 'live.rate', measurement: 'live: background load over HTTP (realistic workload, 120 definitions)', value: sent / loadSeconds, unit: 'events/s', note: `${fmt(loadSeconds, 1)} s, plus ${fmt((probes + timers) / loadSeconds)} probe requests/s` },
      { id: 'latency.p50', measurement: 'latency: HTTP ingest → change in the change log, p50', value: quantile(latencies, 0.5), unit: 'ms', note: `${fmt(latencies.length)} probes (one event per request, a fresh user) after ${warmup} s of warm-up load; ${lost}` },
      { id: 'latency.p99', measurement: 'latency: HTTP ingest → change in the change log, p99', value: quantile(latencies, 0.99), unit: 'ms', note: `checkpoint interval and change-log poll included` },
      {
        id: 'latency.p999',
        measurement: 'latency: HTTP ingest → change in the change log, p99.9',
        value: quantile(latencies, 0.999),
        unit: 'ms',
        note: `max ${fmt(latencies.at(-1) ?? 0, 1)} ms; ${slow.length} probes over 1 s, sent in seconds ${[...new Set(slow.map((t) => Math.floor((t - measuredFrom) / 1000)))].join(', ') || '—'} of the measured run`,
      },
      { id: 'timer.p50', measurement: `timer accuracy: window exit in the change log after its exact instant, p50 (within(${window} seconds))`, value: quantile(lateness, 0.5), unit: 'ms', note: `${fmt(lateness.length)} exits with no event to trigger them` },
      { id: 'timer.p99', measurement: 'timer accuracy: window exit lateness, p99', value: quantile(lateness, 0.99), unit: 'ms', note: `max ${fmt(lateness.at(-1) ?? 0, 1)} ms` },
      { id: 'timer.exact', measurement: 'timer accuracy: exits carrying their exact instant (timestamp + window)', value: exact, unit: `of ${timers}`, note: `${[...expectedExits.values()].reduce((a, b) => a + b, 0)} expected exits missing` },
    ];
  } finally {
    controller.abort();
    await changes.close();
    service.child.kill('SIGTERM');
    await service.exited;
  }
}

function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}
