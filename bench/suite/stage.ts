/**
 * One stage of `npm run bench` (or `npm run bench:scale`) in its own process (so each measures its own memory):
 * `node --expose-gc --import tsx bench/suite/stage.ts <stage>` with the suite config as JSON in
 * FLOCK_BENCH_SUITE. Progress goes to stderr; the result is the last line on stdout.
 */
import type { SuiteConfig } from './config.ts';
import { RESULT_PREFIX, type Figure, type StageResult } from './figures.ts';

type Stage = (config: SuiteConfig, progress: (line: string) => void, failures: string[]) => Promise<Figure[]>;

/** Each child loads only its own stage (DuckDB, the HTTP client… only where they are used). */
const STAGES: Readonly<Record<string, () => Promise<Stage>>> = {
  throughput: async () => (await import('./stages/throughput.ts')).throughput,
  recovery: async () => (await import('./stages/recovery.ts')).recovery,
  backfill: async () => (await import('./stages/backfill.ts')).backfill,
  peer: async () => (await import('./stages/peer.ts')).peer,
  live: async () => (await import('./stages/live.ts')).live,
  'scale-state': async () => (await import('./stages/scale-state.ts')).scaleState,
  'scale-recovery': async () => (await import('./stages/scale-recovery.ts')).scaleRecovery,
  'scale-backfill': async () => (await import('./stages/scale-backfill.ts')).scaleBackfill,
};

const name = process.argv[2] ?? '';
const load = STAGES[name];
if (load !== undefined && process.env.FLOCK_BENCH_SUITE !== undefined) {
  const stage = await load();
  const config = JSON.parse(process.env.FLOCK_BENCH_SUITE) as SuiteConfig;
  const started = performance.now();
  const failures: string[] = [];
  const figures = await stage(config, (line) => process.stderr.write(`  [${name}] ${line}\n`), failures);
  const result: StageResult = { stage: name, seconds: (performance.now() - started) / 1000, figures, failures };
  process.stdout.write(`\n${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}
