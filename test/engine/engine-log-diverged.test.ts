/**
 * A restart on an event log that does not hold what the checkpoint applied (nats-server lost data, the
 * stream was recreated, another data dir's log): the engine pauses with `log_diverged` instead of going
 * on from its position (which would skip or misplace events) and writes nothing; on its own log it
 * goes on as usual.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Engine, LogDivergedError, type PauseReason } from '../../engine/engine.ts';
import type { FlockEvent } from '../../engine/event/model.ts';
import { DirectResolver } from '../../engine/identity/resolver.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../engine/log/open-event-log.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import { track } from '../support/events.ts';
import { defineQuery } from '../support/runtime-harness.ts';

const T = Date.parse('2026-03-01T00:00:00Z');
const { plan } = compilePlan([defineQuery('orders', "event('Order Completed').count()", 'trait')]);
const plans = new Map([['spa_test', plan]]);
const orders = (prefix: string, n: number): FlockEvent[] => Array.from({ length: n }, (_, i) => track(`u${i % 3}`, 'Order Completed', T + i * 1000, {}, { messageId: `${prefix}${i}` }));

/** Applies `first` from log `a` and checkpoints; then runs an engine on that store over log `b` (holding `second`) for a while. */
async function restartOn(second: (dir: string) => Promise<string>): Promise<{ pauses: Array<[PauseReason | null, unknown]>; before: number; after: number; paused: PauseReason | null }> {
  const dir = mkdtempSync(join(tmpdir(), 'flock-diverged-'));
  try {
    const a = await openEventLog({ dataDir: join(dir, 'a') });
    await a.append(orders('m', 20));
    const store = CheckpointStore.open(join(dir, 'engine'));
    const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
    const first = await Engine.open({ eventLog: a, changeLog, store, plans, resolver: new DirectResolver(), clock: () => T + 60_000 });
    first.process(await a.read(1, 100));
    await first.checkpoint();
    await a.close();
    const before = store.meta().position;
    const b = await openEventLog({ dataDir: join(dir, await second(dir)) });
    const pauses: Array<[PauseReason | null, unknown]> = [];
    const engine = await Engine.open({ eventLog: b, changeLog, store, plans, resolver: new DirectResolver(), clock: () => T + 60_000, tickMs: 20, onPause: (reason, error) => pauses.push([reason, error]) });
    const controller = new AbortController();
    const running = engine.run(controller.signal);
    await sleep(300);
    const paused = engine.stats.paused;
    controller.abort();
    await running;
    const after = store.meta().position;
    await b.close();
    await store.close();
    await changeLog.close();
    return { pauses, before, after, paused };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a log that ends before the checkpoint position (it lost events): paused, nothing written', async () => {
  const r = await restartOn(async (dir) => {
    const b = await openEventLog({ dataDir: join(dir, 'b') });
    await b.append(orders('m', 5));
    await b.close();
    return 'b';
  });
  assert.is(r.before, 20);
  assert.is(r.paused, 'log_diverged');
  assert.is(r.pauses.length, 1);
  assert.ok(r.pauses[0]![1] instanceof LogDivergedError);
  assert.match((r.pauses[0]![1] as Error).message, 'ends at 5, before position 20');
  assert.is(r.after, 20);
});

test('another log of the same length or longer (a recreated stream): paused, nothing written', async () => {
  const r = await restartOn(async (dir) => {
    const b = await openEventLog({ dataDir: join(dir, 'b') });
    await b.append(orders('other', 30));
    await b.close();
    return 'b';
  });
  assert.is(r.paused, 'log_diverged');
  assert.match((r.pauses[0]![1] as Error).message, 'not spa_test/m19');
  assert.is(r.after, 20);
});

test('its own log with more events: goes on', async () => {
  const r = await restartOn(async (dir) => {
    const a = await openEventLog({ dataDir: join(dir, 'a') });
    await a.append(orders('m', 30)); // the first 20 again (deduplicated), then 10 more
    await a.close();
    return 'a';
  });
  assert.is(r.paused, null);
  assert.equal(r.pauses, []);
  assert.is(r.after, 30);
});

test.run();
