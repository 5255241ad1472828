/**
 * The oracle property test's body, shared by the users and the accounts suites: random definition
 * sets and streams, replay and live; the engine's changes equal the oracle's at every instant, and
 * the history answers as of random instants as the oracle does.
 */
import fc from 'fast-check';
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import type { Step } from '../support/arbitraries.ts';
import { checkAgainstOracle, historyInstants, runEngine, type RunOptions } from './harness.ts';
import { checkHistoryAgainstOracle, type HistoryScratch } from './history-check.ts';
import { printDefinitionsForReport } from './report.ts';

/** (spaces in the shared history scratch store: one per run, across the suites of a file) */
let n = 0;

/**
 * `timeline.unitMs`: the unit of the generated timeline; `timeline.finiteRetention`: each run also
 * runs with a finite retention — the largest lateness in the run plus 0–2 units — where every late
 * event is inside the retention, so the engine must still equal the oracle.
 */
export async function assertEngineEqualsOracle(
  definitions: fc.Arbitrary<DefinitionInput[]>,
  steps: fc.Arbitrary<Step[]>,
  runs: number,
  store: HistoryScratch,
  timeline: { readonly unitMs?: number; readonly finiteRetention?: boolean } = {},
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(definitions, steps, fc.constantFrom('replay' as const, 'live' as const), fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), async (defs, stream, mode, picks) => {
      try {
        const options: RunOptions = { unitMs: timeline.unitMs ?? 1000 };
        const run = runEngine(defs, stream, mode, options);
        checkAgainstOracle(defs, run);
        await checkHistoryAgainstOracle(store, `spa_${++n}`, defs, run.changes, run.history, historyInstants(run, picks));
        if (timeline.finiteRetention === true) {
          // the watermark when each event was applied is its arrival: lateness = arrival − ts
          const lateness = Math.max(0, ...run.history.map((h) => h.arrival - h.event.timestamp));
          const retentionMs = Math.max(1, lateness + (picks[0]! % 3) * (timeline.unitMs ?? 1000));
          const bounded = runEngine(defs, stream, mode, { ...options, retentionMs });
          try {
            checkAgainstOracle(defs, bounded);
          } catch (err) {
            throw new Error(`with retention ${retentionMs} ms: ${(err as Error).message}`);
          }
        }
      } catch (err) {
        throw new Error(`${(err as Error).message}\nmode: ${mode}\n${printDefinitionsForReport(defs)}`);
      }
    }),
    {
      numRuns: runs,
      includeErrorInReport: true,
      ...(process.env.FLOCK_ORACLE_SEED === undefined ? {} : { seed: Number(process.env.FLOCK_ORACLE_SEED) }),
    },
  );
}
