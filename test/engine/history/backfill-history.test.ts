/**
 * History after a backfill: audiences and a computed trait created with historical data over an
 * ingested event set have their whole past in the history — members, values and sizes as of any
 * past instant equal the oracle's — also after an edit, whose new version replaces the old one's
 * history; announced changes carry their cause.
 */
import { openEngineWithLifecycle } from '../../../engine/lifecycle/open-engine.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefinitionRegistry } from '../../../engine/definitions/registry.ts';
import { DirectResolver } from '../../../engine/identity/resolver.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../../engine/log/open-event-log.ts';
import { outputOf } from '../../../engine/history/history-store.ts';
import { explainProfile, historyVersion } from '../../../engine/history/history-reader.ts';
import type { DefinitionInput } from '../../../engine/plan/plan.ts';
import type { Change } from '../../../engine/runtime/change.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import { generateEvents } from '../../../bench/workload/generator.ts';
import { Random } from '../../../bench/workload/random.ts';
import { oracleAt, type HistoryEntry } from '../../oracle/oracle.ts';
import { catchUp } from '../../support/catch-up.ts';
import { eventWith } from '../../../engine/event/model.ts';
import { changesOn } from '../../support/change-log.ts';

const DAY = 86_400_000;
const END = Date.parse('2026-04-01T00:00:00Z');
const CLOCK = END + 2 * DAY;
const SPACE = 'spa_bench';
const EVENTS = [...generateEvents({ seed: 21, events: 1500, profiles: 40, spanMs: 25 * DAY, end: END, identifyShare: 0.05 })];

const DEFINITIONS = [
  { kind: 'audience', key: 'buyers_7d', query: "event('Order Completed').within(7 days).count() >= 1" },
  { kind: 'audience', key: 'browsers_not_buyers', query: "event('Product Viewed').within(3 days).count() >= 4 AND NOT event('Order Completed').within(7 days).count() >= 1" },
  { kind: 'audience', key: 'lapsed', query: "event('Logged In').between(2 days, 5 days).count() >= 1 AND event('Logged In').within(2 days).count() = 0" },
  { kind: 'trait', key: 'revenue_30d', query: "event('Order Completed').within(30 days).sum(property('total'))" },
  { kind: 'audience', key: 'big_spender', query: "trait('revenue_30d') > 400 AND trait('plan') != 'free'" },
] as const;

/** The oracle's view of the log as the backfill replayed it: in event-time order (timestamp, then log position), each event known from max(ts, watermark then). */
function oracleHistory(): HistoryEntry[] {
  let w = Number.NEGATIVE_INFINITY;
  const ordered = EVENTS.map((event, seq) => ({ event, seq })).sort((a, b) => a.event.timestamp - b.event.timestamp || a.seq - b.seq);
  return ordered.map(({ event }, seq) => {
    w = Math.max(w, Math.min(event.timestamp, CLOCK));
    return { event, profileId: `user_id:${event.userId}`, arrival: Math.max(event.timestamp, w), seq };
  });
}

/** Compares every definition version's history with the oracle at `instants`. */
function checkAgainstOracle(store: CheckpointStore, inputs: readonly DefinitionInput[], instants: readonly number[]): number {
  const history = oracleHistory();
  const profiles = [...new Set(history.map((h) => h.profileId))].sort();
  let compared = 0;
  for (const t of instants) {
    const expected = oracleAt(inputs, history, t);
    for (const d of inputs) {
      const members: string[] = [];
      for (const p of profiles) {
        const raw = expected.get(p)?.get(d.key);
        const want = d.kind === 'audience' ? raw === true : raw;
        const entry = store.history.entryAt(SPACE, d.id, d.version, p, t);
        const got = entry === undefined ? (d.kind === 'audience' ? false : undefined) : d.kind === 'audience' ? outputOf(entry) === true : outputOf(entry);
        assert.equal(got, want, `${d.key} v${d.version} of ${p} at ${new Date(t).toISOString()}`);
        if (want !== undefined && want !== false) members.push(p);
        compared++;
      }
      assert.equal(
        store.history.membersAt(SPACE, d.id, d.version, t, { limit: 1000 }).members.map((m) => m.profileId),
        members,
        `members of ${d.key} v${d.version} at ${new Date(t).toISOString()}`,
      );
    }
  }
  return compared;
}

