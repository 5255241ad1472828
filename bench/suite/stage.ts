/**
 * One stage of `npm run bench` in its own process (so each measures its own memory):
 * `node --expose-gc --import tsx bench/suite/stage.ts <stage>` with the suite config as JSON in
 * FLOCK_BENCH_SUITE. Progress goes to stderr; the result is the last line on stdout.
 */
import type { SuiteConfig } from './config.ts';
import { RESULT_PREFIX, type Figure, type StageResult } from './figures.ts';
import { backfill } from './stages/backfill.ts';
import { live } from './stages/live.ts';
import { peer } from './stages/peer.ts';
import { recovery } from './stages/recovery.ts';
import { throughput } from './stages/throughput.ts';

type Stage = (config: SuiteConfig, progress: (line: string) => void, failures: string[]) => Promise<Figure[]>;

const STAGES: Readonly<Record<string, Stage>> = { throughput, recovery, backfill, peer, live };

const name = process.argv[2] ?? '';
const stage = STAGES[name];
if (stage !== undefined && process.env.FLOCK_BENCH_SUITE !== undefined) {
  const config = JSON.parse(process.env.FLOCK_BENCH_SUITE) as SuiteConfig;
  const started = performance.now();
  const failures: string[] = [];
  const figures = await stage(config, (line) => process.stderr.write(`  [${name}] ${line}\n`), failures);
  const result: StageResult = { stage: name, seconds: (performance.now() - started) / 1000, figures, failures };
  process.stdout.write(`\n${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}
