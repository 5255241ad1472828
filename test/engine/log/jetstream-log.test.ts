import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FlockEvent } from '../../../engine/event/model.ts';
import type { LogRecord } from '../../../engine/log/append-log.ts';
import { EncodedEventLog } from '../../../engine/log/encoded-event-log.ts';
import type { EventLog } from '../../../engine/log/event-log.ts';
import { openJetStreamLog } from '../../../engine/log/jetstream-log.ts';
import { LogAppendError, LogCommitError, LogConfigError, LogOpenError, LogReadError } from '../../../engine/log/log-errors.ts';
import { EVENT_LOG, openAppendLog, openEventLog } from '../../../engine/log/open-event-log.ts';
import { partitionOf } from '../../../engine/log/partition.ts';
import { eventContract, logContract, rawContract, rawRecord, storedRecord } from '../../support/log-contract.ts';
import { natsServerAvailable, startNatsServer, type NatsServer } from '../../support/nats-server.ts';
import { sampleEvent, sampleEvents } from '../../support/sample-events.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'flock-js-'));
const server: NatsServer | undefined = natsServerAvailable('JetStream log tests') ? await startNatsServer() : undefined;

async function expectError(work: () => Promise<unknown>, type: new (...args: never[]) => Error): Promise<Error> {
  let caught: unknown;
  try {
    await work();
  } catch (error) {
    caught = error;
  }
  assert.instance(caught, type);
  return caught as Error;
}

