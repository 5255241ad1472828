/**
 * One identity-stage process's life (`--role identity`): an active owner and any number of
 * standbys. It decides who resolves: the process holding the `identity` lease (lease.ts) runs the
 * stage; the others wait, and the first to see the holder stop renewing takes over — restoring the
 * stage's newest snapshot from the object store when it is ahead of its own store (a fresh machine
 * has none), then resolving the raw log on from that position.
 *
 * A takeover resolves some events again (those after the snapshot): resolution is a function of the
 * raw log's order, so they resolve exactly as before, and their records carry the same ids and
 * orders — the resolved log drops them inside its duplicate window and the workers skip copies after
 * it (apply-resolved.ts). Nothing is resolved twice differently.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { ObjectStore } from '@nats-io/obj';
import { IdentityGraph } from '../identity/identity-graph.ts';
import type { IdentityRules } from '../identity/rules.ts';
import type { AppendLog } from '../log/append-log.ts';
import type { EventLog } from '../log/event-log.ts';
import { openAppendLog, openEventLog, type StreamLimitsConfig } from '../log/open-event-log.ts';
import { backoffDelay, sleep } from '../log/retry.ts';
import { CheckpointStore } from '../store/checkpoint-store.ts';
import { IdentityStage, type IdentityStageOptions, type IdentityStageStats } from './identity-stage.ts';
import { Lease, openLeaseBucket } from './lease.ts';
import { identityAnswers, serveQueries, type QueryResponder } from './query-responder.ts';
import { IDENTITY_QUERY_SUBJECT } from './read-queries.ts';
import { RESOLVED_LOG } from './resolved-records.ts';
import { openSnapshotBucket, removeSnapshotLeftovers, restoreSnapshot, snapshotInfo, storedCheckpoint, takeSnapshot } from './snapshot.ts';

/** The lease and snapshot name of the identity stage (one owner resolves every space). */
export const IDENTITY_RESOURCE = 'identity';

export interface IdentityNodeOptions {
  readonly natsUrl: string;
  /** this machine's directory: the stage's store is `<dataDir>/identity`. */
  readonly dataDir: string;
  readonly partitions: number;
  readonly rules: ReadonlyMap<string, IdentityRules>;
  readonly clock: 'wall' | 'event';
  readonly stream?: StreamLimitsConfig;
  readonly timeoutMs?: number;
  readonly tickMs?: number;
  /** this process in the lease (default `<hostname>:<pid>`). */
  readonly holder?: string;
  /** how long a standby waits for the owner's renewal before it takes over (default 5000 ms). */
  readonly leaseTtlMs?: number;
  /** a snapshot at least this often while active (default 30 s). */
  readonly snapshotMs?: number;
  /** test hook passed to the stage. */
  readonly probe?: IdentityStageOptions['probe'];
  readonly onState?: (stats: Readonly<IdentityNodeStats>) => void;
  readonly onError?: (error: unknown) => void;
}

export interface IdentityNodeStats {
  state: 'starting' | 'standby' | 'restoring' | 'active' | 'stopped';
  readonly holder: string;
  takeovers: number;
  /** the snapshot the last takeover restored (null: its own store was as far, or neither existed). */
  restored: { position: number; bytes: number } | null;
  snapshots: number;
  stage: IdentityStageStats | null;
}

