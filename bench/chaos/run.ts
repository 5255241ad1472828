/** `npm run chaos`: the chaos harness (bench/README.md): kills, nats-server restarts, then the table; exits non-zero on any loss, doubling or difference. */
import { parseArgs } from 'node:util';
import { findNatsServer } from '../../test/support/nats-server.ts';
import { runChaos, type ChaosReport, type LogKind } from './chaos.ts';
import { clusterFailures, formatClusterReport, runClusterChaos, type ClusterChaosReport } from './cluster-chaos.ts';
import { failures, formatReport } from './report.ts';
import { writeSection } from '../results.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    events: { type: 'string', default: '200000' },
    kills: { type: 'string', default: '20' },
    'nats-restarts': { type: 'string', default: '3' },
    log: { type: 'string', default: 'all' },
    'cluster-events': { type: 'string', default: '50000' },
    'cluster-kills': { type: 'string', default: '6' },
    keep: { type: 'boolean', default: false },
    'no-destination': { type: 'boolean', default: false },
    'no-results': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help === true) {
  process.stdout.write('npm run chaos -- [--seed 1] [--events 200000] [--kills 20] [--nats-restarts 3] [--log embedded|jetstream|both|cluster|all] [--cluster-events 50000] [--cluster-kills 6] [--keep] [--no-destination] [--no-results]\n');
  process.exit(0);
}
const number = (name: string, text: string, min: number): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${name} must be an integer ≥ ${min}\n`);
    process.exit(2);
  }
  return n;
};
const logs: LogKind[] = values.log === 'both' || values.log === 'all' ? ['embedded', 'jetstream'] : values.log === 'embedded' || values.log === 'jetstream' ? [values.log] : [];
/** the distributed mode's run (cluster-chaos.ts): with `--log cluster` or `all`. */
const withCluster = values.log === 'cluster' || values.log === 'all';
if (logs.length === 0 && !withCluster) {
  process.stderr.write('--log is embedded, jetstream, both, cluster or all\n');
  process.exit(2);
}
if ((logs.includes('jetstream') || withCluster) && findNatsServer() === undefined) {
  process.stderr.write('nats-server not found on PATH or in /usr/sbin (apt-get install nats-server)\n');
  process.exit(2);
}
const options = {
  seed: number('seed', values.seed, 0),
  events: number('events', values.events, 100),
  kills: number('kills', values.kills, 0),
  natsRestarts: number('nats-restarts', values['nats-restarts'], 0),
  keep: values.keep === true,
  destination: values['no-destination'] !== true,
  say: (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`),
};
const started = performance.now();
const reports: ChaosReport[] = [];
for (const log of logs) reports.push(await runChaos(log, options));
let cluster: ClusterChaosReport | undefined;
if (withCluster) {
  cluster = await runClusterChaos({ seed: options.seed, events: number('cluster-events', values['cluster-events'], 100), kills: number('cluster-kills', values['cluster-kills'], 0), keep: options.keep, say: options.say });
}
const tables = [...(reports.length > 0 ? [formatReport(reports)] : []), ...(cluster === undefined ? [] : [formatClusterReport(cluster)])];
process.stdout.write(`\n${tables.join('\n\n')}\n\n`);
const failed = [...reports.flatMap(failures), ...(cluster === undefined ? [] : clusterFailures(cluster))];
for (const f of failed) process.stdout.write(`FAIL ${f}\n`);
process.stdout.write(failed.length === 0 ? 'PASS: nothing lost, nothing doubled, no difference from the uninterrupted run\n' : '');
if (values['no-results'] !== true) {
  writeSection('chaos', 'Chaos: kill -9 and nats-server restarts against an uninterrupted run (`npm run chaos`)', [tables.join('\n\n'), '', failed.length === 0 ? 'PASS: nothing lost, nothing doubled, no difference from the uninterrupted run.' : failed.map((f) => `FAIL ${f}`).join('  \n')], {
    command: `npm run chaos -- --seed ${options.seed} --events ${options.events} --kills ${options.kills} --nats-restarts ${options.natsRestarts} --log ${values.log}${withCluster ? ` --cluster-events ${values['cluster-events']} --cluster-kills ${values['cluster-kills']}` : ''}`,
    seconds: (performance.now() - started) / 1000,
    details: [
      'Per log: a seeded load over HTTP with Segment-style retries while Flock (`--clock event`) is killed with `kill -9` at random points and at every deliberate FLOCK_FAULT point, and nats-server is restarted (TERM and kill -9); the change log is compared id for id with an uninterrupted run over the same log; then a backfill phase (killed during the backfill) and a wall-clock phase (killed during catch-up and under live load). In phase 1 a webhook destination delivers to a seeded misbehaving receiver (slow, 503, 429 with Retry-After, dropped connections) through every kill, one of them inside delivery (FLOCK_FAULT delivered: acknowledged, cursor not committed); its rows check what the receiver got against the change log. The cluster column: the distributed mode (an ingest front, the identity stage, two workers with --worker-partitions auto, each a process) under the same kind of load, workers and the identity stage killed with kill -9 and started again, its change log compared id for id with one process over the same raw log. bench/README.md says what each row checks.',
    ],
  });
}
process.exitCode = failed.length === 0 ? 0 : 1;
