import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FlockEvent } from '../../../engine/event/model.ts';
import type { LogRecord } from '../../../engine/log/append-log.ts';
import { openEmbeddedLog, type EmbeddedLog } from '../../../engine/log/embedded-log.ts';
import { EncodedEventLog } from '../../../engine/log/encoded-event-log.ts';
import { CorruptRecordError, LogOpenError } from '../../../engine/log/log-errors.ts';
import { openEventLog } from '../../../engine/log/open-event-log.ts';
import { eventContract, logContract, rawContract, rawRecord, storedRecord } from '../../support/log-contract.ts';
import { sampleEvent, sampleEvents } from '../../support/sample-events.ts';

const root = mkdtempSync(join(tmpdir(), 'flock-embedded-'));
const here = new URL('.', import.meta.url);
const support = (file: string) => new URL(`../../support/${file}`, here).pathname;

logContract<LogRecord>({
  name: 'embedded AppendLog',
  make: rawRecord,
  stored: storedRecord,
  open: rawContract(() => openEmbeddedLog({ path: join(root, 'raw') })),
});

logContract<FlockEvent>({
  name: 'embedded EventLog',
  make: (i, tag) => sampleEvent(i, { prefix: tag }),
  stored: (e) => e,
  open: eventContract(() => openEventLog({ dataDir: join(root, 'events-contract') })),
});

test('a tail wakes within milliseconds of an append by a worker thread', async () => {
  const path = join(root, 'worker');
  // a long poll interval proves the wake-up comes from the broadcast, not from polling
  const log = await openEmbeddedLog({ path, pollMs: 60_000 });
  const worker = new Worker(support('ts-worker.mjs'), { workerData: { entry: support('append-worker.ts'), path, count: 5 } });
  try {
    const ready = new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await ready;
    const tailing = (async () => {
      for await (const batch of log.tail(1)) return { batch, at: performance.timeOrigin + performance.now() };
      throw new Error('tail ended');
    })();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const done = new Promise<{ seqs: number[]; committedAt: number }>((resolve) => worker.once('message', resolve));
    worker.postMessage({ tag: 'w' });
    const [{ batch, at }, appended] = await Promise.all([tailing, done]);
    assert.equal(batch.map((e) => e.seq), appended.seqs);
    assert.is(Buffer.from(batch[0]?.data ?? []).toString(), 'w:0');
    const latency = at - appended.committedAt;
    assert.ok(latency < 50, `woke ${latency.toFixed(2)} ms after the worker's append`);
  } finally {
    await worker.terminate();
    await log.close();
  }
});

test('a crash mid-write never leaves a half batch', async () => {
  const path = join(root, 'crash');
  const size = 250;
  for (let round = 0; round < 3; round++) {
    const child = spawn(process.execPath, ['--import', 'tsx', support('append-child.ts'), 'crash-loop', path, String(size)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    // let it get well into a stream of commits, then kill it at an arbitrary point
    await new Promise((resolve) => setTimeout(resolve, 150 + round * 70));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    const log = await openEmbeddedLog({ path });
    const last = await log.lastSeq();
    assert.ok(last >= size, `only ${last} records survived`);
    assert.is(last % size, 0, `${last} records is not a whole number of ${size}-record batches`);
    const counts = new Map<number, number>();
    let expected = 1;
    for (let from = 1; from <= last; from += 5000) {
      for (const entry of await log.read(from, 5000)) {
        assert.is(entry.seq, expected++);
        const { batch } = JSON.parse(Buffer.from(entry.data).toString()) as { batch: number };
        counts.set(batch, (counts.get(batch) ?? 0) + 1);
      }
    }
    for (const [batch, count] of counts) assert.is(count, size, `batch ${batch} has ${count} records`);
    // the ids of the surviving batches are durable too: the first batch is a duplicate now
    const again = await log.append([{ id: 'b0-0', key: 'crash.0', data: Buffer.from('again') }]);
    assert.is(again.duplicates, 1);
    await log.close();
  }
});

test('two handles on one path: closing one leaves the other working', async () => {
  const path = join(root, 'two-handles');
  const a = await openEmbeddedLog({ path });
  const b = await openEmbeddedLog({ path });
  await a.append([rawRecord(1, 'two')]);
  await a.close();
  assert.is(await b.lastSeq(), 1);
  const more = await b.append([rawRecord(2, 'two'), rawRecord(1, 'two')]);
  assert.equal(more.seqs, [2, 1]);
  await b.close();
});

test('close right after a burst of appends settles and reopens cleanly', async () => {
  const path = join(root, 'burst');
  for (let round = 0; round < 3; round++) {
    const log: EmbeddedLog = await openEmbeddedLog({ path });
    const writes = Array.from({ length: 200 }, (_, i) => log.append([rawRecord(i, `burst${round}`)]));
    const closing = log.close();
    await Promise.all(writes);
    await closing;
  }
  const log = await openEmbeddedLog({ path });
  assert.is(await log.lastSeq(), 600);
  await log.close();
});

test('an unopenable path fails with LogOpenError and a cause', async () => {
  const file = join(root, 'not-a-dir');
  writeFileSync(file, 'x');
  try {
    await openEmbeddedLog({ path: join(file, 'log') });
    assert.unreachable('opened a log under a file');
  } catch (error) {
    assert.instance(error, LogOpenError);
    assert.ok((error as Error).cause !== undefined);
  }
});

test('a corrupt record in the event log is a CorruptRecordError naming its position', async () => {
  const dataDir = join(root, 'corrupt');
  const events = await openEventLog({ dataDir });
  await events.append(sampleEvents(3));
  assert.instance(events, EncodedEventLog);
  const raw = (events as EncodedEventLog).appendLog;
  await raw.append([{ id: 'garbage', key: 'spa_test.0', data: Uint8Array.from([1, 0, 0, 0xc1, 0xff]) }]);
  await raw.append([{ id: 'not-ours', key: 'spa_test.0', data: Uint8Array.from([7, 7, 7, 7]) }]);
  assert.is((await events.read(1, 3)).length, 3);
  for (const seq of [4, 5]) {
    try {
      await events.read(seq, 1);
      assert.unreachable('decoded a corrupt record');
    } catch (error) {
      assert.instance(error, CorruptRecordError);
      assert.match((error as Error).message, `record ${seq}`);
    }
  }
  await events.close();
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
