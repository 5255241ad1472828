/** Definition lifecycle: backfill over history to Live, going live without history, an edit switching with only the difference, failures. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefinitionRegistry } from '../../engine/definitions/registry.ts';
import { Engine } from '../../engine/engine.ts';
import { DirectResolver } from '../../engine/identity/resolver.ts';
import { Lifecycle } from '../../engine/lifecycle/lifecycle.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../engine/log/open-event-log.ts';
import type { Change } from '../../engine/runtime/change.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import { decodeChangeRecord } from '../../engine/engine.ts';
import { track } from '../support/events.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');

/** An engine over a log holding `history`, with a registry and a lifecycle, stepped by hand at a virtual clock. */
async function setup(history: ReturnType<typeof track>[]) {
  const dir = mkdtempSync(join(tmpdir(), 'flock-lifecycle-'));
  let clock = T0 + 20 * DAY;
  const eventLog = await openEventLog({ dataDir: dir });
  await eventLog.append(history);
  const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
  const store = CheckpointStore.open(join(dir, 'engine'));
  const registry = DefinitionRegistry.open(join(dir, 'registry'), { clock: () => clock });
  const resolver = new DirectResolver();
  let lifecycle!: Lifecycle;
  const engine = await Engine.open({
    eventLog,
    changeLog,
    store,
    plans: new Map(),
    resolver,
    clock: () => clock,
    background: { step: () => lifecycle.step(), pending: () => lifecycle.backfills > 0 },
  });
  lifecycle = new Lifecycle({ registry, engine, eventLog, resolver, clock: () => clock, stepEvents: 3 });
  const drain = async () => {
    for (;;) {
      const batch = await eventLog.read(engine.position + 1, 100);
      if (batch.length === 0) break;
      engine.process(batch);
    }
    engine.tick();
  };
  const changes = async (): Promise<Change[]> => (await changeLog.read(1, 1e6)).flatMap((e) => decodeChangeRecord(e.data));
  const finish = async () => {
    for (let i = 0; i < 100 && lifecycle.backfills > 0; i++) await lifecycle.step();
    await engine.checkpoint();
  };
  return {
    dir,
    store,
    registry,
    engine,
    lifecycle,
    eventLog,
    drain,
    changes,
    finish,
    at: (t: number) => (clock = t),
    close: async () => {
      await store.close();
      await changeLog.close();
      await eventLog.close();
      await registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const summary = (cs: Change[]) => cs.map((c) => `${c.profileId} ${c.kind === 'trait' ? `${c.traitKey}=${JSON.stringify(c.value)}` : `${c.kind} ${c.audienceKey}`} v${c.version} @${(c.at - T0) / DAY}d`);

test('a new audience over historical data: Backfilling with progress, then Live; its members announced at the instants they entered; then live', async () => {
  const history = [track('a', 'Order Completed', T0 + 15 * DAY), track('b', 'Order Completed', T0 + 2 * DAY), track('c', 'Order Completed', T0 + 19 * DAY)];
  const f = await setup(history);
  try {
    await f.drain();
    const created = await f.registry.create({ space: 'spa_test', kind: 'audience', key: 'buyers_7d', name: 'Buyers', definition: { query: "event('Order Completed').within(7 days).count() >= 1", type: 'USERS' }, options: { includeHistoricalData: true } });
    await f.lifecycle.reconcile();
    assert.is(f.registry.get('spa_test', created.id)!.status, 'Backfilling');
    await f.finish();
    const record = f.registry.get('spa_test', created.id)!;
    assert.is(record.status, 'Live');
    assert.is(record.liveVersion, 1);
    assert.equal(summary(await f.changes()).sort(), ['user_id:a enter buyers_7d v1 @15d', 'user_id:c enter buyers_7d v1 @19d']);
    // live from here on: a exits exactly 7 days after its order, with no new event
    f.at(T0 + 23 * DAY);
    f.engine.tick();
    await f.engine.checkpoint();
    assert.ok(summary(await f.changes()).includes('user_id:a exit buyers_7d v1 @22d'));
  } finally {
    await f.close();
  }
});

test('without historical data: Live at once, counting only events from its creation on (even with a shared node)', async () => {
  const history = [track('a', 'Order Completed', T0 + 19 * DAY)];
  const f = await setup(history);
  try {
    await f.drain();
    await f.registry.create({ space: 'spa_test', kind: 'audience', key: 'with_history', name: 'H', definition: { query: "event('Order Completed').within(7 days).count() >= 1", type: 'USERS' }, options: { includeHistoricalData: true } });
    const fresh = await f.registry.create({ space: 'spa_test', kind: 'audience', key: 'from_now', name: 'N', definition: { query: "event('Order Completed').within(7 days).count() >= 1", type: 'USERS' }, options: { includeHistoricalData: false } });
    await f.lifecycle.reconcile();
    assert.is(f.registry.get('spa_test', fresh.id)!.status, 'Live');
    await f.finish();
    f.at(T0 + 21 * DAY);
    await f.eventLog.append([track('b', 'Order Completed', T0 + 21 * DAY)]);
    await f.drain();
    await f.engine.checkpoint();
    assert.equal(summary(await f.changes()).sort(), ['user_id:a enter with_history v1 @19d', 'user_id:b enter from_now v1 @21d', 'user_id:b enter with_history v1 @21d']);
  } finally {
    await f.close();
  }
});

test('an edit backfills while the old version keeps answering, then switches and emits only the difference', async () => {
  const history = [track('a', 'Order Completed', T0 + 18 * DAY, { total: 50 }), track('b', 'Order Completed', T0 + 18 * DAY, { total: 150 })];
  const f = await setup(history);
  try {
    await f.drain();
    const created = await f.registry.create({ space: 'spa_test', kind: 'audience', key: 'spenders', name: 'S', definition: { query: "event('Order Completed').where(property('total') > 10).within(30 days).count() >= 1", type: 'USERS' }, options: { includeHistoricalData: true } });
    await f.lifecycle.reconcile();
    await f.finish();
    await f.registry.update('spa_test', created.id, { query: "event('Order Completed').where(property('total') > 100).within(30 days).count() >= 1" });
    await f.lifecycle.reconcile();
    assert.is(f.registry.get('spa_test', created.id)!.liveVersion, 1, 'the old version answers during the backfill');
    // an event while the backfill runs: the old version handles it live
    f.at(T0 + 21 * DAY);
    await f.eventLog.append([track('c', 'Order Completed', T0 + 21 * DAY, { total: 20 })]);
    await f.drain();
    await f.finish();
    assert.is(f.registry.get('spa_test', created.id)!.liveVersion, 2);
    const now = 21;
    assert.equal(summary(await f.changes()).sort(), [
      `user_id:a enter spenders v1 @18d`,
      `user_id:a exit spenders v2 @${now}d`,
      `user_id:b enter spenders v1 @18d`,
      `user_id:c enter spenders v1 @${now}d`,
      `user_id:c exit spenders v2 @${now}d`,
    ]);
    // the members as published: b, a member of both versions, is still listed (since it entered under v1)
    assert.equal(
      f.store.outputs('spa_test', created.id).map((r) => `${r.profileId} v${r.version} @${(r.at - T0) / DAY}d`),
      ['user_id:b v1 @18d'],
    );
  } finally {
    await f.close();
  }
});

test('backfillEventDataDays limits the replay', async () => {
  const history = [track('old', 'Page Viewed', T0), track('new', 'Page Viewed', T0 + 18 * DAY)];
  const f = await setup(history);
  try {
    await f.drain();
    await f.registry.create({ space: 'spa_test', kind: 'audience', key: 'viewers', name: 'V', definition: { query: "event('Page Viewed').count() >= 1", type: 'USERS' }, options: { includeHistoricalData: true, backfillEventDataDays: 5 } });
    await f.lifecycle.reconcile();
    await f.finish();
    assert.equal(summary(await f.changes()), ['user_id:new enter viewers v1 @18d']);
  } finally {
    await f.close();
  }
});

test.run();
