/**
 * Issue 18: workers "rebalanced when a worker joins or leaves" (`--worker-partitions auto`,
 * worker-group.ts). 16 resolved partitions in 4 sets; while events are loaded through the identity
 * stage: worker g1 alone holds every set; g2 joins and takes its share — g1 hands those sets over
 * with a clean stop (checkpoint, snapshot, lease released) and g2 restores them on its own data dir;
 * g1 leaves and g2 takes the rest; then g2 (a process of its own) is killed with kill -9 and g3, a
 * fresh machine, takes every set over once g2's entry and leases expire, from the snapshots. The
 * change log must hold exactly the changes one process gives for the same raw log.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityStage } from '../../../engine/cluster/identity-stage.ts';
import { RESOLVED_LOG } from '../../../engine/cluster/resolved-records.ts';
import { runWorkerGroup, type WorkerGroupStats } from '../../../engine/cluster/worker-group.ts';
import { IdentityGraph } from '../../../engine/identity/identity-graph.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../../engine/log/open-event-log.ts';
import { compilePlan } from '../../../engine/plan/compile.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import { generateEvents } from '../../../bench/workload/generator.ts';
import { canonical, changesOn } from '../../support/change-log.ts';
import { mixedDefinitions } from '../../support/engine-defs.ts';
import { natsServerAvailable, startNatsServer } from '../../support/nats-server.ts';
import { oneProcessChanges } from '../../support/one-process.ts';
import { StatsChild } from '../../support/stats-child.ts';
import { sleep, until } from '../../support/until.ts';
import { GROUP_TIMING } from '../../support/worker-group-timing.ts';

const DAY = 86_400_000;
const END = Date.parse('2026-06-01T00:00:00Z');
const EVENTS = [...generateEvents({ seed: 44, events: 4000, profiles: 120, spanMs: 3 * DAY, end: END, identifyShare: 0.08, identity: { maxDevices: 3 } })];
const { plan } = compilePlan(mixedDefinitions());
const SETS = ['0-3', '4-7', '8-11', '12-15'];
const activeSets = (stats: WorkerGroupStats | undefined): string[] =>
  Object.entries(stats?.sets ?? {})
    .filter(([, s]) => s.state === 'active')
    .map(([set]) => set)
    .sort();

/** A worker group run in this process: its latest stats, the sets it holds, a clean stop. */
function group(natsUrl: string, dataDir: string, worker: string, errors: unknown[]) {
  const stop = new AbortController();
  let stats: WorkerGroupStats | undefined;
  const done = runWorkerGroup(
    {
      natsUrl,
      dataDir,
      holder: worker,
      plans: new Map([['spa_bench', plan]]),
      ...GROUP_TIMING,
      onState: (s) => (stats = { ...s, sets: { ...s.sets } }),
      onError: (error) => errors.push(error),
    },
    stop.signal,
  );
  return {
    worker,
    stats: () => stats,
    /** the sets this worker holds (active). */
    active: () => activeSets(stats),
    stop: async () => {
      stop.abort();
      await done;
    },
    done,
  };
}

