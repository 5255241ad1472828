/** Rule duration-arguments (invalid_argument for duration values). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { durationArguments } from '../../../../engine/lang/rules/duration-arguments.ts';
import { runAstRule } from '../../../support/query-lang.ts';

const check = (source: string) => runAstRule(durationArguments, source);

test('whole, non-negative amounts', () => {
  assert.equal(check("event('A').within(1.5 days).count() > 1"), ['1:19 invalid_argument a duration is a whole, non-negative number of units, not 1.5']);
  assert.equal(check("trait('a').within_last(-2 days)"), ['1:24 invalid_argument a duration is a whole, non-negative number of units, not -2']);
});

test('within() and expires_after() need more than 0', () => {
  assert.equal(check("event('A').within(0 days).count() > 1"), ['1:19 invalid_argument within() needs a duration longer than 0']);
  assert.equal(check("event('A').expires_after(0 hours).count() > 1"), ['1:26 invalid_argument expires_after() needs a duration longer than 0']);
});

test('between(A, B) needs A shorter than B, across units', () => {
  assert.equal(check("event('A').between(7 days, 7 days).count() > 1"), [
    '1:20 invalid_argument between(A, B) selects events from A to B ago, so A must be shorter than B; 7 days is not shorter than 7 days',
  ]);
  assert.equal(check("event('A').between(2 days, 24 hours).count() > 1"), [
    '1:20 invalid_argument between(A, B) selects events from A to B ago, so A must be shorter than B; 2 days is not shorter than 24 hours',
  ]);
});

test('a session window lasts from 30 minutes to 90 days', () => {
  assert.equal(check("event('A').expires_after(29 minutes).count() > 1"), ['1:26 invalid_argument a session window (expires_after) lasts from 30 minutes to 90 days, not 29 minutes']);
  assert.equal(check("event('A').expires_after(91 days).count() > 1"), ['1:26 invalid_argument a session window (expires_after) lasts from 30 minutes to 90 days, not 91 days']);
  assert.equal(check("event('A').expires_after(90 days).count() > 1 AND event('B').expires_after(1800 seconds).count() > 1"), []);
});

test('passes valid durations', () => {
  assert.equal(check("event('A').between(0 days, 1 day).within(90 days).expires_after(30 minutes).count() > 1 AND trait('a').before_last(0 seconds)"), []);
});

test.run();
