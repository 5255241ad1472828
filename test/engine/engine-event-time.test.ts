/**
 * Event-time mode (`--clock event`): the watermark follows only the log's event time, so the changes
 * are a function of the log's order — the same whether the batches come fast, slow, split in other
 * places, with idle ticks in between, or all at once — and the last instant stays open.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Engine, type EngineOptions } from '../../engine/engine.ts';
import { DirectResolver } from '../../engine/identity/resolver.ts';
import type { EventLog } from '../../engine/log/event-log.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../engine/log/open-event-log.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import type { Change } from '../../engine/runtime/change.ts';
import { generateEvents } from '../../bench/workload/generator.ts';
import { Random } from '../../bench/workload/random.ts';
import { mixedDefinitions } from '../support/engine-defs.ts';
import { changesOf } from '../support/change-log.ts';
import { slowLog } from '../support/slow-log.ts';

const DAY = 86_400_000;
const END = Date.parse('2026-06-01T00:00:00Z');
// received "just now": in wall-clock mode these batches would be evaluated live, at the wall clock
const RECEIVED = Date.now();
const EVENTS = [...generateEvents({ seed: 9, events: 1500, profiles: 40, spanMs: 3 * DAY, end: END - DAY })].map((e) => ({ ...e, receivedAt: RECEIVED }));
const LAST_TS = Math.max(...EVENTS.map((e) => e.timestamp));
const { plan } = compilePlan(mixedDefinitions());
const plans = new Map([['spa_bench', plan]]);

const canonical = (cs: readonly Change[]) => cs.map((c) => JSON.stringify(c)).sort();

/** Opens an engine in `dir` over `eventLog`, runs `body`, closes; returns its change log and final watermark. */
async function withEngine(dir: string, eventLog: EventLog, options: Partial<EngineOptions>, body: (engine: Engine) => Promise<void>): Promise<{ changes: Change[]; watermark: number }> {
  const store = CheckpointStore.open(join(dir, 'engine'));
  const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
  let watermark: number;
  try {
    const engine = await Engine.open({ eventLog, changeLog, store, plans, resolver: new DirectResolver(), ...options });
    await body(engine);
    watermark = engine.runtime.watermark;
  } finally {
    await store.close();
    await changeLog.close();
  }
  return { changes: await changesOf(dir), watermark };
}

test('event time: the same changes with batches fast, slow, split anywhere, ticks in between; the last instant stays open', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-event-time-'));
  try {
    const eventLog = await openEventLog({ dataDir: join(dir, 'log') });
    await eventLog.append(EVENTS);
    const last = await eventLog.lastSeq();

    // all at once, a tick, a checkpoint
    const once = await withEngine(join(dir, 'once'), eventLog, { time: 'event' }, async (engine) => {
      engine.process(await eventLog.read(1, last));
      engine.tick();
      await engine.checkpoint();
    });
    assert.ok(once.changes.filter((c) => c.kind === 'enter').length > 20, 'the workload has enters');
    assert.ok(once.changes.filter((c) => c.kind === 'exit').length > 5, 'the workload has time-driven exits');
    assert.ok(once.changes.every((c) => c.at < LAST_TS), 'the last instant is still open');
    assert.is(once.watermark, LAST_TS, 'the watermark stayed at the last event');

    // random splits, a tick and a checkpoint after each batch
    const random = new Random(4);
    const split = await withEngine(join(dir, 'split'), eventLog, { time: 'event' }, async (engine) => {
      while (engine.position < last) {
        engine.process(await eventLog.read(engine.position + 1, random.int(1, 300)));
        engine.tick();
        if (random.chance(0.5)) await engine.checkpoint();
      }
      await engine.checkpoint();
    });
    assert.equal(canonical(split.changes), canonical(once.changes));

    // the run loop on the wall clock over a slow log, with idle ticks between batches
    const loop = await withEngine(join(dir, 'loop'), slowLog(eventLog, 30, 250), { time: 'event', tickMs: 10, checkpointMs: 5 }, async (engine) => {
      const controller = new AbortController();
      const running = engine.run(controller.signal);
      while (engine.position < last) await sleep(10);
      await sleep(100);
      controller.abort();
      await running;
    });
    assert.equal(canonical(loop.changes), canonical(once.changes));
    assert.is(loop.watermark, LAST_TS);

    // (the contrast: on the wall clock the same log is evaluated live, at other instants)
    const wall = await withEngine(join(dir, 'wall'), eventLog, { time: 'wall' }, async (engine) => {
      engine.process(await eventLog.read(1, last));
      engine.tick();
      await engine.checkpoint();
    });
    assert.not.equal(canonical(wall.changes), canonical(once.changes));
    await eventLog.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an idle log: the position of events that changed nothing is committed (readiness and lag see it)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-event-time-'));
  try {
    const eventLog = await openEventLog({ dataDir: join(dir, 'log') });
    // events no definition reads: no change, so no checkpoint is due for changes
    await eventLog.append(EVENTS.slice(0, 50).map((e) => ({ ...e, type: 'track' as const, event: 'Nothing Read' })));
    const last = await eventLog.lastSeq();
    for (const time of ['event', 'wall'] as const) {
      let position = 0;
      await withEngine(join(dir, time), eventLog, { time, tickMs: 10, checkpointMs: 5 }, async (engine) => {
        const controller = new AbortController();
        const running = engine.run(controller.signal);
        for (let i = 0; i < 100 && engine.stats.position < last; i++) await sleep(10);
        position = engine.stats.position;
        controller.abort();
        await running;
      });
      assert.is(position, last, `${time}: the position was committed while idle`);
    }
    await eventLog.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
