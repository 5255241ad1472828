/**
 * A separate process for the identity takeover test: one identity node (engine/cluster/identity-node.ts)
 * on event time, until SIGTERM (a clean stop) or SIGKILL. Its stats go to stdout as one JSON line at
 * every change of state and every 50 ms.
 *
 * usage: identity-node-child <natsUrl> <dataDir> <holder> <leaseTtlMs> <snapshotMs>
 */
import { runIdentityNode, type IdentityNodeStats } from '../../engine/cluster/identity-node.ts';

const args = process.argv.slice(2);
if (args.length !== 5) throw new Error('usage: identity-node-child <natsUrl> <dataDir> <holder> <leaseTtlMs> <snapshotMs>');
const [natsUrl, dataDir, holder, ttl, snapshotMs] = args as [string, string, string, string, string];
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
let stats: Readonly<IdentityNodeStats> | undefined;
const report = () => stats !== undefined && process.stdout.write(`${JSON.stringify(stats)}\n`);
const timer = setInterval(report, 50);
try {
  await runIdentityNode(
    {
      natsUrl,
      dataDir,
      partitions: 16,
      rules: new Map(),
      clock: 'event',
      tickMs: 50,
      holder,
      leaseTtlMs: Number(ttl),
      snapshotMs: Number(snapshotMs),
      onState: (s) => {
        stats = s;
        report();
      },
      onError: (error) => process.stderr.write(`identity ${holder}: ${(error as Error).stack ?? String(error)}\n`),
    },
    stop.signal,
  );
} finally {
  clearInterval(timer);
  report();
}
