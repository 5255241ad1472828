/** Rule unknown_key. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { DefinitionCatalog, ParseOptions } from '../../../../engine/lang/index.ts';
import { unknownKey } from '../../../../engine/lang/rules/unknown-key.ts';
import { runAstRule, USERS_AUDIENCE } from '../../../support/query-lang.ts';

const catalog = (withTraitKeys: boolean): DefinitionCatalog => ({
  lookup: (key) => (key === 'vip' ? { kind: 'audience', target: 'USERS', references: [] } : undefined),
  ...(withTraitKeys ? { knownTraitKeys: () => new Set(['newsletter']) } : {}),
});
const options = (withTraitKeys = true): ParseOptions => ({ ...USERS_AUDIENCE, catalog: catalog(withTraitKeys) });

test('the membership form with an unknown key, = or !=, true or false', () => {
  assert.equal(runAstRule(unknownKey, "trait('gone') = true", options()), [
    "1:1 unknown_key trait('gone') tests membership of 'gone', but no audience or trait with that key exists",
  ]);
  assert.equal(runAstRule(unknownKey, "trait('vip') = true AND trait('gone') != false", options()).map((d) => d.split(' ').slice(0, 2).join(' ')), ['1:25 unknown_key']);
});

test('without knownTraitKeys, only catalog definitions are known', () => {
  assert.equal(runAstRule(unknownKey, "trait('newsletter') = true", options(false)).length, 1);
  assert.equal(runAstRule(unknownKey, "trait('newsletter') = true", options(true)), []);
});

test('passes definitions, known traits, other comparisons and nested paths; nothing without a catalog', () => {
  assert.equal(runAstRule(unknownKey, "trait('vip') = true AND trait('newsletter') = false", options()), []);
  assert.equal(runAstRule(unknownKey, "trait('gone') = 'true' AND trait('gone').exists() AND trait('gone') > 1 AND trait('a.b') = true", options()), []);
  assert.equal(runAstRule(unknownKey, "trait('gone') = true"), []);
});

test.run();
