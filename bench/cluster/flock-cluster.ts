/**
 * Flock on a local NATS cluster: the cluster started, Flock's streams created with R<nodes>, then
 * `api/main.ts` against every node's URL — one process (role all), or with `workers` the roles as
 * processes of their own: an ingest front, the identity stage, the workers and an API process
 * (docs/scale.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../engine/index.ts';
import { startNatsCluster, type NatsCluster } from './nats-cluster.ts';

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

export interface FlockClusterOptions {
  /** NATS nodes (3 for R3). */
  readonly nats: number;
  /** where node stores and Flock's data dir go; default a temp directory, deleted at stop. */
  readonly dir?: string | undefined;
  /** Flock's HTTP port (0 = any free port). */
  readonly port?: number;
  /** more arguments for `api/main.ts` (e.g. `--definitions-file x.json`); every process gets them. */
  readonly flockArgs?: readonly string[];
  /** 0 (default): one process, role all. N: an ingest front, an identity stage, N workers (the partitions dealt round-robin) and an API process (role api). */
  readonly workers?: number;
  /** with `workers`: each worker started with `--worker-partitions auto` (they share the partition sets among themselves, rebalancing as they come and go) instead of a fixed deal. */
  readonly autoWorkers?: boolean;
  /** partitions of the logs (default 16). */
  readonly partitions?: number;
  /** each JSON log line of Flock, as it comes. */
  readonly onFlockLine?: (line: Record<string, unknown>) => void;
  /** echo nats-server's log lines to stderr. */
  readonly echoNats?: boolean;
}

export interface FlockCluster {
  readonly nats: NatsCluster;
  readonly replicas: number;
  /** Flock's HTTP URL (with `workers`: the ingest front's). */
  readonly url: string;
  /** with `workers`: the API role's HTTP URL (the Profile API over the identity stage and the workers). */
  readonly apiUrl: string | undefined;
  readonly flock: ChildProcess;
  /** Flock's exit code (null after a signal), once it has exited. */
  readonly flockExited: Promise<number | null>;
  /** with `workers`: the identity stage, the workers and the API process (role processes), by name. */
  readonly roles: ReadonlyArray<RoleProcess>;
  /** starts role process `name` again with its arguments and data dir (after a kill), once it has exited. */
  respawn(name: string): Promise<RoleProcess>;
  /** SIGTERM to Flock, then the NATS nodes; waits for all of them. */
  stop(): Promise<void>;
}

/**
 * Creates Flock's streams (FLOCK_EVENTS, FLOCK_CHANGES and their `_META` KV buckets) with one
 * replica per node through the same code the service opens them with (engine/log/), so the service
 * finds them as they should be. Retries while JetStream places the first replicated assets.
 */
export async function createFlockStreams(urls: string, replicas: number, dataDir: string): Promise<void> {
  const stream = { replicas };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const events = await openEventLog({ dataDir, natsUrl: urls, stream });
      await events.close();
      const changes = await openAppendLog({ dataDir, natsUrl: urls, log: CHANGE_LOG, stream });
      await changes.close();
      return;
    } catch (error) {
      // a cluster with a fresh meta leader may still refuse placements ("insufficient resources") for a moment
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

export interface RoleProcess {
  readonly name: string;
  readonly dataDir: string;
  readonly args: readonly string[];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

/** Spawns `api/main.ts` with `args`; resolves with the process once it logs `ready` (a JSON line whose message it is). */
async function spawnFlock(args: readonly string[], ready: string, onLine: ((line: Record<string, unknown>) => void) | undefined, logFile: string): Promise<{ child: ChildProcess; exited: Promise<number | null>; line: Record<string, unknown> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'api/main.ts'), ...args], { cwd: repo, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  // (every line of the process, across its restarts, in the cluster's directory: to look into a run kept with --keep)
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    log.write(chunk);
  });
  child.stdout?.on('data', (chunk: Buffer | string) => log.write(chunk));
  child.once('close', (code, signal) => log.end(`${JSON.stringify({ exited: code ?? signal, at: new Date().toISOString() })}\n`));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffer = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const text = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          continue;
        }
        onLine?.(parsed);
        if (parsed['message'] === ready) resolve(parsed);
      }
    });
    void exited.then((code) => reject(new Error(`Flock (${args.join(' ')}) exited at start (code ${code})`)));
  });
  return { child, exited, line };
}

