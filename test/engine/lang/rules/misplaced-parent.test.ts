/** Rule misplaced_parent. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { misplacedParent } from '../../../../engine/lang/rules/misplaced-parent.ts';
import { runAstRule, USERS_TRAIT } from '../../../support/query-lang.ts';

const check = (source: string) => runAstRule(misplacedParent, source);
const PROPERTY = "misplaced_parent property(parent: …) reads the parent event of a funnel step, so it is only allowed inside the where(…) of an event nested in another event's where(…)";
const WITHIN = "misplaced_parent within(parent: …) measures from the parent event of a funnel step, so it is only allowed on an event nested in another event's where(…)";

test('parent: on a top-level event', () => {
  assert.equal(check("event('A').where(property(parent: 'p') = 1).count() > 1"), [`1:18 ${PROPERTY}`]);
  assert.equal(check("event('A').within(parent: 1 day).count() > 1"), [`1:12 ${WITHIN}`]);
});

test('property(parent:) in the parent’s own where(), beside the nested event', () => {
  assert.equal(check("event('A').where(property(parent: 'p') = 1 AND event('B').count() > 0).count() > 1"), [`1:18 ${PROPERTY}`]);
});

test('property(parent:) as a reducer argument, even of a nested event', () => {
  assert.equal(runAstRule(misplacedParent, "event('A').sum(property(parent: 'p'))", USERS_TRAIT), [`1:16 ${PROPERTY}`]);
});

test('within(parent:) on the parent event rather than the nested one', () => {
  assert.equal(check("event('A').where(event('B').count() > 0).within(parent: 1 day).count() > 1"), [`1:42 ${WITHIN}`]);
});

test('passes on nested events, at any depth', () => {
  assert.equal(
    check(
      "event('A').where(event('B').where(property('id') = property(parent: 'id') AND context('c') = context(parent: 'c')).within(parent: 5 days).count() >= 1).count() >= 1",
    ),
    [],
  );
  assert.equal(check("event('A').where(event('B').where(event('C').where(property(parent: 'x') = 1).within(parent: 1 hour).count() = 0).count() > 0).count() > 0"), []);
});

test.run();
