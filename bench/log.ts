/** Raw speed of the durable logs: append rate and consume-and-decode rate of the embedded and JetStream logs, beside in-memory decode baselines. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Packr, Unpackr } from 'msgpackr';
import { createEventCodec, type EventCodec } from '../engine/event/codec.ts';
import type { FlockEvent } from '../engine/event/model.ts';
import type { AppendLog, LogRecord, ReadOptions } from '../engine/log/append-log.ts';
import { EncodedEventLog } from '../engine/log/encoded-event-log.ts';
import type { EventLog } from '../engine/log/event-log.ts';
import { openAppendLog, openEventLog, type LogLocation } from '../engine/log/open-event-log.ts';
import { partitionOf } from '../engine/log/partition.ts';
import { findNatsServer, startNatsServer, type NatsServer } from '../test/support/nats-server.ts';
import { sampleEvents } from '../test/support/sample-events.ts';

export interface Rate {
  readonly name: string;
  readonly records: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** per-batch latency, when batches were timed one by one */
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** Runs a measurement `runs` times and keeps the median: the machine is shared, single runs are noisy. */
export async function medianOf(runs: number, measure: () => Promise<Rate> | Rate): Promise<Rate> {
  const rates: Rate[] = [];
  for (let i = 0; i < runs; i++) rates.push(await measure());
  rates.sort((a, b) => a.perSecond - b.perSecond);
  const median = rates[Math.floor(rates.length / 2)] as Rate;
  return { ...median, name: `${median.name} (median of ${runs})` };
}

/** Appends `items` in batches of `batchSize`, `concurrency` batches in flight, each awaited until durable. */
export async function appendRate<T>(
  name: string,
  append: (batch: readonly T[]) => Promise<unknown>,
  items: readonly T[],
  batchSize: number,
  concurrency = 1,
): Promise<Rate> {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += batchSize) batches.push(items.slice(i, i + batchSize));
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batches.length) {
        const batch = batches[next++] as T[];
        const t = performance.now();
        await append(batch);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { name, records: items.length, seconds, perSecond: items.length / seconds, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99) };
}

/** Tails from `from` until `count` records arrived; `touch` sees every batch (decoding happens inside an EventLog's tail). */
export async function consumeRate<T>(
  name: string,
  tail: (from: number, options: ReadOptions) => AsyncIterable<readonly T[]>,
  from: number,
  count: number,
  maxBatch = 1000,
  touch: (batch: readonly T[]) => void = () => {},
): Promise<Rate> {
  const controller = new AbortController();
  let seen = 0;
  const start = performance.now();
  for await (const batch of tail(from, { maxBatch, signal: controller.signal })) {
    touch(batch);
    seen += batch.length;
    if (seen >= count) break;
  }
  const seconds = (performance.now() - start) / 1000;
  controller.abort();
  return { name, records: seen, seconds, perSecond: seen / seconds };
}

/** In-memory decode loops, the ceiling any log's consume rate is measured against. */
export function decodeBaselines(events: readonly FlockEvent[], codec: EventCodec, encoded: readonly Uint8Array[]): Rate[] {
  const plainPackr = new Packr({ useRecords: false });
  const plain = events.map((e) => plainPackr.pack(e));
  const unpackr = new Unpackr({ useRecords: false });
  const time = (name: string, run: () => void): Rate => {
    run(); // warm up
    const rates: number[] = [];
    let seconds = 0;
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      run();
      const s = (performance.now() - start) / 1000;
      seconds += s;
      rates.push(events.length / s);
    }
    rates.sort((a, b) => a - b);
    return { name: `${name} (median of 5)`, records: events.length, seconds, perSecond: rates[2] as number };
  };
  return [
    time('decode in memory: plain msgpack maps', () => {
      for (const b of plain) unpackr.unpack(b);
    }),
    time('decode in memory: shared structures (codec)', () => {
      for (const b of encoded) codec.decode(b);
    }),
  ];
}

/** Raw records: events encoded once with the log's own codec, so append measures only the log. */
export async function encodedRecords(log: AppendLog, events: readonly FlockEvent[], tag: string): Promise<{ records: LogRecord[]; codec: EventCodec }> {
  const codec = createEventCodec(log);
  await codec.prepare();
  const records = await codec.write(events, async (encoded, structures) => {
    // registers the structures with the log (in an empty append), so the records are decodable
    if (structures !== undefined) await log.append([], { structures });
    return encoded.map((data, i) => {
      const e = events[i] as FlockEvent;
      return { id: `${tag}/${e.space}/${e.messageId}`, key: `${e.space}.${partitionOf(e)}`, data: Buffer.from(data) };
    });
  });
  return { records, codec };
}

