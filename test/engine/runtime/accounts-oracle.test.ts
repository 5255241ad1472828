/**
 * Property test: account-level audiences and computed traits (ANY/ALL/none, account traits,
 * aggregates over users) agree with the oracle at every instant, and through the history as of
 * random instants.
 */
import { test } from 'uvu';
import { accountDefinitionsArb, accountStepsArb } from '../../support/arbitraries.ts';
import { historyScratch } from '../../oracle/history-check.ts';
import { assertEngineEqualsOracle } from '../../oracle/property.ts';

const runs = Number(process.env.FLOCK_ORACLE_RUNS ?? 1000);
const store = historyScratch();
test.after(() => store.close());

test(`accounts: engine = oracle on ${runs} random account definition sets and streams with group calls (replay and live), also through the history`, () =>
  assertEngineEqualsOracle(accountDefinitionsArb, accountStepsArb, runs, store));

test.run();
