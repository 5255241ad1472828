/** Test and bench support: `npm start` in a child process (its own process group), its JSON log lines collected, waiting for a given line. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

export interface Flock {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  /** the exit code, or null when a signal ended it (`signal` then says which). */
  readonly exited: Promise<number | null>;
  /** sends `signal` to the child's process group (with `npm: true`: npm and the service, as Ctrl-C in a terminal does). */
  signalGroup(signal: NodeJS.Signals): void;
  /** the signal that ended the process, once it has exited that way. */
  readonly signal: () => NodeJS.Signals | null;
  /** `kill -9` of the process group: a crash with no shutdown work. */
  kill9(): void;
  /** resolves with the first log line whose message matches. */
  waitFor(message: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/**
 * `npm start` (api/main.ts) as a child process with `args` and a bare environment plus `env`; its
 * JSON log lines parsed. `npm: true` runs the `npm start` script itself, in a process group of its own.
 */
export function startFlock(args: string[], env: Record<string, string> = {}, options: { readonly npm?: boolean } = {}): Flock {
  const [command, argv] = options.npm === true ? ['npm', ['start', '--', ...args]] : [process.execPath, ['--import', 'tsx', join(repo, 'api/main.ts'), ...args]];
  const child = spawn(command, argv, {
    cwd: repo,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // its own process group, so a crash can be simulated with `kill -9 -<pgid>` like an operator would
    detached: true,
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: Array<{ message: string; resolve: (line: Record<string, unknown>) => void }> = [];
  let buffer = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) !== -1) {
      const text = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { message: '(not json)', text };
      }
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.message === line['message'])) waiter.resolve(line);
    }
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let signal: NodeJS.Signals | null = null;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, sig) => ((signal = sig), resolve(code))));
  return {
    child,
    lines,
    exited,
    signalGroup: (signal) => process.kill(-child.pid!, signal),
    signal: () => signal,
    kill9() {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch (error) {
        // (already gone: nothing to kill)
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    },
    waitFor(message, timeoutMs = 30_000) {
      const seen = lines.find((line) => line['message'] === message);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${message}" log line; stdout: ${JSON.stringify(lines)} stderr: ${stderr}`)), timeoutMs);
        waiters.push({ message, resolve: (line) => (clearTimeout(timer), resolve(line)) });
        // (the timer goes too: a pending 30 s timer would hold the caller's process open after the child died)
        void exited.then(() => setTimeout(() => (clearTimeout(timer), reject(new Error(`exited before "${message}"; stdout: ${JSON.stringify(lines)} stderr: ${stderr}`))), 100));
      });
    },
  };
}

/** Writes the README walkthrough's definitions file (`shoe_viewers`, `revenue_30d` in `spa_default`) to `path`. */
export function writeWalkthroughDefinitions(path: string): string {
  writeFileSync(
    path,
    JSON.stringify({
      definitions: [
        { space: 'spa_default', key: 'shoe_viewers', kind: 'audience', query: "event('Product Viewed').where(property('category') = 'shoes').within(7 days).count() >= 1" },
        { space: 'spa_default', key: 'revenue_30d', kind: 'trait', query: "event('Order Completed').within(30 days).sum(property('total'))" },
      ],
    }),
  );
  return path;
}
