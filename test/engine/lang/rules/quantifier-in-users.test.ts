/** Rule quantifier_in_users. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { quantifierInUsers } from '../../../../engine/lang/rules/quantifier-in-users.ts';
import { ACCOUNTS_AUDIENCE, runAstRule } from '../../../support/query-lang.ts';

test('ANY and ALL in a USERS definition, each reported', () => {
  assert.equal(runAstRule(quantifierInUsers, "ANY trait('a') = 1 OR ALL NOT trait('b') = 1"), [
    '1:1 quantifier_in_users ANY qualifies the users of an account, so it is only allowed in ACCOUNTS definitions',
    '1:23 quantifier_in_users ALL qualifies the users of an account, so it is only allowed in ACCOUNTS definitions',
  ]);
});

test('passes in ACCOUNTS definitions, and NOT is not a quantifier', () => {
  assert.equal(runAstRule(quantifierInUsers, "ANY trait('a') = 1 OR ALL NOT trait('b') = 1", ACCOUNTS_AUDIENCE), []);
  assert.equal(runAstRule(quantifierInUsers, "NOT trait('a') = 1"), []);
});

test.run();
