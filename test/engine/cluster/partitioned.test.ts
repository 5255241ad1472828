/**
 * Scale-out's first test (DESIGN §6): 16 resolved partitions over 1, 2 and 3 workers give the same
 * changes — ids, values, instants — as one process over the same raw log, on a workload with
 * identity journeys (anonymous devices that sign in: merges, many of them across partitions, whose
 * absorbed state moves between workers through the log), window exits, funnels and references, and
 * accounts whose users are spread over the partitions (group calls that link a user and merge its
 * devices at once): account audiences and traits — ANY / ALL / ALL NOT, aggregates over the users —
 * computed where the account is, over shadows of its users. Two small logs pin cases the workload
 * reaches only by chance: users of one account at one instant, one of them copied mid-instant; and
 * an account the identity graph does not know (a blocked group id), which the runtime keeps.
 * The identity stage, the workers and the one process run their real loops against a private
 * nats-server, each with its own store and change log, as separate processes would.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../../engine/engine.ts';
import { IdentityGraph } from '../../../engine/identity/identity-graph.ts';
import { DirectResolver } from '../../../engine/identity/resolver.ts';
import type { EventLog } from '../../../engine/log/event-log.ts';
import { CHANGE_LOG, openAppendLog, openEventLog, type LogLocation } from '../../../engine/log/open-event-log.ts';
import { compilePlan } from '../../../engine/plan/compile.ts';
import type { Plan } from '../../../engine/plan/plan.ts';
import { profileIdFor } from '../../../engine/identity/profile-id.ts';
import { accountProfileId } from '../../../engine/runtime/profile-state.ts';
import { eventWith } from '../../../engine/event/model.ts';
import type { Change } from '../../../engine/runtime/change.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import { IdentityStage, type IdentityStageStats } from '../../../engine/cluster/identity-stage.ts';
import { ResolvedSource } from '../../../engine/cluster/resolved-source.ts';
import { resolvedPartition } from '../../../engine/cluster/resolved-records.ts';
import { generateEvents } from '../../../bench/workload/generator.ts';
import type { FlockEvent } from '../../../engine/event/model.ts';
import { compileQueryDefinitions } from '../../../bench/workload/definitions.ts';
import { accountDefinitions, mixedDefinitions } from '../../support/engine-defs.ts';
import { canonical, changesOf } from '../../support/change-log.ts';
import { natsServerAvailable, startNatsServer, type NatsServer } from '../../support/nats-server.ts';
import { oneProcessChanges } from '../../support/one-process.ts';
import { until } from '../../support/until.ts';

const DAY = 86_400_000;
const END = Date.parse('2026-06-01T00:00:00Z');
const PARTITIONS = 16;
const EVENTS = withActivityAtGroupCalls(generateEvents({ seed: 21, events: 4000, profiles: 120, spanMs: 3 * DAY, end: END, identifyShare: 0.08, identity: { maxDevices: 3 }, accounts: { count: 10, groupShare: 0.04 } }));
const { plan } = compilePlan([...mixedDefinitions(), ...accountDefinitions()]);
const plans = new Map([['spa_bench', plan]]);

/**
 * Right before two of three group calls, a page view of the same user: at the same instant (a user
 * that links to an account while the instant is open is copied with the work it has pending, and
 * the account's partition evaluates that instant as one process does), or a millisecond earlier
 * (the copy is taken at the group call's instant, after the page view's has been evaluated).
 */
function withActivityAtGroupCalls(events: Iterable<FlockEvent>): FlockEvent[] {
  const out: FlockEvent[] = [];
  let groups = 0;
  for (const e of events) {
    const n = e.type === 'group' ? groups++ % 3 : 2;
    if (n < 2) {
      const ts = e.timestamp - n;
      out.push({ ...e, type: 'page', event: 'Page Viewed', messageId: `${e.messageId}_pv`, groupId: null, traits: null, properties: { page_name: 'Pricing' }, timestamp: ts, receivedAt: ts });
    }
    out.push(e);
  }
  return out;
}

const resolvedLocation = (run: string): LogLocation => ({ name: `resolved-${run}`, stream: `FLOCK_RESOLVED_${run.toUpperCase()}`, subjectPrefix: `flock.resolved_${run}` });

/** Runs `engine` (or stage) loops until `done()`, then stops them (each checkpoints as it stops). */
async function runUntil(loops: ReadonlyArray<(signal: AbortSignal) => Promise<void>>, done: () => Promise<boolean>): Promise<void> {
  const stop = new AbortController();
  const running = loops.map((loop) => loop(stop.signal));
  let failure: unknown;
  for (const r of running) r.catch((error) => (failure ??= error));
  try {
    await until('the loops to catch up', async () => (failure !== undefined || (await done()) ? true : undefined), 120_000, 50);
  } finally {
    stop.abort();
    await Promise.allSettled(running);
  }
  if (failure !== undefined) throw failure;
}

