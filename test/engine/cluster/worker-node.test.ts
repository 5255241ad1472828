/**
 * A worker node's life in one process (engine/cluster/worker-node.ts; the kill -9 takeover is
 * takeover.test.ts): partition sets parse to their names or are refused; a node whose lease another
 * takes stops computing and waits as a standby, takes the set back when that holder stops renewing
 * (from its own store, which is as far as the snapshot), and a clean stop leaves a snapshot of its
 * last checkpoint and releases the lease.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { IdentityStage } from '../../../engine/cluster/identity-stage.ts';
import { openLeaseBucket } from '../../../engine/cluster/lease.ts';
import { parsePartitionSet, PartitionSetError } from '../../../engine/cluster/partition-set.ts';
import { RESOLVED_LOG } from '../../../engine/cluster/resolved-records.ts';
import { openSnapshotBucket, snapshotInfo } from '../../../engine/cluster/snapshot.ts';
import { WorkerNode, type WorkerNodeState } from '../../../engine/cluster/worker-node.ts';
import { IdentityGraph } from '../../../engine/identity/identity-graph.ts';
import { openAppendLog, openEventLog } from '../../../engine/log/open-event-log.ts';
import { compilePlan } from '../../../engine/plan/compile.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import { generateEvents } from '../../../bench/workload/generator.ts';
import { mixedDefinitions } from '../../support/engine-defs.ts';
import { natsServerAvailable, startNatsServer } from '../../support/nats-server.ts';
import { until } from '../../support/until.ts';

test('partition sets: ranges and lists to one name; malformed or out-of-range sets are refused', () => {
  assert.is(parsePartitionSet('0-7', 16).name, '0-7');
  assert.equal([...parsePartitionSet('0-7', 16).partitions], [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.is(parsePartitionSet('12-15, 3,0-2', 16).name, '0-3_12-15');
  assert.is(parsePartitionSet('5', 16).name, '5');
  for (const [spec, message] of [
    ['0-16', /beyond the 16 partitions/],
    ['7-3', /is empty/],
    ['a', /not a partition or a range/],
    ['', /not a partition or a range/],
    ['1,,2', /not a partition or a range/],
  ] as const) {
    try {
      parsePartitionSet(spec, 16);
      assert.unreachable(`${spec} was accepted`);
    } catch (error) {
      assert.instance(error, PartitionSetError);
      assert.match((error as Error).message, message);
    }
  }
});

if (natsServerAvailable('the worker node tests')) {
  test('a node whose lease is taken stops and waits; it takes the set back from its own store; a clean stop snapshots and releases', async () => {
    const root = mkdtempSync(join(tmpdir(), 'flock-worker-node-'));
    const nats = await startNatsServer();
    const events = await openEventLog({ dataDir: root, natsUrl: nats.url });
    const stageStore = CheckpointStore.open(join(root, 'identity'));
    const resolved = await openAppendLog({ dataDir: root, natsUrl: nats.url, log: RESOLVED_LOG });
    const nc = await connect({ servers: nats.url });
    const stop = new AbortController();
    const states: WorkerNodeState[] = [];
    let running: Promise<void> | undefined;
    let staging: Promise<void> | undefined;
    try {
      await events.append([...generateEvents({ seed: 3, events: 800, profiles: 40, spanMs: 86_400_000, end: Date.parse('2026-06-01T00:00:00Z') })]);
      const stage = new IdentityStage({ eventLog: events, resolvedLog: resolved, store: stageStore, resolver: new IdentityGraph({ source: stageStore }), partitions: 16, time: 'event', tickMs: 50 });
      staging = stage.run(stop.signal);
      const node = new WorkerNode({
        natsUrl: nats.url,
        dataDir: join(root, 'node'),
        partitions: '0-15',
        plans: new Map([['spa_bench', compilePlan(mixedDefinitions()).plan]]),
        holder: 'n',
        leaseTtlMs: 600,
        snapshotMs: 600_000,
        engine: { tickMs: 50 },
        onState: (s) => {
          if (states.at(-1) !== s.state) states.push(s.state);
        },
        onError: (error) => console.error(error),
      });
      running = node.run(stop.signal);
      const end = await events.lastSeq();
      await until('the node to apply the log', async () => (stage.position >= end && node.stats.state === 'active' && node.stats.position >= (await resolved.lastSeq()) ? true : undefined), 30_000, 20);
      assert.equal(states, ['standby', 'restoring', 'replaying', 'active']);

      // another holder writes the lease (as a standby that saw it stall would), then never renews
      const kv = await openLeaseBucket(nc);
      const entry = (await kv.get('worker.0-15'))!;
      await kv.update('worker.0-15', JSON.stringify({ holder: 'z', token: 'z#1', ttlMs: 600, expiresAt: new Date().toISOString() }), entry.revision);
      await until('the node to stop and take the set back', async () => (node.stats.takeovers === 2 && node.stats.state === 'active' ? true : undefined), 30_000, 20);
      assert.equal(states, ['standby', 'restoring', 'replaying', 'active', 'standby', 'restoring', 'replaying', 'active']);
      assert.is(node.stats.leasesLost, 1, 'the lease taken from it counted');
      assert.is(node.stats.restored, null, 'its own store was as far as any snapshot');
      assert.is(node.stats.timings.restore >= 0 && node.stats.timings.open > 0 && Number.isFinite(node.stats.timings.replay), true, JSON.stringify(node.stats.timings));
      assert.is(node.stats.mutedRecords, 0, 'nothing to leave out: its store had published all it held');

      stop.abort();
      await running;
      assert.is(states.at(-1), 'stopped');
      const snapshot = await snapshotInfo(await openSnapshotBucket(nc), 'worker.0-15');
      assert.is(snapshot?.position, node.stats.checkpointed, 'a last snapshot of the last checkpoint');
      assert.ok(node.stats.snapshots >= 1);
      assert.ok(node.stats.snapshotMs > 0, 'the last snapshot timed');
      assert.is((await kv.get('worker.0-15'))?.operation, 'DEL', 'the lease released');
    } finally {
      stop.abort();
      await running?.catch(() => {});
      await staging?.catch(() => {});
      await nc.close();
      await resolved.close();
      await stageStore.close();
      await events.close();
      await nats.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test.run();
