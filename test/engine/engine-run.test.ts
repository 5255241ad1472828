/**
 * The run loop while catching up: the watermark follows the log's event time however slowly the
 * batches arrive — a log that is merely slow (JetStream fetches, a busy disk) must not be taken for
 * an idle one and the watermark moved to the wall clock, or every later event would be evaluated
 * late, at "now", and the enters and exits at their true instants would be lost.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Engine } from '../../engine/engine.ts';
import { DirectResolver } from '../../engine/identity/resolver.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../engine/log/open-event-log.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import { generateEvents } from '../../bench/workload/generator.ts';
import { mixedDefinitions } from '../support/engine-defs.ts';
import { canonical, changesOf } from '../support/change-log.ts';
import { slowLog } from '../support/slow-log.ts';
import { bufferedLog } from '../support/buffered-log.ts';

const DAY = 86_400_000;
const END = Date.parse('2026-06-01T00:00:00Z');
const EVENTS = [...generateEvents({ seed: 5, events: 1500, profiles: 40, spanMs: 3 * DAY, end: END - DAY })];
const CLOCK = END + 10 * DAY;
const { plan } = compilePlan(mixedDefinitions());
const plans = new Map([['spa_bench', plan]]);

/** The run loop over a log that hands out a batch every 20 ms, with `background` work if given, against the events applied at once. */
async function slowRunMatchesReference(background?: { step(): Promise<void>; pending(): boolean }): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'flock-run-'));
  try {
    const eventLog = await openEventLog({ dataDir: join(dir, 'log') });
    await eventLog.append(EVENTS);
    const last = await eventLog.lastSeq();

    // Reference: every event applied directly, then the clock.
    {
      const store = CheckpointStore.open(join(dir, 'ref', 'engine'));
      const changeLog = await openAppendLog({ dataDir: join(dir, 'ref'), log: CHANGE_LOG });
      const engine = await Engine.open({ eventLog, changeLog, store, plans, resolver: new DirectResolver(), clock: () => CLOCK });
      engine.process(await eventLog.read(1, last));
      engine.tick();
      await engine.checkpoint();
      await store.close();
      await changeLog.close();
    }
    const reference = await changesOf(join(dir, 'ref'));
    assert.ok(reference.filter((c) => c.kind === 'enter').length > 20, 'the workload has enters');

    // The run loop over a log that hands out a batch every 20 ms: timers of past instants are due all along.
    const store = CheckpointStore.open(join(dir, 'run', 'engine'));
    const changeLog = await openAppendLog({ dataDir: join(dir, 'run'), log: CHANGE_LOG });
    const engine = await Engine.open({ eventLog: slowLog(eventLog, 20), changeLog, store, plans, resolver: new DirectResolver(), clock: () => CLOCK, tickMs: 200, ...(background === undefined ? {} : { background }) });
    const controller = new AbortController();
    const running = engine.run(controller.signal);
    while (engine.position < last) await sleep(10);
    await sleep(500); // idle: the catch-up ends with a tick to the wall clock
    controller.abort();
    await running;
    await store.close();
    await changeLog.close();
    await eventLog.close();
    assert.equal(canonical(await changesOf(join(dir, 'run'))), canonical(reference));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a slow log while catching up: the same changes as the events applied in one go', () => slowRunMatchesReference());

// A fresh engine with a backfill pending does not wait between loop turns: before the first batch
// arrives it must not take the log for idle and move the watermark to the wall clock.
test('a slow first batch while a background job keeps the loop busy: the same changes', () =>
  slowRunMatchesReference({ pending: () => true, step: () => sleep(1) }));

test('the catch-up ends when the log is idle, also while a background job (a backfill) keeps the loop busy', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-run-'));
  try {
    const eventLog = await openEventLog({ dataDir: join(dir, 'log') });
    await eventLog.append(EVENTS);
    const last = await eventLog.lastSeq();
    const store = CheckpointStore.open(join(dir, 'engine'));
    const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
    let steps = 0;
    const background = { pending: () => true, step: async () => void (steps++, await sleep(5)) };
    const engine = await Engine.open({ eventLog, changeLog, store, plans, resolver: new DirectResolver(), clock: () => CLOCK, tickMs: 200, background });
    const controller = new AbortController();
    const running = engine.run(controller.signal);
    while (engine.position < last) await sleep(10);
    await sleep(300);
    const watermark = engine.runtime.watermark;
    controller.abort();
    await running;
    await store.close();
    await changeLog.close();
    await eventLog.close();
    assert.ok(steps > 0, 'the background job ran');
    assert.is(watermark, CLOCK, 'the watermark reached the wall clock');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('batches a tail hands over at once are applied with a turn of the event loop between them (what shares the loop, a lease renewal, runs)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-run-'));
  try {
    const eventLog = await openEventLog({ dataDir: join(dir, 'log') });
    await eventLog.append(EVENTS);
    const last = await eventLog.lastSeq();
    const store = CheckpointStore.open(join(dir, 'engine'));
    const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
    // at the first batch, a callback for the next turn of the loop: where had the engine got to then?
    let atTurn: number | undefined;
    let asked = false;
    const probe = (point: string) => {
      if (point !== 'applied' || asked) return;
      asked = true;
      setImmediate(() => (atTurn = engine.position));
    };
    const engine = await Engine.open({ eventLog: bufferedLog(eventLog, 100), changeLog, store, plans, resolver: new DirectResolver(), clock: () => CLOCK, probe });
    const controller = new AbortController();
    const running = engine.run(controller.signal);
    while (engine.position < last) await sleep(10);
    controller.abort();
    await running;
    await store.close();
    await changeLog.close();
    await eventLog.close();
    assert.ok(atTurn !== undefined && atTurn < 300, `the loop turned at position ${atTurn} of ${last}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
