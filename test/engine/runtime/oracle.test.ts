/** Property test: for random definitions and event streams, the engine's changes equal the oracle at every instant that matters. */
import { test } from 'uvu';
import fc from 'fast-check';
import { definitionsArb, stepsArb } from '../../support/arbitraries.ts';
import { checkAgainstOracle, runEngine } from '../../oracle/harness.ts';
import { printDefinitionsForReport } from '../../oracle/report.ts';

const runs = Number(process.env.FLOCK_ORACLE_RUNS ?? 1000);

test(`engine = oracle on ${runs} random definition sets and event streams (replay and live)`, () => {
  fc.assert(
    fc.property(definitionsArb, stepsArb, fc.constantFrom('replay' as const, 'live' as const), (defs, steps, mode) => {
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
