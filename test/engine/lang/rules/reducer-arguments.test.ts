/** Rule reducer-arguments (invalid_argument for the minimum frequency of mode()). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reducerArguments } from '../../../../engine/lang/rules/reducer-arguments.ts';
import { runAstRule, USERS_TRAIT } from '../../../support/query-lang.ts';

const check = (source: string) => runAstRule(reducerArguments, source, USERS_TRAIT);

test('mode() needs a whole minimum frequency of at least 1', () => {
  assert.equal(check("event('A').mode(property('p'), 0)"), ['1:12 invalid_argument mode() needs a minimum frequency that is a whole number of at least 1, not 0']);
  assert.equal(check("event('A').mode(property('p'), 1.5)"), ['1:12 invalid_argument mode() needs a minimum frequency that is a whole number of at least 1, not 1.5']);
});

test('passes', () => {
  assert.equal(check("event('A').mode(property('p') as array, 2)"), []);
  assert.equal(check("event('A').max(property('p'))"), []);
});

test.run();
