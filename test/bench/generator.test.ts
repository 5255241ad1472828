/** The workload generator: the streams tests depend on stay byte-identical; accounts add group calls; commerce events carry prices and product ids. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { generateEvents, type WorkloadOptions } from '../../bench/workload/generator.ts';

const END = Date.parse('2026-06-01T00:00:00Z');
const base: WorkloadOptions = { seed: 1, events: 3000, profiles: 200, spanMs: 10 * 86_400_000, end: END };
const hash = (o: WorkloadOptions) => createHash('sha256').update(JSON.stringify([...generateEvents(o)])).digest('hex');

test('the default and identity-journey streams are unchanged (tests and benches rely on them)', () => {
  assert.is(hash(base), '974d28a98a2fc5b5635475c3015978c6a91b2ae62a2b93e45e040d211a4782dc');
  assert.is(hash({ ...base, seed: 2, identity: { sharedDeviceShare: 0.01, blockedShare: 0.01 } }), 'ac5fbfc28ac81de61c734c7e27f22e120e73d42444433521153e391d5ac6efd6');
});

test('accounts: group calls with account traits, each user always in the same company; the same seed gives the same stream', () => {
  const o = { ...base, identity: {}, accounts: { count: 10, groupShare: 0.05 } };
  const events = [...generateEvents(o)];
  assert.is(hash(o), hash({ ...o }));
  const groups = events.filter((e) => e.type === 'group');
  assert.ok(groups.length > 100 && groups.length < 200, `${groups.length} group calls`);
  const companyOf = new Map<string, string>();
  for (const g of groups) {
    assert.match(g.groupId!, /^acc_\d$/);
    assert.ok(typeof g.traits?.['plan'] === 'string' && typeof g.traits['employees'] === 'number' && typeof g.traits['industry'] === 'string');
    const before = companyOf.get(g.userId!);
    if (before !== undefined) assert.is(g.groupId, before);
    companyOf.set(g.userId!, g.groupId!);
  }
  assert.is(events.length, 3000);
  assert.ok(events.some((e) => e.userId === null && e.anonymousId !== null), 'anonymous events');
});

test('page, screen and track calls; commerce events carry prices, product ids and order totals; timestamps span the window', () => {
  const events = [...generateEvents({ ...base, spanMs: 90 * 86_400_000 })];
  const types = new Set(events.map((e) => e.type));
  assert.equal([...types].sort(), ['identify', 'page', 'screen', 'track']);
  assert.ok(new Set(events.map((e) => e.event)).size >= 20);
  const order = events.find((e) => e.event === 'Order Completed')!;
  assert.type(order.properties?.['price'], 'number');
  assert.match(String(order.properties?.['product_id']), /^p\d+$/);
  assert.type(order.properties?.['total'], 'number');
  const ts = events.map((e) => e.timestamp);
  assert.ok(Math.max(...ts) <= END && Math.min(...ts) < END - 85 * 86_400_000);
});

test.run();
