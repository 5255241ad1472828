/** Rule reducer-arguments (invalid_argument for the minimum frequency of mode(), and trait() as a reducer argument). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDefinition, parseDefinitionJson, type DefinitionCatalog } from '../../../../engine/lang/index.ts';
import { reducerArguments } from '../../../../engine/lang/rules/reducer-arguments.ts';
import { ACCOUNTS_AUDIENCE, located, runAstRule, USERS_AUDIENCE, USERS_TRAIT } from '../../../support/query-lang.ts';

const check = (source: string) => runAstRule(reducerArguments, source, USERS_TRAIT);
const ACCOUNTS_TRAIT = { kind: 'trait', target: 'ACCOUNTS' } as const;

test('mode() needs a whole minimum frequency of at least 1', () => {
  assert.equal(check("event('A').mode(property('p'), 0)"), ['1:12 invalid_argument mode() needs a minimum frequency that is a whole number of at least 1, not 0']);
  assert.equal(check("event('A').mode(property('p'), 1.5)"), ['1:12 invalid_argument mode() needs a minimum frequency that is a whole number of at least 1, not 1.5']);
});

test('passes', () => {
  assert.equal(check("event('A').mode(property('p') as array, 2)"), []);
  assert.equal(check("event('A').max(property('p'))"), []);
});

test('trait() as a reducer argument: the user trait of account definitions (the email of the most active user, the first user to sign up)', () => {
  for (const source of [
    "event('Logged In').within(30 days).mode(trait('email'), 1)",
    "event('Signed Up').first(trait('email'))",
    "event('A').last(trait('address.city'))",
    "event('A').unique(trait('plan')).count()",
    "event('A').where(property('p') > 1).min(trait('signup') as string)",
    "event('A').max(trait('seats'))",
    "event('A').sum(trait('seats'))",
    "event('A').avg(trait('seats'))",
  ]) {
    assert.equal(runAstRule(reducerArguments, source, ACCOUNTS_TRAIT), [], source);
    assert.equal(parseDefinition(source, ACCOUNTS_TRAIT).diagnostics, [], source);
  }
  // in account audiences too, at the top and inside ANY/ALL (there it reads each user's own trait)
  assert.equal(diagnosticsOf("event('A').mode(trait('plan'), 2) = 'pro' AND ANY event('B').last(trait('plan')) = 'free'", ACCOUNTS_AUDIENCE), []);
});

test('trait() as a reducer argument outside ACCOUNTS definitions', () => {
  assert.equal(check("event('Logged In').within(30 days).mode(trait('email'), 1)"), [
    "1:41 invalid_argument mode(trait('email')) reads a trait of each of an account's users, so it is only allowed in ACCOUNTS definitions; a USERS definition reduces property('…') or context('…')",
  ]);
  assert.equal(runAstRule(reducerArguments, "event('A').unique(trait('a\\\\.b')).count() > 1", USERS_AUDIENCE), [
    "1:19 invalid_argument unique(trait('a\\\\.b')) reads a trait of each of an account's users, so it is only allowed in ACCOUNTS definitions; a USERS definition reduces property('…') or context('…')",
  ]);
  // through the whole pipeline: one diagnostic, at the trait() call
  assert.equal(located(parseDefinition("event('A').sum(trait('t')) > 1", USERS_AUDIENCE).diagnostics), ['1:16 invalid_argument']);
});

test('trait() as a reducer argument on a funnel step', () => {
  const source = "event('A').where(event('B').within(parent: 1 day).first(trait('x')) = 'y').count() >= 1";
  assert.equal(runAstRule(reducerArguments, source, ACCOUNTS_AUDIENCE), [
    "1:57 invalid_argument first(trait('x')) is not allowed on an event nested in another event's where(…) (a funnel step); a user trait can only be reduced at the top of an account definition",
  ]);
  // (the funnel step's reducer is refused as well)
  assert.equal(diagnosticsOf(source, ACCOUNTS_AUDIENCE), ['1:51 unsupported', '1:57 invalid_argument']);
});

test('trait() as a reducer argument names a custom trait, not an audience or computed trait of the catalog', () => {
  const catalog: DefinitionCatalog = { lookup: (key) => (key === 'logins' || key === 'first_email' ? { kind: 'trait', target: 'USERS', references: [] } : undefined) };
  assert.equal(runAstRule(reducerArguments, "event('A').mode(trait('logins.total'), 1)", { ...ACCOUNTS_TRAIT, catalog }), [
    "1:17 invalid_argument mode(trait('logins.total')) reads a custom trait of each user, but 'logins' is an audience or computed trait, which a reducer cannot read",
  ]);
  assert.equal(runAstRule(reducerArguments, "event('A').first(trait('email'))", { ...ACCOUNTS_TRAIT, catalog }), []);
  // the definition's own key (an edit of itself) is not another definition
  assert.equal(runAstRule(reducerArguments, "event('A').first(trait('first_email'))", { ...ACCOUNTS_TRAIT, catalog, selfKey: 'first_email' }), []);
});

test('JSON form: the same rule, located by JSON path', () => {
  const json = (target: 'USERS' | 'ACCOUNTS') => ({
    kind: 'trait',
    target,
    value: { kind: 'aggregate', stream: { kind: 'stream', source: 'event', name: 'A', filters: [] }, reducer: { kind: 'first', of: { kind: 'trait', path: ['email'] } } },
  });
  const accounts = parseDefinitionJson(json('ACCOUNTS'), ACCOUNTS_TRAIT);
  assert.equal(accounts.diagnostics, []);
  assert.equal(accounts.definition?.kind === 'trait' && accounts.definition.value.reducer, { kind: 'first', of: { kind: 'trait', path: ['email'] } });
  const users = parseDefinitionJson(json('USERS'), USERS_TRAIT);
  assert.is(users.definition, null);
  assert.equal(users.diagnostics.map((d) => d.code), ['invalid_argument']);
  assert.match(users.diagnostics[0]!.message, /^first\(trait\('email'\)\) reads a trait of each of an account's users.* \(at value\.reducer\.of\)$/);
  // a trait argument with a parent: flag is not a trait() the schema knows
  const bad = json('ACCOUNTS');
  (bad.value.reducer.of as Record<string, unknown>).parent = false;
  assert.equal(parseDefinitionJson(bad, ACCOUNTS_TRAIT).diagnostics.map((d) => d.code), ['invalid_json']);
});

function diagnosticsOf(source: string, options: Parameters<typeof parseDefinition>[1]): string[] {
  return located(parseDefinition(source, options).diagnostics);
}

test.run();
