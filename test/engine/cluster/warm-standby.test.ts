/**
 * Warm standbys (engine/cluster/warm-standby.ts): a standby that keeps its partition set warm while
 * it waits takes the set over from its own copy — no snapshot downloaded at takeover — and the change
 * log still equals one process's. The identity stage runs here; the worker nodes are child processes
 * (worker-node-child.ts, `WORKER_STANDBY=warm`), each with its own data dir: `a` holds 0-7, `b` is its
 * warm standby, `c` holds 8-15 (merges hand profiles over between the sets; accounts of one set
 * shadow users of the other). While events are loaded:
 *
 * 1. once `a` has uploaded snapshots and `b` follows it, `a` is made to die (SIGKILL) right after
 *    publishing a checkpoint, before committing its position. `b` has applied the log muted up to
 *    `a`'s fence meanwhile: it takes over from that copy (nothing restored at takeover), replaying
 *    muted only to the fence `a` left and leaving out what `a` published past it;
 * 2. `a2` starts on an empty data dir as the next standby: it restores the set's snapshot while it
 *    waits, then follows `b`. Once it follows, `b` is made to die right after publishing a checkpoint,
 *    before committing its position; `a2` takes over from its copy and must leave out what `b`
 *    published past its fence.
 *
 * The change log must hold exactly the changes one process gives for the same raw log.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { IdentityStage } from '../../../engine/cluster/identity-stage.ts';
import { RESOLVED_LOG } from '../../../engine/cluster/resolved-records.ts';
import { openSnapshotBucket, snapshotInfo } from '../../../engine/cluster/snapshot.ts';
import type { WorkerNodeStats } from '../../../engine/cluster/worker-node.ts';
import { IdentityGraph } from '../../../engine/identity/identity-graph.ts';
import { openAppendLog, openEventLog } from '../../../engine/log/open-event-log.ts';
import { compilePlan } from '../../../engine/plan/compile.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import { generateEvents } from '../../../bench/workload/generator.ts';
import { accountDefinitions, mixedDefinitions } from '../../support/engine-defs.ts';
import { startWorkerProcess, type WorkerProcess } from '../../support/worker-process.ts';
import { natsServerAvailable, startNatsServer } from '../../support/nats-server.ts';
import { endTakeover } from '../../support/takeover-end.ts';
import { sleep } from '../../support/until.ts';

const DAY = 86_400_000;
const END = Date.parse('2026-06-01T00:00:00Z');
const EVENTS = [...generateEvents({ seed: 34, events: 6000, profiles: 150, spanMs: 3 * DAY, end: END, identifyShare: 0.08, identity: { maxDevices: 3 }, accounts: { count: 10, groupShare: 0.04 } })];
const { plan } = compilePlan([...mixedDefinitions(), ...accountDefinitions()]);
const LEASE_TTL_MS = 3000;
const SNAPSHOT_EVENTS = 300;

const WorkerProcess = {
  start: (natsUrl: string, dataDir: string, partitions: string, holder: string): WorkerProcess =>
    startWorkerProcess(natsUrl, dataDir, partitions, holder, { leaseTtlMs: LEASE_TTL_MS, snapshotEvents: SNAPSHOT_EVENTS, warm: true }),
};

if (natsServerAvailable('the warm standby test')) {
  test('warm standbys take a set over from the copy they kept (no download at takeover), twice after kill -9, with no change lost or doubled', async () => {
    const root = mkdtempSync(join(tmpdir(), 'flock-warm-standby-'));
    const nats = await startNatsServer();
    const events = await openEventLog({ dataDir: root, natsUrl: nats.url });
    const stageStore = CheckpointStore.open(join(root, 'identity'));
    const resolved = await openAppendLog({ dataDir: root, natsUrl: nats.url, log: RESOLVED_LOG });
    const observer = await connect({ servers: nats.url });
    const workers: WorkerProcess[] = [];
    const stopStage = new AbortController();
    let staging: Promise<void> | undefined;
    try {
      const stage = new IdentityStage({ eventLog: events, resolvedLog: resolved, store: stageStore, resolver: new IdentityGraph({ source: stageStore }), partitions: 16, time: 'event', tickMs: 50 });
      staging = stage.run(stopStage.signal);
      const a = WorkerProcess.start(nats.url, join(root, 'a'), '0-7', 'a');
      workers.push(a);
      await a.reach('to hold 0-7', (s) => s.state === 'active');
      const b = WorkerProcess.start(nats.url, join(root, 'b'), '0-7', 'b');
      const c = WorkerProcess.start(nats.url, join(root, 'c'), '8-15', 'c');
      workers.push(b, c);
      await b.reach('to keep 0-7 warm', (s) => s.state === 'standby' && s.warm?.state !== undefined && s.warm.state !== 'restoring');
      await c.reach('to hold 8-15', (s) => s.state === 'active');

      const bucket = await openSnapshotBucket(observer);
      const CHUNK = 100;
      let loaded = 0;
      const loadNext = async () => {
        await events.append(EVENTS.slice(loaded, loaded + CHUNK));
        loaded += CHUNK;
        await sleep(40);
      };
      const deadline = performance.now() + 150_000;
      const inTime = (what: string, w: WorkerProcess) => {
        if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; ${w.holder}: ${JSON.stringify(w.stats)}\n${w.stderr}`);
      };

      // 1. `a` snapshots as the load goes, `b` follows it; then `a` dies between a publish and its position
      let warmB: WorkerNodeStats['warm'] = null;
      while ((a.stats?.snapshots ?? 0) < 2 || (b.stats?.warm?.applied ?? 0) === 0) {
        inTime('a to snapshot and b to follow', a);
        // (a and b are given time, not more load, past half of it)
        if (loaded < EVENTS.length / 2) await loadNext();
        else await sleep(40);
      }
      a.proc.kill('SIGUSR2');
      while (!a.gone) {
        inTime('a to die after a publish', a);
        if (b.stats?.warm != null) warmB = { ...b.stats.warm };
        // (b is left at least 4 chunks to die in)
        if (loaded < EVENTS.length - 4 * CHUNK) {
          await loadNext();
          await sleep(200);
        } else await sleep(40);
      }
      await a.exited;
      assert.is(a.proc.signalCode, 'SIGKILL', `a died by its fault:\n${a.stderr}`);
      const snapshot = await snapshotInfo(bucket, 'worker.0-7');
      const killed = { at: a.exitedAt, snapshot: snapshot?.position ?? 0, fence: await resolved.position('worker.0-7') };
      assert.ok(warmB !== null && warmB.applied > 0 && warmB.position > 0, `b applied the log while it waited: ${JSON.stringify(warmB)}`);
      assert.ok(warmB.position <= killed.fence, `b's copy never passed a's fence (${warmB.position} vs ${killed.fence})`);

      const took = await b.reach('to take 0-7 over', (s) => s.state === 'active', 30_000);
      assert.is(took.takeovers, 1);
      assert.is(took.startedFrom, 'warm', 'b started from the copy it kept');
      assert.ok(took.fence >= killed.fence, `replayed to a's fence (${took.fence} vs ${killed.fence})`);

      // 2. a fresh standby restores while it waits, then follows `b`; `b` dies between a publish and its position
      const a2 = WorkerProcess.start(nats.url, join(root, 'a2'), '0-7', 'a2');
      workers.push(a2);
      const following = await a2.reach('to restore the snapshot and follow b', (s) => s.state === 'standby' && s.warm?.state === 'following' && s.warm.restores >= 1, 60_000);
      assert.ok(following.warm!.restoredBytes > 0, 'the snapshot downloaded while waiting');
      b.proc.kill('SIGUSR2');
      while (!b.gone) {
        inTime('b to die after a publish', b);
        if (loaded < EVENTS.length - CHUNK) {
          // one chunk at a time with a pause: b goes idle between them and publishes each on its own
          await loadNext();
          await sleep(250);
        } else await sleep(40);
      }
      assert.ok(loaded < EVENTS.length, 'b died before the load ended');
      assert.is(b.proc.signalCode, 'SIGKILL', `b died by its fault:\n${b.stderr}`);
      const second = await a2.reach('to take 0-7 over from b', (s) => s.state === 'active', 30_000);
      assert.is(second.startedFrom, 'warm', 'a2 started from the copy it kept');
      assert.is(second.restored?.bytes, following.warm!.restoredBytes, 'the snapshot it restored while it waited');
      while (loaded < EVENTS.length) await loadNext();

      const { logged, skipped } = await endTakeover({ root, natsUrl: nats.url, events, resolved, stage, stopStage, staging: staging!, holders: [a2, c], plan });
      console.log(
        `warm takeovers: b from ${warmB.position} (fence ${killed.fence}, snapshot ${killed.snapshot}; muted ${took.mutedRecords} records at takeover), ` +
          `a2 restored ${following.warm!.restoredBytes} B while waiting, ${skipped} changes past b's fence left out; ${logged.length} changes`,
      );
    } finally {
      for (const w of workers) await w.stop('SIGKILL');
      stopStage.abort();
      await staging?.catch(() => {});
      await observer.close();
      await resolved.close();
      await stageStore.close();
      await events.close();
      await nats.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test.run();
