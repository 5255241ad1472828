/** Test support: a child process that reports its stats as JSON lines on stdout (worker-node-child.ts, worker-group-child.ts): its latest stats, its stderr, waits on both. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from './until.ts';

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

export class StatsChild<T> {
  stats: T | undefined;
  stderr = '';
  exitedAt = Number.NaN;
  readonly exited: Promise<number | null>;

  constructor(
    /** its name in failure messages. */
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    let buffered = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) if (line.startsWith('{')) this.stats = JSON.parse(line) as T;
    });
    proc.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4000)));
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code) => {
        this.exitedAt = performance.now();
        resolve(code);
      }),
    );
  }

  /** Runs `script` (a path in the repository) with tsx, `args`, and `env` over this process's. */
  static start<T>(name: string, script: string, args: readonly string[], env: Record<string, string> = {}): StatsChild<T> {
    return new StatsChild<T>(name, spawn(process.execPath, ['--import', 'tsx', join(repo, script), ...args], { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  get gone(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  /** Waits until its stats satisfy `ok`; fails with its stderr if it exits or takes too long. */
  async reach(what: string, ok: (s: T) => boolean, timeoutMs = 30_000): Promise<T> {
    return until(
      `${this.name} ${what}`,
      async () => {
        if (this.gone) throw new Error(`${this.name} exited (${this.proc.exitCode ?? this.proc.signalCode}) before ${what}:\n${this.stderr}`);
        return this.stats !== undefined && ok(this.stats) ? this.stats : undefined;
      },
      timeoutMs,
      20,
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; last stats ${JSON.stringify(this.stats)}\n${this.stderr}`);
    });
  }

  /** Sends `signal` and waits for the exit (its code); fails after `timeoutMs`. */
  async stop(signal: NodeJS.Signals, timeoutMs = 30_000): Promise<number | null> {
    if (!this.gone) this.proc.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${this.name} did not exit on ${signal}; last stats ${JSON.stringify(this.stats)}\n${this.stderr}`)), timeoutMs)));
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
