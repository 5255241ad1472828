/** The DuckDB batch peer: audiences translated to SQL answer exactly as Flock does over the same events; what cannot be translated says why. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareWithPeer, translateAudiences } from '../../bench/peer/compare.ts';
import { compileQueryDefinitions, realisticDefinitions, type QueryDefinition } from '../../bench/workload/definitions.ts';
import { generateEvents } from '../../bench/workload/generator.ts';

const END = Date.parse('2026-06-01T00:00:00Z');
const DAY = 86_400_000;

test('SQL of a windowed count with a property filter, a custom trait, a reference and an account audience; a funnel is not translated, with its reason', () => {
  const defs: QueryDefinition[] = [
    { key: 'shoes', kind: 'audience', query: "event('Product Viewed').where(property('category') = 'shoes').within(7 days).count() >= 2" },
    { key: 'pro_shoes', kind: 'audience', query: "trait('shoes') = true AND NOT trait('plan') = 'pro'" },
    { key: 'funnel', kind: 'audience', query: "event('Cart Viewed').where(event('Order Completed').within(parent: 1 hour).count() = 0).within(7 days).count() >= 1" },
    { key: 'accounts', kind: 'audience', target: 'ACCOUNTS', query: "ANY event('Logged In').within(7 days).count() >= 1" },
  ];
  const { sql, untranslated } = translateAudiences(compileQueryDefinitions(defs), END);
  assert.equal([...sql.keys()], ['shoes', 'pro_shoes', 'accounts']);
  assert.match(sql.get('shoes')!, `count(*) FILTER (WHERE e.event = 'Product Viewed' AND coalesce(e.p_category = 'shoes', false) AND e.ts > ${END - 7 * DAY} AND e.ts <= ${END})`);
  assert.match(sql.get('pro_shoes')!, "(NOT coalesce(t.t_plan = 'pro', false))");
  assert.match(sql.get('pro_shoes')!, 'Product Viewed');
  assert.match(sql.get('accounts')!, 'EXISTS (SELECT 1 FROM links l JOIN (SELECT p.profile_id FROM profiles p');
  assert.equal(untranslated, [{ key: 'funnel', reason: 'aggregate in where()' }]);
});

test('over the realistic workload (identity merges included) every translated audience has the same members in DuckDB and in Flock', async () => {
  const r = await compareWithPeer({
    definitions: compileQueryDefinitions(realisticDefinitions()),
    events: generateEvents({ seed: 11, events: 8000, profiles: 600, spanMs: 90 * DAY, end: END, space: 'spa_bench', identity: {}, accounts: { count: 30 } }),
    now: END + DAY,
  });
  assert.ok(r.translated.length >= 70, `${r.translated.length} audiences translated`);
  assert.ok(r.translated.filter((k) => k.startsWith('acct_')).length === 16, 'every account audience translated');
  assert.ok(r.members > 500, `${r.members} memberships compared`);
  assert.equal(r.mismatches, []);
  assert.is(r.peer.profiles > 300, true);
});

test.run();
