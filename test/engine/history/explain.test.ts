/**
 * Explanations agree with the engine: for random definitions and event streams, the explained value
 * of every profile and definition at random instants is the engine's, the condition tree's root is
 * that value, and each comparison's result follows from its value; account definitions are refused.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { explain, ExplainError, type ConditionExplanation } from '../../../engine/history/explain.ts';
import { compareValues } from '../../../engine/eval/values.ts';
import type { Condition } from '../../../engine/lang/ast.ts';
import type { DefinitionInput } from '../../../engine/plan/plan.ts';
import { accountDefinitionsArb, definitionsArb, PROFILES, stepsArb } from '../../support/arbitraries.ts';
import { historyInstants, runEngine, type EngineRun } from '../../oracle/harness.ts';
import { printDefinitionsForReport } from '../../oracle/report.ts';

const runs = Number(process.env.FLOCK_EXPLAIN_RUNS ?? 150);
/** the options the harness compiles with */
const COMPILE = { distinctCap: 10_000, retentionMs: 0 };

function engineValue(run: EngineRun, d: DefinitionInput, profileId: string, t: number): unknown {
  let v: unknown = d.kind === 'audience' ? false : undefined;
  for (const c of run.changes) {
    if (c.at > t || c.profileId !== profileId || c.definitionId !== d.id) continue;
    v = c.kind === 'trait' ? c.value : c.kind === 'enter';
  }
  return v;
}

/** Each comparison with literal arguments: its result is its comparator applied to its value. */
function checkComparisons(x: ConditionExplanation, c: Condition, t: number): void {
  if (x.kind === 'comparison' && c.kind === 'comparison') {
    if (c.args.every((a) => a.kind === 'literal' || a.kind === 'duration') && c.subject.kind === 'aggregate') {
      const args = c.args.map((a) => (a.kind === 'duration' ? a.ms : a.value));
      assert.is(x.result, compareValues(c.comparator, x.value, args, t), `${x.text} with value ${JSON.stringify(x.value)}`);
    }
  } else if ((x.kind === 'and' || x.kind === 'or') && (c.kind === 'and' || c.kind === 'or')) {
    x.operands.forEach((o, i) => checkComparisons(o, c.operands[i]!, t));
    assert.is(x.result, x.kind === 'and' ? x.operands.every((o) => o.result) : x.operands.some((o) => o.result));
  } else if (x.kind === 'not' && c.kind === 'not') {
    checkComparisons(x.operand, c.operand, t);
    assert.is(x.result, !x.operand.result);
  } else assert.unreachable(`tree shapes differ: ${x.kind} / ${c.kind}`);
}

test(`explanations = the engine on ${runs} random definition sets and streams (replay and live)`, () => {
  fc.assert(
    fc.property(definitionsArb, stepsArb, fc.constantFrom('replay' as const, 'live' as const), fc.array(fc.nat(), { minLength: 2, maxLength: 2 }), (defs, steps, mode, picks) => {
      const run = runEngine(defs, steps, mode);
      try {
        for (const t of historyInstants(run, picks)) {
          for (const profileId of PROFILES) {
            const events = run.history.filter((h) => h.profileId === profileId).map((h) => ({ profileId, seq: h.seq, applied: h.arrival, event: h.event }));
            for (const d of defs) {
              const x = explain({ space: 'spa_test', profileId, at: t, target: d, references: defs, events, merges: [], compile: COMPILE });
              const want = engineValue(run, d, profileId, t);
              assert.equal(d.kind === 'audience' ? x.value === true : x.value, want, `${d.key} of ${profileId} at ${t}`);
              // (a profile with no event yet is in nothing, whatever its empty state would satisfy)
              if (d.definition.kind === 'audience' && x.known) {
                assert.is(x.condition.result, want === true, `${d.key}: the tree's root`);
                checkComparisons(x.condition, d.definition.condition, t);
              }
              const last = run.changes.filter((c) => c.definitionId === d.id && c.profileId === profileId && c.at <= t).at(-1);
              assert.is(x.lastChange?.at, last?.at, `${d.key}: the last change`);
              if (last?.cause?.type === 'event') assert.ok(x.events.some((e) => e.event.messageId === (last.cause as { messageId: string }).messageId), 'the causing event');
            }
          }
        }
      } catch (err) {
        throw new Error(`${(err as Error).message}\nmode: ${mode}\n${printDefinitionsForReport(defs)}`);
      }
    }),
    { numRuns: runs, includeErrorInReport: true, ...(process.env.FLOCK_ORACLE_SEED === undefined ? {} : { seed: Number(process.env.FLOCK_ORACLE_SEED) }) },
  );
});

test('account-level definitions are not explained', () => {
  const [d] = fc.sample(accountDefinitionsArb.filter((ds) => ds.some((x) => x.target === 'ACCOUNTS')), { numRuns: 1, seed: 3 })[0]!.filter((x) => x.target === 'ACCOUNTS');
  assert.throws(
    () => explain({ space: 'spa_test', profileId: 'group_id:g1', at: 0, target: d!, references: [], events: [], merges: [] }),
    (e: unknown) => e instanceof ExplainError && e.code === 'unsupported',
  );
});

test.run();
