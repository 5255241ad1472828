/**
 * Profile views (engine/store/profile-views.ts): through a random workload on the engine — identity
 * merges, a version switch, a disabled definition, BATCH runs, a restart — every stored profile's view
 * equals its core, its identity record and its `published` row of every definition, and no other
 * profile has one; the Profile API reads the same profile from the view as from those records; a
 * store written before views existed gets them at its next writable open.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { generateEvents } from '../../../bench/workload/generator.ts';
import { DefinitionRegistry } from '../../../engine/definitions/registry.ts';
import { IdentityGraph } from '../../../engine/identity/identity-graph.ts';
import { openEngineWithLifecycle } from '../../../engine/lifecycle/open-engine.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../../engine/log/open-event-log.ts';
import { ProfileReader } from '../../../engine/profiles/profile-reader.ts';
import type { StoreHandle } from '../../../engine/profiles/store-handle.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import { VIEWS_META_KEY } from '../../../engine/store/profile-views.ts';
import { changesOn } from '../../support/change-log.ts';
import { assertProfileViews } from '../../support/profile-views.ts';

const SPACE = 'spa_bench';
const DAY = 86_400_000;
const MIN = 60_000;
const END = Date.parse('2026-06-01T00:00:00Z');

/** Engine + lifecycle + identity graph over an embedded log, stepped by hand at a virtual clock. */
async function setup(dir: string) {
  let clock = END;
  const eventLog = await openEventLog({ dataDir: dir });
  const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
  const registry = DefinitionRegistry.open(join(dir, 'registry'), { clock: () => clock });
  const start = async () => {
    const store = CheckpointStore.open(join(dir, 'engine'));
    const { engine, lifecycle } = await openEngineWithLifecycle(
      { eventLog, changeLog, store, plans: new Map(), resolver: new IdentityGraph({ source: store }), clock: () => clock },
      { registry, clock: () => clock, stepEvents: 500 },
    );
    await lifecycle.reconcile();
    return { store, engine, lifecycle };
  };
  let x = await start();
  return {
    registry,
    get store() {
      return x.store;
    },
    at: (t: number) => (clock = t),
    append: (seed: number, events: number, end: number) => eventLog.append([...generateEvents({ seed, events, profiles: 60, spanMs: 2 * DAY, end, identifyShare: 0.1, identity: { sharedDeviceShare: 0.02 } })]),
    /** applies the log, runs what the lifecycle has to do, checkpoints. */
    settle: async () => {
      for (;;) {
        const batch = await eventLog.read(x.engine.position + 1, 500);
        if (batch.length === 0) break;
        x.engine.process(batch);
      }
      x.engine.tick();
      await x.lifecycle.reconcile();
      for (let i = 0; i < 200 && x.lifecycle.pending(); i++) await x.lifecycle.step();
      await x.engine.checkpoint();
    },
    changes: () => changesOn(changeLog),
    restart: async () => {
      await x.engine.checkpoint();
      await x.store.close();
      x = await start();
    },
    /** engine and lifecycle again on a store closed meanwhile. */
    reopen: async () => {
      x = await start();
    },
    close: async () => {
      await x.store.close();
      await changeLog.close();
      await eventLog.close();
      await registry.close();
    },
  };
}

const bind = (target: object, v: unknown): unknown => (typeof v === 'function' ? v.bind(target) : v);

/** A store handle that hides the views: the reader's former path (core + one published read per definition). */
function withoutViews(store: CheckpointStore): StoreHandle {
  const hidden = new Proxy(store, { get: (target, p) => (p === 'hasProfileViews' ? () => false : p === 'profileView' ? () => assert.unreachable('the view was read') : bind(target, Reflect.get(target, p, target))) });
  return { get: () => hidden as CheckpointStore, close: async () => {} };
}