export interface LogBenchOptions {
  /** records per append-rate run (each batch size, each log). */
  readonly appendRecords?: number;
  /** records in the log that the consume run reads from 1 to the end. */
  readonly consumeRecords?: number;
  readonly natsUrl?: string;
}

/** Runs every measurement against one kind of log (embedded when natsUrl is undefined). */
export async function benchLog(kind: 'embedded' | 'jetstream', dataDir: string, options: LogBenchOptions): Promise<Rate[]> {
  const appendRecords = options.appendRecords ?? 100_000;
  const consumeRecords = options.consumeRecords ?? 200_000;
  const natsUrl = kind === 'jetstream' ? options.natsUrl : undefined;
  const rows: Rate[] = [];

  // raw append: bytes-level log, pre-encoded records
  const location: LogLocation = { name: 'raw-bench', stream: 'RAW_BENCH', subjectPrefix: 'rawbench' };
  const raw = await openAppendLog({ dataDir, natsUrl, log: location });
  for (const [batchSize, concurrency] of [
    [100, 1],
    [1000, 1],
    [100, 8],
  ] as const) {
    const { records } = await encodedRecords(raw, sampleEvents(appendRecords, { users: 10_000 }), `b${batchSize}c${concurrency}`);
    rows.push(await appendRate(`${kind}: raw append, batches of ${batchSize}, ${concurrency} in flight`, (b) => raw.append(b), records, batchSize, concurrency));
  }
  await raw.close();

  // event log: encode + append; the events are dropped before consuming, so the consume runs measure
  // the log rather than a heap the bench filled (a large live heap makes every allocation dearer)
  const log: EventLog = await openEventLog({ dataDir, natsUrl });
  rows.push(
    await appendRate(`${kind}: EventLog append (encode + append), batches of 1000`, (b) => log.append(b), sampleEvents(consumeRecords, { users: 10_000, prefix: 'consume' }), 1000),
  );
  const appendLog = (log as EncodedEventLog).appendLog;
  rows.push(await medianOf(3, () => consumeRate(`${kind}: raw consume (tail 1 → end, no decode)`, (f, o) => appendLog.tail(f, o), 1, consumeRecords)));
  let checksum = 0;
  rows.push(
    await medianOf(3, () =>
      consumeRate(`${kind}: consume + decode (EventLog tail 1 → end)`, (f, o) => log.tail(f, o), 1, consumeRecords, 1000, (batch) => {
        for (const e of batch) checksum += e.event.timestamp;
      }),
    ),
  );
  if (checksum === 0) throw new Error('consumed nothing');
  if (kind === 'embedded') {
    const codec = (log as EncodedEventLog).codec;
    const encoded = (await appendLog.read(1, 100_000)).map((e) => e.data);
    rows.push(...decodeBaselines(sampleEvents(encoded.length, { users: 10_000, prefix: 'consume' }), codec, encoded));
  }
  await log.close();
  return rows;
}

export function printTable(rows: readonly Rate[]): void {
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'measurement'.padEnd(width)}  ${'records/s'.padStart(11)}  ${'records'.padStart(8)}  ${'batch p50'.padStart(10)}  ${'batch p99'.padStart(10)}`);
  for (const r of rows) {
    const ms = (v: number | undefined) => (v === undefined ? '' : `${v.toFixed(2)} ms`);
    console.log(
      `${r.name.padEnd(width)}  ${Math.round(r.perSecond).toLocaleString('en-US').padStart(11)}  ${String(r.records).padStart(8)}  ${ms(r.p50Ms).padStart(10)}  ${ms(r.p99Ms).padStart(10)}`,
    );
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flock-bench-log-'));
  let server: NatsServer | undefined;
  try {
    const rows = await benchLog('embedded', join(dataDir, 'embedded'), {});
    if (findNatsServer() === undefined) {
      console.log('nats-server not found: JetStream rows skipped');
    } else {
      server = await startNatsServer();
      rows.push(...(await benchLog('jetstream', join(dataDir, 'js'), { natsUrl: server.url })));
    }
    printTable(rows);
  } finally {
    await server?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
