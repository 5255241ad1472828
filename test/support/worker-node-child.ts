/**
 * A separate process for the takeover test: one worker node (engine/cluster/worker-node.ts) for a
 * partition set, the test's definitions in space `spa_bench` (user and account definitions), until SIGTERM (a clean stop) or
 * SIGKILL. Its stats go to stdout as one JSON line at every change of state and every 50 ms.
 *
 * usage: worker-node-child <natsUrl> <dataDir> <partitions> <holder> <leaseTtlMs> <snapshotEvents>
 *
 * `WORKER_CHECKPOINT_WRITER=thread`: the holder's checkpoints are committed in a writer thread.
 * `WORKER_STANDBY=warm`: while it waits for the lease the node keeps the set warm (warm-standby.ts);
 * otherwise it is a cold standby (it restores and replays at takeover: what takeover.test.ts checks).
 *
 * `WORKER_DIE_AFTER_PUBLISH=n`: the process kills itself (SIGKILL) at the n-th checkpoint with changes
 * it publishes while active — after the publish, before the position is committed.
 *
 * SIGUSR2: the process kills itself at its next checkpoint with changes it publishes while active
 * (after the publish, before the position is committed) — the same fault, at a moment the test picks.
 *
 * `WORKER_DIE_PAST_SNAPSHOT=1`: the process kills itself (SIGKILL) once it has uploaded a snapshot and
 * then published and committed changes of a checkpoint taken after it — its snapshot is then behind
 * what it published (its fence), the case a takeover must replay muted. (It dies at the next
 * checkpoint's `committed` probe: by then the previous checkpoint's publish and position are durable;
 * the second publish after the upload is counted, as the first may belong to a checkpoint the
 * snapshot already holds, and the position committed must be past the snapshot's: a checkpoint can
 * publish changes with no new position — time moved to an event that waits for a state.)
 */
import { runWorkerNode, type WorkerNodeStats } from '../../engine/cluster/worker-node.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import { accountDefinitions, mixedDefinitions } from './engine-defs.ts';

const args = process.argv.slice(2);
if (args.length !== 6) throw new Error('usage: worker-node-child <natsUrl> <dataDir> <partitions> <holder> <leaseTtlMs> <snapshotEvents>');
const [natsUrl, dataDir, partitions, holder, ttl, snapshotEvents] = args as [string, string, string, string, string, string];
const { plan } = compilePlan([...mixedDefinitions(), ...accountDefinitions()]);
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
let stats: Readonly<WorkerNodeStats> | undefined;
const dieAfter = Number(process.env['WORKER_DIE_AFTER_PUBLISH'] ?? 0);
const diePastSnapshot = process.env['WORKER_DIE_PAST_SNAPSHOT'] === '1';
let published = 0;
/** publishes of changes since the last snapshot upload this process saw (WORKER_DIE_PAST_SNAPSHOT). */
let publishedSinceSnapshot = 0;
let snapshotsSeen = 0;
const die = () => {
  report();
  process.kill(process.pid, 'SIGKILL');
};
let dieAtNextPublish = false;
process.on('SIGUSR2', () => (dieAtNextPublish = true));
const probe = (point: string, seq: number) => {
  if (stats?.state !== 'active') return;
  if (dieAtNextPublish && point === 'published' && seq !== 0) die();
  if (diePastSnapshot && stats.snapshots > 0) {
    if (stats.snapshots !== snapshotsSeen) {
      snapshotsSeen = stats.snapshots;
      publishedSinceSnapshot = 0;
    }
    if (point === 'committed' && publishedSinceSnapshot >= 2 && stats.checkpointed > stats.snapshotPosition) die();
    if (point === 'published' && seq !== 0) publishedSinceSnapshot++;
  }
  if (dieAfter > 0 && point === 'published' && seq !== 0 && ++published === dieAfter) die();
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
      warm: process.env['WORKER_STANDBY'] === 'warm',
      checkpointWriter: process.env['WORKER_CHECKPOINT_WRITER'] === 'thread' ? 'thread' : 'inline',
      snapshotMs: 600_000,
      snapshotEvents: Number(snapshotEvents),
      // (the test's events are historical — received months ago — so the worker is catching up throughout
      // and checkpoints by count alone: small ones, so it publishes and commits as the load goes)
      engine: { tickMs: 50, probe, catchUpCheckpointEvents: 100 },
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
