/** `npm run cluster -- --nats 3 --workers 2`: Flock on a loopback NATS cluster with R3 streams, its URLs printed, stopped cleanly on Ctrl-C. */
import { parseArgs } from 'node:util';
import { startFlockCluster } from './flock-cluster.ts';

const HELP = `npm run cluster -- [--nats 3] [--workers N] [--dir DIR] [--port 8080] [-- flock flags...]

Starts on loopback a NATS cluster of --nats nodes (JetStream, one store per node under --dir or a
temp directory), creates Flock's streams with one replica per node (R3 on 3 nodes), then starts
Flock (api/main.ts) against every node's URL:
  --workers 0 (default)  one process, role all: ingest, identity, engine over every partition, API;
  --workers N            the distributed mode: an ingest front (the tracking API), the identity stage,
                         N workers (the 16 partitions dealt round-robin) and an API process (the
                         Profile API, read from the identity stage and the workers), each a process.
Pass the definitions after --, e.g. -- --definitions-file defs.json (every process reads it).
Ctrl-C stops Flock's processes, then the nodes. docs/scale.md describes the production layout.`;

const parsed = parseArgs({
  options: {
    nats: { type: 'string', default: '3' },
    workers: { type: 'string', default: '0' },
    dir: { type: 'string' },
    port: { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  allowPositionals: true,
  strict: true,
});

function count(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`--${name} must be an integer from ${min} to ${max}, not "${text}"\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  if (parsed.values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const nats = count('nats', parsed.values.nats, 1, 5);
  const workers = count('workers', parsed.values.workers, 0, 64);
  const port = count('port', parsed.values.port, 0, 65_535);
  const say = (text: string) => process.stdout.write(`${text}\n`);
  say(`starting a ${nats}-node NATS cluster on loopback…`);
  const cluster = await startFlockCluster({
    nats,
    dir: parsed.values.dir,
    port,
    workers,
    flockArgs: parsed.positionals,
    onFlockLine: (line) => {
      const level = String(line['level'] ?? 'info');
      if (level === 'warn' || level === 'error') say(`flock ${level}: ${String(line['message'])}`);
    },
  });
  say('');
  say(`NATS cluster (${nats} node${nats === 1 ? '' : 's'}, JetStream, streams FLOCK_EVENTS and FLOCK_CHANGES with R${cluster.replicas}):`);
  for (const node of cluster.nats.nodes) say(`  ${node.name}  client ${node.url}  monitoring ${node.monitorUrl}  route port ${node.routePort}`);
  say(`  stores under ${cluster.nats.dir}`);
  say('');
  if (workers === 0) say(`Flock (one process, role "all": ingest, identity, engine over every partition, API): ${cluster.url}`);
  else {
    say(`Flock, distributed: the ingest front (tracking API) ${cluster.url}`);
    say(`  the API role (tracking and Profile API; management: with --workers 0) ${cluster.apiUrl}`);
    for (const r of cluster.roles) {
      const owned = r.args[r.args.indexOf('--worker-partitions') + 1];
      say(`  ${r.name.padEnd(10)} pid ${r.child.pid}${r.args.includes('--worker-partitions') ? `  partitions ${owned}` : ''}  data ${r.dataDir}`);
    }
  }
  say(`  --nats-url ${cluster.nats.urls} --stream-replicas ${cluster.replicas}`);
  say('');
  say('Ctrl-C stops Flock, then the NATS nodes.');
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: stopping Flock, then NATS…`);
    cluster.stop().then(
      () => {
        say('stopped.');
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  void cluster.flockExited.then((code) => {
    if (stopping) return;
    process.stderr.write(`Flock exited (code ${code}); stopping NATS.\n`);
    stopping = true;
    void cluster.nats.stop().then(() => process.exit(1));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
