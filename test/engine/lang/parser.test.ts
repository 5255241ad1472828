/** Parser: precedence, keywords, junction shapes, spans, and syntax errors with their positions and recovery. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Condition } from '../../../engine/lang/ast.ts';
import { parseDefinition, printDefinition } from '../../../engine/lang/index.ts';
import { ACCOUNTS_AUDIENCE, dumpAst, USERS_AUDIENCE } from '../../support/query-lang.ts';

function condition(source: string, options = USERS_AUDIENCE): Condition {
  const result = parseDefinition(source, options);
  assert.equal(result.diagnostics, [], source);
  assert.ok(result.definition?.kind === 'audience');
  return result.definition.condition;
}

/** The junction structure only: `or(and(a, b), c)`. */
function shape(c: Condition): string {
  switch (c.kind) {
    case 'and':
    case 'or':
      return `${c.kind}(${c.operands.map(shape).join(', ')})`;
    case 'not':
      return `not(${shape(c.operand)})`;
    case 'quantified':
      return `${c.quantifier}(${shape(c.operand)})`;
    case 'comparison':
      return c.subject.kind === 'trait' ? c.subject.path.join('.') : c.comparator;
  }
}

const A = "trait('a') = 1";
const B = "trait('b') = 1";
const C = "trait('c') = 1";
const D = "trait('d') = 1";

test('AND binds tighter than OR', () => {
  assert.is(shape(condition(`${A} OR ${B} AND ${C}`)), 'or(a, and(b, c))');
  assert.is(shape(condition(`${A} AND ${B} OR ${C} AND ${D}`)), 'or(and(a, b), and(c, d))');
  assert.is(shape(condition(`${A} OR ${B} OR ${C}`)), 'or(a, b, c)');
});

test('parentheses override precedence and are kept as structure', () => {
  assert.is(shape(condition(`(${A} OR ${B}) AND ${C}`)), 'and(or(a, b), c)');
  assert.is(shape(condition(`${A} AND (${B} AND ${C})`)), 'and(a, and(b, c))');
  assert.is(shape(condition(`((${A}))`)), 'a');
});

test('NOT, ANY and ALL bind tightest; ALL NOT x; with or without parentheses', () => {
  assert.is(shape(condition(`NOT ${A} AND ${B}`)), 'and(not(a), b)');
  assert.is(shape(condition(`NOT (${A} AND ${B})`)), 'not(and(a, b))');
  assert.is(shape(condition(`NOT NOT ${A}`)), 'not(not(a))');
  assert.is(shape(condition(`ANY ${A} AND ALL (${B} OR ${C})`, ACCOUNTS_AUDIENCE)), 'and(any(a), all(or(b, c)))');
  assert.is(shape(condition(`ALL NOT ${A}`, ACCOUNTS_AUDIENCE)), 'all(not(a))');
  assert.is(shape(condition(`ANY (${A})`, ACCOUNTS_AUDIENCE)), 'any(a)');
});

test('keywords are case-insensitive', () => {
  assert.is(shape(condition(`not ${A} and ${B} Or ${C}`)), 'or(and(not(a), b), c)');
  assert.is(shape(condition(`any ${A} AND All not ${B}`, ACCOUNTS_AUDIENCE)), 'and(any(a), all(not(b)))');
  assert.is(printDefinition(parseDefinition("trait('a') = TRUE AND trait('b') = Null", USERS_AUDIENCE).definition!), "trait('a') = true AND trait('b') = null");
  assert.is(printDefinition(parseDefinition("event('E').max(property('p') AS String) > 1", USERS_AUDIENCE).definition!), "event('E').max(property('p') as string) > 1");
  assert.is(printDefinition(parseDefinition("event('E').within(7 DAYS).count() > 1", USERS_AUDIENCE).definition!), "event('E').within(7 days).count() > 1");
});

test('multi-line definitions with indentation and \\r\\n', () => {
  const source = "event('Order Completed')\r\n  .where(\r\n    property('total') > 100\r\n  )\r\n  .within(30 days)\r\n  .count() >= 2\r\nOR trait('vip') = true";
  assert.is(
    printDefinition(parseDefinition(source, USERS_AUDIENCE).definition!),
    "event('Order Completed').where(property('total') > 100).within(30 days).count() >= 2 OR trait('vip') = true",
  );
});

test('every node carries a span: line, column and offsets', () => {
  const source = "trait('a') = 1 OR\n  event('E').where(property('p') >= 2).count() > 3";
  const c = condition(source);
  assert.ok(c.kind === 'or');
  assert.equal(c.span, { line: 1, column: 1, start: 0, end: source.length });
  const [first, second] = c.operands;
  assert.ok(first?.kind === 'comparison' && second?.kind === 'comparison');
  assert.equal(first.span, { line: 1, column: 1, start: 0, end: 14 });
  assert.equal(first.subject.span, { line: 1, column: 1, start: 0, end: 10 });
  assert.equal(first.args[0]!.span, { line: 1, column: 14, start: 13, end: 14 });
  assert.equal(second.span?.line, 2);
  assert.equal(second.span?.column, 3);
  const aggregate = second.subject;
  assert.ok(aggregate.kind === 'aggregate');
  assert.equal(source.slice(aggregate.span!.start, aggregate.span!.end), "event('E').where(property('p') >= 2).count()");
  assert.equal(source.slice(aggregate.stream.span!.start, aggregate.stream.span!.end), "event('E').where(property('p') >= 2)");
  assert.equal(source.slice(aggregate.reducer.span!.start, aggregate.reducer.span!.end), 'count()');
  const where = aggregate.stream.filters[0]!;
  assert.equal(source.slice(where.span!.start, where.span!.end), "where(property('p') >= 2)");
  assert.equal(where.span!.line, 2);
  assert.equal(where.span!.column, 14);
});

