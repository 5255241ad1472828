/** The one contract suite every durable log passes: both AppendLog implementations and both EventLogs. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { FlockEvent } from '../../engine/event/model.ts';
import type { AppendLog, AppendResult, LogRecord, ReadOptions } from '../../engine/log/append-log.ts';
import type { EventLog } from '../../engine/log/event-log.ts';
import { LogClosedError } from '../../engine/log/log-errors.ts';

/** What the suite needs of a log, whatever its item type (raw records or FlockEvents). */
export interface ContractLog<T> {
  append(items: readonly T[]): Promise<AppendResult>;
  read(from: number, max: number): Promise<Array<{ seq: number; item: T }>>;
  tail(from: number, options?: ReadOptions): AsyncIterable<Array<{ seq: number; item: T }>>;
  lastSeq(): Promise<number>;
  position(name: string): Promise<number>;
  commit(name: string, seq: number): Promise<void>;
  close(): Promise<void>;
}

export interface ContractFactory<T> {
  readonly name: string;
  /** item `i` of a test; distinct `i` (or `tag`) means a distinct id. */
  make(i: number, tag: string): T;
  /** the stored form of an item, for comparison with what is read back. */
  stored(item: T): unknown;
  /** a fresh handle on one log, kept for the whole suite (reopening returns the same log). */
  open(): Promise<ContractLog<T>>;
  /** runs once before the suite (e.g. start a server, pick a directory). */
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
}

