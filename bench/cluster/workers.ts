/**
 * `npm run bench:cluster [-- --events 100000] [--accounts]`: what scale-out costs and gains on this machine. On a
 * private nats-server: the events into FLOCK_EVENTS, the identity stage over them (in this process),
 * then the workers as processes of their own over the resolved log — 1 worker with all 16
 * partitions, then 2 workers with 8 each, at the same time. Reported: CPU seconds per event summed
 * over the workers (the work per event must stay flat: target 2 workers within 15 % of 1), the
 * throughput ratio (target ≥ 1.6× when CPU allows: 2 cores here, shared with nats-server), the
 * identity stage's own rate, and nats-server's CPU share. `--accounts`: users belong to accounts and
 * the realistic set's account definitions run too — each account where its partition is, over
 * shadows of its users (what the shadows cost shows in the CPU per event of 2 workers against 1).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { IdentityGraph } from '../../engine/identity/identity-graph.ts';
import { openAppendLog, openEventLog } from '../../engine/log/open-event-log.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import { IdentityStage } from '../../engine/cluster/identity-stage.ts';
import { RESOLVED_LOG } from '../../engine/cluster/resolved-records.ts';
import { startNatsCluster } from './nats-cluster.ts';
import { writeResults, type ResultRow } from '../results.ts';
import { clusterEvents } from './workers-workload.ts';

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const { values } = parseArgs({ options: { events: { type: 'string', default: '100000' }, accounts: { type: 'boolean', default: false } } });
const EVENTS = Number(values.events);
const ACCOUNTS = values.accounts;
const PARTITIONS = 16;
const started = performance.now();
const loadAtStart = loadavg()[0]!;
const say = (text: string) => process.stdout.write(`${text}\n`);

interface WorkerResult {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly events: number;
  readonly changes: number;
  readonly merges: number;
  /** profiles in the worker's memory at the end (its own and its shadows). */
  readonly profiles: number;
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function runWorker(nats: string, dir: string, owned: readonly number[], until: number, changes: string, single = false): Promise<WorkerResult> {
  const args = ['--import', 'tsx', join(repo, 'bench/cluster/worker-process.ts'), '--nats', nats, '--dir', dir, '--owned', owned.join(','), '--partitions', String(PARTITIONS), '--until', String(until), '--changes', changes, ...(single ? ['--single'] : []), ...(ACCOUNTS ? ['--accounts'] : [])];
  const child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || line === '') reject(new Error(`worker exited with ${code}: ${out}`));
      else resolve(JSON.parse(line) as WorkerResult);
    }),
  );
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'flock-bench-cluster-'));
  const cluster = await startNatsCluster({ nodes: 1, dir: join(root, 'nats') });
  const natsPid = cluster.nodes[0]!.pid;
  try {
    const nats = cluster.urls;
    say(`generating ${EVENTS.toLocaleString('en-US')} events (identity journeys${ACCOUNTS ? ', accounts' : ''})…`);
    const events = clusterEvents(EVENTS, ACCOUNTS);
    const eventLog = await openEventLog({ dataDir: root, natsUrl: nats });
    for (let i = 0; i < events.length; i += 5000) await eventLog.append(events.slice(i, i + 5000));
    const end = await eventLog.lastSeq();

    say('identity stage…');
    const resolvedLog = await openAppendLog({ dataDir: root, natsUrl: nats, log: RESOLVED_LOG });
    const stageStore = CheckpointStore.open(join(root, 'identity'));
    const stage = new IdentityStage({ eventLog, resolvedLog, store: stageStore, resolver: new IdentityGraph({ source: stageStore }), partitions: PARTITIONS, time: 'event', tickMs: 50 });
    const stageCpu0 = process.cpuUsage();
    const stageNats0 = cpuOf(natsPid);
    const t0 = performance.now();
    const stop = new AbortController();
    const running = stage.run(stop.signal);
    while (stage.position < end) await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    await running;
    const stageSeconds = (performance.now() - t0) / 1000;
    const stageCpu = process.cpuUsage(stageCpu0);
    const stageNats = cpuOf(natsPid) - stageNats0;
    const resolvedEnd = await resolvedLog.lastSeq();
    await stageStore.close();
    await eventLog.close();
    say(`  ${stage.stats.events} events, ${stage.stats.handovers} handovers, ${stage.stats.shadowCopies} copies to accounts' partitions, ${stage.stats.stateTransfers} state transfers in ${stageSeconds.toFixed(1)} s`);

    say('one process over the raw log (the baseline)…');
    const single0 = cpuOf(natsPid);
    const baseline = await runWorker(nats, join(root, 'single'), [], end, 'FLOCK_CHANGES_SINGLE', true);
    const singleNats = cpuOf(natsPid) - single0;
    say(`  ${baseline.events} events in ${baseline.seconds.toFixed(1)} s, ${baseline.cpuSeconds.toFixed(1)} CPU s`);
    const runs: Array<{ workers: number; results: WorkerResult[]; wall: number; natsCpu: number }> = [];
    for (const workers of [1, 2]) {
      say(`${workers} worker(s)…`);
      const nats0 = cpuOf(natsPid);
      const w0 = performance.now();
      // (the transfers a run appends grow the log: each worker runs to the end as it was, plus its own run's state records)
      const results = await Promise.all(
        Array.from({ length: workers }, (_, w) => {
          const owned = Array.from({ length: PARTITIONS }, (_, p) => p).filter((p) => p % workers === w);
          return runWorker(nats, join(root, `k${workers}-w${w}`), owned, resolvedEnd, `FLOCK_CHANGES_K${workers}`);
        }),
      );
      runs.push({ workers, results, wall: (performance.now() - w0) / 1000, natsCpu: cpuOf(natsPid) - nats0 });
      for (const r of results) say(`  ${r.events} events in ${r.seconds.toFixed(1)} s, ${r.cpuSeconds.toFixed(1)} CPU s, ${r.profiles} profiles`);
    }
    await resolvedLog.close();

    const [one, two] = runs as [(typeof runs)[0], (typeof runs)[0]];
    const cpu = (r: (typeof runs)[0]) => r.results.reduce((s, x) => s + x.cpuSeconds, 0);
    const applied = (r: (typeof runs)[0]) => r.results.reduce((s, x) => s + x.events, 0);
    const slowest = (r: (typeof runs)[0]) => Math.max(...r.results.map((x) => x.seconds));
    const perEvent = (r: (typeof runs)[0]) => (cpu(r) / applied(r)) * 1e6;
    const rate = (r: (typeof runs)[0]) => applied(r) / slowest(r);
    const rows: ResultRow[] = [
      { measurement: 'one process over the raw log (identity inline): events/s', value: Math.round(baseline.events / baseline.seconds).toLocaleString('en-US'), note: `${baseline.cpuSeconds.toFixed(1)} CPU s = ${((baseline.cpuSeconds / baseline.events) * 1e6).toFixed(0)} µs per event; nats-server ${singleNats.toFixed(1)} CPU s` },
      { measurement: 'identity stage: events/s (one process, all partitions)', value: Math.round(stage.stats.events / stageSeconds).toLocaleString('en-US'), note: `${stage.stats.handovers} handovers${ACCOUNTS ? `, ${stage.stats.shadowCopies} event copies to accounts' partitions, ${stage.stats.stateTransfers} state transfers` : ''}; ${((stageCpu.user + stageCpu.system) / 1e6).toFixed(1)} CPU s, nats-server ${stageNats.toFixed(1)} CPU s` },
      { measurement: '1 worker (16 partitions): events/s', value: Math.round(rate(one)).toLocaleString('en-US'), note: `${applied(one)} events in ${slowest(one).toFixed(1)} s; ${cpu(one).toFixed(1)} CPU s; nats-server ${one.natsCpu.toFixed(1)} CPU s` },
      { measurement: '2 workers (8 partitions each, at once): events/s', value: Math.round(rate(two)).toLocaleString('en-US'), note: `${applied(two)} events (${two.results.map((r) => r.events).join(' + ')}: the users' skew), slowest ${slowest(two).toFixed(1)} s; ${cpu(two).toFixed(1)} CPU s; nats-server ${two.natsCpu.toFixed(1)} CPU s${ACCOUNTS ? `; profiles held ${two.results.map((r) => r.profiles).join(' + ')} (1 worker: ${one.results[0]!.profiles}): the shadows` : ''}` },
      { measurement: 'throughput, 2 workers ÷ 1', value: `${(rate(two) / rate(one)).toFixed(2)}×`, note: `target ≥ 1.6× when CPU allows; cores busy: 1 worker ${((cpu(one) + one.natsCpu) / one.wall).toFixed(2)}, 2 workers ${((cpu(two) + two.natsCpu) / two.wall).toFixed(2)} of 2` },
      { measurement: 'CPU µs per event: 1 worker / 2 workers (summed)', value: `${perEvent(one).toFixed(0)} / ${perEvent(two).toFixed(0)}`, note: `ratio ${(perEvent(two) / perEvent(one)).toFixed(2)} (target ≤ 1.15)` },
    ];
    for (const r of rows) say(`${r.measurement}: ${r.value}  ${r.note ?? ''}`);
    writeResults(ACCOUNTS ? 'cluster-workers-accounts' : 'cluster-workers', `Scale-out: identity stage and partitioned workers${ACCOUNTS ? ', with accounts' : ''} (npm run bench:cluster${ACCOUNTS ? ' -- --accounts' : ''})`, rows, {
      command: `npm run bench:cluster -- --events ${EVENTS}${ACCOUNTS ? ' --accounts' : ''}`,
      seconds: (performance.now() - started) / 1000,
      details: [
        `Load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end: the machine is shared, and "cores busy" shows how much of it the workers got (waiting for CPU, or for a state transfer from the other worker, is not busy).`,
        ACCOUNTS
          ? `${EVENTS.toLocaleString('en-US')} events with identity journeys (merges) and accounts (2 % group calls; a signed-in user belongs to one account of about 12 users), the whole realistic set (16 account audiences and 4 account traits among its 120 definitions); one nats-server (R1) on loopback; 16 resolved partitions; workers are processes of their own, each with its own LMDB store and a JetStream change log. An account is computed where its partition is, over shadows of its users: their events are applied there too.`
          : `${EVENTS.toLocaleString('en-US')} events with identity journeys (merges), the realistic set's user-level definitions; one nats-server (R1) on loopback; 16 resolved partitions; workers are processes of their own, each with its own LMDB store and a JetStream change log.`,
      ],
    });
  } finally {
    await cluster.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
