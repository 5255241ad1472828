/** What a stage of `npm run bench` reports: named figures with units, gathered by the orchestrator into one table. */

export interface Figure {
  /** stable id (`throughput.embedded`), what the summary and the smoke test look for. */
  readonly id: string;
  readonly measurement: string;
  readonly value: number;
  readonly unit: string;
  readonly note?: string;
}

export interface StageResult {
  readonly stage: string;
  readonly seconds: number;
  readonly figures: Figure[];
  /** problems the run must not hide (a peer answer that differs): the orchestrator exits non-zero. */
  readonly failures: string[];
}

/** The line a stage prints last on stdout: its result as JSON. */
export const RESULT_PREFIX = 'FLOCK_BENCH_RESULT ';

/** Every figure the full run reports (issue 9, point 3), by stage, in the order the stages run (recovery and backfill use what throughput left). */
export const REQUIRED_FIGURES: Readonly<Record<string, readonly string[]>> = {
  throughput: [
    'throughput.embedded',
    'throughput.jetstream',
    'floor.embedded.consume',
    'floor.jetstream.consume',
    'floor.embedded.minimal',
    'floor.jetstream.minimal',
    'memory.rss',
    'memory.heap_per_profile',
    'memory.record_per_profile',
    'memory.store_per_profile',
  ],
  recovery: ['recovery.seconds', 'recovery.profiles'],
  backfill: ['backfill.rate', 'backfill.time_to_live', 'backfill.time_to_live_10m', 'backfill.many_time_to_live'],
  peer: ['peer.recompute', 'peer.flock_per_event', 'peer.ratio', 'peer.equal'],
  live: ['live.rate', 'latency.p50', 'latency.p99', 'latency.p999', 'timer.p50', 'timer.p99', 'timer.exact'],
};

/** Every figure of `npm run bench:scale`, by stage, in the order the stages run (`scale-recovery` restarts over what `scale-state` left). */
export const REQUIRED_SCALE_FIGURES: Readonly<Record<string, readonly string[]>> = {
  'scale-state': ['scale.state.build'],
  'scale-recovery': ['scale.recovery.seconds', 'scale.recovery.open', 'scale.recovery.profiles', 'scale.recovery.store'],
  'scale-backfill': ['scale.backfill.time_to_live', 'scale.backfill.rate', 'scale.backfill.time_to_live_10m', 'scale.backfill.catch_up'],
};

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
