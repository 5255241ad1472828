/**
 * One worker node of `npm run bench:takeover`, as a process of its own (engine/cluster/worker-node.ts
 * with the realistic set's user definitions, as `--role worker` runs it): the holder, or the standby
 * on an empty data dir. Until SIGTERM or SIGKILL it writes JSON lines on stdout, each with `t` (epoch
 * ms): `state` at every change of the node's state (its stats), `stats` every 250 ms (with the
 * longest event-loop delay since the last, `loopMaxMs`: the lease is renewed on that loop), and once the
 * node went active `caught-up` — the first batch after which its applied position reached the
 * resolved log's end as it was when it went active (the backlog since the previous holder died).
 *
 * usage: takeover-worker --nats URL --dir DIR --set 0-15 --holder NAME --lease-ttl MS --snapshot-ms MS [--standby warm|cold]
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { RESOLVED_LOG } from '../../engine/cluster/resolved-records.ts';
import { runWorkerNode, type WorkerNodeStats } from '../../engine/cluster/worker-node.ts';
import { openAppendLog } from '../../engine/log/open-event-log.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import { SPACE } from '../suite/config.ts';
import { clusterDefinitions } from './workers-workload.ts';

const { values } = parseArgs({
  options: {
    nats: { type: 'string' },
    dir: { type: 'string' },
    set: { type: 'string', default: '0-15' },
    partitions: { type: 'string', default: '16' },
    holder: { type: 'string' },
    'lease-ttl': { type: 'string', default: '5000' },
    'snapshot-ms': { type: 'string', default: '30000' },
    standby: { type: 'string', default: 'warm' },
    'checkpoint-writer': { type: 'string', default: 'inline' },
    /** a directory: the V8 CPU profile of the first event-loop stall over 2 s (the window of ≤ 5 s before it and the stall) is written there. */
    'profile-stalls': { type: 'string' },
  },
});
if (values.nats === undefined || values.dir === undefined || values.holder === undefined) throw new Error('usage: takeover-worker --nats URL --dir DIR --set 0-15 --holder NAME --lease-ttl MS --snapshot-ms MS');

const { plan } = compilePlan(clusterDefinitions(false));
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
const now = () => performance.timeOrigin + performance.now();
const line = (record: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ t: now(), ...record })}\n`);

// the resolved log's end when the node went active: what it must apply to be caught up
const resolved = await openAppendLog({ dataDir: values.dir, natsUrl: values.nats, log: RESOLVED_LOG });
let stats: Readonly<WorkerNodeStats> | undefined;
let state: string | undefined;
let target: number | undefined;
let caughtUp = false;
const probe = (point: string, position: number) => {
  if (point !== 'applied' || caughtUp || target === undefined || position < target) return;
  caughtUp = true;
  line({ type: 'caught-up', position, target });
};
// the longest the event loop was blocked since the last line (a lease is renewed on this loop)
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
// `--profile-stalls DIR`: the sampling profiler runs in windows of 5 s; the window holding the first
// stall over 2 s is kept (a stall ends before this loop can look: the profile then holds all of it)
const profiler = values['profile-stalls'] === undefined ? undefined : await stallProfiler(values['profile-stalls']);
const timer = setInterval(() => {
  if (stats !== undefined) line({ type: 'stats', stats, loopMaxMs: delay.max / 1e6 });
  void profiler?.(delay.max / 1e6);
  delay.reset();
}, 250);

async function stallProfiler(dir: string): Promise<(stallMs: number) => Promise<void>> {
  const session = new Session();
  session.connect();
  const post = <T>(method: string): Promise<T> => new Promise((resolve, reject) => session.post(method, (error, result) => (error === null ? resolve(result as T) : reject(error))));
  await post('Profiler.enable');
  await post('Profiler.start');
  let windowStart = Date.now();
  let busy = false;
  let done = false;
  return async (stallMs) => {
    if (done || busy) return;
    busy = true;
    try {
      if (stallMs > 2_000) {
        done = true;
        const { profile } = await post<{ profile: unknown }>('Profiler.stop');
        writeFileSync(join(dir, `stall-${values.holder}-${Math.round(stallMs)}ms.cpuprofile`), JSON.stringify(profile));
        line({ type: 'stall-profile', stallMs });
      } else if (Date.now() - windowStart > 5_000) {
        await post('Profiler.stop');
        await post('Profiler.start');
        windowStart = Date.now();
      }
    } finally {
      busy = false;
    }
  };
}
try {
  await runWorkerNode(
    {
      natsUrl: values.nats,
      dataDir: values.dir,
      partitions: values.set,
      partitionCount: Number(values.partitions),
      plans: new Map([[SPACE, plan]]),
      holder: values.holder,
      leaseTtlMs: Number(values['lease-ttl']),
      snapshotMs: Number(values['snapshot-ms']),
      warm: values.standby !== 'cold',
      checkpointWriter: values['checkpoint-writer'] === 'thread' ? 'thread' : 'inline',
      engine: { probe },
      onState: (s) => {
        // (the node hands over the same stats object each time: the state is compared by value)
        const entered = s.state !== state;
        state = s.state;
        stats = s;
        line({ type: 'state', stats: s });
        if (entered && s.state === 'active' && target === undefined) {
          void resolved.lastSeq().then((end) => {
            target = end;
            // (already there: nothing came while the set had no holder)
            if (s.position >= end) probe('applied', s.position);
          });
        }
      },
      onError: (error) => process.stderr.write(`worker ${values.holder}: ${(error as Error).stack ?? String(error)}\n`),
    },
    stop.signal,
  );
} finally {
  clearInterval(timer);
  if (stats !== undefined) line({ type: 'stats', stats });
  await resolved.close();
}
