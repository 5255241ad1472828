/** Property test: with identity resolution in front of the runtime, resolutions and changes equal the identity oracle at every instant that matters. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { definitionsArb } from '../../support/arbitraries.ts';
import { identityRulesArb, identityStepsArb } from '../../support/identity-arbitraries.ts';
import { checkIdentityAgainstOracle, runIdentityEngine } from '../../oracle/identity-harness.ts';
import { printDefinitionsForReport } from '../../oracle/report.ts';

const runs = Number(process.env.FLOCK_IDENTITY_ORACLE_RUNS ?? 200);
const seed = process.env.FLOCK_ORACLE_SEED === undefined ? {} : { seed: Number(process.env.FLOCK_ORACLE_SEED) };

test(`engine (identity + runtime) = identity oracle on ${runs} random journeys, rules and definitions (replay and live)`, () => {
  const seen = { merges: 0, unidentified: 0, runs: 0, demotions: {} as Record<string, number> };
  fc.assert(
    fc.property(definitionsArb, identityStepsArb, identityRulesArb, fc.constantFrom('replay' as const, 'live' as const), (defs, steps, rules, mode) => {
      try {
        const run = runIdentityEngine(defs, steps, rules, mode);
        checkIdentityAgainstOracle(defs, run, rules);
        seen.runs++;
        seen.merges += run.resolutions.reduce((n, r) => n + r.merges.length, 0);
        seen.unidentified += run.resolutions.filter((r) => r.profileId === null).length;
        for (const [why, n] of Object.entries(run.demotions)) seen.demotions[why.startsWith('limit:') ? 'limit' : why] = (seen.demotions[why.startsWith('limit:') ? 'limit' : why] ?? 0) + n;
      } catch (err) {
        throw new Error(`${(err as Error).message}\nmode: ${mode}\nrules: ${JSON.stringify(rules)}\n${printDefinitionsForReport(defs)}`);
      }
    }),
    { numRuns: runs, includeErrorInReport: true, ...seed },
  );
  // The journeys must actually merge people and leave blocked-only events unidentified.
  assert.ok(seen.merges > seen.runs / 4, `only ${seen.merges} merges in ${seen.runs} runs`);
  assert.ok(seen.unidentified > 0, 'no blocked-only event');
});

test.run();
