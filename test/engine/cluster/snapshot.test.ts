/**
 * Worker state snapshots in the JetStream object store (engine/cluster/snapshot.ts) against a
 * private nats-server: a snapshot taken mid-log restores, on another "machine" (directory), to the
 * checkpoint it was taken at, and an engine that goes on from it ends where the uninterrupted one
 * did; a snapshot never moves back to an earlier position; a download whose content does not hold
 * the position its metadata names is refused.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { open } from 'lmdb';
import { Engine } from '../../../engine/engine.ts';
import { IdentityGraph } from '../../../engine/identity/identity-graph.ts';
import type { EventLog } from '../../../engine/log/event-log.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../../engine/log/open-event-log.ts';
import { compilePlan } from '../../../engine/plan/compile.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import { openSnapshotBucket, removeSnapshotLeftovers, restoreSnapshot, snapshotInfo, SnapshotError, storedCheckpoint, takeSnapshot } from '../../../engine/cluster/snapshot.ts';
import { generateEvents } from '../../../bench/workload/generator.ts';
import { mixedDefinitions } from '../../support/engine-defs.ts';
import { natsServerAvailable, startNatsServer } from '../../support/nats-server.ts';

const SPACE = 'spa_bench';
const END = Date.parse('2026-06-01T00:00:00Z');
const { plan } = compilePlan(mixedDefinitions());
const DEFINITIONS = plan.definitions.map((d) => d.input.id);

/** An engine over `dir`'s store and change log applies the event log from its checkpoint through `to`. */
async function applyThrough(dir: string, eventLog: EventLog, to: number): Promise<void> {
  const store = CheckpointStore.open(join(dir, 'engine'));
  const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
  try {
    const engine = await Engine.open({ eventLog, changeLog, store, plans: new Map([[SPACE, plan]]), resolver: new IdentityGraph({ source: store }), time: 'event' });
    while (engine.position < to) engine.process(await eventLog.read(engine.position + 1, Math.min(300, to - engine.position)));
    await engine.checkpoint();
  } finally {
    await changeLog.close();
    await store.close();
  }
}

/** Every definition's published members / values in a store directory. */
async function published(dir: string): Promise<string> {
  const store = CheckpointStore.open(join(dir, 'engine'), { readOnly: true });
  try {
    return JSON.stringify(DEFINITIONS.map((id) => store.outputs(SPACE, id, { limit: 1e6 })));
  } finally {
    await store.close();
  }
}

test('storedCheckpoint: an environment with no databases yet (its process killed while creating it) holds no checkpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-bare-env-'));
  try {
    await open({ path: dir, compression: false, maxDbs: 64 }).close();
    assert.equal((await storedCheckpoint(dir))?.position ?? 0, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

if (natsServerAvailable('the snapshot tests')) {
  test('a snapshot taken mid-log restores elsewhere to its checkpoint; going on from it ends where the uninterrupted run did; it never moves back', async () => {
    const root = mkdtempSync(join(tmpdir(), 'flock-snapshot-'));
    const nats = await startNatsServer();
    let nc: NatsConnection | undefined;
    const eventLog = await openEventLog({ dataDir: join(root, 'log') });
    try {
      await eventLog.append([...generateEvents({ seed: 5, events: 3000, profiles: 80, spanMs: 3 * 86_400_000, end: END, identity: { maxDevices: 2 } })]);
      const end = await eventLog.lastSeq();
      nc = await connect({ servers: nats.url });
      const bucket = await openSnapshotBucket(nc);
      const a = join(root, 'a');
      await applyThrough(a, eventLog, 1400);

      // taken from the open store of a running worker
      const store = CheckpointStore.open(join(a, 'engine'));
      const taken = await takeSnapshot(store, bucket, 'worker.0-7');
      assert.ok(taken !== undefined);
      assert.is(taken.position, 1400);
      assert.equal(await snapshotInfo(bucket, 'worker.0-7'), taken);
      assert.ok(taken.bytes > 0);
      // the same position again: nothing newer to store
      assert.is(await takeSnapshot(store, bucket, 'worker.0-7'), undefined);
      await store.close();
      assert.equal(readdirSync(a).sort(), ['changes', 'engine'], 'no copy left beside the store');
      // a copy a killed process left is removed at the next start
      mkdirSync(join(a, '.engine-copy-x1'));
      removeSnapshotLeftovers(join(a, 'engine'));
      assert.equal(readdirSync(a).sort(), ['changes', 'engine']);

      // another machine restores it (its own store, if any, replaced whole)
      const b = join(root, 'b');
      await applyThrough(b, eventLog, 200);
      const restored = await restoreSnapshot(bucket, 'worker.0-7', join(b, 'engine'));
      assert.equal(restored, taken);
      assert.is((await storedCheckpoint(join(b, 'engine')))!.position, 1400);
      assert.is(await published(b), await published(a));

      // both go on to the end: the same published state
      await applyThrough(a, eventLog, end);
      await applyThrough(b, eventLog, end);
      assert.is(await published(b), await published(a));

      // a later snapshot replaces it; an earlier one (a slow old holder) does not
      const aStore = CheckpointStore.open(join(a, 'engine'));
      assert.is((await takeSnapshot(aStore, bucket, 'worker.0-7'))?.position, end);
      await aStore.close();
      const c = join(root, 'c');
      await applyThrough(c, eventLog, 900);
      const cStore = CheckpointStore.open(join(c, 'engine'));
      assert.is(await takeSnapshot(cStore, bucket, 'worker.0-7'), undefined);
      assert.is((await snapshotInfo(bucket, 'worker.0-7'))?.position, end);
      // a set with no snapshot restores nothing
      assert.is(await restoreSnapshot(bucket, 'worker.8-15', join(c, 'other')), undefined);
      await cStore.close();

      // an object whose content is not the position its metadata names is refused, and the store left as it was
      await bucket.objects.putBlob({ name: 'worker.bad', metadata: { position: '5', watermark: '0' } }, readFileSync(join(a, 'engine', 'data.mdb')));
      const failure = await restoreSnapshot(bucket, 'worker.bad', join(c, 'engine')).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.instance(failure, SnapshotError);
      assert.match((failure as Error).message, /holds position \d+, not 5/);
      assert.is((await storedCheckpoint(join(c, 'engine')))!.position, 900);
    } finally {
      await nc?.close();
      await eventLog.close();
      await nats.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test.run();
