/** Rule not_boolean. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { notBoolean } from '../../../../engine/lang/rules/not-boolean.ts';
import { runSyntaxRule, USERS_TRAIT } from '../../../support/query-lang.ts';

const check = (source: string) => runSyntaxRule(notBoolean, source);

test('an audience must end in a comparator', () => {
  assert.equal(check("event('A').count()"), [
    '1:1 not_boolean an audience must be a condition that ends in a comparator (e.g. >= 1, .exists()), but this is a reduced value',
  ]);
  assert.equal(check("trait('a')"), ['1:1 not_boolean an audience must be a condition that ends in a comparator (e.g. >= 1, .exists()), but this is a single value']);
  assert.equal(check("event('A')"), ['1:1 not_boolean an audience must be a condition that ends in a comparator (e.g. >= 1, .exists()), but this is an event stream']);
});

test('operands of AND, OR, NOT and the condition of where() must be boolean', () => {
  assert.equal(check("trait('a') = 1 AND trait('b')"), ['1:20 not_boolean AND joins conditions, but this is a single value']);
  assert.equal(check("NOT 'x'"), ['1:5 not_boolean NOT takes a condition, but this is a single value']);
  assert.equal(check("event('A').where(property('p')).count() > 1"), ['1:18 not_boolean where() takes a condition, but this is a single value']);
});

test('in a computed trait, where() still needs a condition (the root is not_scalar’s business)', () => {
  assert.equal(runSyntaxRule(notBoolean, "event('A').where(5).count()", USERS_TRAIT), ['1:18 not_boolean where() takes a condition, but this is a single value']);
  assert.equal(runSyntaxRule(notBoolean, "event('A').count()", USERS_TRAIT), []);
});

test('passes conditions', () => {
  assert.equal(check("NOT (trait('a') = 1 OR trait('b').exists()) AND event('A').where(property('p') > 1).count() >= 1"), []);
});

test.run();
