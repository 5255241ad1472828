/** The JSON form: schema errors with JSON paths, the shared AST rules, and equality with the text form. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { definitionToJson, parseDefinition, parseDefinitionJson } from '../../../engine/lang/index.ts';
import { USERS_AUDIENCE, USERS_TRAIT } from '../../support/query-lang.ts';

const trait = (name: string) => ({ kind: 'trait', path: [name] });
const num = (value: number) => ({ kind: 'literal', type: 'number', value });
const audience = (condition: unknown) => ({ kind: 'audience', target: 'USERS', condition });

/** `code message` of each diagnostic. */
const messages = (json: unknown, options = USERS_AUDIENCE) => parseDefinitionJson(json, options).diagnostics.map((d) => `${d.code} ${d.message}`);

test('the JSON form of a text definition gives the same AST', () => {
  const text = parseDefinition(
    "event('Shoes Bought').where(property('price') >= trait('avg_spend') AND event('Shoes Returned').within(parent: 5 days).count() >= 1).within(30 days).count() >= 1",
    USERS_AUDIENCE,
  );
  const json = definitionToJson(text.definition!);
  assert.not.ok(JSON.stringify(json).includes('span'));
  const parsed = parseDefinitionJson(JSON.parse(JSON.stringify(json)), USERS_AUDIENCE);
  assert.equal(parsed.diagnostics, []);
  assert.equal(parsed.definition, json);
});

test('a hand-written JSON definition', () => {
  const json = {
    kind: 'trait',
    target: 'USERS',
    value: {
      kind: 'aggregate',
      stream: {
        kind: 'stream',
        source: 'event',
        name: 'Order Completed',
        filters: [{ kind: 'within', duration: { kind: 'duration', amount: 30, unit: 'day', ms: 30 * 86_400_000 }, parent: false }],
      },
      reducer: { kind: 'sum', of: { kind: 'property', path: ['total'], parent: false } },
    },
  };
  const result = parseDefinitionJson(json, USERS_TRAIT);
  assert.equal(result.diagnostics, []);
  assert.equal(result.definition, parseDefinitionJson(definitionToJson(parseDefinition("event('Order Completed').within(30 days).sum(property('total'))", USERS_TRAIT).definition!), USERS_TRAIT).definition);
});

test('schema errors are invalid_json with the JSON path', () => {
  assert.equal(messages(42), ['invalid_json Invalid input: expected object, received number (at the top level)']);
  assert.equal(messages(audience({ kind: 'compare' })), [
    'invalid_json Invalid discriminator value. Expected \'comparison\' | \'and\' | \'or\' | \'not\' | \'quantified\' (at condition.kind)',
  ]);
  assert.equal(messages(audience({ kind: 'and', operands: [{ kind: 'comparison', subject: trait('a'), comparator: 'exists', args: [] }] })), [
    'invalid_json Too small: expected array to have >=2 items (at condition.operands)',
  ]);
  assert.equal(messages(audience({ kind: 'comparison', subject: trait('a'), comparator: 'gte', args: [num(1)] }))[0]?.startsWith('invalid_json Invalid option'), true);
  assert.equal(messages(audience({ kind: 'comparison', subject: { ...trait('a'), span: {} }, comparator: 'exists', args: [] })), [
    'invalid_json Unrecognized key: "span" (at condition.subject)',
  ]);
});

test('timestamps and durations must carry their true ms', () => {
  const compare = (arg: unknown) => audience({ kind: 'comparison', subject: trait('t'), comparator: 'within_last', args: [arg] });
  assert.equal(messages(compare({ kind: 'duration', amount: 2, unit: 'day', ms: 1 })), [
    'invalid_json ms must be amount × the unit in milliseconds (at condition.args[0].ms)',
  ]);
  const date = (value: string, ms: number) =>
    audience({ kind: 'comparison', subject: trait('t'), comparator: 'before_date', args: [{ kind: 'literal', type: 'timestamp', value, ms }] });
  assert.equal(messages(date('2022-10-17', Date.UTC(2022, 9, 17))), []);
  assert.equal(messages(date('2022-10-17', 0)), ['invalid_json ms must be the instant the timestamp denotes, in epoch milliseconds (at condition.args[0].ms)']);
  assert.equal(messages(date('17/10/2022', 0)), [
    'invalid_json a timestamp is an ISO-8601 date or date-time such as 2023-12-07T18:50:00Z (at condition.args[0].value)',
  ]);
  // Accepted by ISO parsers but not writable unquoted in the text form, so not a timestamp literal.
  assert.equal(messages(date('2022-10-17 10:00:00Z', Date.UTC(2022, 9, 17, 10))).length, 1);
});

test('the AST rules run on JSON and name the path of the node', () => {
  assert.equal(messages(audience({ kind: 'comparison', subject: { kind: 'property', path: ['p'], parent: false }, comparator: 'equals', args: [num(1)] })), [
    "misplaced_property property() reads a field of an event, so it can only be used inside where(…) or as a reducer's argument (at condition.subject)",
  ]);
  assert.equal(messages(audience({ kind: 'comparison', subject: trait('a'), comparator: 'equals', args: [] })), [
    'invalid_argument equals() needs an argument (at condition)',
  ]);
  assert.equal(messages(audience({ kind: 'quantified', quantifier: 'any', operand: { kind: 'comparison', subject: trait('a'), comparator: 'exists', args: [] } })), [
    'quantifier_in_users ANY qualifies the users of an account, so it is only allowed in ACCOUNTS definitions (at condition)',
  ]);
});

test('a unique() list compared directly is invalid_chain (only JSON can say it)', () => {
  const list = {
    kind: 'aggregate',
    stream: { kind: 'stream', source: 'event', name: 'E', filters: [] },
    reducer: { kind: 'unique', of: { kind: 'property', path: ['p'], parent: false }, count: false },
  };
  assert.equal(messages(audience({ kind: 'comparison', subject: list, comparator: 'exists', args: [] })), [
    'invalid_chain a unique() list cannot be compared; only .count() may follow unique() (at condition.subject)',
  ]);
});

test('kind and target must match the options', () => {
  const condition = { kind: 'comparison', subject: trait('a'), comparator: 'exists', args: [] };
  assert.equal(messages(audience(condition), USERS_TRAIT), [
    'not_scalar the JSON is an audience definition, but a computed trait was expected (at kind)',
  ]);
  assert.equal(messages({ kind: 'audience', target: 'ACCOUNTS', condition }), ['invalid_json the target is ACCOUNTS, but USERS was expected (at target)']);
  const value = parseDefinition("event('E').count()", USERS_TRAIT).definition!;
  assert.equal(messages(definitionToJson(value)), ['not_boolean the JSON is a computed trait definition, but an audience was expected (at kind)']);
});

test('every JSON diagnostic is at line 1, column 1, and the definition is null', () => {
  const result = parseDefinitionJson(audience({ kind: 'not' }), USERS_AUDIENCE);
  assert.is(result.definition, null);
  assert.ok(result.diagnostics.length > 0);
  for (const d of result.diagnostics) assert.equal([d.line, d.column], [1, 1]);
});

test.run();
