/** Sugar, legacy aliases, literals, references, paths, dates and durations: all land on the canonical AST. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Comparison } from '../../../engine/lang/ast.ts';
import {
  COMPARATOR_ALIASES,
  COMPARATORS,
  parseDefinition,
  printDefinition,
  stripSpans,
  SUGAR_OF,
  SUGAR_OPERATORS,
} from '../../../engine/lang/index.ts';
import { USERS_AUDIENCE, USERS_TRAIT } from '../../support/query-lang.ts';

function comparison(source: string): Comparison {
  const result = parseDefinition(source, USERS_AUDIENCE);
  assert.equal(result.diagnostics, [], source);
  assert.ok(result.definition?.kind === 'audience' && result.definition.condition.kind === 'comparison');
  return stripSpans(result.definition.condition);
}

function sameAst(a: string, b: string, options = USERS_AUDIENCE): void {
  const x = parseDefinition(a, options);
  const y = parseDefinition(b, options);
  assert.equal(x.diagnostics, [], a);
  assert.equal(y.diagnostics, [], b);
  assert.equal(stripSpans(x.definition), stripSpans(y.definition), `${a}  vs  ${b}`);
}

test('infix sugar maps onto canonical comparators; = and == are the same', () => {
  const table: [string, string][] = [
    ['=', 'equals'],
    ['==', 'equals'],
    ['!=', 'differs'],
    ['>', 'greater_than'],
    ['>=', 'at_least'],
    ['<', 'less_than'],
    ['<=', 'at_most'],
  ];
  for (const [op, name] of table) {
    assert.is(comparison(`trait('n') ${op} 5`).comparator, name);
    sameAst(`trait('n') ${op} 5`, `trait('n').${name}(5)`);
    assert.is(SUGAR_OPERATORS[op as keyof typeof SUGAR_OPERATORS], name);
  }
  assert.equal(Object.keys(SUGAR_OF).sort(), ['at_least', 'at_most', 'differs', 'equals', 'greater_than', 'less_than']);
});

test('every canonical comparator is callable by name', () => {
  const args: Record<string, string> = {
    absent: '',
    exists: '',
    within_last: '7 days',
    before_last: '7 days',
    after_next: '7 days',
    within_next: '7 days',
    before_date: '2023-12-07T18:50:00Z',
    after_date: "'2023-12-07'",
    contains: "'a', 'b'",
    one_of: "'a', 'b'",
    none_of: "'a', 'b'",
  };
  for (const name of COMPARATORS) {
    const c = comparison(`trait('t').${name}(${args[name] ?? "'x'"})`);
    assert.is(c.comparator, name);
  }
});

test('legacy aliases of the first published version', () => {
  const table: [string, string, string][] = [
    ['eq', 'equals', "'x'"],
    ['neq', 'differs', "'x'"],
    ['is_null', 'absent', ''],
    ['is_set', 'exists', ''],
    ['gt', 'greater_than', '1'],
    ['gte', 'at_least', '1'],
    ['lt', 'less_than', '1'],
    ['lte', 'at_most', '1'],
  ];
  for (const [alias, name, arg] of table) {
    sameAst(`trait('t').${alias}(${arg})`, `trait('t').${name}(${arg})`);
    assert.is(COMPARATOR_ALIASES[alias], name);
  }
  sameAst("trait('t').contains_one(['a', 'b'])", "trait('t').contains('a', 'b')");
  assert.is(printDefinition(parseDefinition("trait('t').is_set()", USERS_AUDIENCE).definition!), "trait('t').exists()");
});

test('array-literal arguments are flattened for variadic comparators and sources()', () => {
  sameAst("trait('t').one_of(['a', 'b'])", "trait('t').one_of('a', 'b')");
  sameAst("trait('t').none_of(['a'], 'b', [3])", "trait('t').none_of('a', 'b', 3)");
  sameAst("trait('t').contains(['a', 'b'])", "trait('t').contains('a', 'b')");
  sameAst("event('E').sources({exclude: ['s1', 's2']}).count()", "event('E').sources({exclude: 's1', 's2'}).count()", USERS_TRAIT);
  sameAst("event('E').sources({exclude: 's1'}).count()", "event('E').sources({exclude: ['s1']}).count()", USERS_TRAIT);
});

test('bare values are literals; literal(…) is the same thing', () => {
  const arg = (source: string) => comparison(source).args[0];
  assert.equal(arg("trait('t') = 'x'"), { kind: 'literal', type: 'string', value: 'x' });
  assert.equal(arg("trait('t') = \"x\""), { kind: 'literal', type: 'string', value: 'x' });
  assert.equal(arg("trait('t') = 2.5"), { kind: 'literal', type: 'number', value: 2.5 });
  assert.equal(arg("trait('t') = -3"), { kind: 'literal', type: 'number', value: -3 });
  assert.equal(arg("trait('t') = true"), { kind: 'literal', type: 'boolean', value: true });
  assert.equal(arg("trait('t') = false"), { kind: 'literal', type: 'boolean', value: false });
  assert.equal(arg("trait('t') = null"), { kind: 'literal', type: 'null', value: null });
  sameAst("trait('t') = literal(100)", "trait('t') = 100");
  sameAst("trait('t') = literal('value')", "trait('t') = 'value'");
  sameAst("trait('t') > literal(2022-10-17T00:00:00)", "trait('t') > 2022-10-17T00:00:00");
  sameAst("literal(5) < trait('t')", "5 < trait('t')");
});

test('unquoted dates and timestamps are timestamp literals with ms; quoted ones stay strings', () => {
  const arg = (source: string) => comparison(source).args[0];
  assert.equal(arg("trait('t').before_date(2023-12-07T18:50:00Z)"), {
    kind: 'literal',
    type: 'timestamp',
    value: '2023-12-07T18:50:00Z',
    ms: Date.UTC(2023, 11, 7, 18, 50),
  });
  assert.equal(arg("trait('t').after_date(2022-10-17)"), { kind: 'literal', type: 'timestamp', value: '2022-10-17', ms: Date.UTC(2022, 9, 17) });
  assert.equal(arg("trait('t') >= 2022-10-17T08:00:00-05:00"), {
    kind: 'literal',
    type: 'timestamp',
    value: '2022-10-17T08:00:00-05:00',
    ms: Date.UTC(2022, 9, 17, 13),
  });
  assert.equal(arg("trait('t').before_date('2023-12-07T18:50:00Z')"), { kind: 'literal', type: 'string', value: '2023-12-07T18:50:00Z' });
});

test('durations: every unit, singular and plural, carry ms', () => {
  const cases: [string, string, number][] = [
    ['1 second', 'second', 1_000],
    ['30 seconds', 'second', 30_000],
    ['1 minute', 'minute', 60_000],
    ['30 minutes', 'minute', 1_800_000],
    ['1 hour', 'hour', 3_600_000],
    ['2 hours', 'hour', 7_200_000],
    ['1 day', 'day', 86_400_000],
    ['7 days', 'day', 604_800_000],
  ];
  for (const [text, unit, ms] of cases) {
    const d = comparison(`trait('t').within_last(${text})`).args[0];
    assert.equal(d, { kind: 'duration', amount: Number(text.split(' ')[0]), unit, ms });
  }
});

test('references on the right side: trait(), property(), property(parent:), context()', () => {
  const result = parseDefinition(
    "event('A').where(property('price') >= trait('avg_spend') AND event('B').where(property('product_id') = property(parent: 'product_id') AND context('page.url') != context(parent: 'page.url')).within(parent: 1 day).count() >= 1).count() >= 1",
    USERS_AUDIENCE,
  );
  assert.equal(result.diagnostics, []);
  const text = printDefinition(result.definition!);
  assert.ok(text.includes("property('price') >= trait('avg_spend')"));
  assert.ok(text.includes("property('product_id') = property(parent: 'product_id')"));
  assert.ok(text.includes("context('page.url') != context(parent: 'page.url')"));
});

test('paths: dots split segments; \\. and \\\\. both mean a dot inside one segment', () => {
  assert.equal(comparison("trait('a.b.c') = 1").subject, { kind: 'trait', path: ['a', 'b', 'c'] });
  assert.equal(comparison("trait('a\\.b') = 1").subject, { kind: 'trait', path: ['a.b'] });
  assert.equal(comparison("trait('a\\\\.b') = 1").subject, { kind: 'trait', path: ['a.b'] });
  assert.equal(comparison("trait('x.a\\.b.c') = 1").subject, { kind: 'trait', path: ['x', 'a.b', 'c'] });
  assert.equal(comparison("trait(\"a\\.b\") = 1").subject, { kind: 'trait', path: ['a.b'] });
  const where = parseDefinition("event('E').where(context('page.url') = 'x').count() > 0", USERS_AUDIENCE).definition;
  assert.ok(where?.kind === 'audience');
  assert.equal(stripSpans(where.condition), {
    kind: 'comparison',
    subject: {
      kind: 'aggregate',
      stream: {
        kind: 'stream',
        source: 'event',
        name: 'E',
        filters: [
          {
            kind: 'where',
            condition: {
              kind: 'comparison',
              subject: { kind: 'context', path: ['page', 'url'], parent: false },
              comparator: 'equals',
              args: [{ kind: 'literal', type: 'string', value: 'x' }],
            },
          },
        ],
      },
      reducer: { kind: 'count' },
    },
    comparator: 'greater_than',
    args: [{ kind: 'literal', type: 'number', value: 0 }],
  });
});

test('event names are not paths: dots and escapes stay as written', () => {
  const c = comparison("event('a.b \\'quoted\\'').count() > 0");
  assert.ok(c.subject.kind === 'aggregate');
  assert.is(c.subject.stream.name, "a.b 'quoted'");
});

test.run();
