/**
 * Issue 18: "A worker killed with kill -9 mid-load: its partitions are taken over within 10 s, with no
 * loss and no doubling." The identity stage runs here; the worker nodes run as child processes, each
 * with its own data dir (no shared disk): `a` and `b` contend for partitions 0-7, `c` holds 8-15
 * (merges across the two sets hand profile states over through the log; accounts of one set keep
 * shadows of users of the other, copied through the log as they join). While events are loaded:
 *
 * 1. the active 0-7 worker `a` is killed (SIGKILL) at a moment its newest snapshot is behind what it
 *    has published and committed (it kills itself there: worker-node-child.ts, WORKER_DIE_PAST_SNAPSHOT;
 *    a kill from outside hits that moment only by luck). The standby `b` must take the set over —
 *    restoring that snapshot, replaying to `a`'s fence without publishing what `a` had published;
 * 2. `b` kills itself right after publishing a checkpoint, before committing its position; `a2`, a
 *    fresh machine started as the next standby, takes over and must leave out what `b` published.
 *
 * The change log must then hold exactly the changes one process gives for the same raw log: none
 * missing, none extra, none twice.
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
import { IdentityGraph } from '../../../engine/identity/identity-graph.ts';
import { openAppendLog, openEventLog } from '../../../engine/log/open-event-log.ts';
import { compilePlan } from '../../../engine/plan/compile.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import { generateEvents } from '../../../bench/workload/generator.ts';
import { accountDefinitions, mixedDefinitions } from '../../support/engine-defs.ts';
import { startWorkerProcess, type WorkerProcess, type WorkerProcessOptions } from '../../support/worker-process.ts';
import { natsServerAvailable, startNatsServer } from '../../support/nats-server.ts';
import { endTakeover } from '../../support/takeover-end.ts';
import { sleep } from '../../support/until.ts';

const DAY = 86_400_000;
const END = Date.parse('2026-06-01T00:00:00Z');
const EVENTS = [...generateEvents({ seed: 33, events: 6000, profiles: 150, spanMs: 3 * DAY, end: END, identifyShare: 0.08, identity: { maxDevices: 3 }, accounts: { count: 10, groupShare: 0.04 } })];
const { plan } = compilePlan([...mixedDefinitions(), ...accountDefinitions()]);
const LEASE_TTL_MS = 3000;
/** a worker uploads a snapshot every this many of its events (about every 600 events loaded). */
const SNAPSHOT_EVENTS = 300;

/** A worker node in its own process (worker-node-child.ts). `dieAfterPublish`: it kills itself right after its n-th publish of changes while active; `diePastSnapshot`: once it has published and committed past its snapshot. */
const WorkerProcess = {
  start: (natsUrl: string, dataDir: string, partitions: string, holder: string, fault: Pick<WorkerProcessOptions, 'dieAfterPublish' | 'diePastSnapshot' | 'checkpointWriter'> = {}): WorkerProcess =>
    startWorkerProcess(natsUrl, dataDir, partitions, holder, { leaseTtlMs: LEASE_TTL_MS, snapshotEvents: SNAPSHOT_EVENTS, ...fault }),
};

