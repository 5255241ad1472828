/** Rule misplaced_property. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { misplacedProperty } from '../../../../engine/lang/rules/misplaced-property.ts';
import { runAstRule, USERS_TRAIT } from '../../../support/query-lang.ts';

const check = (source: string) => runAstRule(misplacedProperty, source);

test('property() and context() outside where() and reducer arguments', () => {
  assert.equal(check("property('p') = 1"), [
    "1:1 misplaced_property property() reads a field of an event, so it can only be used inside where(…) or as a reducer's argument",
  ]);
  assert.equal(check("trait('a') = context('page.url')"), [
    "1:14 misplaced_property context() reads a field of an event, so it can only be used inside where(…) or as a reducer's argument",
  ]);
  assert.equal(check("event('A').count() > property('n')").length, 1);
});

test('passes inside where() (also of a nested event) and as a reducer argument', () => {
  assert.equal(check("event('A').where(property('p') = context('c') AND event('B').where(property('q') = 1).count() > property('n')).count() > 1"), []);
  assert.equal(runAstRule(misplacedProperty, "event('A').sum(context('x'))", USERS_TRAIT), []);
});

test.run();
