/**
 * A worker process that takes its share of the partition sets (`--worker-partitions auto`): it
 * joins the live workers (worker-members.ts), and every `beatMs` computes which sets are its own
 * (set-assignment.ts, the same answer in every worker). It runs a worker node (worker-node.ts) for
 * each set it is given — a standby until the set's lease is free, then its holder — and stops the
 * node of each set it is no longer given: a clean stop (last checkpoint, snapshot, lease released),
 * so the set's new worker takes it over at once from that snapshot. A worker that dies is seen gone
 * after `ttlMs`; its sets' new workers wait out the leases' TTL and take the sets over.
 *
 * Warm standbys (`warm`, default false; `--standby warm`): for each set this worker is next in line for (the second
 * highest rendezvous weight: the worker the set goes to when its worker leaves) it runs a node that
 * does not contend for the lease but keeps the set warm (warm-standby.ts); when the set becomes its
 * own, that node starts contending and takes the set over from its copy. So each set is computed once
 * and kept warm once, and a worker holds about twice its share of state (its sets and as many warm).
 */
import { hostname } from 'node:os';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { sleep } from '../log/retry.ts';
import { assignSets, nextInLine, partitionSets } from './set-assignment.ts';
import { openMembersBucket, WorkerMembers } from './worker-members.ts';
import { WorkerNode, type WorkerNodeOptions, type WorkerNodeStats } from './worker-node.ts';

export interface WorkerGroupOptions extends Omit<WorkerNodeOptions, 'partitions' | 'onState'> {
  /** consecutive partitions per set (default 4): the unit that moves between workers. */
  readonly setSize?: number;
  /** how often this worker writes its entry and recomputes its sets (default 1000 ms). */
  readonly beatMs?: number;
  /** a worker whose entry stayed unchanged this long is gone (default 3 × beatMs). */
  readonly membersTtlMs?: number;
  /** told at every change: the live workers, and the state of each set this process runs. */
  readonly onState?: (stats: Readonly<WorkerGroupStats>) => void;
}

export interface WorkerGroupStats {
  readonly worker: string;
  live: string[];
  /** set name → its node's stats, for each set this process runs (standby or holder, or kept warm as next in line). */
  sets: Record<string, WorkerNodeStats>;
  /** sets this process was given then lost to another worker (stopped cleanly). */
  handedOver: number;
}

/** Runs until `signal` aborts: every set node stopped cleanly, then the entry deleted. */
export async function runWorkerGroup(o: WorkerGroupOptions, signal: AbortSignal): Promise<void> {
  const worker = o.holder ?? `${hostname()}:${process.pid}`;
  const count = o.partitionCount ?? 16;
  const sets = partitionSets(count, o.setSize ?? 4);
  const beatMs = o.beatMs ?? 1000;
  const stats: WorkerGroupStats = { worker, live: [], sets: {}, handedOver: 0 };
  const report = () => o.onState?.(stats);
  const running = new Map<string, { stop: AbortController; done: Promise<void>; node: WorkerNode; contends: boolean }>();
  /** per set, the last node started for it here (a set handed back starts after that one ended). */
  const stopping = new Map<string, Promise<void>>();
  let nc: NatsConnection | undefined;
  let members: WorkerMembers | undefined;
  try {
    nc = await connect({ servers: o.natsUrl.split(',').map((url) => url.trim()).filter((url) => url !== ''), name: `flock worker group ${worker}`, noAsyncTraces: true, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    members = new WorkerMembers(await openMembersBucket(nc, o.replicas === undefined ? {} : { replicas: o.replicas }), worker, o.membersTtlMs ?? 3 * beatMs);
    while (!signal.aborted) {
      try {
        stats.live = await members.beat();
        const mine = new Set([...assignSets(sets, stats.live)].filter(([, w]) => w === worker).map(([set]) => set));
        const warm = o.warm !== true ? new Set<string>() : new Set([...nextInLine(sets, stats.live)].filter(([, w]) => w === worker).map(([set]) => set));
        for (const [name, node] of running) {
          if (mine.has(name)) {
            // (next in line until now: the copy it kept takes the set over)
            if (!node.contends) {
              node.contends = true;
              node.node.contend();
            }
            continue;
          }
          if (warm.has(name) && !node.contends) continue;
          // (given to another worker: a clean stop hands the set over at once; a warm copy no longer needed: closed)
          running.delete(name);
          node.stop.abort();
          if (node.contends) stats.handedOver++;
          void node.done.finally(() => {
            delete stats.sets[name];
            report();
          });
        }
        for (const name of [...mine, ...warm]) {
          if (running.has(name)) continue;
          const contends = mine.has(name);
          const stop = new AbortController();
          const node = new WorkerNode({
            ...o,
            partitions: name.replace(/_/g, ','),
            holder: worker,
            contend: contends,
            onState: (s) => {
              stats.sets[name] = { ...s };
              report();
            },
          });
          // (a set handed back before its last stop finished waits for it: one node per set and process)
          const previous = stopping.get(name);
          const done = (async () => {
            await previous;
            if (!stop.signal.aborted) await node.run(stop.signal);
          })().catch((error: unknown) => o.onError?.(error));
          stopping.set(name, done);
          running.set(name, { stop, done, node, contends });
        }
        report();
      } catch (error) {
        // (NATS unreachable a moment: the nodes ride it out themselves; the group tries again next beat)
        o.onError?.(error);
      }
      await sleep(beatMs, signal);
    }
  } finally {
    for (const node of running.values()) node.stop.abort();
    await Promise.all([...running.values()].map((node) => node.done));
    await members?.leave().catch((error: unknown) => o.onError?.(error));
    await nc?.close();
  }
}