if (natsServerAvailable('the takeover test')) {
  test('a worker killed with kill -9 mid-load: its partitions are taken over within 10 s, from a snapshot, with no change lost or doubled; again when the next holder dies between a publish and its position', async () => {
    const root = mkdtempSync(join(tmpdir(), 'flock-takeover-'));
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
      const a = WorkerProcess.start(nats.url, join(root, 'a'), '0-7', 'a', { diePastSnapshot: true });
      workers.push(a);
      await a.reach('to hold 0-7', (s) => s.state === 'active');
      const b = WorkerProcess.start(nats.url, join(root, 'b'), '0-7', 'b', { dieAfterPublish: 2 });
      // (c commits its checkpoints in a writer thread: its changes too must be one process's)
      const c = WorkerProcess.start(nats.url, join(root, 'c'), '8-15', 'c', { checkpointWriter: 'thread' });
      workers.push(b, c);
      await b.reach('to wait as the standby of 0-7', (s) => s.state === 'standby');
      await c.reach('to hold 8-15', (s) => s.state === 'active');
      assert.is(c.stats!.writer, 'thread', 'c commits its checkpoints in a writer thread');

      // The load, in chunks; the last ten wait for the takeovers (and go on to `b` once it holds the set).
      const bucket = await openSnapshotBucket(observer);
      const CHUNK = 100;
      const holdBack = EVENTS.length - 10 * CHUNK;
      let loaded = 0;
      const loadNext = async () => {
        await events.append(EVENTS.slice(loaded, loaded + CHUNK));
        loaded += CHUNK;
        await sleep(40);
      };
      // (a liveness bound for the whole choreography, generous: a loaded machine is slow)
      const deadline = performance.now() + 150_000;
      const inTime = (what: string, w: WorkerProcess) => {
        if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; ${w.holder}: ${JSON.stringify(w.stats)}\n${w.stderr}`);
      };
      // 1. `a` dies once its snapshot is behind what it published; its snapshot and fence are read as it left them
      while (!a.gone) {
        inTime('a to die past its snapshot', a);
        // (b is left at least 4 chunks to die in)
        if (loaded < EVENTS.length - 4 * CHUNK) await loadNext();
        else await sleep(40);
      }
      await a.exited;
      assert.is(a.proc.signalCode, 'SIGKILL', `a died by its fault:\n${a.stderr}`);
      const snapshot = await snapshotInfo(bucket, 'worker.0-7');
      const killed = { at: a.exitedAt, snapshot: snapshot?.position ?? 0, fence: await resolved.position('worker.0-7') };
      assert.ok(snapshot !== undefined && killed.fence > killed.snapshot, `a's snapshot (${killed.snapshot}) is behind its fence (${killed.fence})`);
      const a2 = WorkerProcess.start(nats.url, join(root, 'a2'), '0-7', 'a2');
      workers.push(a2);

      // the standby takes over (a liveness bound: the 10 s against a 3 s lease; a shorter one is lost to event-loop stalls on a loaded machine)
      const took = await b.reach('to take 0-7 over', (s) => s.state === 'active', 30_000);
      const takeoverMs = performance.now() - killed.at;
      assert.ok(takeoverMs < 10_000, `taken over after ${Math.round(takeoverMs)} ms`);
      assert.is(took.takeovers, 1);
      assert.is(took.restored?.position, killed.snapshot, 'the standby restored the dead worker’s snapshot');
      assert.ok(took.fence >= killed.fence, `replayed to the dead worker's fence (${took.fence} vs ${killed.fence})`);
      assert.ok(took.mutedRecords > 0, 'what the dead worker had published was not published again');

      // 2. `b` dies right after a publish; `a2` takes over
      while (!b.gone) {
        inTime('b to die after a publish', b);
        if (loaded < holdBack) await loadNext();
        else if (b.stats!.state === 'active' && loaded < EVENTS.length - CHUNK) {
          // one chunk at a time with a pause: b goes idle between them and publishes each on its own
          await loadNext();
          await sleep(250);
        } else await sleep(40);
      }
      assert.ok(loaded < EVENTS.length, 'b died before the load ended');
      assert.is(b.proc.signalCode, 'SIGKILL', `b died by its fault:\n${b.stderr}`);
      const second = await a2.reach('to take 0-7 over from b', (s) => s.state === 'active', 30_000);
      const secondMs = performance.now() - b.exitedAt;
      assert.ok(secondMs < 10_000, `taken over after ${Math.round(secondMs)} ms`);
      assert.ok(second.restored !== null, 'a fresh machine starts from a snapshot');
      while (loaded < EVENTS.length) await loadNext();

      const { logged, skipped } = await endTakeover({ root, natsUrl: nats.url, events, resolved, stage, stopStage, staging: staging!, holders: [a2, c], plan });
      console.log(
        `takeovers: ${Math.round(takeoverMs)} ms (restored ${took.restored?.position}, muted to ${took.fence}: ${took.mutedRecords} records), ` +
          `${Math.round(secondMs)} ms (restored ${second.restored?.position}, muted to ${second.fence}: ${second.mutedRecords} records, ${skipped} changes past it left out); ${logged.length} changes`,
      );
    } finally {
      for (const w of workers) {
        if (!w.gone) w.proc.kill('SIGCONT');
        await w.stop('SIGKILL');
      }
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
