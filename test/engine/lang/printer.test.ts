/** Printer: canonical text with minimal parentheses, quoting and escapes; printing is a fixed point after one round. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Condition, Scalar } from '../../../engine/lang/ast.ts';
import { parseDefinition, printCondition, printDefinition, printScalar, stripSpans } from '../../../engine/lang/index.ts';
import { ACCOUNTS_AUDIENCE, USERS_AUDIENCE, USERS_TRAIT } from '../../support/query-lang.ts';

function canonical(source: string, options = USERS_AUDIENCE): string {
  const result = parseDefinition(source, options);
  assert.equal(result.diagnostics, [], source);
  return printDefinition(result.definition!);
}

test('minimal parentheses respecting AND over OR', () => {
  assert.is(canonical("(trait('a') = 1 AND trait('b') = 1) OR trait('c') = 1"), "trait('a') = 1 AND trait('b') = 1 OR trait('c') = 1");
  assert.is(canonical("trait('a') = 1 AND (trait('b') = 1 OR trait('c') = 1)"), "trait('a') = 1 AND (trait('b') = 1 OR trait('c') = 1)");
  assert.is(canonical("NOT (trait('a') = 1)"), "NOT trait('a') = 1");
  assert.is(canonical("NOT (trait('a') = 1 OR trait('b') = 1)"), "NOT (trait('a') = 1 OR trait('b') = 1)");
  assert.is(canonical("ANY (trait('a') = 1)", ACCOUNTS_AUDIENCE), "ANY trait('a') = 1");
  assert.is(canonical("ALL (NOT (trait('a') = 1))", ACCOUNTS_AUDIENCE), "ALL NOT trait('a') = 1");
});

test('a nested AND/OR of the same kind keeps its parentheses, so the tree survives', () => {
  const source = "trait('a') = 1 AND (trait('b') = 1 AND trait('c') = 1)";
  assert.is(canonical(source), source);
  const or = "(trait('a') = 1 OR trait('b') = 1) OR trait('c') = 1";
  assert.is(canonical(or), or);
});

test('canonical names, spacing and defaults', () => {
  assert.is(canonical("trait('t').gte(5)"), "trait('t') >= 5");
  assert.is(canonical("trait('t').equals( 'x' )"), "trait('t') = 'x'");
  assert.is(canonical("trait('t') == 'x'"), "trait('t') = 'x'");
  assert.is(canonical("trait('t').one_of(['a','b'])"), "trait('t').one_of('a', 'b')");
  assert.is(canonical("trait('t').is_null()"), "trait('t').absent()");
  assert.is(canonical("trait('t').within_last(1 days)"), "trait('t').within_last(1 day)");
  assert.is(canonical("event('E').max(property('p') as number)", USERS_TRAIT), "event('E').max(property('p'))");
  assert.is(canonical("event('E').min(property('p') as string)", USERS_TRAIT), "event('E').min(property('p') as string)");
  assert.is(canonical("event('E').mode(property('p') as string, 2)", USERS_TRAIT), "event('E').mode(property('p'), 2)");
  assert.is(canonical("event('E').mode(property('p') as number, 2)", USERS_TRAIT), "event('E').mode(property('p') as number, 2)");
  assert.is(canonical("event('E').sources({exclude: ['a','b']}).count()", USERS_TRAIT), "event('E').sources({exclude: 'a', 'b'}).count()");
  assert.is(canonical('event("E").count() > -1.5e-7'), "event('E').count() > -1.5e-7");
});

test('strings are single-quoted with escapes; paths escape dots and backslashes', () => {
  assert.is(canonical(`trait("say \\"hi\\"") = "it's\\n"`), `trait('say "hi"') = 'it\\'s\\n'`);
  assert.is(canonical("trait('a\\.b.c') = '\\\\'"), "trait('a\\\\.b.c') = '\\\\'");
  assert.is(canonical("trait('t') = '\\u0001'"), "trait('t') = '\\u0001'");
  const weird = "trait('a\\\\\\\\b') = 1";
  assert.is(canonical(canonical(weird)), canonical(weird));
});

test('timestamps print unquoted, as written', () => {
  assert.is(canonical("trait('t').before_date(2023-12-07T18:50:00Z)"), "trait('t').before_date(2023-12-07T18:50:00Z)");
  assert.is(canonical("trait('t') > literal(2022-10-17)"), "trait('t') > 2022-10-17");
});

test('print is a fixed point after one round', () => {
  const sources = [
    "event('Shoes Bought').where( property('price') >= 100 ).within(7 days).count() >= 1",
    "NOT ( event('Shoes Bought').count() >= 1 AND trait('total_spend') > 200 )",
    "trait('a').eq(1) OR trait('b').gte(2) AND NOT trait('c').is_set()",
    "event('A').where(event('B').where(property('x') == property(parent: 'x')).within(parent: 2 hours).count() = 0).count() >= 1",
  ];
  for (const source of sources) {
    const once = canonical(source);
    assert.is(canonical(once), once);
    assert.equal(
      stripSpans(parseDefinition(once, USERS_AUDIENCE).definition),
      stripSpans(parseDefinition(source, USERS_AUDIENCE).definition),
    );
  }
});

test('printCondition and printScalar print fragments, including shapes only JSON can build', () => {
  const trait: Scalar = { kind: 'trait', path: ['plan'] };
  const twoArgs: Condition = {
    kind: 'comparison',
    subject: trait,
    comparator: 'equals',
    args: [
      { kind: 'literal', type: 'string', value: 'a' },
      { kind: 'literal', type: 'string', value: 'b' },
    ],
  };
  assert.is(printCondition(twoArgs), "trait('plan').equals('a', 'b')");
  assert.is(printScalar({ kind: 'property', path: ['a.b', 'c'], parent: true }), "property(parent: 'a\\\\.b.c')");
  assert.is(
    printScalar({
      kind: 'aggregate',
      stream: { kind: 'stream', source: 'event', name: 'E', filters: [{ kind: 'sources', exclude: [] }] },
      reducer: { kind: 'count' },
    }),
    "event('E').sources({exclude: []}).count()",
  );
  assert.is(printScalar({ kind: 'literal', type: 'number', value: -0 }), '0');
});

test.run();
