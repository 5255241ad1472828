/** Identity rules: Segment's defaults (limits, priority, blocked values) and every configuration problem as data. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_IDENTITY_RULES, identityRules, LIMIT_WINDOWS } from '../../../engine/identity/rules.ts';

const rules = DEFAULT_IDENTITY_RULES;

test('defaults: user_id 1 ever, every other type 5 ever, merge protection on, 100 merges, 1,000 identifiers', () => {
  assert.equal([rules.rule('user_id').limit, rules.rule('user_id').windowMs], [1, null]);
  for (const type of ['email', 'anonymous_id', 'ios.idfa', 'ga_client_id', 'phone']) assert.equal([rules.rule(type).limit, rules.rule(type).windowMs], [5, null], type);
  assert.ok(rules.mergeProtection);
  assert.is(rules.maxMerges, 100);
  assert.is(rules.maxIdentifiers, 1000);
});

test('default priority: user_id, email, then the rest alphabetically — a new type reshuffles the order (the docs example)', () => {
  const order = (types: string[]) => [...types].sort((a, b) => rules.compareTypes(a, b));
  assert.equal(order(['ga_client_id', 'anonymous_id', 'email', 'user_id']), ['user_id', 'email', 'anonymous_id', 'ga_client_id']);
  assert.equal(order(['ga_client_id', 'anonymous_id', 'email', 'user_id', 'android.id']), ['user_id', 'email', 'android.id', 'anonymous_id', 'ga_client_id']);
});

test('explicit priorities rank before unranked types; unranked keep alphabetical order', () => {
  const r = identityRules({ identifiers: { phone: { priority: 3 }, email: { priority: 5 } } });
  assert.ok(r.ok);
  if (!r.ok) return;
  const order = ['zeta', 'email', 'phone', 'user_id', 'anonymous_id'].sort((a, b) => r.rules.compareTypes(a, b));
  assert.equal(order, ['user_id', 'phone', 'email', 'anonymous_id', 'zeta']);
});

test("blocked values: Segment's suggestions for every type (zeroes and dashes, -1, null, anonymous), matched lowercased", () => {
  for (const v of ['', '0', '000-000', '--', '-1', 'null', 'anonymous']) assert.ok(rules.isBlocked('user_id', v), JSON.stringify(v));
  for (const v of ['0a', '1', '-2', 'nul', 'anonymous1', 'u1']) assert.not.ok(rules.isBlocked('anonymous_id', v), JSON.stringify(v));
});

test('custom blocked values, space-wide and per type; the space list replaces the defaults when given', () => {
  const r = identityRules({ blocked: [{ exact: 'VOID' }], identifiers: { email: { blocked: [{ pattern: '@example\\.test$' }] } } });
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.ok(r.rules.isBlocked('user_id', 'void'));
  assert.not.ok(r.rules.isBlocked('user_id', 'null'), 'the defaults are replaced');
  assert.ok(r.rules.isBlocked('email', 'a@example.test'));
  assert.ok(r.rules.isBlocked('email', 'void'));
  assert.not.ok(r.rules.isBlocked('user_id', 'a@example.test'));
});

test('windows: ever, weekly, monthly, annually, or milliseconds', () => {
  const r = identityRules({ identifiers: { anonymous_id: { limit: 5, window: 'weekly' }, email: { window: 'annually' }, ga_client_id: { window: 60_000 }, user_id: { window: 'ever' } } });
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.is(r.rules.rule('anonymous_id').windowMs, LIMIT_WINDOWS.weekly);
  assert.is(r.rules.rule('email').windowMs, 365 * 86_400_000);
  assert.is(r.rules.rule('ga_client_id').windowMs, 60_000);
  assert.is(r.rules.rule('user_id').windowMs, null);
  assert.is(r.rules.rule('user_id').limit, 1, 'an unset limit keeps the default');
});

test('configuration problems are data with a code and a path, all reported at once', () => {
  const r = identityRules({
    identifiers: {
      user_id: { limit: 0 },
      email: { window: 'daily' as never, priority: 1.5 },
      'Bad:Type': {},
      phone: { traitKey: '' },
    },
    blocked: [{ pattern: '([' }],
    maxMerges: -1,
    mergeProtection: 'yes' as never,
  });
  assert.not.ok(r.ok);
  if (r.ok) return;
  assert.equal(
    r.issues.map((i) => `${i.code} ${i.path}`).sort(),
    [
      'invalid_limit identifiers.user_id.limit',
      'invalid_pattern blocked[0]',
      'invalid_priority identifiers.email.priority',
      'invalid_setting identifiers.phone.traitKey',
      'invalid_setting maxMerges',
      'invalid_setting mergeProtection',
      'invalid_type identifiers.Bad:Type',
      'invalid_window identifiers.email.window',
    ],
  );
});

test.run();
