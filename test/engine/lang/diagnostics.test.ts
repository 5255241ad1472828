/** Every diagnostic code, with the line and column it is reported at; several mistakes reported together, sorted. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DIAGNOSTIC_CODES, parseDefinition, parseDefinitionJson, type DiagnosticCode, type ParseOptions } from '../../../engine/lang/index.ts';
import type { DefinitionCatalog } from '../../../engine/lang/index.ts';
import { ACCOUNTS_AUDIENCE, USERS_AUDIENCE, USERS_TRAIT } from '../../support/query-lang.ts';

const catalog: DefinitionCatalog = {
  lookup: (key) =>
    ({
      big_spenders: { kind: 'audience' as const, target: 'USERS' as const, references: ['loyal'] },
      loyal: { kind: 'audience' as const, target: 'USERS' as const, references: ['churn_risk'] },
    })[key],
};

interface Case {
  readonly code: DiagnosticCode;
  readonly source: string;
  readonly options?: ParseOptions;
  /** `line:column` of the diagnostic with this code. */
  readonly at: string;
  readonly message: RegExp;
}

const CASES: Case[] = [
  { code: 'syntax_error', source: "trait('a') = 1\n  AND trait('b') >", at: '2:19', message: /expected an expression but found the end/ },
  { code: 'unknown_function', source: "event('A')\n  .cnt() >= 1", at: '2:4', message: /unknown function cnt\(\); did you mean count\(\)\?/ },
  { code: 'invalid_chain', source: "trait('a')\n  .count() >= 1", at: '2:4', message: /count\(\) reduces an event stream, but it follows a single value/ },
  { code: 'invalid_argument', source: "event('A')\n  .within(7)\n  .count() >= 1", at: '2:11', message: /within\(\) takes a duration/ },
  { code: 'not_boolean', source: "event('A')\n  .count()", at: '1:1', message: /an audience must be a condition/ },
  { code: 'not_scalar', source: "event('A').count() >= 1", options: USERS_TRAIT, at: '1:1', message: /a computed trait must be an event aggregate/ },
  { code: 'misplaced_property', source: "trait('a') = 1 OR\n  property('p') = 2", at: '2:3', message: /property\(\) reads a field of an event/ },
  {
    code: 'misplaced_parent',
    source: "event('A')\n  .where(property(parent: 'p') = 1)\n  .count() >= 1",
    at: '2:10',
    message: /property\(parent: …\) reads the parent event of a funnel step/,
  },
  { code: 'quantifier_in_users', source: "trait('a') = 1 AND\n  ANY trait('b') = 1", at: '2:3', message: /only allowed in ACCOUNTS definitions/ },
  {
    code: 'misplaced_quantifier',
    source: "ANY (\n  ALL trait('b') = 1)",
    options: ACCOUNTS_AUDIENCE,
    at: '2:3',
    message: /cannot be nested inside ANY or ALL/,
  },
  {
    code: 'too_many_expressions',
    source: Array.from({ length: 51 }, (_, i) => `trait('t${i}') = ${i}`).join('\nOR '),
    at: '51:4',
    message: /at most 50 primary expressions \(comparisons\); this one has 51/,
  },
  {
    code: 'reference_cycle',
    source: "trait('plan') = 'pro' AND\n  trait('big_spenders') = true",
    options: { ...USERS_AUDIENCE, catalog, selfKey: 'churn_risk' },
    at: '2:3',
    message: /the audience 'churn_risk' would create a cycle by referencing 'big_spenders': churn_risk → big_spenders → loyal → churn_risk/,
  },
  { code: 'unsupported', source: "trait('a') = 1 OR\n  entity('orders').count() >= 1", at: '2:3', message: /Linked Audiences/ },
];

for (const c of CASES) {
  test(`${c.code} at ${c.at}`, () => {
    const result = parseDefinition(c.source, c.options ?? USERS_AUDIENCE);
    assert.is(result.definition, null);
    const found = result.diagnostics.filter((d) => d.code === c.code);
    assert.equal(found.map((d) => `${d.line}:${d.column}`), [c.at], JSON.stringify(result.diagnostics));
    assert.match(found[0]!.message, c.message);
  });
}

test('invalid_json names the JSON path', () => {
  const result = parseDefinitionJson(
    { kind: 'audience', target: 'USERS', condition: { kind: 'comparison', subject: { kind: 'trait', path: 'a' }, comparator: 'equals', args: [] } },
    USERS_AUDIENCE,
  );
  assert.equal(result.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`), ['1:1 invalid_json']);
  assert.match(result.diagnostics[0]!.message, /\(at condition\.subject\.path\)/);
});

test('every diagnostic code has a case above', () => {
  const covered = new Set([...CASES.map((c) => c.code), 'invalid_json']);
  assert.equal(DIAGNOSTIC_CODES.filter((code) => !covered.has(code)), []);
});

test('all mistakes of a definition are reported, sorted by position', () => {
  const source = [
    "event('Order Completed')",
    "  .where(property('total') > 100",
    "     AND trait('vip') = true)",
    '  .within(30 days)',
    '  .count() >= 1',
    "AND event('X').sum(trait('a')) > 1",
    "AND foo('x') = 2",
    "AND property('p') = 1",
    "AND ANY trait('a') = 1",
  ].join('\n');
  const result = parseDefinition(source, USERS_AUDIENCE);
  assert.equal(result.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`), [
    '6:20 invalid_argument',
    '7:5 unknown_function',
    '8:5 misplaced_property',
    '9:5 quantifier_in_users',
  ]);
});

test('positions count columns from 1 after tabs and CRLF line ends', () => {
  const result = parseDefinition("trait('a') = 1\r\n\tOR foo('x') = 1", USERS_AUDIENCE);
  assert.equal(result.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`), ['2:5 unknown_function']);
});

test('the missing-argument position is the closing parenthesis, even on another line', () => {
  const result = parseDefinition("trait('t').one_of(\n)", USERS_AUDIENCE);
  assert.equal(result.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`), ['2:1 invalid_argument']);
});

test.run();
