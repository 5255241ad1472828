/** Property test: with identity resolution in front of the runtime, resolutions and changes equal the identity oracle at every instant that matters — for users, and for accounts whose users merge. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { accountDefinitionsWithoutUserTraitsArb, definitionsArb } from '../../support/arbitraries.ts';
import { identityAccountStepsArb, identityRulesArb, identityStepsArb } from '../../support/identity-arbitraries.ts';
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

const accountRuns = Number(process.env.FLOCK_IDENTITY_ORACLE_ACCOUNT_RUNS ?? 200);

test(`accounts with identities: engine = identity oracle on ${accountRuns} random journeys with group calls and account definitions (links move with merges)`, () => {
  const seen = { mergedAccountUsers: 0, accountChanges: 0 };
  fc.assert(
    fc.property(accountDefinitionsWithoutUserTraitsArb, identityAccountStepsArb, identityRulesArb, fc.constantFrom('replay' as const, 'live' as const), (defs, steps, rules, mode) => {
      try {
        const run = runIdentityEngine(defs, steps, rules, mode);
        checkIdentityAgainstOracle(defs, run, rules);
        seen.accountChanges += run.changes.filter((c) => c.collection === 'accounts').length;
        // a merge whose absorbed or surviving profile made a group call
        const joined = new Set(run.history.flatMap((h, i) => (h.event.type === 'group' ? [run.resolutions[i]!.profileId] : [])));
        seen.mergedAccountUsers += run.resolutions.reduce((n, r) => n + r.merges.filter((m) => joined.has(m.from) || joined.has(m.into)).length, 0);
      } catch (err) {
        throw new Error(`${(err as Error).message}\nmode: ${mode}\nrules: ${JSON.stringify(rules)}\n${printDefinitionsForReport(defs)}`);
      }
    }),
    { numRuns: accountRuns, includeErrorInReport: true, ...seed },
  );
  assert.ok(seen.accountChanges > accountRuns, `only ${seen.accountChanges} account changes`);
  assert.ok(seen.mergedAccountUsers > accountRuns / 10, `only ${seen.mergedAccountUsers} merges of account users`);
});

test.run();
