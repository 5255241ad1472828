import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createEventCodec,
  MAX_SHARED_STRUCTURES,
  MissingStructuresError,
  RecordCodec,
  type StructureSource,
} from '../../../engine/event/codec.ts';
import { EVENT_TYPES, type FlockEvent } from '../../../engine/event/model.ts';
import type { Structure, StructureAppend } from '../../../engine/log/append-log.ts';
import { CorruptRecordError, StructureConflictError } from '../../../engine/log/log-errors.ts';
import { openEventLog } from '../../../engine/log/open-event-log.ts';
import { sampleEvent, sampleEvents } from '../../support/sample-events.ts';

/** An in-memory registry with the same compare-and-set rule the logs apply, plus a record store. */
class MemoryLog implements StructureSource {
  readonly registry: Structure[] = [];
  readonly records: Uint8Array[] = [];
  /** delays each write, so concurrent writers interleave. */
  delayMs = 0;
  async structures(from: number): Promise<Structure[]> {
    return this.registry.slice(from).map((s) => [...s]);
  }
  readonly writer = async (records: Uint8Array[], update: StructureAppend | undefined): Promise<number[]> => {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (update !== undefined) {
      if (update.from !== this.registry.length) throw new StructureConflictError(update.from, this.registry.length);
      this.registry.push(...update.added);
    }
    // copy: encoded records are views of the encoder's buffer, as a real log copies them on write
    return records.map((r) => this.records.push(Uint8Array.from(r)));
  };
}

async function preparedCodec(log: MemoryLog) {
  const codec = createEventCodec(log);
  await codec.prepare();
  return codec;
}

const shaped = (i: number, key: string): FlockEvent => ({ ...sampleEvent(i, { prefix: key }), properties: { [key]: i, nested: { [`${key}_inner`]: [i] } } });

test('every FlockEvent shape round-trips', async () => {
  const log = new MemoryLog();
  const codec = await preparedCodec(log);
  const events = sampleEvents(500);
  assert.equal(new Set(events.map((e) => e.type)), new Set(EVENT_TYPES));
  const seqs = await codec.write(events, log.writer);
  assert.is(seqs.length, 500);
  assert.equal(log.records.map((r) => codec.decode(r)), events);
  assert.ok(codec.structureCount > 5, `${codec.structureCount} structures`);
  // shared structures are the point: far fewer bytes than plain msgpack maps
  const plain = new Packr({ useRecords: false });
  const plainBytes = events.reduce((n, e) => n + plain.pack(e).length, 0);
  const sharedBytes = log.records.reduce((n, r) => n + r.length, 0);
  assert.ok(sharedBytes < 0.7 * plainBytes, `${sharedBytes} bytes with shared structures vs ${plainBytes} plain`);
});

test('arbitrary JSON payloads round-trip', async () => {
  const log = new MemoryLog();
  const codec = await preparedCodec(log);
  // msgpackr renames a `__proto__` key (prototype-pollution guard), so keys exclude it
  const key = fc.string({ maxLength: 12 }).filter((k) => k !== '__proto__');
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.string(),
      fc.array(tie('value'), { maxLength: 4 }),
      tie('object'),
    ),
    object: fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true }),
  }));
  const event = fc.record({
    space: fc.constantFrom('spa_a', 'spa_b'),
    type: fc.constantFrom(...EVENT_TYPES),
    event: fc.option(fc.string(), { nil: null }),
    messageId: fc.uuid(),
    userId: fc.option(fc.string(), { nil: null }),
    anonymousId: fc.option(fc.string(), { nil: null }),
    groupId: fc.option(fc.string(), { nil: null }),
    previousId: fc.option(fc.string(), { nil: null }),
    traits: fc.option(json.object, { nil: null }),
    properties: fc.option(json.object, { nil: null }),
    context: fc.option(json.object, { nil: null }),
    integrations: fc.option(fc.dictionary(key, fc.boolean(), { noNullPrototype: true }), { nil: null }),
    timestamp: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    receivedAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    sourceId: fc.option(fc.string(), { nil: null }),
  }, { noNullPrototype: true }) as fc.Arbitrary<FlockEvent>;
  await fc.assert(
    fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 20 }), async (events) => {
      const from = log.records.length;
      await codec.write(events, log.writer);
      assert.equal(log.records.slice(from).map((r) => codec.decode(r)), events);
    }),
    { numRuns: 150 },
  );
});

test('two codecs share one registry: a conflicting writer reloads and encodes again', async () => {
  const log = new MemoryLog();
  const a = await preparedCodec(log);
  const b = await preparedCodec(log);
  await a.write([shaped(1, 'from_a')], log.writer);
  const afterA = log.registry.length;
  // b still believes the registry is empty: its first write conflicts, reloads, and succeeds
  await b.write([shaped(2, 'from_b')], log.writer);
  assert.ok(log.registry.length > afterA);
  assert.is(b.structureCount, log.registry.length);
  // a meets b's record, which needs structures a has not loaded
  const fromB = log.records[1] as Uint8Array;
  assert.ok(a.required(fromB) > a.structureCount);
  assert.throws(() => a.decode(fromB), (error: unknown) => error instanceof MissingStructuresError);
  await a.ensure(a.required(fromB));
  assert.equal(a.decode(fromB), shaped(2, 'from_b'));
  const fresh = await preparedCodec(log);
  assert.equal(log.records.map((r) => fresh.decode(r)), [shaped(1, 'from_a'), shaped(2, 'from_b')]);
});

