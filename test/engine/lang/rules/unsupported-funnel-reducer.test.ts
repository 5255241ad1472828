/** Rule unsupported-funnel-reducer. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { unsupportedFunnelReducer } from '../../../../engine/lang/rules/unsupported-funnel-reducer.ts';
import { runAstRule, USERS_TRAIT } from '../../../support/query-lang.ts';

const check = (source: string) => runAstRule(unsupportedFunnelReducer, source);

test('a nested event reduced by anything but count()', () => {
  assert.equal(check("event('A').where(event('B').sum(property('x')) > 1).count() > 1"), [
    "1:29 unsupported an event nested in another event's where(…) (a funnel step) can only be counted with .count(), not sum()",
  ]);
  assert.equal(check("event('A').where(event('B').unique(property('x')).count() > 1).count() > 1"), [
    "1:29 unsupported an event nested in another event's where(…) (a funnel step) can only be counted with .count(), not unique().count()",
  ]);
});

test('passes count() on nested events and any reducer at the top', () => {
  assert.equal(check("event('A').where(event('B').within(parent: 1 day).count() = 0).count() > 1"), []);
  assert.equal(runAstRule(unsupportedFunnelReducer, "event('A').where(property('p') > 1).unique(property('x'))", USERS_TRAIT), []);
});

test.run();
