/** Rule invalid_chain. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { invalidChain } from '../../../../engine/lang/rules/invalid-chain.ts';
import { runSyntaxRule } from '../../../support/query-lang.ts';

const check = (source: string) => runSyntaxRule(invalidChain, source);

test('a reducer on a scalar', () => {
  assert.equal(check("trait('a').count() >= 1"), ['1:12 invalid_chain count() reduces an event stream, but it follows a single value']);
});

test('.count() after anything but unique() or a stream', () => {
  assert.equal(check("event('A').sum(property('p')).count() > 1"), [
    '1:31 invalid_chain count() cannot follow a reducer (only unique() may be followed by .count())',
  ]);
  assert.equal(check("event('A').unique(property('p')).first(property('p')) = 1"), ['1:34 invalid_chain only .count() may follow unique(), not first()']);
});

test('a comparator on a stream or on a unique() list, by name or by sugar', () => {
  assert.equal(check("event('A').equals(1)"), [
    '1:12 invalid_chain equals() compares a value, but it follows an event stream; reduce the stream first, e.g. .count()',
  ]);
  assert.equal(check("event('A') >= 1"), [
    '1:12 invalid_chain >= compares a value, but its left side is an event stream; reduce the stream first, e.g. .count()',
  ]);
  assert.equal(check("event('A').unique(property('p')) = 1"), ['1:34 invalid_chain = compares a value, but its left side is a unique() list; count it first with .count()']);
});

test('a filter after a reducer, or on a scalar', () => {
  assert.equal(check("event('A').count().within(7 days) > 1"), ['1:20 invalid_chain within() filters the event stream, so it must come before the reducer']);
  assert.equal(check("trait('a').where(property('p') = 1) = 1"), ['1:12 invalid_chain where() filters an event stream, but it follows a single value']);
});

test('anything after a comparator; an extractor inside a chain; a chain that starts wrong', () => {
  assert.equal(check("trait('a').exists().absent()"), ['1:21 invalid_chain nothing may follow a comparator, but absent() does']);
  assert.equal(check("event('A').trait('b') = 1"), ['1:12 invalid_chain trait() starts an expression; it cannot follow an event stream']);
  assert.equal(check('count() > 1'), [
    "1:1 invalid_chain count() cannot start an expression: it must follow an event stream, e.g. event('Order Completed').count(…)",
  ]);
  assert.equal(check("(trait('a') = 1) = 2"), ['1:18 invalid_chain = compares a value, but its left side is a boolean (a comparison)']);
});

test('passes well-typed chains', () => {
  assert.equal(check("event('A').where(property('p') = 1).sources({exclude: 's'}).within(7 days).unique(property('p')).count() >= 2"), []);
  assert.equal(check("trait('a').exists() AND 'x'.contains('x') AND (trait('b')).exists()"), []);
});

test.run();