test('concurrent writers, inside one codec and across codecs, keep the registry consistent', async () => {
  const log = new MemoryLog();
  log.delayMs = 1;
  const codecs = await Promise.all([preparedCodec(log), preparedCodec(log), preparedCodec(log)]);
  const batches = Array.from({ length: 30 }, (_, i) => [shaped(i, `shape_${i % 12}`), sampleEvent(i)]);
  await Promise.all(batches.map((batch, i) => (codecs[i % 3] as (typeof codecs)[0]).write(batch, log.writer)));
  const fresh = await preparedCodec(log);
  const decoded = log.records.map((r) => fresh.decode(r));
  assert.is(decoded.length, 60);
  const byId = new Map(batches.flat().map((e) => [e.messageId, e]));
  for (const event of decoded) assert.equal(event, byId.get(event.messageId));
});

test('a failed write leaves the codec usable, whether or not its structures were stored', async () => {
  const log = new MemoryLog();
  const codec = await preparedCodec(log);
  const failing = async () => {
    throw new Error('disk full');
  };
  try {
    await codec.write([shaped(1, 'lost')], failing);
    assert.unreachable('write succeeded');
  } catch (error) {
    assert.is((error as Error).message, 'disk full');
  }
  // the registry took the structures but the records failed (JetStream registers first)
  const storedThenFailed = async (records: Uint8Array[], update: StructureAppend | undefined) => {
    await log.writer([], update);
    throw new Error('publish timed out');
  };
  try {
    await codec.write([shaped(2, 'half')], storedThenFailed);
    assert.unreachable('write succeeded');
  } catch (error) {
    assert.is((error as Error).message, 'publish timed out');
  }
  await codec.write([shaped(3, 'lost'), shaped(4, 'half'), shaped(5, 'new')], log.writer);
  const fresh = await preparedCodec(log);
  assert.equal(log.records.map((r) => fresh.decode(r)), [shaped(3, 'lost'), shaped(4, 'half'), shaped(5, 'new')]);
});

test(`more than ${MAX_SHARED_STRUCTURES} shapes: the rest are encoded inline and still decode`, async () => {
  const log = new MemoryLog();
  const codec = await preparedCodec(log);
  const events = Array.from({ length: MAX_SHARED_STRUCTURES + 200 }, (_, i) => shaped(i, `many_${i}`));
  for (let i = 0; i < events.length; i += 250) await codec.write(events.slice(i, i + 250), log.writer);
  assert.is(log.registry.length, MAX_SHARED_STRUCTURES);
  const fresh = await preparedCodec(log);
  assert.equal(log.records.map((r) => fresh.decode(r)), events);
});

test('corrupt records are CorruptRecordErrors with a clear message', async () => {
  const log = new MemoryLog();
  const codec = await preparedCodec(log);
  await codec.write(sampleEvents(3), log.writer);
  const good = log.records[0] as Uint8Array;
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['empty', new Uint8Array(0), /not a FlockEvent record/],
    ['wrong format byte', Uint8Array.from([9, ...good.subarray(1)]), /format byte 9/],
    ['truncated', good.subarray(0, good.length - 5), /cannot decode/],
    ['trailing garbage', Uint8Array.from([...good, 0xc1]), /cannot decode/],
    ['not an event', Uint8Array.from([1, 0, 0, ...new Packr({ useRecords: false }).pack({ hello: 'world' })]), /not a FlockEvent/],
  ];
  for (const [name, record, message] of cases) {
    try {
      codec.decode(record);
      assert.unreachable(`${name} decoded`);
    } catch (error) {
      assert.instance(error, CorruptRecordError, name);
      assert.match((error as Error).message, message, name);
    }
  }
  const beyond = Uint8Array.from(good);
  beyond[1] = 0x7f;
  try {
    await codec.ensure(codec.required(beyond));
    assert.unreachable('the registry grew to 32k structures');
  } catch (error) {
    assert.instance(error, CorruptRecordError);
    assert.match((error as Error).message, /needs 32\d\d\d shared structures/);
  }
});

test('a generic RecordCodec rejects values its shape check refuses', async () => {
  const log = new MemoryLog();
  const codec = new RecordCodec<{ n: number }>(log, { name: 'Counter', accept: (v) => typeof (v as { n?: unknown }).n === 'number' });
  await codec.prepare();
  await codec.write([{ n: 1 }, { n: 'x' as unknown as number }], log.writer);
  assert.equal(codec.decode(log.records[0] as Uint8Array), { n: 1 });
  assert.throws(() => codec.decode(log.records[1] as Uint8Array), /not a Counter/);
});

test('records stay decodable after a restart and next to a second process that added structures', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'flock-codec-'));
  try {
    const events = sampleEvents(100);
    const first = await openEventLog({ dataDir });
    await first.append(events);
    await first.close();

    const child = spawn(process.execPath, ['--import', 'tsx', new URL('../../support/append-child.ts', import.meta.url).pathname, 'new-shapes', dataDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.is(code, 0);
    assert.equal(JSON.parse(out), Array.from({ length: 20 }, (_, i) => 101 + i));

    const reopened = await openEventLog({ dataDir });
    const back = await reopened.read(1, 1000);
    assert.is(back.length, 120);
    assert.equal(back.slice(0, 100).map((e) => e.event), events);
    assert.equal(Object.keys(back[100]?.event.properties ?? {}), ['child_shape_0', 'nested']);
    await reopened.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();
