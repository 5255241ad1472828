/**
 * Property test: for random definitions and event streams, the engine's changes equal the oracle at
 * every instant that matters; and, written through the history store, the members and values as of
 * random instants equal the oracle's at those instants.
 */
import { test } from 'uvu';
import { definitionsArb, HOUR_SCALE, lateDefinitionsArb, lateStepsArb, stepsArb } from '../../support/arbitraries.ts';
import { historyScratch } from '../../oracle/history-check.ts';
import { assertEngineEqualsOracle } from '../../oracle/property.ts';

const runs = Number(process.env.FLOCK_ORACLE_RUNS ?? 1000);
const store = historyScratch();
test.after(() => store.close());

test(`engine = oracle on ${runs} random definition sets and event streams (replay and live), also as of random instants through the history`, () => assertEngineEqualsOracle(definitionsArb, stepsArb, runs, store));

test(
  `engine = oracle on ${runs} random sets with events up to 6 days late (timeline in hours: funnels, sessions, windows of hours), the log's retention forever and just above the largest lateness`,
  () => assertEngineEqualsOracle(lateDefinitionsArb, lateStepsArb, runs, store, { unitMs: 1000 * HOUR_SCALE, finiteRetention: true }),
);

test.run();