test('through merges, a version switch, a disabled definition, BATCH runs and a restart, every view equals the records it serves', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-views-'));
  const f = await setup(dir);
  try {
    await f.append(1, 1500, END - DAY);
    await f.settle();
    const create = async (kind: 'audience' | 'trait', key: string, query: string, batch = false) =>
      (
        await f.registry.create({
          space: SPACE,
          kind,
          key,
          name: key,
          definition: { query, type: 'USERS' },
          options: { includeHistoricalData: true },
          ...(batch ? { computeCadence: { type: 'BATCH' as const, interval: '1h' } } : {}),
        })
      ).id;
    const viewers = await create('audience', 'viewers', "event('Product Viewed').within(1 days).count() >= 2");
    const revenue = await create('trait', 'revenue', "event('Order Completed').within(7 days).sum(property('total'))");
    const buyers = await create('audience', 'buyers', "event('Order Completed').within(7 days).count() >= 1", true);
    const pro = await create('audience', 'pro', "trait('plan') = 'pro'");
    const all = [viewers, revenue, buyers, pro];
    await f.settle();
    let profiles = assertProfileViews(SPACE, f.store, all, 'after the backfills');
    assert.ok(profiles > 20, `only ${profiles} profiles`);

    // live events, merges among them
    f.at(END + 10 * MIN);
    await f.append(2, 800, END + 10 * MIN);
    await f.settle();
    assertProfileViews(SPACE, f.store, all, 'live');

    // a version switch: the view carries the new version's rows
    await f.registry.update(SPACE, viewers, { query: "event('Product Viewed').within(1 days).count() >= 1" });
    await f.settle();
    assert.is(f.registry.get(SPACE, viewers)!.liveVersion, 2);
    assertProfileViews(SPACE, f.store, all, 'after the version switch');
    assert.ok(f.store.outputs(SPACE, viewers, { limit: 1000 }).some((r) => r.version === 2), 'some row published by version 2');

    // disabled: frozen rows; BATCH: held until its run
    await f.registry.update(SPACE, revenue, { enabled: false });
    f.at(END + 30 * MIN);
    await f.append(3, 800, END + 30 * MIN);
    await f.settle();
    assertProfileViews(SPACE, f.store, all, 'disabled, BATCH held');
    f.at(END + 2 * 60 * MIN);
    await f.settle();
    assertProfileViews(SPACE, f.store, all, 'after a BATCH run');
    f.at(END + 3 * DAY);
    await f.settle();
    assertProfileViews(SPACE, f.store, all, 'time passed');

    const changes = await f.changes();
    assert.ok(changes.some((c) => c.cause?.type === 'merge'), 'the workload merged profiles');
    assert.ok(f.store.outputCount(SPACE, buyers) > 0, 'the BATCH audience has members');

    await f.restart();
    profiles = assertProfileViews(SPACE, f.store, all, 'after a restart');

    // the Profile API reads the same profile from the view as from the core and the published rows
    const reader = new ProfileReader({ get: () => f.store, close: async () => {} }, f.registry);
    const former = new ProfileReader(withoutViews(f.store), f.registry);
    for (const id of f.store.profileIds(SPACE)) assert.equal(reader.read(SPACE, id), former.read(SPACE, id), id);
    assert.is(reader.read(SPACE, 'use_nobody'), undefined);
  } finally {
    await f.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a store written before views existed: a read-only handle reads the former way, the next writable open builds every view once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-views-old-'));
  const f = await setup(dir);
  try {
    const audience = (await f.registry.create({ space: SPACE, kind: 'audience', key: 'viewers', name: 'v', definition: { query: "event('Product Viewed').count() >= 1", type: 'USERS' } })).id;
    const trait = (await f.registry.create({ space: SPACE, kind: 'trait', key: 'orders', name: 'o', definition: { query: "event('Order Completed').count()", type: 'USERS' } })).id;
    await f.append(4, 1200, END);
    await f.settle();
    const path = f.store.path;
    const ids = [...f.store.profileIds(SPACE)];
    const reader = (store: CheckpointStore) => new ProfileReader({ get: () => store, close: async () => {} }, f.registry);
    const expected = new Map(ids.map((id) => [id, reader(f.store).read(SPACE, id)]));
    const views = new Map(ids.map((id) => [id, f.store.profileView(SPACE, id)]));
    await f.store.close();

    // as an older build left it: no profile_views, no record of them
    const env = open({ path, maxDbs: 64 });
    await env.openDB({ name: 'profile_views' }).drop();
    await env.openDB({ name: 'meta', encoding: 'msgpack' }).remove(VIEWS_META_KEY);
    await env.close();

    const readOnly = CheckpointStore.open(path, { readOnly: true });
    assert.is(readOnly.hasProfileViews(), false);
    for (const id of ids) assert.equal(reader(readOnly).read(SPACE, id), expected.get(id), `read-only, former way: ${id}`);
    await readOnly.close();

    const writable = CheckpointStore.open(path);
    assert.ok(writable.hasProfileViews());
    assertProfileViews(SPACE, writable, [audience, trait], 'backfilled');
    for (const id of ids) assert.equal(writable.profileView(SPACE, id), views.get(id), `backfilled view of ${id}`);
    await writable.close();
    const again = CheckpointStore.open(path, { readOnly: true });
    assert.ok(again.hasProfileViews());
    for (const id of ids) assert.equal(reader(again).read(SPACE, id), expected.get(id), `read-only, from the view: ${id}`);
    await again.close();
    await f.reopen(); // the engine on the migrated store goes on
    await f.append(5, 300, END + MIN);
    f.at(END + MIN);
    await f.settle();
    assertProfileViews(SPACE, f.store, [audience, trait], 'reopened, then live');
  } finally {
    await f.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
