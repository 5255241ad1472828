/** Property test: account-level audiences and computed traits (ANY/ALL/none, account traits, aggregates over users) agree with the oracle at every instant. */
import { test } from 'uvu';
import fc from 'fast-check';
import { accountDefinitionsArb, accountStepsArb } from '../../support/arbitraries.ts';
import { checkAgainstOracle, runEngine } from '../../oracle/harness.ts';
import { printDefinitionsForReport } from '../../oracle/report.ts';

const runs = Number(process.env.FLOCK_ORACLE_RUNS ?? 1000);

test(`accounts: engine = oracle on ${runs} random account definition sets and streams with group calls (replay and live)`, () => {
  fc.assert(
    fc.property(accountDefinitionsArb, accountStepsArb, fc.constantFrom('replay' as const, 'live' as const), (defs, steps, mode) => {
      try {
        checkAgainstOracle(defs, runEngine(defs, steps, mode));
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
