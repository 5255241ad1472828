/** Rule reference_cycle. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CatalogEntry, DefinitionCatalog, ParseOptions } from '../../../../engine/lang/index.ts';
import { referenceCycle } from '../../../../engine/lang/rules/reference-cycle.ts';
import { runAstRule, USERS_AUDIENCE, USERS_TRAIT } from '../../../support/query-lang.ts';

const entries: Record<string, CatalogEntry> = {
  a: { kind: 'audience', target: 'USERS', references: ['b', 'plan'] },
  b: { kind: 'audience', target: 'USERS', references: ['c'] },
  c: { kind: 'trait', target: 'USERS', references: ['self'] },
  loop1: { kind: 'audience', target: 'USERS', references: ['loop2'] },
  loop2: { kind: 'audience', target: 'USERS', references: ['loop1'] },
};
const catalog: DefinitionCatalog = { lookup: (key) => entries[key] };
const options = (selfKey: string, base = USERS_AUDIENCE): ParseOptions => ({ ...base, catalog, selfKey });

test('a path through the catalog back to the definition itself', () => {
  assert.equal(runAstRule(referenceCycle, "trait('x') = 1 AND trait('a') = true", options('self')), [
    "1:20 reference_cycle the audience 'self' would create a cycle by referencing 'a': self → a → b → c → self",
  ]);
});

test('a direct self-reference, and a computed trait', () => {
  assert.equal(runAstRule(referenceCycle, "trait('self') = true", options('self')), [
    "1:1 reference_cycle the audience 'self' would create a cycle by referencing 'self': self → self",
  ]);
  assert.equal(runAstRule(referenceCycle, "event('E').where(property('p') > trait('c')).count()", options('self', USERS_TRAIT)), [
    "1:34 reference_cycle the computed trait 'self' would create a cycle by referencing 'c': self → c → self",
  ]);
});

test('passes: no path back, cycles elsewhere in the catalog, no selfKey', () => {
  assert.equal(runAstRule(referenceCycle, "trait('a') = true", options('other')), []);
  assert.equal(runAstRule(referenceCycle, "trait('loop1') = true", options('other')), []);
  assert.equal(runAstRule(referenceCycle, "trait('self') = true", { ...USERS_AUDIENCE, catalog }), []);
});

test.run();