export async function runIdentityNode(o: IdentityNodeOptions, signal: AbortSignal): Promise<IdentityNodeStats> {
  const stats: IdentityNodeStats = { state: 'starting', holder: o.holder ?? `${hostname()}:${process.pid}`, takeovers: 0, restored: null, snapshots: 0, stage: null };
  const enter = (state: IdentityNodeStats['state']) => {
    stats.state = state;
    o.onState?.(stats);
  };
  let nc: NatsConnection | undefined;
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    nc = await connect({ servers: o.natsUrl.split(',').map((u) => u.trim()).filter((u) => u !== ''), name: 'flock identity', noAsyncTraces: true, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    const buckets = o.stream?.replicas === undefined ? {} : { replicas: o.stream.replicas };
    const kv = await openLeaseBucket(nc, buckets);
    const bucket = await openSnapshotBucket(nc, buckets);
    const eventLog = await openEventLog({ dataDir: o.dataDir, natsUrl: o.natsUrl, partitions: o.partitions, stream: o.stream, timeoutMs: o.timeoutMs });
    opened.push(eventLog);
    const resolvedLog = await openAppendLog({ dataDir: o.dataDir, natsUrl: o.natsUrl, log: RESOLVED_LOG, stream: o.stream, timeoutMs: o.timeoutMs });
    opened.push(resolvedLog);
    for (let failures = 0; !signal.aborted; ) {
      enter('standby');
      const lease = await Lease.acquire({ kv, name: IDENTITY_RESOURCE, holder: stats.holder, ttlMs: o.leaseTtlMs ?? 5000, ...(o.onError === undefined ? {} : { onError: o.onError }) }, signal);
      if (lease === undefined) break;
      stats.takeovers++;
      try {
        await serve(o, stats, enter, nc, lease, bucket, eventLog, resolvedLog, signal);
        failures = 0;
      } catch (error) {
        o.onError?.(error);
        if (lease.held) await lease.release().catch((e: unknown) => o.onError?.(e));
        await sleep(backoffDelay(failures++, Math.random()), signal);
        continue;
      }
      // (released at once: a standby takes over without waiting out the TTL)
      if (lease.held) await lease.release().catch((error: unknown) => o.onError?.(error));
    }
  } finally {
    for (const log of opened.reverse()) await log.close();
    await nc?.close();
    enter('stopped');
  }
  return stats;
}

/** Resolves while the lease holds and `signal` has not aborted; snapshots when due and at a clean stop. */
async function serve(
  o: IdentityNodeOptions,
  stats: IdentityNodeStats,
  enter: (state: IdentityNodeStats['state']) => void,
  nc: NatsConnection,
  lease: Lease,
  bucket: ObjectStore,
  eventLog: EventLog,
  resolvedLog: AppendLog,
  signal: AbortSignal,
): Promise<void> {
  const stop = AbortSignal.any([signal, lease.signal]);
  const path = join(o.dataDir, 'identity');
  enter('restoring');
  removeSnapshotLeftovers(path);
  const local = await storedCheckpoint(path);
  const stored = await snapshotInfo(bucket, IDENTITY_RESOURCE);
  stats.restored = null;
  if (stored !== undefined && (local === undefined || stored.position > local.position)) {
    const restored = await restoreSnapshot(bucket, IDENTITY_RESOURCE, path);
    if (restored !== undefined) stats.restored = { position: restored.position, bytes: restored.bytes };
  }
  if (stop.aborted) return;
  const store = CheckpointStore.open(path);
  let queries: QueryResponder | undefined;
  try {
    const stage = new IdentityStage({
      eventLog,
      resolvedLog,
      store,
      resolver: new IdentityGraph({ source: store, rules: o.rules }),
      partitions: o.partitions,
      time: o.clock,
      ...(o.tickMs === undefined ? {} : { tickMs: o.tickMs }),
      ...(o.probe === undefined ? {} : { probe: o.probe }),
    });
    stats.stage = stage.stats;
    // who is who, for the API role: the graph as this owner has committed it
    queries = await serveQueries(nc, [IDENTITY_QUERY_SUBJECT], identityAnswers(store), o.onError);
    enter('active');
    const running = stage.run(stop).then(() => 'done' as const);
    running.catch(() => {});
    const every = o.snapshotMs ?? 30_000;
    let snapshotted = store.meta().position;
    for (;;) {
      const r = await Promise.race([running, sleep(every, stop).then(() => 'due' as const)]);
      if (r === 'done') break;
      if (stop.aborted || stage.position <= snapshotted) continue;
      if (await snapshot(o, stats, store, bucket)) snapshotted = stage.position;
    }
    // a clean stop: the newest graph for whoever comes next
    if (signal.aborted && lease.held && stage.position > snapshotted) await snapshot(o, stats, store, bucket);
  } finally {
    await queries?.stop();
    await store.close();
  }
}

async function snapshot(o: IdentityNodeOptions, stats: IdentityNodeStats, store: CheckpointStore, bucket: ObjectStore): Promise<boolean> {
  try {
    if ((await takeSnapshot(store, bucket, IDENTITY_RESOURCE)) === undefined) return false;
    stats.snapshots++;
    o.onState?.(stats);
    return true;
  } catch (error) {
    // (a snapshot only shortens a takeover: the next one tries again)
    o.onError?.(error);
    return false;
  }
}
