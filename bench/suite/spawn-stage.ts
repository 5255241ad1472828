/**
 * Runs one stage of bench/suite in a child process (its own memory, its own process group, so a hung
 * stage is killed with what it started: nats-server, npm start); its stderr (progress) passes
 * through, its result is the last line on stdout. Ctrl-C kills every running stage and calls
 * `onInterrupt` (the runner removes its temporary directory).
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SuiteConfig } from './config.ts';
import { fmt, RESULT_PREFIX, type StageResult } from './figures.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = join(here, '../..');

export interface StageOptions {
  readonly config: SuiteConfig;
  /** a guard against a hung stage (not a budget): the stage is killed after this long. */
  readonly limitSeconds: number;
  readonly env?: Readonly<Record<string, string>>;
  /** extra node flags (e.g. a larger heap). */
  readonly nodeArgs?: readonly string[];
  readonly onInterrupt: () => void;
}

const running = new Set<() => void>();
let interruptHandler: (() => void) | undefined;

export function spawnStage(name: string, o: StageOptions): Promise<StageResult> {
  if (interruptHandler === undefined) {
    interruptHandler = () => {
      for (const kill of running) kill();
      o.onInterrupt();
      process.exit(130);
    };
    process.once('SIGINT', interruptHandler);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', ...(o.nodeArgs ?? []), '--import', 'tsx', join(here, 'stage.ts'), name], {
      cwd: repo,
      env: { ...process.env, ...o.env, FLOCK_BENCH_SUITE: JSON.stringify(o.config) },
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    running.add(killGroup);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    const timer = setTimeout(killGroup, o.limitSeconds * 1000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      running.delete(killGroup);
      const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (signal === 'SIGKILL') return reject(new Error(`stage ${name} did not finish within ${fmt(o.limitSeconds)} s and was killed`));
      if (code !== 0 || line === undefined) return reject(new Error(`stage ${name} exited ${code}${line === undefined ? ' without a result' : ''}`));
      resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as StageResult);
    });
  });
}
