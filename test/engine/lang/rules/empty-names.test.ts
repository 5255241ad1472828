/** Rule empty-names (invalid_argument for empty names, path segments and source ids). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyNames } from '../../../../engine/lang/rules/empty-names.ts';
import { runAstRule } from '../../../support/query-lang.ts';

const check = (source: string) => runAstRule(emptyNames, source);

test('empty names and path segments', () => {
  assert.equal(check("event('').count() > 1"), ['1:1 invalid_argument event() needs a non-empty name']);
  assert.equal(check("trait('') = 1"), ["1:1 invalid_argument trait('') has an empty path segment (write a literal dot as \\.)"]);
  assert.equal(check("event('A').where(property('a..b') = 1).count() > 1"), ["1:18 invalid_argument property('a..b') has an empty path segment (write a literal dot as \\.)"]);
});

test('empty source lists and ids', () => {
  assert.equal(check("event('A').sources({exclude: []}).count() > 1"), ['1:12 invalid_argument exclude: needs at least one source id']);
  assert.equal(check("event('A').sources({exclude: 'a', ''}).count() > 1"), ['1:12 invalid_argument a source id cannot be empty']);
});

test('passes', () => {
  assert.equal(check("event('A').sources({exclude: 'a'}).where(context('page.url') = '').count() > 1 AND trait('a\\.b') = ''"), []);
});

test.run();
