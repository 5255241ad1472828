/**
 * `npm run bench:kernels`: each kernel's cost per event in isolation (tinybench), so a change to one
 * kernel is measured before and after on its own: the window aggregate per reducer, the funnel
 * instance store, the timer structure, change encoding and profile state encoding. Every task handles
 * a block of `BLOCK` events per call on state that persists across calls (a steady window, not an
 * empty one); the table reports nanoseconds per event.
 */
import { Bench } from 'tinybench';
import { pack, unpack } from 'msgpackr';
import { decodeChangeRecord, encodeChangeRecords } from '../engine/engine.ts';
import type { FlockEvent } from '../engine/event/model.ts';
import { compilePlan } from '../engine/plan/compile.ts';
import type { AggregateNode } from '../engine/plan/plan.ts';
import { causeOf, causeTag, changeId, type Change } from '../engine/runtime/change.ts';
import { profileFromPlain, profileToPlain } from '../engine/runtime/profile-state.ts';
import { Runtime } from '../engine/runtime/runtime.ts';
import { advance, aggregateValue, createAggregate, insert, reducerInput, touch, IGNORED, type AggregateState } from '../operators/kernels/window-aggregate.ts';
import { compactInstances, createInstances, insertInstance, nextInstanceChange, type InstanceState } from '../operators/kernels/instance-store.ts';
import { TimerHeap } from '../operators/kernels/timer-heap.ts';
import { writeResults, type ResultRow } from './results.ts';
import { compileQueryDefinitions, type QueryDefinition } from './workload/definitions.ts';
import { Random } from './workload/random.ts';

const BLOCK = 1000;
const TIME_MS = Number(process.env.FLOCK_BENCH_KERNEL_MS ?? 400);
/** where the section is written (tests point it at a temporary file). */
const RESULTS = process.env.FLOCK_BENCH_RESULTS;
const STEP = 10_000; // an event every 10 s of event time: a 1-hour window holds ~360 items
const T0 = Date.parse('2026-06-01T00:00:00Z');

/** One aggregate node per reducer, compiled from the query language as the engine compiles it. */
const REDUCERS: ReadonlyArray<readonly [string, string]> = [
  ['count', "event('Order Completed').within(1 hour).count()"],
  ['sum', "event('Order Completed').within(1 hour).sum(property('total'))"],
  ['avg', "event('Order Completed').within(1 hour).avg(property('total'))"],
  ['min', "event('Order Completed').within(1 hour).min(property('total'))"],
  ['max', "event('Order Completed').within(1 hour).max(property('total'))"],
  ['first', "event('Order Completed').within(1 hour).first(property('category'))"],
  ['last', "event('Order Completed').within(1 hour).last(property('category'))"],
  ['mode', "event('Order Completed').within(1 hour).mode(property('category'), 2)"],
  ['unique', "event('Order Completed').within(1 hour).unique(property('category'))"],
  ['sum, all time', "event('Order Completed').sum(property('total'))"],
  ['count, session', "event('Order Completed').expires_after(30 minutes).count()"],
];
const FUNNEL = "event('Checkout Started').where(event('Order Completed').within(parent: 1 hour).count() >= 1).within(1 day).count() >= 1";
const CATEGORIES = ['shoes', 'shirts', 'pants', 'hats', 'bags', 'watches', 'books', 'games'];

function nodeOf(query: string, kind: 'audience' | 'trait'): AggregateNode {
  const defs: QueryDefinition[] = [{ key: 'k', kind, query }];
  const { plan, failures } = compilePlan(compileQueryDefinitions(defs));
  if (failures.size > 0) throw new Error([...failures.values()].map((f) => f.message).join('; '));
  return plan.aggregates[0]!;
}

function order(random: Random, ts: number, n: number): FlockEvent {
  return {
    space: 'spa_bench',
    type: 'track',
    messageId: `m${n}`,
    timestamp: ts,
    receivedAt: ts,
    userId: `u${n % 1000}`,
    anonymousId: null,
    event: 'Order Completed',
    properties: { total: random.int(1, 500), category: CATEGORIES[random.int(0, CATEGORIES.length - 1)]! },
    traits: null,
    context: null,
    groupId: null,
    previousId: null,
    sourceId: null,
    integrations: null,
  } as unknown as FlockEvent;
}

/** The runtime's per-event work on one aggregate: insert at the event's instant, then read its value. */
function aggregateTask(node: AggregateNode): () => void {
  const random = new Random(1);
  const events = Array.from({ length: BLOCK }, (_, i) => order(random, 0, i));
  const st: AggregateState = createAggregate(node.spec, T0);
  let ts = T0;
  return () => {
    for (let i = 0; i < BLOCK; i++) {
      ts += STEP;
      const e = events[i]!;
      touch(st, ts);
      const x = reducerInput(node.spec, node.value === null ? null : node.value(e, {}), node.asArray);
      if (x !== IGNORED) insert(node.spec, st, ts, x, ts);
      else advance(node.spec, st, ts);
      aggregateValue(node.spec, st);
    }
  };
}

