/** Rule comparator-arguments (invalid_argument for comparator arity and argument kinds). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { comparatorArguments } from '../../../../engine/lang/rules/comparator-arguments.ts';
import { runAstRule } from '../../../support/query-lang.ts';

const check = (source: string) => runAstRule(comparatorArguments, source);

test('arity', () => {
  assert.equal(check("trait('a').exists(1)"), ['1:19 invalid_argument exists() takes no arguments']);
  assert.equal(check("trait('a').equals()"), ['1:19 invalid_argument equals() needs an argument']);
  assert.equal(check("trait('a').one_of()"), ['1:19 invalid_argument one_of() needs at least one value']);
  assert.equal(check("trait('a').at_most(1, 2)"), ['1:23 invalid_argument at_most() takes one argument, not 2']);
  assert.equal(check("trait('a') = ['x', 'y']"), ["1:20 invalid_argument equals() takes one argument, not 2"]);
});

test('durations only, and always, for the relative date comparators', () => {
  assert.equal(check("trait('a').within_last(7)"), ['1:24 invalid_argument within_last() takes a duration such as 7 days']);
  assert.equal(check("trait('a') > 7 days"), [
    '1:14 invalid_argument greater_than() does not take a duration; only within_last(), before_last(), after_next() and within_next() do',
  ]);
});

test('dates, null and booleans', () => {
  assert.equal(check("trait('a').before_date('yesterday')"), ['1:24 invalid_argument before_date() takes an ISO-8601 date or timestamp, e.g. 2023-12-07T18:50:00Z']);
  assert.equal(check("trait('a').after_date(5)"), ['1:23 invalid_argument after_date() takes an ISO-8601 date or timestamp, e.g. 2023-12-07T18:50:00Z']);
  assert.equal(check("trait('a') > null"), ['1:14 invalid_argument greater_than() does not take null; use .exists() or .absent() to test for a missing value']);
  assert.equal(check("trait('a').contains(true)"), ['1:21 invalid_argument contains() does not take a boolean']);
});

test('passes well-formed arguments, references included', () => {
  assert.equal(
    check(
      "trait('a').before_date('2023-12-07') AND trait('a').after_date(2023-12-07T10:00:00Z) AND trait('a').after_date(trait('b')) AND trait('a') = null AND trait('a').one_of('x', 1, true, null) AND trait('a').within_next(0 days) AND trait('a') >= trait('b') AND trait('a').starts_with('x', 'y') AND trait('a').omits(['x', 'y'])",
    ),
    [],
  );
});

test.run();
