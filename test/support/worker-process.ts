/** Test support: a worker node in a process of its own (worker-node-child.ts), with its stats as they come (stats-child.ts). */
import type { WorkerNodeStats } from '../../engine/cluster/worker-node.ts';
import { StatsChild } from './stats-child.ts';

export type WorkerProcess = StatsChild<WorkerNodeStats> & { readonly holder: string };

export interface WorkerProcessOptions {
  readonly leaseTtlMs: number;
  /** a snapshot every this many of its events. */
  readonly snapshotEvents: number;
  /** keep the set warm while it waits for the lease (warm-standby.ts). */
  readonly warm?: boolean;
  /** kill itself right after its n-th publish of changes while active. */
  readonly dieAfterPublish?: number;
  /** kill itself once it has published and committed past its snapshot. */
  readonly diePastSnapshot?: boolean;
  readonly checkpointWriter?: 'inline' | 'thread';
}

export function startWorkerProcess(natsUrl: string, dataDir: string, partitions: string, holder: string, o: WorkerProcessOptions): WorkerProcess {
  const args = [natsUrl, dataDir, partitions, holder, String(o.leaseTtlMs), String(o.snapshotEvents)];
  const env = {
    WORKER_STANDBY: o.warm === true ? 'warm' : 'cold',
    WORKER_DIE_AFTER_PUBLISH: String(o.dieAfterPublish ?? 0),
    WORKER_DIE_PAST_SNAPSHOT: o.diePastSnapshot === true ? '1' : '0',
    WORKER_CHECKPOINT_WRITER: o.checkpointWriter ?? 'inline',
  };
  return Object.assign(StatsChild.start<WorkerNodeStats>(`worker ${holder}`, 'test/support/worker-node-child.ts', args, env), { holder });
}
