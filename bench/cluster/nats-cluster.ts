/** Starts an N-node nats-server cluster with JetStream on loopback (own store per node, routes on free ports), waits for its meta leader, and can kill -9 a node or stop them all. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServer, freePort, NatsServerError } from '../../test/support/nats-server.ts';

export interface ClusterNode {
  readonly name: string;
  /** client URL, `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** HTTP monitoring URL (`/varz`, `/jsz`, `/routez`). */
  readonly monitorUrl: string;
  readonly routePort: number;
  readonly storeDir: string;
  /** the nats-server process id (its CPU time is read off /proc by the benchmarks). */
  readonly pid: number;
  /** SIGKILL: a crash with no shutdown work. */
  kill(): Promise<void>;
  /** whether the process is still running. */
  running(): boolean;
}

export interface NatsCluster {
  readonly nodes: readonly ClusterNode[];
  /** every node's client URL, comma-separated (what `--nats-url` takes). */
  readonly urls: string;
  readonly dir: string;
  /** the meta leader's server name, once there is one (waits up to `timeoutMs`). */
  metaLeader(timeoutMs?: number): Promise<string>;
  /** SIGTERM to every running node, then waits for them to exit; deletes the stores when the directory was a temp one. */
  stop(): Promise<void>;
}

export interface NatsClusterOptions {
  readonly nodes?: number;
  /** parent directory of the node stores; default a new temp directory (deleted at stop). */
  readonly dir?: string | undefined;
  readonly binary?: string | undefined;
  /** print each node's stderr lines with its name (the cluster command does; tests do not). */
  readonly echo?: boolean;
  /** JetStream's file store limit per node (default `8GB`; bench:takeover's 1M-profile snapshots need more). */
  readonly maxFileStore?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts the cluster; resolves once every node accepts clients (not yet once JetStream has a meta leader: see `metaLeader`). */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const binary = options.binary ?? findNatsServer();
  if (binary === undefined) throw new NatsServerError('nats-server binary not found on PATH or in /usr/sbin');
  const count = options.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > 9) throw new RangeError(`a cluster has 1 to 9 nodes, not ${count}`);
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'flock-cluster-'));
  mkdirSync(dir, { recursive: true });
  const ports = await distinctPorts(count * 3);
  const plan = Array.from({ length: count }, (_, i) => ({
    name: `flock-n${i + 1}`,
    client: ports[i * 3] as number,
    monitor: ports[i * 3 + 1] as number,
    route: ports[i * 3 + 2] as number,
  }));
  const children: ChildProcess[] = [];
  const logs: string[] = plan.map(() => '');
  const exits: Promise<void>[] = [];
  for (const [i, node] of plan.entries()) {
    const storeDir = join(dir, node.name);
    mkdirSync(storeDir, { recursive: true });
    const routes = plan.filter((other) => other !== node).map((other) => `nats-route://127.0.0.1:${other.route}`);
    const config = join(storeDir, 'server.conf');
    writeFileSync(
      config,
      [
        `server_name: ${node.name}`,
        `listen: "127.0.0.1:${node.client}"`,
        `http: "127.0.0.1:${node.monitor}"`,
        'jetstream {',
        `  store_dir: "${join(storeDir, 'js')}"`,
        '  max_memory_store: 256MB',
        `  max_file_store: ${options.maxFileStore ?? '8GB'}`,
        '}',
        // a single node is a plain server: JetStream clustering needs a cluster block with routes
        ...(count === 1
          ? []
          : ['cluster {', '  name: flock', `  listen: "127.0.0.1:${node.route}"`, `  routes: [${routes.map((r) => `"${r}"`).join(', ')}]`, '}']),
        '',
      ].join('\n'),
    );
    // a process group of its own: a Ctrl-C in the terminal reaches the launcher, which stops Flock before NATS
    const child = spawn(binary, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    children.push(child);
    exits.push(new Promise((resolve) => child.once('exit', () => resolve())));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      logs[i] = ((logs[i] ?? '') + chunk).slice(-8000);
      if (options.echo === true) for (const line of chunk.split('\n')) if (line.trim() !== '') process.stderr.write(`[${node.name}] ${line}\n`);
    });
  }
  const alive = (i: number): boolean => {
    const child = children[i] as ChildProcess;
    return child.exitCode === null && child.signalCode === null;
  };
  const stopAll = async (signal: NodeJS.Signals): Promise<void> => {
    for (const [i, child] of children.entries()) if (alive(i)) child.kill(signal);
    await Promise.all(exits);
  };
  // every node up: its monitoring port answers /healthz?js-server-only (server up, JetStream enabled)
  const deadline = Date.now() + 20_000;
  for (const [i, node] of plan.entries()) {
    for (;;) {
      if (!alive(i)) {
        await stopAll('SIGKILL');
        if (ownDir) rmSync(dir, { recursive: true, force: true });
        throw new NatsServerError(`nats-server ${node.name} exited at start:\n${logs[i]}`);
      }
      if ((logs[i] ?? '').includes('Server is ready')) break;
      if (Date.now() > deadline) {
        await stopAll('SIGKILL');
        if (ownDir) rmSync(dir, { recursive: true, force: true });
        throw new NatsServerError(`nats-server ${node.name} did not become ready:\n${logs[i]}`);
      }
      await sleep(20);
    }
  }
  const nodes: ClusterNode[] = plan.map((node, i) => ({
    name: node.name,
    url: `nats://127.0.0.1:${node.client}`,
    monitorUrl: `http://127.0.0.1:${node.monitor}`,
    routePort: node.route,
    storeDir: join(dir, node.name),
    pid: children[i]!.pid!,
    running: () => alive(i),
    async kill() {
      if (!alive(i)) return;
      (children[i] as ChildProcess).kill('SIGKILL');
      await exits[i];
    },
  }));
  return {
    nodes,
    urls: nodes.map((n) => n.url).join(','),
    dir,
    async metaLeader(timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        for (const node of nodes) {
          if (!node.running()) continue;
          try {
            const jsz = (await (await fetch(`${node.monitorUrl}/jsz`)).json()) as { meta_cluster?: { leader?: string }; config?: unknown };
            // a single server has no meta cluster: it leads itself once JetStream is on
            if (nodes.length === 1 && jsz.config !== undefined) return node.name;
            const leader = jsz.meta_cluster?.leader;
            if (typeof leader === 'string' && leader !== '') return leader;
          } catch {
            // (not answering yet)
          }
        }
        if (Date.now() > until) throw new NatsServerError(`the NATS cluster has no JetStream meta leader after ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    async stop() {
      await stopAll('SIGTERM');
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `count` distinct free loopback ports (never 4222). */
async function distinctPorts(count: number): Promise<number[]> {
  const out = new Set<number>();
  while (out.size < count) out.add(await freePort());
  return [...out];
}
