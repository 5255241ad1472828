/** The public API: result shape, referencedKeys, the catalog, and the exported name tables. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  COMPARATOR_ALIASES,
  COMPARATORS,
  FUNCTION_NAMES,
  MAX_PRIMARY_EXPRESSIONS,
  parseDefinition,
  referencedKeys,
  SUGAR_OPERATORS,
  UNIT_MS,
  type DefinitionCatalog,
} from '../../../engine/lang/index.ts';
import { USERS_AUDIENCE, USERS_TRAIT } from '../../support/query-lang.ts';

test('a valid definition has no diagnostics; an invalid one has a null definition', () => {
  const ok = parseDefinition("event('A').count() >= 1", USERS_AUDIENCE);
  assert.equal(ok.diagnostics, []);
  assert.is(ok.definition?.kind, 'audience');
  assert.is(ok.definition?.target, 'USERS');
  const bad = parseDefinition("event('A').count() >=", USERS_AUDIENCE);
  assert.is(bad.definition, null);
  assert.is(bad.diagnostics.length, 1);
});

test('referencedKeys: the first segment of every trait(), once, in source order', () => {
  const d = parseDefinition(
    "trait('b.x') = 1 AND event('E').where(property('p') >= trait('a')).count() > 0 OR trait('b') = true OR trait('c\\.d') = 2",
    USERS_AUDIENCE,
  ).definition!;
  assert.equal(referencedKeys(d), ['b', 'a', 'c.d']);
  assert.equal(referencedKeys(parseDefinition("event('E').count()", USERS_TRAIT).definition!), []);
});

test('the catalog: a trait() naming no definition is a custom trait, whatever it is compared with', () => {
  const catalog: DefinitionCatalog = {
    lookup: (key) => (key === 'vip' ? { kind: 'audience', target: 'USERS', references: [] } : undefined),
  };
  const options = { ...USERS_AUDIENCE, catalog };
  assert.equal(parseDefinition("trait('vip') = true AND trait('newsletter') != false", options).diagnostics, []);
  assert.equal(parseDefinition("trait('unknown_trait') = 'pro' AND trait('other') > 3", options).diagnostics, []);
  assert.equal(parseDefinition("trait('gone') = true AND NOT (trait('gone2') = false)", options).diagnostics, []);
});

test('name tables are exported for other modules', () => {
  assert.is(COMPARATORS.length, 20);
  assert.is(SUGAR_OPERATORS['>='], 'at_least');
  assert.is(COMPARATOR_ALIASES['contains_one'], 'contains');
  assert.ok(FUNCTION_NAMES.includes('expires_after') && FUNCTION_NAMES.includes('is_set'));
  assert.is(UNIT_MS.day, 86_400_000);
  assert.is(MAX_PRIMARY_EXPRESSIONS, 50);
});

test.run();
