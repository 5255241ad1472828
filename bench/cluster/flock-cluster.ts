/** Flock on a local NATS cluster: the cluster started, Flock's streams created with R<nodes>, then `api/main.ts` against every node's URL. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
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
  /** more arguments for `api/main.ts` (e.g. `--definitions-file x.json`). */
  readonly flockArgs?: readonly string[];
  /** each JSON log line of Flock, as it comes. */
  readonly onFlockLine?: (line: Record<string, unknown>) => void;
  /** echo nats-server's log lines to stderr. */
  readonly echoNats?: boolean;
}

export interface FlockCluster {
  readonly nats: NatsCluster;
  readonly replicas: number;
  /** Flock's HTTP URL. */
  readonly url: string;
  readonly flock: ChildProcess;
  /** Flock's exit code (null after a signal), once it has exited. */
  readonly flockExited: Promise<number | null>;
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

/** Starts the NATS cluster, creates the streams, starts Flock and waits until it listens. */
export async function startFlockCluster(options: FlockClusterOptions): Promise<FlockCluster> {
  const nats = await startNatsCluster({ nodes: options.nats, dir: options.dir, echo: options.echoNats ?? false });
  let flock: ChildProcess | undefined;
  try {
    await nats.metaLeader();
    const replicas = Math.min(options.nats, 5);
    const dataDir = join(nats.dir, 'flock-data');
    mkdirSync(dataDir, { recursive: true });
    await createFlockStreams(nats.urls, replicas, dataDir);
    const args = [
      '--import',
      'tsx',
      join(repo, 'api/main.ts'),
      '--port',
      String(options.port ?? 0),
      '--data-dir',
      dataDir,
      '--nats-url',
      nats.urls,
      '--stream-replicas',
      String(replicas),
      ...(options.flockArgs ?? []),
    ];
    const child = spawn(process.execPath, args, { cwd: repo, env: { ...process.env }, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    flock = child;
    const flockExited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      let buffer = '';
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const text = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          let line: Record<string, unknown>;
          try {
            line = JSON.parse(text) as Record<string, unknown>;
          } catch {
            continue;
          }
          options.onFlockLine?.(line);
          if (line['message'] === 'flock listening') resolve(String(line['url']));
        }
      });
      void flockExited.then((code) => reject(new Error(`Flock exited at start (code ${code})`)));
    });
    return {
      nats,
      replicas,
      url,
      flock: child,
      flockExited,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await flockExited;
        await nats.stop();
      },
    };
  } catch (error) {
    flock?.kill('SIGKILL');
    await nats.stop();
    throw error;
  }
}
