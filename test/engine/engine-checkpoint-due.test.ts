/**
 * When the engine checkpoints: live, anything a reader cannot see yet (an event that flips nothing
 * included) within `checkpointMs`; an idle engine's watermark on every tick (what the APIs answer up
 * to, the stats); while catching up, only large checkpoints; and a stop applies what the log holds.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../engine/engine.ts';
import { DirectResolver } from '../../engine/identity/resolver.ts';
import type { EventLog, LoggedEvent } from '../../engine/log/event-log.ts';
import type { AppendLog } from '../../engine/log/append-log.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../engine/log/open-event-log.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import { agg, audience, cmp, computedTrait, count, event, prop, within, days } from '../support/ast.ts';
import { identify, track } from '../support/events.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const { plan } = compilePlan([
  audience('buyers', cmp(count(event('Order Completed', within(days(7)))), 'at_least', 1)),
  computedTrait('spend', agg(event('Order Completed', within(days(7))), { kind: 'sum', of: prop('total') })),
]);
const plans = new Map([['spa_test', plan]]);

interface Setup {
  readonly dir: string;
  readonly eventLog: EventLog;
  readonly changeLog: AppendLog;
  readonly store: CheckpointStore;
  close(): Promise<void>;
}

async function setup(): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'flock-due-'));
  const eventLog = await openEventLog({ dataDir: dir });
  const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
  const store = CheckpointStore.open(join(dir, 'engine'));
  return {
    dir,
    eventLog,
    changeLog,
    store,
    async close() {
      await store.close();
      await changeLog.close();
      await eventLog.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function appendAndRead(log: EventLog, events: Parameters<EventLog['append']>[0]): Promise<LoggedEvent[]> {
  const from = (await log.lastSeq()) + 1;
  await log.append(events);
  return log.read(from, events.length);
}

test('live: an identify that flips nothing is due within checkpointMs; its profile is then stored', async () => {
  const s = await setup();
  try {
    const clock = { now: NOW };
    const engine = await Engine.open({ ...s, plans, resolver: new DirectResolver(), clock: () => clock.now, checkpointMs: 50, tickMs: 60_000 });
    engine.process(await appendAndRead(s.eventLog, [track('u1', 'Order Completed', NOW, { total: 5 })]));
    assert.ok(engine.checkpointDue(), 'the first checkpoint (changes, and a watermark past the stored one)');
    await engine.checkpoint();
    clock.now += 1000;
    engine.process(await appendAndRead(s.eventLog, [identify('u2', clock.now, { plan: 'pro' })]));
    assert.is(engine.checkpointDue(), false, 'not before checkpointMs');
    clock.now += 50;
    assert.ok(engine.checkpointDue(), 'due checkpointMs after the event, though it changed nothing');
    await engine.checkpoint();
    assert.equal(s.store.loadProfile('spa_test', 'user_id:u2')?.traits, { plan: 'pro' });
    assert.is(s.store.meta().position, 2);
    assert.is(engine.stats.position, 2);
  } finally {
    await s.close();
  }
});

test('idle ticks move the checkpointed watermark and the stats with the clock', async () => {
  const s = await setup();
  try {
    const clock = { now: NOW };
    const engine = await Engine.open({ ...s, plans, resolver: new DirectResolver(), clock: () => clock.now, checkpointMs: 50, tickMs: 1000 });
    engine.process(await appendAndRead(s.eventLog, [track('u1', 'Order Completed', NOW, { total: 5 })]));
    await engine.checkpoint();
    for (let i = 1; i <= 5; i++) {
      clock.now += 1000;
      engine.tick();
      assert.ok(engine.checkpointDue(), `tick ${i}: due`);
      await engine.checkpoint();
      assert.is(s.store.meta().watermark, clock.now, 'what the APIs answer up to');
      assert.is(engine.stats.watermark, clock.now, 'the watermark lag metric');
      assert.is(engine.stats.position, 1);
    }
    // a tick that moves the clock by little (a timer) waits for the next
    clock.now += 10;
    engine.tick();
    assert.is(engine.checkpointDue(), false);
  } finally {
    await s.close();
  }
});

test('catching up: neither events that flip nothing nor the moving watermark make a checkpoint due before catchUpCheckpointEvents', async () => {
  const s = await setup();
  try {
    const clock = { now: NOW };
    const engine = await Engine.open({ ...s, plans, resolver: new DirectResolver(), clock: () => clock.now, checkpointMs: 50, tickMs: 1000, catchUpCheckpointEvents: 100 });
    const old = Array.from({ length: 99 }, (_, i) => identify(`u${i}`, NOW - 30 * 86_400_000 + i * 60_000, { n: i }));
    engine.process(await appendAndRead(s.eventLog, old));
    clock.now += 10_000;
    assert.is(engine.checkpointDue(), false);
    engine.process(await appendAndRead(s.eventLog, [identify('last', NOW - 86_400_000, { n: 99 })]));
    assert.ok(engine.checkpointDue());
  } finally {
    await s.close();
  }
});

test('a stop applies the events the log holds before its final checkpoint', async () => {
  const s = await setup();
  try {
    // a tail that hands out nothing: the events reach the engine only through the stop
    const eventLog: EventLog = {
      kind: s.eventLog.kind,
      append: (events) => s.eventLog.append(events),
      read: (from, max) => s.eventLog.read(from, max),
      lastSeq: () => s.eventLog.lastSeq(),
      position: (name) => s.eventLog.position(name),
      commit: (name, seq) => s.eventLog.commit(name, seq),
      close: () => s.eventLog.close(),
      async *tail(_from, options) {
        await new Promise((resolve) => options?.signal?.addEventListener('abort', resolve, { once: true }));
      },
    };
    const engine = await Engine.open({ ...s, eventLog, plans, resolver: new DirectResolver(), clock: Date.now, tickMs: 50 });
    const controller = new AbortController();
    const running = engine.run(controller.signal);
    await s.eventLog.append([identify('u1', Date.now(), { plan: 'pro' }), track('u1', 'Order Completed', Date.now(), { total: 7 })]);
    controller.abort();
    await running;
    assert.is(s.store.meta().position, 2);
    assert.equal(s.store.loadProfile('spa_test', 'user_id:u1')?.traits, { plan: 'pro' });
  } finally {
    await s.close();
  }
});

test.run();