/** A funnel node: parent and child instances inserted, compacted, and the next change looked up. */
function instanceTask(): () => void {
  const node = nodeOf(FUNNEL, 'audience');
  const program = node.program!;
  const store = program.store;
  const st: InstanceState = createInstances(store, T0);
  let ts = T0;
  return () => {
    for (let i = 0; i < BLOCK; i++) {
      ts += STEP;
      insertInstance(store, st, i % 2, ts, [], ts);
      compactInstances(store, st, ts);
      nextInstanceChange(store, st);
    }
  };
}

/** The runtime's timers: a push per flip scheduled, a pop per timer fired. */
function timerTask(): () => void {
  const heap = new TimerHeap<number, string>();
  const random = new Random(2);
  const times = Array.from({ length: BLOCK }, () => random.int(0, 86_400_000));
  for (let i = 0; i < 10_000; i++) heap.push(random.int(0, 86_400_000), i, 'fp');
  return () => {
    for (let i = 0; i < BLOCK; i++) heap.push(times[i]!, i, 'fp');
    for (let i = 0; i < BLOCK; i++) heap.pop();
  };
}

function sampleChanges(n: number): Change[] {
  const out: Change[] = [];
  for (let i = 0; i < n; i++) {
    const cause = causeOf(`m${i}`);
    const at = T0 + i;
    const profileId = `use_${(i * 7919) % 100_000}`;
    out.push(
      i % 2 === 0
        ? { id: changeId('aud_big_spenders', 1, profileId, at, 'e', causeTag(cause)), space: 'spa_bench', collection: 'users', definitionId: 'aud_big_spenders', version: 1, profileId, at, cause, kind: 'enter', audienceKey: 'big_spenders' }
        : { id: changeId('tra_revenue', 1, profileId, at, 't', causeTag(cause)), space: 'spa_bench', collection: 'users', definitionId: 'tra_revenue', version: 1, profileId, at, cause, kind: 'trait', traitKey: 'revenue', value: i, previous: i - 1 },
    );
  }
  return out;
}

/** A profile's state as the engine checkpoints it (a few windows and traits), from a real runtime. */
function sampleProfile(): unknown {
  const defs = compileQueryDefinitions(REDUCERS.slice(0, 6).map(([key, query]) => ({ key: key.replace(/\W+/g, '_'), kind: 'trait' as const, query })));
  const { plan } = compilePlan(defs);
  const rt = new Runtime({ plans: new Map([['spa_bench', plan]]), onChange: () => {} });
  const random = new Random(3);
  let ts = T0;
  for (let i = 0; i < 200; i++) rt.replay([{ event: order(random, (ts += STEP), i), profileId: 'use_1' }]);
  rt.close();
  return profileToPlain(rt.profile('spa_bench', 'use_1')!);
}

async function main(): Promise<void> {
  const started = performance.now();
  const bench = new Bench({ time: TIME_MS, warmup: true });
  for (const [name, query] of REDUCERS) bench.add(`window aggregate: ${name}`, aggregateTask(nodeOf(query, 'trait')));
  bench.add('instance store: funnel insert + compact + next change', instanceTask());
  bench.add('timer heap: push + pop (10k timers queued)', timerTask());
  const changes = sampleChanges(BLOCK);
  bench.add('change encoding: encode (JSON records)', () => void encodeChangeRecords(changes, 16));
  const records = encodeChangeRecords(changes, 16);
  bench.add('change encoding: decode', () => {
    for (const r of records) decodeChangeRecord(r.data);
  });
  const plain = sampleProfile();
  const packed = pack(plain);
  // (per call: one profile; reported per profile below)
  bench.add('state encoding: profile → msgpack', () => void pack(plain));
  bench.add('state encoding: msgpack → profile', () => void profileFromPlain(unpack(packed)));
  await bench.run();

  const rows: ResultRow[] = [];
  for (const task of bench.tasks) {
    const r = task.result;
    if (r === undefined || !('latency' in r)) throw new Error(`${task.name}: no result`);
    const perProfile = task.name.startsWith('state encoding');
    const ns = (r.latency.mean * 1e6) / (perProfile ? 1 : BLOCK);
    const unit = perProfile ? 'ns per profile' : 'ns per event';
    rows.push({ measurement: task.name, value: `${ns.toFixed(0)} ${unit}`, note: `±${r.latency.rme.toFixed(1)} %, ${r.latency.samplesCount} samples` });
    console.log(`${task.name.padEnd(56)} ${ns.toFixed(0).padStart(8)} ${unit}`);
  }
  console.log(`(profile record: ${packed.length} B; change record: ${(records.reduce((n, r) => n + r.data.length, 0) / BLOCK).toFixed(0)} B per change)`);
  writeResults('kernels', 'Kernels in isolation (`npm run bench:kernels`)', rows, {
    command: 'npm run bench:kernels',
    seconds: (performance.now() - started) / 1000,
    ...(RESULTS === undefined ? {} : { file: RESULTS }),
    details: [
      `tinybench, ${TIME_MS} ms per task; blocks of ${BLOCK} events, one every ${STEP / 1000} s of event time (a 1-hour window holds ~${3_600_000 / STEP} items).`,
      `Profile record of 6 windowed traits after 200 events: ${packed.length} B; a change on the change log: ${(records.reduce((n, r) => n + r.data.length, 0) / BLOCK).toFixed(0)} B (JSON).`,
    ],
  });
}

await main();