if (server !== undefined) {
  const url = server.url;

  logContract<LogRecord>({
    name: 'JetStream AppendLog',
    make: rawRecord,
    stored: storedRecord,
    open: rawContract(() => openJetStreamLog({ servers: url, stream: 'RAW_CONTRACT', subjectPrefix: 'raw' })),
  });

  logContract<FlockEvent>({
    name: 'JetStream EventLog',
    make: (i, tag) => sampleEvent(i, { prefix: tag }),
    stored: (e) => e,
    open: eventContract(() => openEventLog({ dataDir, natsUrl: url })),
  });

  test('events are published to flock.events.<space>.<partition> and dedupe per space', async () => {
    const log = await openEventLog({ dataDir, natsUrl: url, partitions: 16 });
    const base = await log.lastSeq();
    const a = { ...sampleEvent(1, { prefix: 'scoped' }), space: 'spa_a' };
    const b = { ...a, space: 'spa_b' };
    const result = await log.append([a, b, a]);
    assert.equal(result.seqs, [base + 1, base + 2, base + 1]);
    const nc = await connect({ servers: url, noAsyncTraces: true });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(EVENT_LOG.stream);
      assert.equal(info.config.subjects, ['flock.events.>']);
      const stored = await jsm.streams.getMessage(EVENT_LOG.stream, { seq: base + 1 });
      assert.is(stored?.subject, `flock.events.spa_a.${partitionOf(a, 16)}`);
      assert.is(stored?.header.get('Nats-Msg-Id'), `spa_a/${a.messageId}`);
    } finally {
      await nc.close();
      await log.close();
    }
  });

  test('a second writer adds structures; the first reads them back after reloading the registry', async () => {
    const first = await openEventLog({ dataDir, natsUrl: url });
    const second = await openEventLog({ dataDir, natsUrl: url });
    const base = await first.lastSeq();
    const shaped = (i: number, key: string): FlockEvent => ({ ...sampleEvent(i, { prefix: key }), properties: { [key]: i, [`${key}_n`]: { x: i } } });
    // both start from the same registry and add different shapes at once: one must retry after a conflict
    const [r1, r2] = await Promise.all([
      first.append([shaped(1, 'shape_first'), shaped(2, 'shape_first')]),
      second.append([shaped(3, 'shape_second'), shaped(4, 'shape_second')]),
    ]);
    assert.is(r1.duplicates + r2.duplicates, 0);
    const fresh = await openEventLog({ dataDir, natsUrl: url });
    for (const log of [first, second, fresh]) {
      const back = await log.read(base + 1, 10);
      assert.is(back.length, 4);
      const keys = back.map((e) => Object.keys(e.event.properties ?? {})[0]).sort();
      assert.equal(keys, ['shape_first', 'shape_first', 'shape_second', 'shape_second']);
    }
    await Promise.all([first.close(), second.close(), fresh.close()]);
  });

  test('events survive kill -9 of nats-server and a restart; readers and writers carry on', async () => {
    const writer = await openEventLog({ dataDir, natsUrl: url, timeoutMs: 2000 });
    const base = await writer.lastSeq();
    const events = sampleEvents(2000, { prefix: 'crash' });
    for (let i = 0; i < events.length; i += 500) await writer.append(events.slice(i, i + 500));
    await writer.commit('engine', base + 2000);
    const reader = await openEventLog({ dataDir, natsUrl: url });
    // a tail that is already reading when the server dies
    const controller = new AbortController();
    const iterator = reader.tail(base + 1, { signal: controller.signal, maxBatch: 100 })[Symbol.asyncIterator]();
    const firstBatch = await iterator.next();
    assert.ok(!firstBatch.done && firstBatch.value.length > 0);
    const tailed: number[] = firstBatch.done ? [] : firstBatch.value.map((e) => e.seq);
    const tailing = (async () => {
      const timer = setTimeout(() => controller.abort(), 30_000);
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        tailed.push(...next.value.map((e) => e.seq));
        if (tailed.length >= 2010) break;
      }
      clearTimeout(timer);
      await iterator.return?.();
    })();

    await server.kill();
    await server.restart();

    const after = await openEventLog({ dataDir, natsUrl: url });
    assert.is(await after.lastSeq(), base + 2000);
    assert.is(await after.position('engine'), base + 2000);
    const back = await after.read(base + 1, 5000);
    assert.equal(back.map((e) => e.event), events);
    // the writer reconnected by itself; its appends continue the sequence and still dedupe
    const more = await retry(() => writer.append(sampleEvents(10, { prefix: 'after' })));
    assert.equal(more.seqs, Array.from({ length: 10 }, (_, i) => base + 2001 + i));
    const again = await writer.append(events.slice(0, 5));
    assert.is(again.duplicates, 5);
    await tailing;
    assert.equal(tailed, Array.from({ length: 2010 }, (_, i) => base + 1 + i));
    await Promise.all([writer.close(), reader.close(), after.close()]);
  });

  test('stream limits are applied at open and updated at reopen', async () => {
    const location = { name: 'limited', stream: 'LIMITED', subjectPrefix: 'limited' };
    const limits = { maxBytes: 64 * 1024, maxAgeMs: 3_600_000, duplicateWindowMs: 10_000 };
    const log = await openAppendLog({ dataDir, natsUrl: url, log: location, stream: limits });
    const nc = await connect({ servers: url, noAsyncTraces: true });
    try {
      const jsm = await jetstreamManager(nc);
      let info = await jsm.streams.info('LIMITED');
      assert.is(info.config.max_bytes, 64 * 1024);
      assert.is(info.config.max_age, 3_600_000 * 1e6);
      assert.is(info.config.duplicate_window, 10_000 * 1e6);
      assert.is(info.config.storage, 'file');
      assert.is(info.config.retention, 'limits');
      assert.equal(info.config.subjects, ['limited.>']);
      const records = Array.from({ length: 1000 }, (_, i) => ({ id: `l${i}`, key: 'k', data: Buffer.alloc(200, i % 256) }));
      await log.append(records);
      info = await jsm.streams.info('LIMITED');
      assert.ok(info.state.bytes <= 64 * 1024, `${info.state.bytes} bytes kept`);
      assert.ok(info.state.first_seq > 1, 'the oldest records were discarded');
      const oldest = await log.read(1, 5);
      assert.is(oldest[0]?.seq, info.state.first_seq);
      await log.close();

      const reopened = await openAppendLog({ dataDir, natsUrl: url, log: location, stream: { ...limits, maxBytes: 1 << 20 } });
      info = await jsm.streams.info('LIMITED');
      assert.is(info.config.max_bytes, 1 << 20);
      await reopened.close();

      await jsm.streams.add({ name: 'FOREIGN', subjects: ['foreign.other.>'] });
      await expectError(() => openAppendLog({ dataDir, natsUrl: url, log: { name: 'f', stream: 'FOREIGN', subjectPrefix: 'foreign' } }), LogConfigError);
    } finally {
      await nc.close();
    }
  });

  test('nats-server unreachable: open and append fail with named errors and causes', async () => {
    const spare = await startNatsServer();
    const spareUrl = spare.url;
    const log = await openJetStreamLog({ servers: spareUrl, stream: 'DOWN', subjectPrefix: 'down', timeoutMs: 500 });
    await spare.stop();
    const appendError = await expectError(() => log.append([{ id: 'x', key: 'k', data: Buffer.from('x') }]), LogAppendError);
    assert.ok(appendError.cause !== undefined);
    for (const [what, work, type] of [
      ['read', () => log.read(1, 10), LogReadError],
      ['lastSeq', () => log.lastSeq(), LogReadError],
      ['position', () => log.position('engine'), LogReadError],
      ['structures', () => log.structures(0), LogReadError],
      ['commit', () => log.commit('engine', 1), LogCommitError],
      ['tail', () => log.tail(1)[Symbol.asyncIterator]().next(), LogReadError],
    ] as const) {
      const error = await expectError(work, type);
      assert.ok(error.cause !== undefined, `${what} has no cause`);
    }
    await log.close();
    const openError = await expectError(() => openEventLog({ dataDir, natsUrl: spareUrl }), LogOpenError);
    assert.ok(openError.cause !== undefined);
    assert.match(openError.message, spareUrl);
    await spare.dispose();
  });

  test('a tail left while its buffer is full (the reader stops at a position with thousands of records after it) ends', async () => {
    const log = await openJetStreamLog({ servers: url, stream: 'FULL_TAIL', subjectPrefix: 'fulltail' });
    try {
      const records = Array.from({ length: 5_000 }, (_, i) => ({ id: `r${i}`, key: `k${i % 4}`, data: new Uint8Array([i % 256]) }));
      for (let i = 0; i < records.length; i += 1_000) await log.append(records.slice(i, i + 1_000));
      // a small batch: the tail buffers four batches and then waits for room, with more fetched behind them
      const tail = log.tail(1, { maxBatch: 10 })[Symbol.asyncIterator]();
      const first = await tail.next();
      assert.is(first.done, false);
      // the buffer fills while nobody reads (as while an engine applies a batch)
      await new Promise((resolve) => setTimeout(resolve, 500));
      const ended = await Promise.race([tail.return!(undefined).then(() => 'ended'), new Promise((resolve) => setTimeout(() => resolve('still waiting after 10 s'), 10_000))]);
      assert.is(ended, 'ended');
    } finally {
      await log.close();
    }
  });

  test('the EventLog exposes its AppendLog and codec', async () => {
    const log: EventLog = await openEventLog({ dataDir, natsUrl: url });
    assert.instance(log, EncodedEventLog);
    assert.is(log.kind, 'jetstream');
    assert.ok((log as EncodedEventLog).codec.structureCount > 0);
    await log.close();
  });
}

/** an append right after a restart may time out while the client reconnects; the caller's retry is the documented remedy. */
async function retry<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof LogAppendError) || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

test.after(async () => {
  await server?.dispose();
  rmSync(dataDir, { recursive: true, force: true });
});

test.run();
