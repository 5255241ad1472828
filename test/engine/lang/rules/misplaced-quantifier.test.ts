/** Rule misplaced_quantifier. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { misplacedQuantifier } from '../../../../engine/lang/rules/misplaced-quantifier.ts';
import { ACCOUNTS_AUDIENCE, runAstRule } from '../../../support/query-lang.ts';

const check = (source: string) => runAstRule(misplacedQuantifier, source, ACCOUNTS_AUDIENCE);

test('a quantifier inside another one, or inside where()', () => {
  assert.equal(check("ANY (trait('a') = 1 AND ALL trait('b') = 1)"), [
    '1:25 misplaced_quantifier ALL cannot be nested inside ANY or ALL: their condition is already per user',
  ]);
  assert.equal(check("ANY event('A').where(ALL property('p') = 1).count() > 1"), [
    '1:22 misplaced_quantifier ALL cannot be used inside where(…), which tests single events',
  ]);
});

test('passes top-level quantifiers, side by side or under NOT', () => {
  assert.equal(check("ANY trait('a') = 1 AND ALL NOT trait('b') = 1 OR NOT ANY trait('c') = 1"), []);
});

test.run();
