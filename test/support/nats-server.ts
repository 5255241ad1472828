/** Starts a private, loopback-only nats-server with JetStream for tests and benches, and can stop, kill -9 and restart it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export class NatsServerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NatsServerError';
  }
}

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** graceful stop (SIGTERM), waits for the process to exit. */
  stop(): Promise<void>;
  /** SIGKILL: no shutdown work, like a crash. */
  kill(): Promise<void>;
  /** starts again on the same port and store (stopping first when running). */
  restart(): Promise<void>;
  /** stops the server and deletes its store. */
  dispose(): Promise<void>;
}

/** The nats-server binary on PATH or in /usr/sbin, or undefined. */
export function findNatsServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, 'nats-server');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Whether JetStream tests can run here. Without a binary, CI must fail loudly (a green run that
 * silently skipped JetStream would hide a missing install step) while a developer gets a notice.
 */
export function natsServerAvailable(suite: string): boolean {
  if (findNatsServer() !== undefined) return true;
  const message = `nats-server not found on PATH or in /usr/sbin: ${suite} needs it (apt-get install nats-server)`;
  if (process.env.CI === 'true') throw new NatsServerError(message);
  console.log(`SKIPPED ${suite}: ${message}`);
  return false;
}

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
      });
    });
    // 4222 is the default port of any nats-server a developer may run; never touch it.
    if (port !== 4222) return port;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('data', (chunk) => {
      socket.destroy();
      resolve(chunk.toString().startsWith('INFO'));
    });
    socket.once('error', () => resolve(false));
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export async function startNatsServer(options: { readonly binary?: string } = {}): Promise<NatsServer> {
  const binary = options.binary ?? findNatsServer();
  if (binary === undefined) throw new NatsServerError('nats-server binary not found');
  const storeDir = mkdtempSync(join(tmpdir(), 'flock-nats-'));
  let port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';

  const launch = async (): Promise<void> => {
    const config = join(storeDir, 'server.conf');
    writeFileSync(
      config,
      [
        'listen: "127.0.0.1:' + port + '"',
        'server_name: flock_test',
        'jetstream {',
        `  store_dir: "${join(storeDir, 'js')}"`,
        '  max_memory_store: 256MB',
        '  max_file_store: 8GB',
        '}',
        '',
      ].join('\n'),
    );
    log = '';
    const proc = spawn(binary, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-8000);
    });
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new NatsServerError(`nats-server exited at start (code ${proc.exitCode}):\n${log}`);
      }
      // JetStream reports ready after the client port accepts; the log line is the reliable signal.
      if (log.includes('Server is ready') && (await accepts(port))) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    proc.kill('SIGKILL');
    throw new NatsServerError(`nats-server did not become ready on 127.0.0.1:${port}:\n${log}`);
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    await exited;
  };

  for (let attempt = 0; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      // another process may have taken the free port between probing and binding it
      if (attempt >= 3 || !log.includes('address already in use')) {
        rmSync(storeDir, { recursive: true, force: true });
        throw error;
      }
      port = await freePort();
    }
  }

  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    storeDir,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    async restart() {
      await halt('SIGTERM');
      await launch();
    },
    async dispose() {
      await halt('SIGKILL');
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