/** collects from `tail` until `count` items arrived, or fails after `ms`. */
export async function collect<T>(
  log: ContractLog<T>,
  from: number,
  count: number,
  options: { maxBatch?: number; ms?: number } = {},
): Promise<{ items: Array<{ seq: number; item: T }>; batches: number[] }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.ms ?? 10_000);
  const items: Array<{ seq: number; item: T }> = [];
  const batches: number[] = [];
  try {
    for await (const batch of log.tail(from, { signal: controller.signal, ...(options.maxBatch ? { maxBatch: options.maxBatch } : {}) })) {
      batches.push(batch.length);
      items.push(...batch);
      if (items.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  if (items.length < count) throw new Error(`tail delivered ${items.length} of ${count} items in time`);
  return { items, batches };
}

export function logContract<T>(factory: ContractFactory<T>): void {
  const test = suite(`log contract: ${factory.name}`);
  let log: ContractLog<T>;
  let tagCount = 0;
  const batchOf = (n: number, tag = `t${tagCount++}`) => Array.from({ length: n }, (_, i) => factory.make(i, tag));

  test.before(async () => {
    await factory.setup?.();
    log = await factory.open();
  });
  test.after(async () => {
    await log.close();
    await factory.teardown?.();
  });

  test('an empty log answers 0 and reads nothing', async () => {
    assert.is(await log.lastSeq(), 0);
    assert.equal(await log.read(1, 10), []);
    assert.is(await log.position('nobody'), 0);
  });

  test('append and read back in order, positions from 1', async () => {
    const items = batchOf(50);
    const result = await log.append(items);
    assert.equal(result.seqs, Array.from({ length: 50 }, (_, i) => i + 1));
    assert.is(result.duplicates, 0);
    assert.is(await log.lastSeq(), 50);
    const back = await log.read(1, 100);
    assert.equal(back.map((e) => e.seq), result.seqs);
    assert.equal(back.map((e) => factory.stored(e.item)), items.map(factory.stored));
    const middle = await log.read(21, 5);
    assert.equal(middle.map((e) => e.seq), [21, 22, 23, 24, 25]);
    assert.equal(factory.stored((middle[0] as { item: T }).item), factory.stored(items[20] as T));
    assert.equal(await log.read(51, 10), []);
  });

  test('large batches and large reads', async () => {
    const start = (await log.lastSeq()) + 1;
    for (let b = 0; b < 5; b++) {
      const result = await log.append(batchOf(1000));
      assert.is(result.seqs[0], start + b * 1000);
      assert.is(result.seqs[999], start + b * 1000 + 999);
    }
    const back = await log.read(start, 10_000);
    assert.is(back.length, 5000);
    back.forEach((e, i) => assert.is(e.seq, start + i));
    const { items, batches } = await collect(log, start, 5000, { maxBatch: 2000 });
    assert.is(items.length, 5000);
    items.forEach((e, i) => assert.is(e.seq, start + i));
    assert.ok(batches.every((n) => n <= 2000), `batches ${batches}`);
    assert.ok(batches.length <= 50, `5000 records came in ${batches.length} batches`);
  });

  test('the same id within a batch and across batches keeps one record', async () => {
    const [a, b] = batchOf(2);
    const before = await log.lastSeq();
    const first = await log.append([a as T, b as T, a as T]);
    assert.equal(first.seqs, [before + 1, before + 2, before + 1]);
    assert.is(first.duplicates, 1);
    const again = await log.append([b as T, a as T]);
    assert.equal(again.seqs, [before + 2, before + 1]);
    assert.is(again.duplicates, 2);
    assert.is(await log.lastSeq(), before + 2);
    const [c] = batchOf(1);
    const mixed = await log.append([a as T, c as T]);
    assert.equal(mixed.seqs, [before + 1, before + 3]);
    assert.is(mixed.duplicates, 1);
  });

  test('tail from the middle delivers the rest in order', async () => {
    const last = await log.lastSeq();
    const { items } = await collect(log, last - 9, 10);
    assert.equal(items.map((e) => e.seq), Array.from({ length: 10 }, (_, i) => last - 9 + i));
  });

  test('a waiting tail wakes on append', async () => {
    const from = (await log.lastSeq()) + 1;
    const items = batchOf(3);
    const waiting = collect(log, from, 3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const appendedAt = performance.now();
    await log.append(items);
    const { items: got } = await waiting;
    const latency = performance.now() - appendedAt;
    assert.equal(got.map((e) => e.seq), [from, from + 1, from + 2]);
    assert.equal(got.map((e) => factory.stored(e.item)), items.map(factory.stored));
    assert.ok(latency < 500, `woke ${latency.toFixed(1)} ms after the append`);
  });

  test('positions, records and dedupe survive closing and reopening', async () => {
    const kept = batchOf(1, 'kept');
    const keptSeq = (await log.append(kept)).seqs[0];
    const last = await log.lastSeq();
    await log.commit('engine', 42);
    await log.commit('engine', last);
    await log.commit('export/träger one', 7);
    await log.close();
    log = await factory.open();
    assert.is(await log.position('engine'), last);
    assert.is(await log.position('export/träger one'), 7);
    assert.is(await log.position('never'), 0);
    assert.is(await log.lastSeq(), last);
    assert.equal((await log.read(keptSeq as number, 1)).map((e) => factory.stored(e.item)), kept.map(factory.stored));
    const again = await log.append(kept);
    assert.equal(again.seqs, [keptSeq]);
    assert.is(again.duplicates, 1);
    const more = await log.append(batchOf(2));
    assert.equal(more.seqs, [last + 1, last + 2]);
  });

  test('a closed log refuses work with LogClosedError and ends its tails', async () => {
    const other = await factory.open();
    const from = (await other.lastSeq()) + 1;
    const iterator = other.tail(from)[Symbol.asyncIterator]();
    const pending = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await other.close();
    const end = await pending;
    assert.is(end.done, true);
    for (const attempt of [
      () => other.append(batchOf(1)),
      () => other.read(1, 1),
      () => other.lastSeq(),
      () => other.position('x'),
      () => other.commit('x', 1),
    ]) {
      try {
        await attempt();
        assert.unreachable('a closed log accepted work');
      } catch (error) {
        assert.instance(error, LogClosedError);
      }
    }
    await other.close(); // closing twice is harmless
  });

  test.run();
}

// Adapters: the contract's view of a raw AppendLog and of an EventLog.

export function rawRecord(i: number, tag: string): LogRecord {
  return { id: `${tag}-${i}`, key: `spa_${i % 3}.${i % 4}`, data: Buffer.from(`${tag}:${i}:${'x'.repeat(i % 100)}`) };
}

export function rawContract(open: () => Promise<AppendLog>): () => Promise<ContractLog<LogRecord>> {
  return async () => {
    const log = await open();
    return {
      append: (items) => log.append(items),
      read: async (from, max) => (await log.read(from, max)).map((e) => ({ seq: e.seq, item: { id: '', key: e.key, data: e.data } })),
      tail: (from, options) => map(log.tail(from, options), (batch) => batch.map((e) => ({ seq: e.seq, item: { id: '', key: e.key, data: e.data } }))),
      lastSeq: () => log.lastSeq(),
      position: (name) => log.position(name),
      commit: (name, seq) => log.commit(name, seq),
      close: () => log.close(),
    };
  };
}

export function eventContract(open: () => Promise<EventLog>): () => Promise<ContractLog<FlockEvent>> {
  return async () => {
    const log = await open();
    return {
      append: (items) => log.append(items),
      read: async (from, max) => (await log.read(from, max)).map((e) => ({ seq: e.seq, item: e.event })),
      tail: (from, options) => map(log.tail(from, options), (batch) => batch.map((e) => ({ seq: e.seq, item: e.event }))),
      lastSeq: () => log.lastSeq(),
      position: (name) => log.position(name),
      commit: (name, seq) => log.commit(name, seq),
      close: () => log.close(),
    };
  };
}

async function* map<A, B>(source: AsyncIterable<A>, f: (a: A) => B): AsyncIterable<B> {
  for await (const a of source) yield f(a);
}

export const storedRecord = (r: LogRecord) => ({ key: r.key, data: Buffer.from(r.data).toString('hex') });