/** Starts the NATS cluster, creates the streams, starts Flock and waits until it listens. */
export async function startFlockCluster(options: FlockClusterOptions): Promise<FlockCluster> {
  const nats = await startNatsCluster({ nodes: options.nats, dir: options.dir, echo: options.echoNats ?? false });
  let flock: ChildProcess | undefined;
  const started: ChildProcess[] = [];
  try {
    await nats.metaLeader();
    const replicas = Math.min(options.nats, 5);
    const dataDir = join(nats.dir, 'flock-data');
    mkdirSync(dataDir, { recursive: true });
    await createFlockStreams(nats.urls, replicas, dataDir);
    const common = ['--nats-url', nats.urls, '--stream-replicas', String(replicas), '--partitions', String(options.partitions ?? 16), ...(options.flockArgs ?? [])];
    const workers = options.workers ?? 0;
    const front = await spawnFlock(['--port', String(options.port ?? 0), '--data-dir', dataDir, ...(workers > 0 ? ['--role', 'ingest'] : []), ...common], 'flock listening', options.onFlockLine, join(nats.dir, 'flock-front.log'));
    flock = front.child;
    const child = front.child;
    const flockExited = front.exited;
    const url = String(front.line['url']);
    const roles: RoleProcess[] = [];
    let apiUrl: string | undefined;
    const startRole = async (name: string, extra: readonly string[]): Promise<RoleProcess & { readonly url?: string }> => {
      const roleDir = join(nats.dir, `flock-${name}`);
      mkdirSync(roleDir, { recursive: true });
      const args = ['--data-dir', roleDir, ...extra, ...common];
      // (the API role is an HTTP server: ready once it listens)
      const p = await spawnFlock(args, extra.includes('api') ? 'flock listening' : 'flock role ready', options.onFlockLine, join(nats.dir, `flock-${name}.log`));
      started.push(p.child);
      const role = { name, dataDir: roleDir, args, child: p.child, exited: p.exited, extra, ...(typeof p.line['url'] === 'string' ? { url: p.line['url'] } : {}) };
      const at = roles.findIndex((r) => r.name === name);
      if (at >= 0) roles[at] = role;
      else roles.push(role);
      return role;
    };
    if (workers > 0) {
      await startRole('identity', ['--role', 'identity']);
      const partitions = options.partitions ?? 16;
      for (let w = 0; w < workers; w++) {
        const owned = Array.from({ length: partitions }, (_, p) => p).filter((p) => p % workers === w);
        await startRole(`worker-${w}`, ['--role', 'worker', '--worker-partitions', options.autoWorkers === true ? 'auto' : owned.join(',')]);
      }
      apiUrl = (await startRole('api', ['--role', 'api', '--port', '0'])).url;
    }
    return {
      nats,
      replicas,
      url,
      apiUrl,
      flock: child,
      flockExited,
      roles,
      async respawn(name) {
        const role = roles.find((r) => r.name === name);
        if (role === undefined) throw new Error(`no role process ${name}`);
        await role.exited;
        return startRole(name, (role as RoleProcess & { extra: readonly string[] }).extra);
      },
      async stop() {
        for (const p of [child, ...roles.map((r) => r.child)]) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
        await Promise.all([flockExited, ...roles.map((r) => r.exited)]);
        await nats.stop();
      },
    };
  } catch (error) {
    flock?.kill('SIGKILL');
    for (const p of started) p.kill('SIGKILL');
    await nats.stop();
    throw error;
  }
}
