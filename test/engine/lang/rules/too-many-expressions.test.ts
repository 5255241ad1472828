/** Rule too_many_expressions. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tooManyExpressions } from '../../../../engine/lang/rules/too-many-expressions.ts';
import { runAstRule } from '../../../support/query-lang.ts';

const comparisons = (n: number) => Array.from({ length: n }, (_, i) => `trait('t${i}') = ${i}`).join(' OR\n');

test('51 comparisons: reported once, at the 51st', () => {
  assert.equal(runAstRule(tooManyExpressions, comparisons(51)), [
    '51:1 too_many_expressions a definition may have at most 50 primary expressions (comparisons); this one has 51',
  ]);
});

test('comparisons inside where() count too', () => {
  const source = `event('A').where(${comparisons(50)}).count() > 1`;
  assert.equal(runAstRule(tooManyExpressions, source).length, 1);
});

test('passes 50', () => {
  assert.equal(runAstRule(tooManyExpressions, comparisons(50)), []);
});

test.run();
