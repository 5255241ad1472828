/** Definition lifecycle: backfill over history to Live, going live without history, an edit switching with only the difference, failures. */
import { openEngineWithLifecycle } from '../../engine/lifecycle/open-engine.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefinitionRegistry } from '../../engine/definitions/registry.ts';
import { DirectResolver } from '../../engine/identity/resolver.ts';
import type { LifecycleOptions } from '../../engine/lifecycle/lifecycle.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../engine/log/open-event-log.ts';
import type { Change } from '../../engine/runtime/change.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import { base, identify, track } from '../support/events.ts';
import { changesOn } from '../support/change-log.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');

/** An engine over a log holding `history`, with a registry and a lifecycle, stepped by hand at a virtual clock; `restart` reopens engine and lifecycle from the checkpoint. */
async function setup(history: ReturnType<typeof track>[], lifecycleOptions: Partial<LifecycleOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'flock-lifecycle-'));
  let clock = T0 + 20 * DAY;
  const eventLog = await openEventLog({ dataDir: dir });
  await eventLog.append(history);
  const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
  const registry = DefinitionRegistry.open(join(dir, 'registry'), { clock: () => clock });
  const resolver = new DirectResolver();
  const open = async () => {
    const store = CheckpointStore.open(join(dir, 'engine'));
    const { engine, lifecycle } = await openEngineWithLifecycle(
      { eventLog, changeLog, store, plans: new Map(), resolver, clock: () => clock },
      { registry, clock: () => clock, stepEvents: 3, ...lifecycleOptions },
    );
    await lifecycle.reconcile();
    return { store, engine, lifecycle };
  };
  let x = await open();
  const drain = async () => {
    for (;;) {
      const batch = await eventLog.read(x.engine.position + 1, 100);
      if (batch.length === 0) break;
      x.engine.process(batch);
    }
    x.engine.tick();
  };
  const changes = async (): Promise<Change[]> => (await changesOn(changeLog));
  const finish = async () => {
    for (let i = 0; i < 100 && x.lifecycle.pending(); i++) await x.lifecycle.step();
    await x.engine.checkpoint();
  };
  return {
    dir,
    get store() {
      return x.store;
    },
    get engine() {
      return x.engine;
    },
    get lifecycle() {
      return x.lifecycle;
    },
    registry,
    eventLog,
    drain,
    changes,
    finish,
    at: (t: number) => (clock = t),
    /** a crash: what was not checkpointed is lost; engine and lifecycle reopen from the store. */
    restart: async () => {
      await x.store.close();
      x = await open();
    },
    close: async () => {
      await x.store.close();
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

test('without historical data: counting only events from its creation on (even with a shared node)', async () => {
  const history = [track('a', 'Order Completed', T0 + 19 * DAY)];
  const f = await setup(history);
  try {
    await f.drain();
    await f.registry.create({ space: 'spa_test', kind: 'audience', key: 'with_history', name: 'H', definition: { query: "event('Order Completed').within(7 days).count() >= 1", type: 'USERS' }, options: { includeHistoricalData: true } });
    const fresh = await f.registry.create({ space: 'spa_test', kind: 'audience', key: 'from_now', name: 'N', definition: { query: "event('Order Completed').within(7 days).count() >= 1", type: 'USERS' }, options: { includeHistoricalData: false } });
    await f.lifecycle.reconcile();
    await f.finish();
    assert.is(f.registry.get('spa_test', fresh.id)!.status, 'Live');
    f.at(T0 + 21 * DAY);
    await f.eventLog.append([track('b', 'Order Completed', T0 + 21 * DAY)]);
    await f.drain();
    await f.engine.checkpoint();
    assert.equal(summary(await f.changes()).sort(), ['user_id:a enter with_history v1 @19d', 'user_id:b enter from_now v1 @21d', 'user_id:b enter with_history v1 @21d']);
  } finally {
    await f.close();
  }
});

test('definitions created together share one pass over the log; each goes Live with what it computes alone; one deleted meanwhile leaves the pass', async () => {
  const history = [
    track('a', 'Order Completed', T0 + 15 * DAY, { total: 50 }),
    track('b', 'Order Completed', T0 + 2 * DAY, { total: 500 }),
    track('c', 'Order Completed', T0 + 19 * DAY, { total: 150 }),
    track('c', 'Order Completed', T0 + 19.5 * DAY, { total: 10 }),
  ];
  const queries = {
    buyers_7d: "event('Order Completed').within(7 days).count() >= 1",
    big_30d: "event('Order Completed').where(property('total') > 100).within(30 days).count() >= 1",
    spend: "event('Order Completed').sum(property('total'))",
    // reads another definition of the same pass
    big_spenders: "trait('spend') > 100",
    gone: "event('Order Completed').count() >= 2",
  } as const;
  const create = (f: Awaited<ReturnType<typeof setup>>, key: keyof typeof queries) =>
    f.registry.create({ space: 'spa_test', kind: key === 'spend' ? 'trait' : 'audience', key, name: key, definition: { query: queries[key], type: 'USERS' }, options: { includeHistoricalData: true } });
  // each alone: its own pass
  const alone = await setup(history);
  const together = await setup(history);
  try {
    await alone.drain();
    for (const key of ['buyers_7d', 'big_30d', 'spend', 'big_spenders'] as const) {
      await create(alone, key);
      await alone.lifecycle.reconcile();
      assert.is(alone.lifecycle.passes, 1);
      await alone.finish();
    }
    await together.drain();
    const ids = new Map<string, string>();
    for (const key of Object.keys(queries) as Array<keyof typeof queries>) ids.set(key, (await create(together, key)).id);
    await together.lifecycle.reconcile();
    assert.is(together.lifecycle.passes, 1, 'one pass for all');
    assert.is(together.lifecycle.backfills, 5);
    await together.lifecycle.step();
    await together.registry.remove('spa_test', ids.get('gone')!);
    await together.lifecycle.reconcile();
    assert.is(together.lifecycle.backfills, 4);
    await together.finish();
    for (const key of ['buyers_7d', 'big_30d', 'spend', 'big_spenders']) assert.is(together.registry.get('spa_test', ids.get(key)!)!.status, 'Live', key);
    assert.is(together.lifecycle.passes, 0);
    const byKey = (cs: Change[]) => summary(cs).filter((l) => !l.includes(' gone ')).sort();
    assert.equal(byKey(await together.changes()), byKey(await alone.changes()));
    assert.ok(!summary(await together.changes()).some((l) => l.includes(' gone ')), 'the deleted one never went out');
  } finally {
    await alone.close();
    await together.close();
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

const members = (f: { store: CheckpointStore }, id: string) => f.store.outputs('spa_test', id).map((r) => r.profileId);
const BUYERS = "event('Order Completed').within(30 days).count() >= 1";

test('without historical data, trait data is still included: a profile whose trait matches enters at once; its old events do not count', async () => {
  const history = [identify('t', T0 + DAY, { plan: 'pro' }), track('t', 'Order Completed', T0 + 2 * DAY), identify('u', T0 + DAY, { plan: 'free' })];
  const f = await setup(history);
  try {
    await f.drain();
    const pro = await f.registry.create({ space: 'spa_test', kind: 'audience', key: 'pro', name: 'P', definition: { query: "trait('plan') = 'pro'", type: 'USERS' }, options: { includeHistoricalData: false } });
    const buyers = await f.registry.create({ space: 'spa_test', kind: 'audience', key: 'pro_buyers', name: 'B', definition: { query: `trait('plan') = 'pro' AND event('Order Completed').count() >= 1`, type: 'USERS' }, options: { includeHistoricalData: false } });
    await f.lifecycle.reconcile();
    await f.finish();
    assert.equal(members(f, pro.id), ['user_id:t']);
    assert.equal(members(f, buyers.id), []);
    f.at(T0 + 21 * DAY);
    await f.eventLog.append([track('t', 'Order Completed', T0 + 21 * DAY)]);
    await f.drain();
    await f.engine.checkpoint();
    assert.equal(members(f, buyers.id), ['user_id:t']);
  } finally {
    await f.close();
  }
});

test('disabled: nothing computed or emitted, its members frozen; enabled again it is recomputed and only the difference goes out', async () => {
  const f = await setup([track('a', 'Order Completed', T0 + 18 * DAY)]);
  try {
    await f.drain();
    const created = await f.registry.create({ space: 'spa_test', kind: 'audience', key: 'buyers', name: 'B', definition: { query: BUYERS, type: 'USERS' }, options: { includeHistoricalData: true } });
    await f.lifecycle.reconcile();
    await f.finish();
    await f.registry.update('spa_test', created.id, { enabled: false });
    f.lifecycle.requestReconcile();
    await f.finish();
    assert.is(f.registry.get('spa_test', created.id)!.status, 'Disabled');
    f.at(T0 + 21 * DAY);
    await f.eventLog.append([track('b', 'Order Completed', T0 + 21 * DAY)]);
    await f.drain();
    f.at(T0 + 50 * DAY); // a's order is 32 days old: no exit while disabled
    await f.drain();
    await f.finish();
    assert.equal(summary(await f.changes()), ['user_id:a enter buyers v1 @18d']);
    assert.equal(members(f, created.id), ['user_id:a'], 'frozen');
    f.at(T0 + 51 * DAY);
    await f.registry.update('spa_test', created.id, { enabled: true });
    f.lifecycle.requestReconcile();
    await f.drain();
    await f.finish();
    assert.is(f.registry.get('spa_test', created.id)!.status, 'Live');
    assert.equal(summary(await f.changes()), ['user_id:a enter buyers v1 @18d', 'user_id:a exit buyers v1 @51d']);
    assert.equal(members(f, created.id), []);
  } finally {
    await f.close();
  }
});

test('BATCH: changes are held and published at each run as the difference since the last one', async () => {
  const f = await setup([track('a', 'Order Completed', T0 + 18 * DAY)]);
  try {
    await f.drain();
    const created = await f.registry.create({
      space: 'spa_test',
      kind: 'audience',
      key: 'buyers',
      name: 'B',
      definition: { query: BUYERS, type: 'USERS' },
      options: { includeHistoricalData: true },
      computeCadence: { type: 'BATCH', interval: '1h' },
    });
    await f.lifecycle.reconcile();
    await f.finish();
    assert.equal(summary(await f.changes()), ['user_id:a enter buyers v1 @18d'], 'the first computation is published');
    const MIN = 60_000;
    // b enters and c enters then leaves between runs: only b is published, at the run
    f.at(T0 + 20 * DAY + 10 * MIN);
    await f.eventLog.append([track('b', 'Order Completed', T0 + 20 * DAY + 10 * MIN), track('c', 'Order Completed', T0 + 20 * DAY + 16 * MIN - 30 * DAY)]);
    await f.drain();
    f.at(T0 + 20 * DAY + 20 * MIN);
    await f.drain();
    await f.finish();
    assert.equal(members(f, created.id), ['user_id:a'], 'not before the run');
    await f.restart(); // held changes survive a restart
    f.at(T0 + 20 * DAY + 61 * MIN);
    await f.drain();
    await f.finish();
    assert.equal(summary(await f.changes()).slice(1), [`user_id:b enter buyers v1 @${(20 * DAY + 61 * MIN) / DAY}d`]);
    assert.equal(members(f, created.id), ['user_id:a', 'user_id:b']);
    // the next run has nothing new
    f.at(T0 + 20 * DAY + 125 * MIN);
    await f.drain();
    await f.finish();
    assert.is((await f.changes()).length, 2);
  } finally {
    await f.close();
  }
});

test('a backfill over more events than it may order in memory fails with a reason (and so does a preview)', async () => {
  const history = Array.from({ length: 8 }, (_, i) => track('a', 'Order Completed', T0 + i * DAY));
  const f = await setup(history, { backfillMaxEvents: 5 });
  try {
    await f.drain();
    const created = await f.registry.create({ space: 'spa_test', kind: 'audience', key: 'buyers', name: 'B', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' }, options: { includeHistoricalData: true } });
    const preview = await f.registry.createPreview({ space: 'spa_test', kind: 'audience', definition: { query: "event('Order Completed').count() >= 2", type: 'USERS' } });
    f.lifecycle.requestReconcile();
    await f.finish();
    const version = f.registry.get('spa_test', created.id)!.versions[0]!;
    assert.is(version.status, 'Failed');
    assert.match(version.failureReason ?? '', /more than 5 events of space spa_test/);
    const p = f.registry.getPreview('spa_test', preview.id)!;
    assert.is(p.status, 'FAILED');
    assert.match(p.failureReason ?? '', /more than 5 events/);
    assert.is(f.lifecycle.backfills, 0);
  } finally {
    await f.close();
  }
});

test('previews: size and a sample; an edit preview gives the difference to the current members; too slow a preview fails with a reason', async () => {
  const history = [track('a', 'Order Completed', T0 + 18 * DAY, { total: 50 }), track('b', 'Order Completed', T0 + 18 * DAY, { total: 150 }), track('c', 'Order Completed', T0 + 18 * DAY, { total: 250 })];
  const f = await setup(history, { previewTimeoutMs: 60_000 });
  try {
    await f.drain();
    const created = await f.registry.create({ space: 'spa_test', kind: 'audience', key: 'spenders', name: 'S', definition: { query: "event('Order Completed').where(property('total') > 10).count() >= 1", type: 'USERS' }, options: { includeHistoricalData: true } });
    f.lifecycle.requestReconcile();
    await f.finish();
    const preview = await f.registry.createPreview({ space: 'spa_test', kind: 'audience', definition: { query: "event('Order Completed').where(property('total') > 100).count() >= 1", type: 'USERS' }, compareTo: created.id });
    f.lifecycle.requestReconcile();
    await f.finish();
    const done = f.registry.getPreview('spa_test', preview.id)!;
    assert.is(done.status, 'COMPLETED');
    assert.is(done.size, 2);
    assert.equal(done.results, [{ profileId: 'user_id:b' }, { profileId: 'user_id:c' }]);
    assert.equal(done.difference, { enter: 0, exit: 1, changed: 0 });
    assert.equal(summary(await f.changes()).length, 3, 'a preview emits nothing');
    // a preview that outlives its time budget
    await f.eventLog.append(Array.from({ length: 6 }, (_, i) => track(`x${i}`, 'Page Viewed', T0 + 19 * DAY)));
    await f.drain();
    const slow = await f.registry.createPreview({ space: 'spa_test', kind: 'audience', definition: { query: "event('Order Completed').count() >= 2", type: 'USERS' } });
    f.lifecycle.requestReconcile();
    await f.lifecycle.step(); // (3 events per step: not done)
    f.at(T0 + 20 * DAY + 61_000);
    await f.finish();
    const failed = f.registry.getPreview('spa_test', slow.id)!;
    assert.is(failed.status, 'FAILED');
    assert.match(failed.failureReason ?? '', /longer than 60 s/);
  } finally {
    await f.close();
  }
});

test('an account audience over historical data: its users\' conditions under ANY are adopted with it, so later events do not undo it', async () => {
  const history = [base({ type: 'group', userId: 'a', groupId: 'acme', timestamp: T0 + DAY }), track('a', 'Order Completed', T0 + 18 * DAY)];
  const f = await setup(history);
  try {
    await f.drain();
    await f.registry.create({ space: 'spa_test', kind: 'audience', key: 'buying_accounts', name: 'A', definition: { query: "ANY event('Order Completed').within(30 days).count() >= 1", type: 'ACCOUNTS' }, options: { includeHistoricalData: true } });
    f.lifecycle.requestReconcile();
    await f.finish();
    f.at(T0 + 21 * DAY);
    await f.eventLog.append([track('a', 'Page Viewed', T0 + 21 * DAY)]);
    await f.drain();
    await f.finish();
    f.at(T0 + 49 * DAY);
    await f.drain();
    await f.finish();
    assert.equal(summary(await f.changes()), ['group_id:acme enter buying_accounts v1 @18d', 'group_id:acme exit buying_accounts v1 @48d']);
    // the backfill's announced enter lists the account's users, as the runtime's exit does
    assert.equal((await f.changes()).map((c) => c.users), [['user_id:a'], ['user_id:a']]);
  } finally {
    await f.close();
  }
});

test('a backfill interrupted by a restart starts over and reaches Live; the old version answered meanwhile', async () => {
  const history = Array.from({ length: 12 }, (_, i) => track(`p${i}`, 'Order Completed', T0 + 18 * DAY, { total: i * 10 }));
  const f = await setup(history);
  try {
    await f.drain();
    const created = await f.registry.create({ space: 'spa_test', kind: 'audience', key: 'spenders', name: 'S', definition: { query: "event('Order Completed').where(property('total') > 50).count() >= 1", type: 'USERS' }, options: { includeHistoricalData: true } });
    f.lifecycle.requestReconcile();
    await f.finish();
    await f.registry.update('spa_test', created.id, { query: "event('Order Completed').where(property('total') > 90).count() >= 1" });
    f.lifecycle.requestReconcile();
    await f.lifecycle.step();
    assert.is(f.registry.get('spa_test', created.id)!.versions[1]!.status, 'Backfilling');
    await f.restart();
    assert.is(f.lifecycle.backfills, 1, 'restarted');
    assert.is(f.registry.get('spa_test', created.id)!.liveVersion, 1);
    await f.finish();
    assert.is(f.registry.get('spa_test', created.id)!.liveVersion, 2);
    assert.equal(members(f, created.id), ['user_id:p10', 'user_id:p11']);
  } finally {
    await f.close();
  }
});

test.run();
