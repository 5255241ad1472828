/**
 * A full disk (less free space than the reserve) on both sides: ingest answers 503 `storage_full`
 * with Retry-After and stores nothing; the engine pauses (stats, metric, one notice) with its
 * checkpoint refused before anything is written, and both go on by themselves once space returns —
 * every accepted event applied once, every change published once, the stores readable and whole.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMetrics } from '../../api/ops/metrics.ts';
import { Engine, type PauseReason } from '../../engine/engine.ts';
import { DirectResolver } from '../../engine/identity/resolver.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../engine/log/open-event-log.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import type { Change } from '../../engine/runtime/change.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import { StorageFullError, storageGuard } from '../../engine/store/storage-guard.ts';
import { audience, cmp, count, event, seconds, within } from '../support/ast.ts';
import { ingestApp } from '../support/ingest-app.ts';
import { changesOn } from '../support/change-log.ts';

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('the reserve is measured on the real filesystem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-guard-'));
  try {
    storageGuard(dir, { minFreeBytes: 1 })();
    assert.throws(() => storageGuard(dir, { minFreeBytes: Number.MAX_SAFE_INTEGER })(), (e: unknown) => e instanceof StorageFullError && e.path === dir);
    storageGuard(dir, { minFreeBytes: 0 })(); // (off)
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('disk full: ingest 503 storage_full, the engine pauses; both resume when space returns, nothing lost or doubled', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-disk-full-'));
  // the filesystem's free space as the guard sees it: the test fills and frees the disk
  const disk = { free: 1e12 };
  const storage = { minFreeBytes: 1e6, freeBytes: () => disk.free };
  const eventLog = await openEventLog({ dataDir: dir, storage });
  const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG, storage });
  const store = CheckpointStore.open(join(dir, 'engine'), { storage });
  const { plan } = compilePlan([audience('recent_viewers', cmp(count(event('Product Viewed', within(seconds(3)))), 'at_least', 1))]);
  const t = ingestApp({ eventLog });
  // one clock for ingest and the engine: the wall clock, which the test can move ahead
  let ahead = 0;
  Object.defineProperty(t.clock, 'now', { get: () => Date.now() + ahead });
  const pauses: Array<PauseReason | null> = [];
  const engine = await Engine.open({
    eventLog,
    changeLog,
    store,
    plans: new Map([['spa_test', plan]]),
    resolver: new DirectResolver(),
    clock: () => t.clock.now,
    tickMs: 20,
    checkpointMs: 10,
    backoff: { baseMs: 5, maxMs: 40 },
    onPause: (reason) => pauses.push(reason),
  });
  const metrics = createMetrics({ engineStats: () => engine.stats });
  const metric = async (name: string) => (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith(`${name} `));
  const controller = new AbortController();
  const running = engine.run(controller.signal);
  const changes = async (): Promise<Change[]> => (await changesOn(changeLog));
  const views = (users: readonly string[]) => ({ batch: users.map((userId) => ({ type: 'track', userId, event: 'Product Viewed', messageId: `view-${userId}`, timestamp: new Date(t.clock.now).toISOString() })) });
  try {
    assert.is((await t.post('/v1/batch', views(['a1', 'a2', 'a3']))).status, 200);
    await until('the enters', async () => ((await changes()).length === 3 ? true : undefined));

    disk.free = 1e5; // below the reserve
    const refused = await t.post('/v1/batch', views(['b1', 'b2']));
    assert.is(refused.status, 503);
    assert.is(refused.headers.get('retry-after'), '10');
    assert.is(((await refused.json()) as { error: { code: string } }).error.code, 'storage_full');
    assert.is(await eventLog.lastSeq(), 3, 'nothing of the refused request stored');

    // the window exits fall due: the engine's checkpoint is refused and it waits
    ahead = 5_000;
    await until('the engine to pause', () => (engine.stats.paused === 'disk_full' && engine.stats.retries.disk_full >= 3 ? true : undefined));
    assert.equal(pauses, ['disk_full'], 'one notice however many retries');
    assert.is(await metric('flock_engine_paused{reason="disk_full"}'), 'flock_engine_paused{reason="disk_full"} 1');
    assert.is(await metric('flock_log_reachable'), 'flock_log_reachable 1');
    assert.is((await changes()).length, 3, 'no exit published before its checkpoint is committed');
    assert.is(store.meta().position, 3);

    disk.free = 1e12; // space returns
    await until('the exits', async () => ((await changes()).length === 6 ? true : undefined));
    assert.is(engine.stats.paused, null);
    assert.equal(pauses, ['disk_full', null]);
    assert.is(await metric('flock_engine_paused{reason="disk_full"}'), 'flock_engine_paused{reason="disk_full"} 0');
    // the client retries its refused request
    assert.is((await t.post('/v1/batch', views(['b1', 'b2']))).status, 200);
    await until('the second enters', async () => ((await changes()).length === 8 ? true : undefined));
  } finally {
    controller.abort();
    await running;
  }
  const all = await changes();
  const ids = all.map((c) => c.id);
  assert.is(new Set(ids).size, ids.length, 'every change once');
  assert.equal(all.map((c) => `${c.profileId} ${c.kind}`).sort(), ['user_id:a1 enter', 'user_id:a1 exit', 'user_id:a2 enter', 'user_id:a2 exit', 'user_id:a3 enter', 'user_id:a3 exit', 'user_id:b1 enter', 'user_id:b2 enter']);
  assert.is(engine.stats.eventsIn, 5, 'every accepted event applied once');
  const logged = await eventLog.read(1, 100);
  assert.equal(logged.map((e) => e.event.messageId), ['view-a1', 'view-a2', 'view-a3', 'view-b1', 'view-b2']);
  await store.close();
  await changeLog.close();
  await eventLog.close();
  // the stores reopen whole: the checkpoint at the last event, nothing left to publish
  const reopened = CheckpointStore.open(join(dir, 'engine'));
  try {
    assert.is(reopened.meta().position, 5);
    assert.equal(reopened.unpublished(), []);
  } finally {
    await reopened.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