/**
 * An engine over the log of EVENTS (applied, no definitions yet), with a registry and a lifecycle at
 * a virtual clock. `live`: the events were all received just now (the engine applies them as late
 * events, at its clock); otherwise each when it happened (replayed in event time).
 */
async function setup(live = false) {
  const dir = mkdtempSync(join(tmpdir(), 'flock-backfill-history-'));
  const time = { now: CLOCK };
  const eventLog = await openEventLog({ dataDir: dir });
  await eventLog.append(live ? EVENTS.map((e) => ({ ...e, receivedAt: CLOCK })) : EVENTS);
  const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
  const store = CheckpointStore.open(join(dir, 'engine'));
  const registry = DefinitionRegistry.open(join(dir, 'registry'), { clock: () => time.now });
  const resolver = new DirectResolver();
  const { engine, lifecycle } = await openEngineWithLifecycle({ eventLog, changeLog, store, plans: new Map(), resolver, clock: () => time.now }, { registry, clock: () => time.now, stepEvents: 400 });
  await catchUp(engine, eventLog);
  return {
    time,
    store,
    eventLog,
    registry,
    changes: async () => (await changesOn(changeLog)),
    /** reconciles, runs every backfill to its switch, ticks and checkpoints. */
    finish: async () => {
      await lifecycle.reconcile();
      for (let i = 0; i < 100 && lifecycle.backfills > 0; i++) await lifecycle.step();
      assert.is(lifecycle.backfills, 0);
      engine.tick();
      await engine.checkpoint();
      await engine.checkpoint();
    },
    create: async (d: (typeof DEFINITIONS)[number]) =>
      registry.create({ space: SPACE, kind: d.kind, key: d.key, name: d.key, definition: { query: d.query, type: 'USERS' }, options: { includeHistoricalData: true } }),
    close: async () => {
      await store.close();
      await changeLog.close();
      await eventLog.close();
      await registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function instantsOf(changes: readonly Change[], seed: number): number[] {
  const r = new Random(seed);
  const first = Math.min(...EVENTS.map((e) => e.timestamp));
  const instants = Array.from({ length: 25 }, () => r.int(first - DAY, CLOCK));
  for (let i = 0; i < 10 && changes.length > 0; i++) {
    const c = r.pick(changes);
    instants.push(c.at, c.at - 1);
  }
  return instants;
}

test('after a backfill the members as of any past instant equal the oracle’s; an edit’s new version replaces the history', async () => {
  const f = await setup();
  try {
    const created = [];
    for (const d of DEFINITIONS) created.push(await f.create(d));
    await f.finish();
    const store = f.store;
    const inputs = f.registry.planInputs().get(SPACE)!;
    assert.is(inputs.length, DEFINITIONS.length);
    const changes = await f.changes();
    const instants = instantsOf(changes, 5);
    const first = Math.min(...EVENTS.map((e) => e.timestamp));
    assert.ok(checkAgainstOracle(store, inputs, instants) > 5000);
    // the history holds the past (exits included), the change log only the current members' enters
    const buyers = created[0]!.id;
    assert.ok(store.history.sizeSeries(SPACE, buyers, 1, { from: first, to: CLOCK, step: 'day' }).some((p) => p.count > 0));
    assert.ok(changes.filter((c) => c.definitionId === buyers).every((c) => c.kind === 'enter'));
    // announced changes carry the cause the history has for them
    for (const c of changes) {
      const entry = store.history.entryAt(SPACE, c.definitionId, c.version, c.profileId, c.at);
      assert.equal(c.cause, entry?.cause, `cause of ${c.id}`);
      assert.is(entry?.at, c.at);
    }
    assert.ok(changes.some((c) => c.cause?.type === 'event'));

    // An edit: version 2 is backfilled, its history covers the same past; version 1's goes.
    f.time.now += 3_600_000;
    await f.registry.update(SPACE, buyers, { query: "event('Order Completed').within(3 days).count() >= 1" });
    await f.finish();
    const v2 = f.registry.planInputs().get(SPACE)!.find((d) => d.id === buyers)!;
    assert.is(v2.version, 2);
    assert.equal(store.history.versions(SPACE).filter((v) => v.definitionId === buyers).map((v) => v.version), [2]);
    assert.is(store.history.entries(SPACE, buyers, 1, changes.find((c) => c.definitionId === buyers)!.profileId).length, 0, 'version 1 compacted');
    checkAgainstOracle(store, [v2], instants);
    const switched = (await f.changes()).filter((c) => c.version === 2);
    assert.ok(switched.length > 0 && switched.every((c) => c.cause?.type === 'version' && c.cause.from === 1), 'the switch’s difference is caused by the version');
  } finally {
    await f.close();
  }
});

test('a definition enabled again is recomputed: its history is replaced, not doubled', async () => {
  const f = await setup();
  try {
    const d = await f.create(DEFINITIONS[0]);
    await f.finish();
    const sizes = () => f.store.history.sizeSeries(SPACE, d.id, 1, { from: CLOCK - 30 * DAY, to: CLOCK, step: 'hour' });
    const before = sizes();
    f.time.now += 3_600_000;
    await f.registry.update(SPACE, d.id, { enabled: false });
    await f.finish();
    f.time.now += 3_600_000;
    await f.registry.update(SPACE, d.id, { enabled: true });
    await f.finish();
    assert.equal(sizes(), before);
    const inputs = f.registry.planInputs().get(SPACE)!;
    checkAgainstOracle(f.store, inputs, instantsOf(await f.changes(), 8));
  } finally {
    await f.close();
  }
});

test('explanations of a backfilled version agree with its history, also when the engine applied the events late', async () => {
  const f = await setup(true);
  try {
    for (const d of DEFINITIONS) await f.create(d);
    await f.finish();
    const r = new Random(3);
    const profiles = [...new Set(EVENTS.map((e) => `user_id:${e.userId}`))];
    const first = Math.min(...EVENTS.map((e) => e.timestamp));
    const enters = (await f.changes()).filter((c) => c.kind === 'enter');
    let members = 0;
    for (let i = 0; i < 60; i++) {
      // half at random, half just after a member entered
      const entered = i % 2 === 0 ? undefined : r.pick(enters);
      const record = entered === undefined ? f.registry.byKey(SPACE, r.pick(DEFINITIONS).key)! : f.registry.get(SPACE, entered.definitionId)!;
      const info = historyVersion(f.registry, record)!;
      const profileId = entered?.profileId ?? r.pick(profiles);
      const t = entered === undefined ? r.int(first, CLOCK) : entered.at + r.int(0, 3_600_000);
      const { explanation, recorded } = await explainProfile(f.store, f.eventLog, SPACE, info.inputs!, profileId, t);
      const want = recorded === undefined ? (record.kind === 'audience' ? false : undefined) : record.kind === 'audience' ? outputOf(recorded) === true : outputOf(recorded);
      assert.equal(record.kind === 'audience' ? explanation.value === true : explanation.value, want, `${record.key} of ${profileId} at ${new Date(t).toISOString()}`);
      assert.is(explanation.known, EVENTS.some((e) => `user_id:${e.userId}` === profileId && e.timestamp <= t), 'the profile existed in event time');
      assert.is(explanation.lastChange?.at, recorded?.at);
      if (want === true) members++;
    }
    assert.ok(members > 10, `${members} members among the explanations`);
  } finally {
    await f.close();
  }
});

test('the README in order (walkthrough today, then November events that arrive after it): the backfill gives the full event-time timeline', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-readme-sequence-'));
  const today = Date.parse('2026-12-07T10:00:00Z');
  const time = { now: today };
  const eventLog = await openEventLog({ dataDir: dir });
  const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
  const store = CheckpointStore.open(join(dir, 'engine'));
  const registry = DefinitionRegistry.open(join(dir, 'registry'), { clock: () => time.now });
  try {
    const { engine, lifecycle } = await openEngineWithLifecycle({ eventLog, changeLog, store, plans: new Map(), resolver: new DirectResolver(), clock: () => time.now }, { registry, clock: () => time.now, stepEvents: 2 });
    const finish = async () => {
      await lifecycle.reconcile();
      for (let i = 0; i < 100 && lifecycle.backfills > 0; i++) await lifecycle.step();
      assert.is(lifecycle.backfills, 0);
      engine.tick();
      await engine.checkpoint();
    };
    let n = 0;
    const send = async (events: ReadonlyArray<{ event: string; properties: Record<string, unknown>; at: number }>) => {
      await eventLog.append(events.map((e) => eventWith({ space: 'spa_default', type: 'track', userId: 'alice', messageId: `m${++n}`, event: e.event, properties: e.properties, timestamp: e.at, receivedAt: time.now })));
      await catchUp(engine, eventLog);
    };
    // the walkthrough: its definitions, alice's view and order (one batch, received now)
    await registry.create({ space: 'spa_default', kind: 'audience', key: 'shoe_viewers', name: 'shoe_viewers', definition: { query: "event('Product Viewed').where(property('category') = 'shoes').within(7 days).count() >= 1", type: 'USERS' }, options: { includeHistoricalData: true } });
    await finish();
    await send([
      { event: 'Product Viewed', properties: { category: 'shoes' }, at: today },
      { event: 'Order Completed', properties: { total: 42.5 }, at: today },
    ]);
    // the membership-history section: November's events arrive after today's, then the audience
    time.now += 60_000;
    await send([
      { event: 'Product Viewed', properties: { category: 'shoes' }, at: Date.parse('2026-11-10T10:00:00Z') },
      { event: 'Product Viewed', properties: { category: 'shoes' }, at: Date.parse('2026-11-20T09:00:00Z') },
      { event: 'Order Completed', properties: { total: 42.5 }, at: Date.parse('2026-11-21T12:00:00Z') },
    ]);
    time.now += 60_000;
    const fans = await registry.create({
      space: 'spa_default',
      kind: 'audience',
      key: 'shoe_fans',
      name: 'Shoe fans',
      definition: { query: "event('Product Viewed').where(property('category') = 'shoes').within(7 days).count() >= 1 AND NOT event('Order Completed').within(7 days).count() >= 1", type: 'USERS' },
      options: { includeHistoricalData: true },
    });
    await finish();
    const timeline = store.history.entries('spa_default', fans.id, 1, 'user_id:alice').map((e) => `${e.kind} ${new Date(e.at).toISOString()} ${e.cause?.type}`);
    assert.equal(timeline, [
      'enter 2026-11-10T10:00:00.000Z event',
      'exit 2026-11-17T10:00:00.000Z time',
      'enter 2026-11-20T09:00:00.000Z event',
      'exit 2026-11-21T12:00:00.000Z event',
    ]);
    const record = registry.get('spa_default', fans.id)!;
    const info = historyVersion(registry, record)!;
    const { explanation, recorded } = await explainProfile(store, eventLog, 'spa_default', info.inputs!, 'user_id:alice', Date.parse('2026-11-21T12:00:00Z'));
    assert.is(explanation.known, true, 'alice had events by then');
    assert.is(explanation.value, false);
    assert.is(recorded?.kind, 'exit');
    assert.is(explanation.lastChange?.at, Date.parse('2026-11-21T12:00:00Z'));
  } finally {
    await store.close();
    await changeLog.close();
    await eventLog.close();
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
