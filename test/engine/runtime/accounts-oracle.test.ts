/**
 * Property test: account-level audiences and computed traits (ANY/ALL/none, account traits,
 * aggregates over users) agree with the oracle at every instant, and through the history as of
 * random instants.
 */
import { test } from 'uvu';
import fc from 'fast-check';
import { accountDefinitionsArb, accountStepsArb } from '../../support/arbitraries.ts';
import { checkAgainstOracle, historyInstants, runEngine } from '../../oracle/harness.ts';
import { checkHistoryAgainstOracle, historyScratch } from '../../oracle/history-check.ts';
import { printDefinitionsForReport } from '../../oracle/report.ts';

const runs = Number(process.env.FLOCK_ORACLE_RUNS ?? 1000);
const store = historyScratch();
test.after(() => store.close());

test(`accounts: engine = oracle on ${runs} random account definition sets and streams with group calls (replay and live), also through the history`, async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(accountDefinitionsArb, accountStepsArb, fc.constantFrom('replay' as const, 'live' as const), fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), async (defs, steps, mode, picks) => {
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
