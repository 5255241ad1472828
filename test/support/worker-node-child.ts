/**
 * A separate process for the takeover test: one worker node (engine/cluster/worker-node.ts) for a
 * partition set, the test's definitions in space `spa_bench`, until SIGTERM (a clean stop) or
 * SIGKILL. Its stats go to stdout as one JSON line at every change of state and every 50 ms.
 *
 * usage: worker-node-child <natsUrl> <dataDir> <partitions> <holder> <leaseTtlMs> <snapshotEvents>
 *
 * `WORKER_DIE_AFTER_PUBLISH=n`: the process kills itself (SIGKILL) at the n-th checkpoint with changes
 * it publishes while active — after the publish, before the position is committed.
 */
import { runWorkerNode, type WorkerNodeStats } from '../../engine/cluster/worker-node.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import { mixedDefinitions } from './engine-defs.ts';

const args = process.argv.slice(2);
if (args.length !== 6) throw new Error('usage: worker-node-child <natsUrl> <dataDir> <partitions> <holder> <leaseTtlMs> <snapshotEvents>');
const [natsUrl, dataDir, partitions, holder, ttl, snapshotEvents] = args as [string, string, string, string, string, string];
const { plan } = compilePlan(mixedDefinitions());
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
let stats: Readonly<WorkerNodeStats> | undefined;
const dieAfter = Number(process.env['WORKER_DIE_AFTER_PUBLISH'] ?? 0);
let published = 0;
const probe = (point: string, seq: number) => {
  if (dieAfter === 0 || point !== 'published' || seq === 0 || stats?.state !== 'active') return;
  if (++published === dieAfter) {
    report();
    process.kill(process.pid, 'SIGKILL');
  }
};
const report = () => stats !== undefined && process.stdout.write(`${JSON.stringify(stats)}\n`);
const timer = setInterval(report, 50);
try {
  await runWorkerNode(
    {
      natsUrl,
      dataDir,
      partitions,
      partitionCount: 16,
      plans: new Map([['spa_bench', plan]]),
      holder,
      leaseTtlMs: Number(ttl),
      snapshotMs: 600_000,
      snapshotEvents: Number(snapshotEvents),
      engine: { tickMs: 50, probe },
      onState: (s) => {
        stats = s;
        report();
      },
      onError: (error) => process.stderr.write(`worker ${holder}: ${(error as Error).stack ?? String(error)}\n`),
    },
    stop.signal,
  );
} finally {
  clearInterval(timer);
  report();
}
