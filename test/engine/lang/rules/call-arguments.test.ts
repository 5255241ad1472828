/** Rule call-arguments (invalid_argument for argument shapes). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { callArguments } from '../../../../engine/lang/rules/call-arguments.ts';
import { parseDefinition } from '../../../../engine/lang/index.ts';
import { runSyntaxRule, USERS_AUDIENCE } from '../../../support/query-lang.ts';

const check = (source: string) => runSyntaxRule(callArguments, source);

test('argument counts, pointing at the extra argument or the closing parenthesis', () => {
  assert.equal(check("event('A', 'B').count() > 1"), ["1:12 invalid_argument event() takes one argument: the event name as a quoted string, e.g. event('Order Completed')"]);
  assert.equal(check("event('A').count(1) > 1"), ['1:18 invalid_argument count() takes no arguments']);
  assert.equal(check("event('A').between(7 days).count() > 1"), ['1:26 invalid_argument between() takes 2 arguments: two durations, e.g. between(7 days, 30 days)']);
  assert.equal(check("event('A').mode(property('p')) = 'x'"), [
    "1:30 invalid_argument mode() takes 2 arguments: a property and a minimum frequency, e.g. mode(property('p'), 2)",
  ]);
});

test('argument kinds', () => {
  assert.equal(check('event(5).count() > 1'), ["1:7 invalid_argument event() takes the event name as a quoted string, e.g. event('Order Completed')"]);
  assert.equal(check("event('A').within('7 days').count() > 1"), ['1:19 invalid_argument within() takes a duration such as 7 days']);
  assert.equal(check("event('A').sum(literal(1)) > 1"), ["1:16 invalid_argument sum() takes property('…') or context('…') (or, in ACCOUNTS definitions, trait('…'))"]);
  assert.equal(check("event('A').mode(5, 1) = 'x'"), ["1:17 invalid_argument mode() takes property('…') or context('…') (or, in ACCOUNTS definitions, trait('…')) first"]);
  // trait() is a valid shape here; whether the definition may use it (ACCOUNTS only) is rule reducer-arguments'
  assert.equal(check("event('A').sum(trait('t')) > 1"), []);
  assert.equal(check("event('A').mode(property('p'), 'two') = 1"), ['1:32 invalid_argument mode() takes the minimum frequency, a number, second']);
  assert.equal(check("trait('t') = literal(trait('u'))"), ['1:22 invalid_argument literal() takes a string, number, boolean, null or timestamp']);
});

test('comparator arguments must be values or references', () => {
  assert.equal(check("trait('t') = event('A').count()"), [
    "1:14 invalid_argument = takes values or references (trait('…'), property('…'), context('…')), not an aggregate (compare the aggregate with a value instead)",
  ]);
  assert.equal(check("trait('t').one_of(event('A'))"), [
    "1:19 invalid_argument one_of() takes values or references (trait('…'), property('…'), context('…')), not event(…), an event stream",
  ]);
  assert.equal(check("trait('t').one_of([['a']])"), ["1:20 invalid_argument one_of() takes values or references (trait('…'), property('…'), context('…')), not a nested array"]);
  assert.equal(check("trait('t') = (trait('u') = 1)"), ["1:15 invalid_argument = takes values or references (trait('…'), property('…'), context('…')), not a condition"]);
});

test('parent: and as only where they belong', () => {
  assert.equal(check("event('A').between(parent: 1 day, 2 days).count() > 1"), [
    '1:20 invalid_argument parent: is not allowed in between(); only property(), context() and within() take it',
  ]);
  assert.equal(check("event('A').within(last: 1 day).count() > 1"), ['1:19 invalid_argument within() has no argument named last:']);
  assert.equal(check("event('A').sum(property('p') as string) > 1"), [
    "1:33 invalid_argument 'as string' is not allowed in sum(); only the first argument of min(), max() and mode() takes it",
  ]);
  assert.equal(check("event('A').max(property('p') as array) = 1"), ['1:33 invalid_argument max() accepts as number, as string, not as array']);
});

test('sources({exclude: …})', () => {
  assert.equal(check("event('A').sources('s').count() > 1"), ["1:20 invalid_argument sources() takes {exclude: 'source-id', …}"]);
  assert.equal(check("event('A').sources({include: 's'}).count() > 1"), [
    '1:21 invalid_argument sources() only supports exclude:, not include:',
    "1:20 invalid_argument sources() takes {exclude: 'source-id', …}",
  ]);
  assert.equal(check("event('A').sources({exclude: 's', 5}).count() > 1"), ['1:35 invalid_argument exclude: takes quoted source ids']);
});

test('an argument the parser already reported is not counted again', () => {
  const result = parseDefinition("event('A').count(.) > 1", USERS_AUDIENCE);
  assert.equal(result.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`), ['1:18 syntax_error']);
});

test('passes well-formed calls', () => {
  assert.equal(
    check(
      "event('A').where(property(parent: 'p') = context('c')).sources({exclude: ['s1', 's2']}).within(parent: 2 hours).between(1 day, 2 days).expires_after(30 minutes).mode(property('p') as array, 2) = literal('x')",
    ),
    [],
  );
});

test.run();
