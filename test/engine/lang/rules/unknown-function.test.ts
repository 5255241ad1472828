/** Rule unknown_function. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { unknownFunction } from '../../../../engine/lang/rules/unknown-function.ts';
import { runSyntaxRule } from '../../../support/query-lang.ts';

test('reports names the language does not have, with the closest known name', () => {
  assert.equal(runSyntaxRule(unknownFunction, "event('A').cnt() >= 1"), ['1:12 unknown_function unknown function cnt(); did you mean count()?']);
  assert.equal(runSyntaxRule(unknownFunction, "Trait('a') = 1"), ['1:1 unknown_function unknown function Trait(); did you mean trait()?']);
  assert.equal(runSyntaxRule(unknownFunction, "trait('a').frobnicate(1)"), ['1:12 unknown_function unknown function frobnicate()']);
});

test('reports every unknown name, also inside arguments', () => {
  assert.equal(runSyntaxRule(unknownFunction, "event('A').sum(prop('x')) > foo('y')").map((d) => d.split(' ').slice(0, 2).join(' ')), [
    '1:16 unknown_function',
    '1:29 unknown_function',
  ]);
});

test('passes canonical names and legacy aliases', () => {
  assert.equal(runSyntaxRule(unknownFunction, "event('A').where(property('p').gte(1)).within(7 days).count() >= 1 AND trait('t').is_set()"), []);
});

test.run();
