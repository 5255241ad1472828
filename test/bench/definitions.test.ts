/** The realistic definition set of `npm run bench`: 100 audiences and 20 computed traits, every one compiles, every condition kind appears. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { walkDefinition } from '../../engine/lang/ast-walk.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import { compileQueryDefinitions, realisticDefinitions } from '../../bench/workload/definitions.ts';

const set = realisticDefinitions();
const inputs = compileQueryDefinitions(set);

test('100 audiences and 20 computed traits with distinct keys', () => {
  assert.is(set.filter((d) => d.kind === 'audience').length, 100);
  assert.is(set.filter((d) => d.kind === 'trait').length, 20);
  assert.is(new Set(set.map((d) => d.key)).size, 120);
});

test('every definition compiles, alone and together (one plan, shared nodes)', () => {
  const { plan, failures } = compilePlan(inputs);
  assert.equal([...failures.entries()].map(([id, f]) => `${id}: ${f.message}`), []);
  assert.ok(plan.aggregates.length < 120, `${plan.aggregates.length} shared nodes`);
  // each on its own too, with the definitions it references
  const byKey = new Map(inputs.map((d) => [d.key, d]));
  for (const d of inputs) {
    const needed = new Set([d.key]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const k of [...needed]) {
        walkDefinition(byKey.get(k)!.definition, (node) => {
          if (node.kind === 'trait' && byKey.has(node.path[0]!) && !needed.has(node.path[0]!)) grew = needed.add(node.path[0]!) !== undefined;
        });
      }
    }
    const alone = compilePlan(inputs.filter((x) => needed.has(x.key)));
    assert.is(alone.failures.size, 0, `${d.key} does not compile alone`);
  }
});

test('it mixes every condition kind the engine supports', () => {
  const seen = new Set<string>();
  for (const d of inputs) {
    if (d.target === 'ACCOUNTS') seen.add(`accounts ${d.kind}`);
    walkDefinition(d.definition, (node) => {
      switch (node.kind) {
        case 'within':
          seen.add(node.parent ? 'funnel' : 'within');
          break;
        case 'between':
        case 'expires_after':
        case 'not':
        case 'or':
          seen.add(node.kind);
          break;
        case 'quantified':
          seen.add(`quantified ${node.quantifier}`);
          break;
        case 'property':
          if (node.parent) seen.add('dynamic property reference');
          break;
        case 'comparison':
          if (node.args.some((a) => a.kind === 'trait')) seen.add('trait on the right');
          if (node.comparator === 'within_last' || node.comparator === 'before_last') seen.add('date comparator');
          if (node.subject.kind === 'trait') seen.add(byKeyKind(node.subject.path[0]!));
          break;
        case 'aggregate':
          seen.add(`reducer ${node.reducer.kind}`);
          break;
      }
    });
  }
  for (const kind of [
    'within', 'between', 'not', 'or', 'funnel', 'dynamic property reference', 'trait on the right', 'date comparator', 'expires_after',
    'custom trait', 'audience reference', 'computed trait reference', 'accounts audience', 'accounts trait', 'quantified any', 'quantified all',
    'reducer count', 'reducer sum', 'reducer avg', 'reducer min', 'reducer max', 'reducer mode', 'reducer first', 'reducer last', 'reducer unique',
  ]) assert.ok(seen.has(kind), `no ${kind} in the set`);
});

function byKeyKind(key: string): string {
  const d = set.find((x) => x.key === key);
  return d === undefined ? 'custom trait' : d.kind === 'audience' ? 'audience reference' : 'computed trait reference';
}

test.run();