if (natsServerAvailable('the rebalancing test')) {
  test('worker groups: a joining worker takes its share of the sets, a leaving one hands its sets over, a crashed one’s sets are taken over — the change log equals one process', async () => {
    const root = mkdtempSync(join(tmpdir(), 'flock-rebalance-'));
    const nats = await startNatsServer();
    const events = await openEventLog({ dataDir: root, natsUrl: nats.url });
    const stageStore = CheckpointStore.open(join(root, 'identity'));
    const resolved = await openAppendLog({ dataDir: root, natsUrl: nats.url, log: RESOLVED_LOG });
    const stopStage = new AbortController();
    const errors: unknown[] = [];
    const groups: Array<ReturnType<typeof group>> = [];
    let g2: StatsChild<WorkerGroupStats> | undefined;
    let staging: Promise<void> | undefined;
    try {
      const stage = new IdentityStage({ eventLog: events, resolvedLog: resolved, store: stageStore, resolver: new IdentityGraph({ source: stageStore }), partitions: 16, time: 'event', tickMs: 50 });
      staging = stage.run(stopStage.signal);
      let loaded = 0;
      const load = async (through: number) => {
        for (; loaded < through; loaded += 100) {
          await events.append(EVENTS.slice(loaded, Math.min(through, loaded + 100)));
          await sleep(20);
        }
      };
      const holds = (g: ReturnType<typeof group>, sets: string[], what: string) =>
        until(`${g.worker} ${what}`, async () => (JSON.stringify(g.active()) === JSON.stringify([...sets].sort()) ? true : undefined), 60_000, 50).catch((error: unknown) => {
          throw new Error(`${(error as Error).message}: ${JSON.stringify(g.stats())}; errors ${errors.map(String).join('; ')}`);
        });
      const g2Holds = (sets: string[], what: string) => g2!.reach(what, (s) => JSON.stringify(activeSets(s)) === JSON.stringify([...sets].sort()), 60_000);

      // g1 alone: every set
      const g1 = group(nats.url, join(root, 'g1'), 'g1', errors);
      groups.push(g1);
      await holds(g1, SETS, 'to hold every set');
      await load(1000);

      // g2 joins: the sets split as the assignment says, g1 handing its lost ones over
      g2 = StatsChild.start<WorkerGroupStats>('worker group g2', 'test/support/worker-group-child.ts', [nats.url, join(root, 'g2'), 'g2']);
      await until('g2 to be seen', async () => (g1.stats()?.live.includes('g2') ? true : undefined), 30_000, 50);
      const { assignSets, partitionSets } = await import('../../../engine/cluster/set-assignment.ts');
      const split = assignSets(partitionSets(16, 4), ['g1', 'g2']);
      const mine = (w: string) => SETS.filter((s) => split.get(s) === w);
      assert.ok(mine('g2').length > 0 && mine('g1').length > 0, `the split gives each some (${[...split]})`);
      await Promise.all([holds(g1, mine('g1'), 'to keep its share'), g2Holds(mine('g2'), 'to take its share')]);
      assert.ok(g1.stats()!.handedOver >= mine('g2').length, 'g1 handed the sets over');
      // (or, a warm standby while g1 stopped — engine/cluster/warm-standby.ts — from the copy it built meanwhile: from that snapshot, or from the log)
      for (const set of mine('g2')) assert.ok(g2.stats!.sets[set]!.restored !== null || g2.stats!.sets[set]!.startedFrom === 'warm', `g2 restored ${set} from the snapshot g1 left: ${JSON.stringify(g2.stats!.sets[set])}`);
      await load(2000);

      // g1 leaves cleanly: g2 takes the rest at once
      await g1.stop();
      await g2Holds(SETS, 'to take every set when g1 left');
      await load(3000);

      // g2 crashes: g3 (a fresh machine) takes every set once g2's entry and leases expire
      const g3 = group(nats.url, join(root, 'g3'), 'g3', errors);
      groups.push(g3);
      await g2.reach('to see g3', (s) => s.live.includes('g3'));
      const split3 = assignSets(partitionSets(16, 4), ['g2', 'g3']);
      const share = (w: string) => SETS.filter((s) => split3.get(s) === w);
      await Promise.all([holds(g3, share('g3'), 'to take its share from g2'), g2Holds(share('g2'), 'to keep its share')]);
      await load(3500);
      // the crash: nothing released, nothing said — g3 takes g2's sets once its entry and leases expire
      await g2.stop('SIGKILL');
      const crashed = performance.now();
      await holds(g3, SETS, 'to take every set');
      const tookMs = performance.now() - crashed;
      // (a liveness bound: the 10 s, against a 2 s lease and a 1 s membership TTL)
      assert.ok(tookMs < 10_000, `g2's sets taken over ${Math.round(tookMs)} ms after the kill`);
      await load(EVENTS.length);

      const end = await events.lastSeq();
      await until('the stage and g3 to catch up', async () => {
        if (stage.position < end) return undefined;
        const last = await resolved.lastSeq();
        return Object.values(g3.stats()!.sets).every((s) => s.position >= last) ? true : undefined;
      }, 60_000, 50).catch(async (error: unknown) => {
        throw new Error(`${(error as Error).message}: stage ${stage.position}/${end}, resolved ${await resolved.lastSeq()}, g3 ${JSON.stringify(g3.stats())}; errors ${errors.map(String).join('; ')}`);
      });
      await g3.stop();
      stopStage.abort();
      await staging;

      const changeLog = await openAppendLog({ dataDir: root, natsUrl: nats.url, log: CHANGE_LOG });
      const logged = await changesOn(changeLog);
      await changeLog.close();
      const reference = await oneProcessChanges(join(root, 'single'), events, new Map([['spa_bench', plan]]));
      assert.ok(reference.length > 1000, `the workload changes memberships (${reference.length})`);
      const ids = logged.map((change) => change.id);
      assert.is(new Set(ids).size, ids.length, `${ids.length - new Set(ids).size} changes logged twice`);
      assert.equal(canonical(logged), canonical(reference));
      console.log(`rebalance: g2 took ${mine('g2').join(', ')} from g1; g3 took ${share('g3').join(', ')} from g2, then ${share('g2').join(', ')} ${Math.round(tookMs)} ms after g2 was killed; ${logged.length} changes; ${stage.stats.handovers} handovers`);
    } finally {
      for (const g of groups) await g.stop().catch(() => {});
      await g2?.stop('SIGKILL').catch(() => {});
      stopStage.abort();
      await staging?.catch(() => {});
      await resolved.close();
      await stageStore.close();
      await events.close();
      await nats.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test.run();
