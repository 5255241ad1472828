/**
 * Property test: for random definitions and event streams, the engine's changes equal the oracle at
 * every instant that matters; and, written through the history store, the members and values as of
 * random instants equal the oracle's at those instants.
 */
import { test } from 'uvu';
import fc from 'fast-check';
import { definitionsArb, stepsArb } from '../../support/arbitraries.ts';
import { checkAgainstOracle, historyInstants, runEngine } from '../../oracle/harness.ts';
import { checkHistoryAgainstOracle, historyScratch } from '../../oracle/history-check.ts';
import { printDefinitionsForReport } from '../../oracle/report.ts';

const runs = Number(process.env.FLOCK_ORACLE_RUNS ?? 1000);
const store = historyScratch();
test.after(() => store.close());

test(`engine = oracle on ${runs} random definition sets and event streams (replay and live), also as of random instants through the history`, async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(definitionsArb, stepsArb, fc.constantFrom('replay' as const, 'live' as const), fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), async (defs, steps, mode, picks) => {
      try {
        const run = runEngine(defs, steps, mode);
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
});

test.run();
