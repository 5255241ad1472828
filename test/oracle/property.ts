/**
 * The oracle property test's body, shared by the users and the accounts suites: random definition
 * sets and streams, replay and live; the engine's changes equal the oracle's at every instant, and
 * the history answers as of random instants as the oracle does.
 */
import fc from 'fast-check';
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import type { Step } from '../support/arbitraries.ts';
import { checkAgainstOracle, historyInstants, runEngine } from './harness.ts';
import { checkHistoryAgainstOracle, type HistoryScratch } from './history-check.ts';
import { printDefinitionsForReport } from './report.ts';

export async function assertEngineEqualsOracle(definitions: fc.Arbitrary<DefinitionInput[]>, steps: fc.Arbitrary<Step[]>, runs: number, store: HistoryScratch): Promise<void> {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(definitions, steps, fc.constantFrom('replay' as const, 'live' as const), fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), async (defs, stream, mode, picks) => {
      try {
        const run = runEngine(defs, stream, mode);
        checkAgainstOracle(defs, run);
        await checkHistoryAgainstOracle(store, `spa_${++n}`, defs, run.changes, run.history, historyInstants(run, picks));
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
