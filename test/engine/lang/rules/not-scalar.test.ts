/** Rule not_scalar. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { notScalar } from '../../../../engine/lang/rules/not-scalar.ts';
import { runSyntaxRule, USERS_AUDIENCE, USERS_TRAIT } from '../../../support/query-lang.ts';

const check = (source: string) => runSyntaxRule(notScalar, source, USERS_TRAIT);

test('a computed trait must be an event aggregate', () => {
  assert.equal(check("event('A').count() >= 1"), [
    "1:1 not_scalar a computed trait must be an event aggregate such as event('Order Completed').count(), but this is a boolean (a comparison); a computed trait is the reduced value itself, without a comparison",
  ]);
  assert.equal(check("event('A').within(7 days)"), [
    "1:1 not_scalar a computed trait must be an event aggregate such as event('Order Completed').count(), but this is an event stream; add a reducer such as .count()",
  ]);
  assert.equal(check("trait('a')"), ["1:1 not_scalar a computed trait must be an event aggregate such as event('Order Completed').count(), but this is a single value"]);
});

test('passes aggregates and unique lists; says nothing about audiences', () => {
  assert.equal(check("event('A').within(7 days).count()"), []);
  assert.equal(check("event('A').unique(property('p'))"), []);
  assert.equal(runSyntaxRule(notScalar, "trait('a')", USERS_AUDIENCE), []);
});

test.run();