/** The log's first `through` events only (what a stage saw before it lost its store). */
function firstPart(log: EventLog, through: number): EventLog {
  return {
    ...log,
    kind: log.kind,
    read: async (from, max) => (await log.read(from, Math.max(0, Math.min(max, through - from + 1)))).filter((e) => e.seq <= through),
    lastSeq: async () => Math.min(through, await log.lastSeq()),
    async *tail(from, options) {
      for await (const batch of log.tail(from, options)) {
        const part = batch.filter((e) => e.seq <= through);
        if (part.length > 0) yield part;
      }
    },
  };
}

/**
 * The identity stage and `workers` workers (partitions dealt round-robin): every worker's changes.
 * `restartEvery`: each worker stops (its last checkpoint) and starts again from its store every that
 * many positions, checkpointing every 50 events meanwhile.
 */
async function partitioned(
  root: string,
  nats: NatsServer,
  events: EventLog,
  workers: number,
  options: { republish?: boolean; plans?: ReadonlyMap<string, Plan>; restartEvery?: number } = {},
): Promise<{ changes: Change[]; handovers: number; records: number; stage: IdentityStageStats; restarts: number }> {
  const run = `k${workers}${options.republish === true ? 'r' : ''}${options.restartEvery === undefined ? '' : 's'}`;
  const location = resolvedLocation(run);
  // (republish: a 1 s duplicate window, so a second stage's copies of every record are kept)
  const stageLog = await openAppendLog({ dataDir: root, natsUrl: nats.url, log: location, ...(options.republish === true ? { stream: { duplicateWindowMs: 1000 } } : {}) });
  const opened: Array<{ close(): Promise<void> }> = [stageLog];
  try {
    const end = await events.lastSeq();
    const newStage = (name: string, eventLog: EventLog = events) => {
      const stageStore = CheckpointStore.open(join(root, run, name));
      opened.push(stageStore);
      return new IdentityStage({ eventLog, resolvedLog: stageLog, store: stageStore, resolver: new IdentityGraph({ source: stageStore }), partitions: PARTITIONS, time: 'event', tickMs: 50 });
    };
    const stage = newStage('identity');
    if (options.republish === true) {
      // an identity stage gets through half the log, then loses its store: the next publishes the
      // first half again (after the log's duplicate window, so the copies stay) and the rest
      const half = Math.floor(end / 2);
      const first = newStage('identity-lost', firstPart(events, half));
      await runUntil([(s) => first.run(s)], async () => first.position >= half);
      await new Promise((r) => setTimeout(r, 1500));
    }
    const positions = new Array<number>(workers).fill(0);
    let restarts = 0;
    const worker = async (w: number, signal: AbortSignal): Promise<void> => {
      const dir = join(root, run, `worker-${w}`);
      const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
      // (each worker its own connection, as its own process would have)
      const log = await openAppendLog({ dataDir: dir, natsUrl: nats.url, log: location });
      opened.push(changeLog, log);
      const owned = new Set(Array.from({ length: PARTITIONS }, (_, p) => p).filter((p) => p % workers === w));
      const every = options.restartEvery;
      while (!signal.aborted) {
        const store = CheckpointStore.open(join(dir, 'engine'));
        try {
          const engine = await Engine.open({
            eventLog: new ResolvedSource(log, owned, PARTITIONS),
            changeLog,
            store,
            plans: options.plans ?? plans,
            resolver: new DirectResolver(),
            transfers: log,
            time: 'event',
            tickMs: 50,
            partitions: PARTITIONS,
            ...(every === undefined ? {} : { checkpointEvents: 50, catchUpCheckpointEvents: 50 }),
          });
          const own = new AbortController();
          const stop = () => own.abort();
          signal.addEventListener('abort', stop, { once: true });
          const running = engine.run(own.signal);
          const from = engine.position;
          while (!own.signal.aborted) {
            await new Promise((r) => setTimeout(r, 20));
            positions[w] = engine.position;
            if (every !== undefined && engine.position - from >= every + 17 * w) own.abort();
          }
          await running;
          signal.removeEventListener('abort', stop);
          positions[w] = engine.position;
          if (!signal.aborted) restarts++;
        } finally {
          await store.close();
        }
      }
    };
    await runUntil([(s) => stage.run(s), ...Array.from({ length: workers }, (_, w) => (s: AbortSignal) => worker(w, s))], async () => {
      if (stage.position < end) return false;
      const last = await stageLog.lastSeq();
      return positions.every((p) => p >= last);
    });
    const records = await stageLog.lastSeq();
    for (const o of opened.splice(0).reverse()) await o.close();
    const changes: Change[] = [];
    for (let w = 0; w < workers; w++) changes.push(...(await changesOf(join(root, run, `worker-${w}`))));
    return { changes, handovers: stage.stats.handovers, records, stage: { ...stage.stats }, restarts };
  } finally {
    for (const o of opened.reverse()) await o.close();
  }
}

