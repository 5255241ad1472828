/**
 * A separate process for the rebalancing test: one worker group (engine/cluster/worker-group.ts,
 * `--worker-partitions auto`) over 16 partitions in sets of 4, the test's definitions in space
 * `spa_bench`, until SIGTERM (a clean stop) or SIGKILL. Its stats go to stdout as one JSON line at
 * every change and every 50 ms.
 *
 * usage: worker-group-child <natsUrl> <dataDir> <worker>
 */
import { runWorkerGroup, type WorkerGroupStats } from '../../engine/cluster/worker-group.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import { mixedDefinitions } from './engine-defs.ts';
import { GROUP_TIMING } from './worker-group-timing.ts';

const args = process.argv.slice(2);
if (args.length !== 3) throw new Error('usage: worker-group-child <natsUrl> <dataDir> <worker>');
const [natsUrl, dataDir, worker] = args as [string, string, string];
const { plan } = compilePlan(mixedDefinitions());
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
let stats: Readonly<WorkerGroupStats> | undefined;
const report = () => stats !== undefined && process.stdout.write(`${JSON.stringify(stats)}\n`);
const timer = setInterval(report, 50);
try {
  await runWorkerGroup(
    {
      natsUrl,
      dataDir,
      holder: worker,
      plans: new Map([['spa_bench', plan]]),
      ...GROUP_TIMING,
      onState: (s) => {
        stats = s;
        report();
      },
      onError: (error) => process.stderr.write(`worker ${worker}: ${(error as Error).stack ?? String(error)}\n`),
    },
    stop.signal,
  );
} finally {
  clearInterval(timer);
  report();
}
