/**
 * History over HTTP (`app.request()`): a profile's timeline, its values as of an instant, an
 * explanation, an audience's members and size as of instants — and their failures: an instant out of
 * retention or not computed yet, an unknown audience or profile, a bad cursor.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { event, NOW, serviceApp, type ServiceApp } from '../../support/service-app.ts';
import { commitHistory } from '../../support/history.ts';

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;
const P = '/v1/spaces/spa_a/collections/users/profiles';
const S = 1000;
const DAY = 86_400_000;
const iso = (t: number) => new Date(t).toISOString();

let s: ServiceApp;
const ids: Record<string, string> = {};
const messages: Record<string, string> = {};

test.before(async () => {
  s = serviceApp();
  const create = async (kind: 'audience' | 'trait', key: string, query: string) =>
    (ids[key] = (await s.registry.create({ space: 'spa_a', kind, key, name: key, definition: { query, type: 'USERS' }, options: { includeHistoricalData: true } })).id);
  await create('audience', 'buyers', "event('Order Completed').within(7 days).count() >= 1 AND NOT event('Order Refunded').count() >= 1");
  await create('trait', 'revenue', "event('Order Completed').sum(property('total'))");
  await create('audience', 'pro', "trait('plan') = 'pro'");
  const events = [
    event({ type: 'identify', userId: 'alice', traits: { plan: 'pro' }, timestamp: NOW - 300 * S }),
    event({ type: 'track', event: 'Order Completed', userId: 'alice', properties: { total: 30 }, timestamp: NOW - 200 * S }),
    event({ type: 'track', event: 'Order Completed', userId: 'bob', properties: { total: 5 }, timestamp: NOW - 150 * S }),
    event({ type: 'track', event: 'Order Completed', userId: 'alice', properties: { total: 12.5 }, timestamp: NOW - 100 * S }),
    event({ type: 'track', event: 'Order Refunded', userId: 'bob', properties: {}, timestamp: NOW - 50 * S }),
  ];
  for (const [name, e] of [['identify', events[0]!], ['aliceOrder1', events[1]!], ['bobOrder', events[2]!], ['aliceOrder2', events[3]!], ['bobRefund', events[4]!]] as const) messages[name] = e.messageId;
  await s.runEngine(events);
});
test.after(async () => {
  await s.close();
});

test('timeline: a profile’s changes newest first, each with its instant, version and cause; paged; bounded', async () => {
  const res = await s.profile(`${P}/user_id:alice/timeline`);
  assert.is(res.status, 200);
  const body = await json(res);
  assert.equal(
    body['data'].map((e: Json) => [e.at, e.key, e.kind, e.value, e.cause]),
    [
      [iso(NOW - 100 * S), 'revenue', 'trait', 42.5, { type: 'event', message_id: messages['aliceOrder2'] }],
      // (one instant: by definition id, reversed when newest first)
      [iso(NOW - 200 * S), 'revenue', 'trait', 30, { type: 'event', message_id: messages['aliceOrder1'] }],
      [iso(NOW - 200 * S), 'buyers', 'enter', undefined, { type: 'event', message_id: messages['aliceOrder1'] }],
      [iso(NOW - 300 * S), 'pro', 'enter', undefined, { type: 'event', message_id: messages['identify'] }],
    ],
  );
  assert.equal(body['data'][2], { at: iso(NOW - 200 * S), key: 'buyers', class: 'audience', definition_id: ids['buyers'], version: 1, kind: 'enter', cause: { type: 'event', message_id: messages['aliceOrder1'] } });
  // pages: asc, two at a time
  const first = await json(await s.profile(`${P}/user_id:alice/timeline?sort=asc&limit=2`));
  assert.equal([first['data'].map((e: Json) => e.key), first['cursor']['has_more']], [['pro', 'buyers'], true]);
  const second = await json(await s.profile(`${P}/user_id:alice/timeline?sort=asc&limit=2&next=${first['cursor']['next']}`));
  assert.equal([second['data'].map((e: Json) => e.key), second['cursor']['has_more']], [['revenue', 'revenue'], false]);
  // filters: class, include, a time range
  assert.equal((await json(await s.profile(`${P}/user_id:alice/timeline?class=audience`)))['data'].map((e: Json) => e.key), ['buyers', 'pro']);
  assert.equal((await json(await s.profile(`${P}/user_id:alice/timeline?include=revenue`)))['data'].length, 2);
  const ranged = await json(await s.profile(`${P}/user_id:alice/timeline?start=${iso(NOW - 250 * S)}&end=${iso(NOW - 150 * S)}`));
  assert.equal(ranged['data'].map((e: Json) => e.key), ['revenue', 'buyers']);
  // bob left when his refund came
  const bob = await json(await s.profile(`${P}/user_id:bob/timeline?class=audience`));
  assert.equal(bob['data'].map((e: Json) => [e.kind, e.at, e.cause.message_id]), [['exit', iso(NOW - 50 * S), messages['bobRefund']], ['enter', iso(NOW - 150 * S), messages['bobOrder']]]);
});

test('timeline failures: a bad cursor, an unknown profile, a bad time', async () => {
  const bad = await s.profile(`${P}/user_id:alice/timeline?next=${Buffer.from('{"x":1}').toString('base64url')}`);
  assert.is(bad.status, 400);
  assert.is((await json(bad))['error'].code, 'invalid_request_error');
  assert.is((await s.profile(`${P}/user_id:alice/timeline?next=%%%`)).status, 400);
  const unknown = await s.profile(`${P}/user_id:nobody/timeline`);
  assert.is(unknown.status, 404);
  assert.is((await json(unknown))['error'].code, 'not_found');
  const time = await s.profile(`${P}/user_id:alice/timeline?start=yesterday`);
  assert.is(time.status, 400);
  assert.is((await json(time))['error'].code, 'validation_error');
});

test('as of an instant: audiences and computed traits as they were', async () => {
  const at = async (t: number, query = '') => (await json(await s.profile(`${P}/user_id:alice/as_of?at=${iso(t)}${query}`)))['traits'];
  assert.equal(await at(NOW - 400 * S), {});
  assert.equal(await at(NOW - 300 * S), { pro: true });
  assert.equal(await at(NOW - 150 * S), { buyers: true, pro: true, revenue: 30 });
  assert.equal(await at(NOW - 150 * S, '&include=buyers,pro'), { buyers: true, pro: true });
  assert.equal(await at(NOW - 250 * S, '&include=buyers'), { buyers: false });
  assert.equal(await at(NOW - 150 * S, '&class=computed_trait'), { revenue: 30 });
  const bob = async (t: number) => (await json(await s.profile(`${P}/user_id:bob/as_of?at=${iso(t)}`)))['traits'];
  assert.equal(await bob(NOW - 51 * S), { buyers: true, revenue: 5 });
  assert.equal(await bob(NOW - 50 * S), { revenue: 5 });
  // default: what the engine has computed up to
  const now = await json(await s.profile(`${P}/user_id:alice/as_of`));
  assert.equal(now, { at: iso(NOW), traits: { buyers: true, pro: true, revenue: 42.5 } });
});

test('as of: an instant not computed yet, one out of retention', async () => {
  const future = await s.profile(`${P}/user_id:alice/as_of?at=${iso(NOW + 1)}`);
  assert.is(future.status, 400);
  assert.is((await json(future))['error'].code, 'instant_not_computed');
  const retention = serviceApp();
  try {
    await retention.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'B', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' }, options: { includeHistoricalData: true } });
    await retention.runEngine([event({ type: 'track', event: 'Order Completed', userId: 'alice', timestamp: NOW - 10 * DAY })]);
    // a checkpoint with a retention horizon of 7 days
    await commitHistory(retention.store()!, { horizon: NOW - 7 * DAY }, NOW);
    const old = await retention.profile(`${P}/user_id:alice/as_of?at=${iso(NOW - 8 * DAY)}`);
    assert.is(old.status, 400);
    const body = await json(old);
    assert.is(body['error'].code, 'instant_out_of_retention');
    assert.ok(body['error'].message.includes(iso(NOW - 7 * DAY)), body['error'].message);
    assert.equal((await json(await retention.profile(`${P}/user_id:alice/as_of?at=${iso(NOW - 7 * DAY)}`)))['traits'], { buyers: true }, 'a member since before the horizon still is');
    const members = await retention.manage('GET', `/spaces/spa_a/audiences/${retention.registry.byKey('spa_a', 'buyers')!.id}/history/members?at=${iso(NOW - 8 * DAY)}`);
    assert.is(members.status, 400);
    assert.is((await json(members))['errors'][0].type, 'instant-out-of-retention');
  } finally {
    await retention.close();
  }
});

test('explain: each sub-condition’s value, the events behind the last change, beside the recorded history', async () => {
  const alice = await json(await s.profile(`${P}/user_id:alice/explain/buyers`));
  assert.equal([alice['value'], alice['known']], [true, true]);
  const early = await json(await s.profile(`${P}/user_id:alice/explain/buyers?at=${iso(NOW - 400 * S)}`));
  assert.equal([early['value'], early['known'], early['events']], [false, false, []]);
  assert.is(alice['summary'], 'Order Completed within 7 days: count 2 ≥ 1 ✓; NOT Order Refunded: count 0 ≥ 1 ✓');
  assert.equal(alice['last_change'], { at: iso(NOW - 200 * S), kind: 'enter', cause: { type: 'event', message_id: messages['aliceOrder1'] } });
  assert.equal(alice['events'].map((e: Json) => e.message_id), [messages['aliceOrder1']]);
  assert.equal(alice['recorded'], { value: true, since: iso(NOW - 200 * S), kind: 'enter', cause: { type: 'event', message_id: messages['aliceOrder1'] } });
  assert.is(alice['consistent'], true);
  assert.equal(alice['condition'].kind, 'and');
  assert.equal(alice['condition'].operands[0], {
    kind: 'comparison',
    result: true,
    text: "event('Order Completed').within(7 days).count() >= 1",
    subject: "event('Order Completed').within(7 days).count()",
    value: 2,
    comparator: 'at_least',
    args: ['1'],
    summary: 'Order Completed within 7 days: count 2 ≥ 1 ✓',
  });
  const bob = await json(await s.profile(`${P}/user_id:bob/explain/buyers`));
  assert.equal([bob['value'], bob['summary']], [false, 'Order Completed within 7 days: count 1 ≥ 1 ✓; NOT Order Refunded: count 1 ≥ 1 ✗']);
  assert.equal(bob['events'].map((e: Json) => [e.message_id, e.event]), [[messages['bobRefund'], 'Order Refunded']]);
  const before = await json(await s.profile(`${P}/user_id:bob/explain/buyers?at=${iso(NOW - 51 * S)}`));
  assert.equal([before['value'], before['last_change'].kind, before['consistent']], [true, 'enter', true]);
  const revenue = await json(await s.profile(`${P}/user_id:alice/explain/revenue?at=${iso(NOW - 150 * S)}`));
  assert.equal([revenue['value'], revenue['summary']], [30, "Order Completed: sum of property('total') 30"]);
  const pro = await json(await s.profile(`${P}/user_id:alice/explain/pro`));
  assert.equal([pro['summary'], pro['events'].map((e: Json) => e.message_id)], ["trait('plan') \"pro\" = 'pro' ✓", [messages['identify']]]);
});

test('explain: a change no event caused (a window edge) is explained by the events leaving the window', async () => {
  const later = serviceApp();
  try {
    await later.registry.create({ space: 'spa_a', kind: 'audience', key: 'recent', name: 'R', definition: { query: "event('Order Completed').within(7 days).count() >= 2", type: 'USERS' }, options: { includeHistoricalData: true } });
    const e1 = event({ type: 'track', event: 'Order Completed', userId: 'alice', timestamp: NOW - 3 * DAY });
    const e2 = event({ type: 'track', event: 'Order Completed', userId: 'alice', timestamp: NOW - 2 * DAY });
    await later.runEngine([e1, e2]);
    later.clock.now = NOW + 6 * DAY;
    await later.runEngine([]);
    const x = await json(await later.profile(`${P}/user_id:alice/explain/recent`));
    assert.equal([x['value'], x['last_change'], x['summary']], [false, { at: iso(NOW + 4 * DAY), kind: 'exit', cause: { type: 'time' } }, 'Order Completed within 7 days: count 0 ≥ 2 ✗']);
    assert.equal(x['events'].map((e: Json) => e.message_id), [e1.messageId], 'the order that left the window then');
    assert.is(x['consistent'], true);
    const atFlip = await json(await later.profile(`${P}/user_id:alice/explain/recent?at=${iso(NOW + 4 * DAY)}`));
    assert.equal([atFlip['summary'], atFlip['events'].map((e: Json) => e.message_id)], ['Order Completed within 7 days: count 1 ≥ 2 ✗', [e1.messageId]]);
    const justBefore = await json(await later.profile(`${P}/user_id:alice/explain/recent?at=${iso(NOW + 4 * DAY - 1)}`));
    assert.equal([justBefore['value'], justBefore['last_change'].kind, justBefore['events'].map((e: Json) => e.message_id)], [true, 'enter', [e2.messageId]]);
  } finally {
    await later.close();
  }
});

test('explain across an identity merge: the merged profile’s events count from the merge on, as the engine counted them', async () => {
  const app = serviceApp({ identity: true });
  try {
    await app.registry.create({ space: 'spa_a', kind: 'audience', key: 'repeat', name: 'R', definition: { query: "event('Order Completed').count() >= 2", type: 'USERS' }, options: { includeHistoricalData: true } });
    await app.runEngine([
      event({ type: 'track', event: 'Order Completed', anonymousId: 'anon-1', timestamp: NOW - 300 * S }),
      event({ type: 'track', event: 'Order Completed', userId: 'alice', timestamp: NOW - 200 * S }),
      event({ type: 'identify', userId: 'alice', anonymousId: 'anon-1', traits: {}, timestamp: NOW - 100 * S }),
    ]);
    const before = await json(await app.profile(`${P}/user_id:alice/explain/repeat?at=${iso(NOW - 150 * S)}`));
    assert.equal([before['value'], before['summary'], before['consistent']], [false, 'Order Completed: count 1 ≥ 2 ✗', true]);
    const after = await json(await app.profile(`${P}/user_id:alice/explain/repeat`));
    assert.equal([after['value'], after['summary'], after['consistent']], [true, 'Order Completed: count 2 ≥ 2 ✓', true]);
    assert.is(after['last_change'].at, iso(NOW - 100 * S));
    // the events of both, newest first
    const events = await json(await app.profile(`${P}/anonymous_id:anon-1/events`));
    assert.equal(events['data'].map((e: Json) => e.timestamp), [iso(NOW - 100 * S), iso(NOW - 200 * S), iso(NOW - 300 * S)]);
  } finally {
    await app.close();
  }
});

test('explain failures: an unknown definition, an unknown profile, an instant not computed, no event log', async () => {
  const unknown = await s.profile(`${P}/user_id:alice/explain/nope`);
  assert.is(unknown.status, 404);
  assert.is((await json(unknown))['error'].code, 'not_found');
  assert.is((await s.profile(`${P}/user_id:nobody/explain/buyers`)).status, 404);
  const future = await s.profile(`${P}/user_id:alice/explain/buyers?at=${iso(NOW + 60 * S)}`);
  assert.is((await json(future))['error'].code, 'instant_not_computed');
  const noLog = serviceApp({ eventSource: undefined });
  try {
    await noLog.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'B', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' }, options: { includeHistoricalData: true } });
    await noLog.runEngine([event({ type: 'track', event: 'Order Completed', userId: 'alice' })]);
    const res = await noLog.profile(`${P}/user_id:alice/explain/buyers`);
    assert.is(res.status, 501);
    assert.is((await json(res))['error'].code, 'not_implemented');
  } finally {
    await noLog.close();
  }
});

test('members as of an instant, paged by profile id, with when and why each entered', async () => {
  const url = (query: string) => `/spaces/spa_a/audiences/${ids['buyers']}/history/members?${query}`;
  const at = async (t: number) => (await json(await s.manage('GET', url(`at=${iso(t)}`))))['data'];
  assert.equal((await at(NOW - 250 * S)).members, []);
  const both = await at(NOW - 100 * S);
  assert.equal(both.members, [
    { profileId: 'user_id:alice', value: true, since: iso(NOW - 200 * S), cause: { type: 'event', messageId: messages['aliceOrder1'] } },
    { profileId: 'user_id:bob', value: true, since: iso(NOW - 150 * S), cause: { type: 'event', messageId: messages['bobOrder'] } },
  ]);
  assert.is(both.version, 1);
  assert.equal((await at(NOW - 50 * S)).members.map((m: Json) => m.profileId), ['user_id:alice']);
  const page = (await json(await s.manage('GET', url(`at=${iso(NOW - 100 * S)}&pagination.count=1`))))['data'];
  assert.equal(page.members.map((m: Json) => m.profileId), ['user_id:alice']);
  const rest = (await json(await s.manage('GET', url(`at=${iso(NOW - 100 * S)}&pagination.count=1&pagination.cursor=${page.pagination.next}`))))['data'];
  assert.equal([rest.members.map((m: Json) => m.profileId), rest.pagination.next], [['user_id:bob'], null]);
  // a cursor belongs to its instant
  const other = await s.manage('GET', url(`at=${iso(NOW - 99 * S)}&pagination.count=1&pagination.cursor=${page.pagination.next}`));
  assert.is(other.status, 400);
  assert.is((await json(other))['errors'][0].type, 'input-validation');
  const traits = (await json(await s.manage('GET', `/spaces/spa_a/computed-traits/${ids['revenue']}/history/members?at=${iso(NOW - 120 * S)}`)))['data'];
  assert.equal(traits.members.map((m: Json) => [m.profileId, m.value]), [['user_id:alice', 30], ['user_id:bob', 5]]);
});

test('size over a range: exactly the members at each step', async () => {
  const start = iso(NOW - 5 * 60 * S);
  const res = (await json(await s.manage('GET', `/spaces/spa_a/audiences/${ids['buyers']}/history/size?granularity=minute&start=${start}&end=${iso(NOW)}`)))['data'];
  assert.equal(res.points, [
    { at: iso(NOW - 300 * S), count: 0 },
    { at: iso(NOW - 240 * S), count: 0 },
    { at: iso(NOW - 180 * S), count: 1 },
    { at: iso(NOW - 120 * S), count: 2 },
    { at: iso(NOW - 60 * S), count: 2 },
    { at: iso(NOW), count: 1 },
  ]);
  assert.is(res.granularity, 'minute');
  const byDefault = (await json(await s.manage('GET', `/spaces/spa_a/audiences/${ids['buyers']}/history/size`)))['data'];
  assert.equal(byDefault.points.at(-1), { at: iso(NOW), count: 1 });
});

test('definition history failures: unknown audience or version, a kind mismatch, instants out of range, a bad range', async () => {
  const members = (id: string, query = '') => s.manage('GET', `/spaces/spa_a/audiences/${id}/history/members${query}`);
  const unknown = await members('aud_nope');
  assert.is(unknown.status, 404);
  assert.is((await json(unknown))['errors'][0].type, 'not-found');
  assert.is((await members(ids['revenue']!)).status, 404, 'a computed trait is not an audience');
  assert.is((await members(ids['buyers']!, '?version=7')).status, 404);
  const future = await members(ids['buyers']!, `?at=${iso(NOW + 1)}`);
  assert.is(future.status, 400);
  assert.is((await json(future))['errors'][0].type, 'instant-not-computed');
  const size = (query: string) => s.manage('GET', `/spaces/spa_a/audiences/${ids['buyers']}/history/size?${query}`);
  assert.is((await size(`start=${iso(NOW)}&end=${iso(NOW - DAY)}`)).status, 400);
  assert.is((await size(`granularity=minute&start=${iso(NOW - 30 * DAY)}&end=${iso(NOW)}`)).status, 400, 'too many points');
  const late = await size(`end=${iso(NOW + DAY)}`);
  assert.is((await json(late))['errors'][0].type, 'instant-not-computed');
  assert.is((await s.manage('GET', `/spaces/spa_a/audiences/${ids['buyers']}/history/members`, undefined, false)).status, 401);
});

test.run();