if (natsServerAvailable('the partitioned workers test')) {
  test('16 partitions over 1, 2 and 3 workers: the same change ids, values and instants as one process', async () => {
    const root = mkdtempSync(join(tmpdir(), 'flock-partitioned-'));
    const nats = await startNatsServer();
    const events = await openEventLog({ dataDir: root, natsUrl: nats.url });
    try {
      await events.append(EVENTS);
      const reference = await oneProcessChanges(join(root, 'single'), events, plans);
      const merges = reference.filter((c) => c.cause?.type === 'merge');
      assert.ok(merges.length > 20, `the workload merges profiles (${merges.length} merge-caused changes)`);
      assert.ok(reference.filter((c) => c.kind === 'exit' && c.cause?.type === 'time').length > 20, 'the workload has window exits');
      const crossing = merges.filter((c) => c.kind === 'exit').length;
      assert.ok(crossing > 0);
      // accounts: their changes, time-driven ones too, over users of many partitions
      const accounts = reference.filter((c) => c.collection === 'accounts');
      assert.ok(accounts.length > 500, `the workload has account changes (${accounts.length})`);
      assert.ok(accounts.filter((c) => c.cause?.type === 'time').length > 50, 'account changes at window edges');
      assert.ok(new Set(accounts.map((c) => c.definitionId)).size === accountDefinitions().length, 'every account definition changes');
      const spread = accounts.filter((c) => new Set(c.users!.map((u) => resolvedPartition(u, PARTITIONS))).size >= 4);
      assert.ok(new Set(spread.map((c) => c.profileId)).size >= 5, 'accounts whose users are in 4 partitions or more');
      let once = 0;
      for (const workers of [1, 2, 3]) {
        const { changes, handovers, records, stage } = await partitioned(root, nats, events, workers);
        assert.ok(handovers > 5, `merges across partitions hand profiles over (${handovers})`);
        assert.ok(stage.shadowCopies > 200, `events copied to their accounts' partitions (${stage.shadowCopies})`);
        assert.ok(stage.shadowStarts > 20, `users copied to their accounts' partitions (${stage.shadowStarts})`);
        assert.equal(canonical(changes), canonical(reference), `${workers} worker(s)`);
        once = records;
      }
      // workers stopped and started again from their stores every few hundred positions: shadows,
      // accounts and the states owed to others are the same (a shadow on disk gives way to a whole copy)
      const restarted = await partitioned(root, nats, events, 2, { restartEvery: 200 });
      assert.ok(restarted.restarts > 10, `the workers restarted (${restarted.restarts} times)`);
      assert.equal(canonical(restarted.changes), canonical(reference), '2 workers, restarted');
      // half the records published twice (beyond the duplicate window), before the rest: each is applied once
      const twice = await partitioned(root, nats, events, 2, { republish: true });
      assert.ok(twice.records > 1.4 * once, `the resolved log holds the copies (${twice.records} records, ${once} once)`);
      assert.equal(canonical(twice.changes), canonical(reference), '2 workers, half the records twice');
      // (the partition of a profile is the same in every run: the comparison above is per profile)
      assert.ok(new Set(reference.map((c) => resolvedPartition(c.profileId, PARTITIONS))).size > 8, 'the profiles spread over the partitions');
    } finally {
      await events.close();
      await nats.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('users of one account at one instant, one of them shadowed mid-instant: the account change blames the same event', async () => {
    // user a (its partition's worker is not the account's) views a page, then b (linked already)
    // does, then a joins the account — all at one instant. The account's worker holds b since b
    // joined and receives a's copy with a's pending page view: it queues them b, a; one process a, b.
    const space = 'spa_bench';
    const odd = (id: string) => resolvedPartition(id, PARTITIONS) % 2 === 1;
    const group = Array.from({ length: 50 }, (_, i) => `acc_${i}`).find((g) => !odd(accountProfileId(g)))!;
    const a = Array.from({ length: 50 }, (_, i) => `ua_${i}`).find((u) => odd(profileIdFor(space, 'm_a0', 'user_id', u)))!;
    const t0 = END - 10 * 3_600_000;
    const t1 = t0 + 3_600_000;
    const at = (messageId: string, timestamp: number, fields: Partial<FlockEvent>) => eventWith({ space, messageId, timestamp, ...fields });
    const log = [
      at('m_a0', t0, { type: 'identify', userId: a, traits: { plan: 'pro' } }),
      at('m_b0', t0 + 1, { type: 'group', userId: 'ub', groupId: group }),
      at('m_a1', t1, { type: 'page', event: 'Page Viewed', userId: a }),
      at('m_b1', t1, { type: 'page', event: 'Page Viewed', userId: 'ub' }),
      at('m_a2', t1, { type: 'group', userId: a, groupId: group }),
      at('m_a3', t1 + 1000, { type: 'track', event: 'Logged In', userId: a }),
    ];
    const accountPlans = new Map([[space, compilePlan(compileQueryDefinitions([{ key: 'all_viewing', kind: 'audience', target: 'ACCOUNTS', query: "ALL event('Page Viewed').within(1 hour).count() >= 1" }])).plan]]);
    const root = mkdtempSync(join(tmpdir(), 'flock-partitioned-instant-'));
    const nats = await startNatsServer();
    const events = await openEventLog({ dataDir: root, natsUrl: nats.url });
    try {
      await events.append(log);
      const reference = await oneProcessChanges(join(root, 'single'), events, accountPlans);
      const enter = reference.find((c) => c.collection === 'accounts' && c.kind === 'enter');
      assert.ok(enter !== undefined && enter.at === t1, 'the account enters when its last user views a page');
      const { changes, stage } = await partitioned(root, nats, events, 2, { plans: accountPlans });
      assert.equal(stage.shadowStarts, 1, 'a is copied to the account');
      assert.equal(canonical(changes), canonical(reference));
    } finally {
      await events.close();
      await nats.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('an account the identity graph does not know (a blocked group id): its users are shadowed where the runtime keeps it', async () => {
    // `groupId: "0"` identifies no account to the identity graph (a blocked value), but the runtime
    // links the user to `group_id:0`, as one process does: the stage follows the runtime's links
    const space = 'spa_bench';
    const odd = (id: string) => resolvedPartition(id, PARTITIONS) % 2 === 1;
    assert.ok(!odd(accountProfileId('0')), 'the account is on the first worker');
    const [u, w] = [0, 1].map((k) => Array.from({ length: 50 }, (_, i) => `u${k}_${i}`).find((id) => odd(profileIdFor(space, `m_g${k}`, 'user_id', id)))!) as [string, string];
    const t0 = END - 10 * 3_600_000;
    const at = (messageId: string, timestamp: number, fields: Partial<FlockEvent>) => eventWith({ space, messageId, timestamp, ...fields });
    const log = [
      at('m_g0', t0, { type: 'group', userId: u, groupId: '0', traits: { plan: 'pro' } }),
      at('m_g1', t0 + 1, { type: 'group', userId: w, groupId: '0' }),
      ...Array.from({ length: 6 }, (_, i) => at(`m_v${i}`, t0 + (i + 1) * 5_400_000, { type: 'page', event: 'Page Viewed', userId: i % 2 === 0 ? u : w })),
      at('m_end', t0 + 12 * 3_600_000, { type: 'track', event: 'Logged In', userId: u }),
    ];
    const accountPlans = new Map([[space, compilePlan(compileQueryDefinitions([{ key: 'viewed_1h', kind: 'audience', target: 'ACCOUNTS', query: "event('Page Viewed').within(1 hour).count() >= 1" }])).plan]]);
    const root = mkdtempSync(join(tmpdir(), 'flock-partitioned-blocked-'));
    const nats = await startNatsServer();
    const events = await openEventLog({ dataDir: root, natsUrl: nats.url });
    try {
      await events.append(log);
      const reference = await oneProcessChanges(join(root, 'single'), events, accountPlans);
      const account = reference.filter((c) => c.collection === 'accounts');
      assert.equal(account.map((c) => `${c.profileId} ${c.kind}`), Array.from({ length: 12 }, (_, i) => `group_id:0 ${i % 2 === 0 ? 'enter' : 'exit'}`), 'the account enters at each view and exits an hour later');
      const { changes, stage } = await partitioned(root, nats, events, 2, { plans: accountPlans });
      assert.equal(stage.shadowCopies, 9, "the users' calls go to the account's partition too");
      assert.equal(canonical(changes), canonical(reference));
    } finally {
      await events.close();
      await nats.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test.run();