test('unique(…).count() is one reducer whose span covers both calls', () => {
  const source = "event('E').unique(property('p')).count() > 2";
  const c = condition(source);
  assert.ok(c.kind === 'comparison' && c.subject.kind === 'aggregate');
  assert.equal(c.subject.reducer.kind, 'unique');
  assert.equal(source.slice(c.subject.reducer.span!.start, c.subject.reducer.span!.end), "unique(property('p')).count()");
});

/** `line:column message` of each syntax error. */
function syntaxErrors(source: string): string[] {
  const result = parseDefinition(source, USERS_AUDIENCE);
  assert.is(result.definition, null);
  return result.diagnostics.filter((d) => d.code === 'syntax_error').map((d) => `${d.line}:${d.column} ${d.message}`);
}

test('syntax errors point at the offending token and say what was expected', () => {
  assert.equal(syntaxErrors(`${A} AND`), ['1:19 expected an expression but found the end of the definition']);
  assert.equal(syntaxErrors(`${A} ${B}`), ["1:16 expected AND, OR or the end of the definition but found 'trait'"]);
  assert.equal(syntaxErrors(`${A} AND (${B}`), ["1:35 expected ')' but found the end of the definition"]);
  assert.equal(syntaxErrors("trait('a').exists AND trait('b') = 1"), ["1:19 expected '(' after exists but found 'AND'"]);
  assert.equal(syntaxErrors('trait(a) = 1'), ["1:8 expected '(' after a but found ')'"]);
  assert.equal(syntaxErrors("event('E').within(5 weeks).count() > 1"), ["1:21 unknown time unit 'weeks': expected second(s), minute(s), hour(s) or day(s)"]);
  assert.equal(syntaxErrors("event('E')."), ["1:12 expected a function name after '.' but found the end of the definition"]);
  assert.equal(syntaxErrors("event('E').max(property('p') as) > 1"), ["1:32 expected a type after 'as' but found ')'"]);
  assert.equal(syntaxErrors("event('E').sources({'a'}).count() > 1"), ["1:21 expected a key such as exclude: but found 'a'"]);
  assert.equal(syntaxErrors(''), ['1:1 expected an expression but the definition is empty']);
});

test('recovery: several syntax errors in one definition, each reported once', () => {
  assert.equal(syntaxErrors(`${A} AND AND ${B} OR )`), ['1:20 expected an expression but found the keyword AND', "1:42 expected an expression but found ')'"]);
  assert.equal(syntaxErrors("trait('a').one_of('x' 'y') AND trait('b').one_of('z',)"), ["1:23 expected ',' or ')' but found 'y'", "1:54 expected an expression but found ')'"]);
  assert.equal(syntaxErrors(`event('E').where(property('x') >>> 5).count() >= 1 AND ${B} AND trait('c') =`), [
    "1:33 expected an expression but found '>'",
    '1:87 expected an expression but found the end of the definition',
  ]);
  assert.equal(syntaxErrors(`${A}\nAND trait('b') ==\nOR ${C}`), ['3:1 expected an expression but found the keyword OR']);
});

test('recovery keeps the rest of the definition checkable', () => {
  const result = parseDefinition("trait('a') = AND foo('x') = 1", USERS_AUDIENCE);
  assert.equal(result.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`), ['1:14 syntax_error', '1:18 unknown_function']);
});

test('a lexical error is not followed by cascading syntax errors', () => {
  assert.equal(syntaxErrors("event('A"), ["1:7 unterminated string: expected a closing '"]);
  assert.equal(syntaxErrors("trait('x'') = 1"), ["1:10 unterminated string: expected a closing '"]);
});

test('nesting deeper than the limit is a syntax error', () => {
  const errors = syntaxErrors(`${'('.repeat(300)}${A}${')'.repeat(300)}`);
  assert.equal(errors, ['1:201 the definition is nested more than 200 levels deep']);
  assert.equal(parseDefinition(`${'('.repeat(150)}${A}${')'.repeat(150)}`, USERS_AUDIENCE).diagnostics, []);
});

test('the syntax tree keeps generic shapes the rules then judge', () => {
  // Parses (a value as a chain head), then the rules decide: a comparator on a literal is fine.
  const c = condition("'abc'.contains('b') AND 5.exists() AND literal(2022-10-17).before_date(2023-01-01)");
  assert.fixture(
    dumpAst({ kind: 'audience', target: 'USERS', condition: c }),
    `audience USERS
  and
    contains
      literal string 'abc'
      literal string 'b'
    exists
      literal number 5
    before_date
      literal timestamp 2022-10-17 (1665964800000)
      literal timestamp 2023-01-01 (1672531200000)`,
  );
});

test.run();
