/** Profile API over `app.request()`: traits (custom, computed, audience membership), external ids, metadata, events, links, cursors, errors, rate limit. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ProfileEvent, ProfileEventIndex, ProfileEventQuery, ProfileLinkIndex } from '../../../engine/index.ts';
import { basic, event, NOW, SECRETS, serviceApp, type ServiceApp } from '../../support/service-app.ts';

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;
const P = '/v1/spaces/spa_a/collections/users/profiles';

let s: ServiceApp;
const setup = async (overrides: Parameters<typeof serviceApp>[0] = {}) => {
  const app = serviceApp(overrides);
  await app.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'Buyers', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' } });
  await app.registry.create({ space: 'spa_a', kind: 'audience', key: 'big_buyers', name: 'Big', definition: { query: "event('Order Completed').count() >= 5", type: 'USERS' } });
  await app.registry.create({ space: 'spa_a', kind: 'trait', key: 'revenue', name: 'Revenue', definition: { query: "event('Order Completed').sum(property('total'))", type: 'USERS' } });
  await app.runEngine([
    event({ type: 'identify', userId: 'alice', traits: { email: 'alice@example.com', plan: 'pro', age: 41, address: { city: 'Lyon' } }, timestamp: NOW - 120_000 }),
    event({ type: 'track', event: 'Order Completed', userId: 'alice', properties: { total: 30 } }),
    event({ type: 'track', event: 'Order Completed', userId: 'alice', properties: { total: 12.5 } }),
    event({ type: 'track', event: 'Page Viewed', anonymousId: 'anon-1' }),
    event({ type: 'identify', userId: 'bob+test', traits: { plan: 'free' } }),
    event({ type: 'track', event: 'Order Completed', userId: 'eve', properties: { total: 1 }, space: 'spa_b' }),
  ]);
  return app;
};
test.before.each(async () => {
  s = await setup();
});
test.after.each(async () => {
  await s.close();
});

test('traits: custom traits, computed traits and audience membership by key, sorted, with a cursor', async () => {
  const res = await s.profile(`${P}/user_id:alice/traits`);
  assert.is(res.status, 200);
  assert.ok(res.headers.get('request-id'));
  const body = await json(res);
  assert.equal(body['traits'], { address: { city: 'Lyon' }, age: 41, buyers: true, email: 'alice@example.com', plan: 'pro', revenue: 42.5 });
  assert.equal(body['cursor'], { url: `${P}/user_id:alice/traits?limit=10`, has_more: false, next: '', limit: 10 });
});

test('traits: include names keys (a non-member audience then shows false); class narrows', async () => {
  const included = await json(await s.profile(`${P}/user_id:alice/traits?include=buyers,big_buyers,plan,missing`));
  assert.equal(included['traits'], { big_buyers: false, buyers: true, plan: 'pro' });
  assert.equal((await json(await s.profile(`${P}/user_id:alice/traits?class=audience`)))['traits'], { buyers: true });
  assert.equal((await json(await s.profile(`${P}/user_id:alice/traits?class=computed_trait`)))['traits'], { revenue: 42.5 });
  // bob is in no audience and has no computed value
  assert.equal((await json(await s.profile(`${P}/user_id:bob+test/traits`)))['traits'], { plan: 'free' });
  assert.equal((await json(await s.profile(`${P}/user_id:bob%2Btest/traits?include=buyers`)))['traits'], { buyers: false });
});

test('traits: keyset pages (next is the first key of the next page) and verbose values with their instant', async () => {
  const first = await json(await s.profile(`${P}/user_id:alice/traits?limit=4`));
  assert.equal(Object.keys(first['traits']), ['address', 'age', 'buyers', 'email']);
  assert.equal([first['cursor'].has_more, first['cursor'].next], [true, 'plan']);
  assert.is(first['cursor'].url, `${P}/user_id:alice/traits?limit=4&next=plan`);
  const second = await json(await s.profile(first['cursor'].url));
  assert.equal(Object.keys(second['traits']), ['plan', 'revenue']);
  assert.is(second['cursor'].has_more, false);
  const verbose = await json(await s.profile(`${P}/user_id:alice/traits?verbose=true&include=plan,revenue`));
  assert.equal(verbose['traits'].plan, { value: 'pro', updated_at: new Date(NOW - 120_000).toISOString() });
  assert.is(verbose['traits'].revenue.value, 42.5);
  assert.type(verbose['traits'].revenue.updated_at, 'string');
});

test('metadata.created_at is the first event\'s time (as Segment), not its arrival; a later event from before moves it back', async () => {
  const app = serviceApp();
  try {
    // live: the events arrive at the wall clock (NOW), after they happened
    await app.runEngine([event({ type: 'track', event: 'Page Viewed', userId: 'zoe', timestamp: NOW - 1500 }), event({ type: 'track', event: 'Page Viewed', userId: 'zoe', timestamp: NOW - 500 })]);
    const first = await json(await app.profile(`${P}/user_id:zoe/metadata`));
    assert.equal(first['metadata'], { created_at: new Date(NOW - 1500).toISOString(), updated_at: new Date(NOW).toISOString(), expires_at: null });
    // an event that happened before them, sent later (an offline client)
    app.clock.now = NOW + 60_000;
    await app.runEngine([event({ type: 'track', event: 'Page Viewed', userId: 'zoe', timestamp: NOW - 3_600_000 })]);
    const again = await json(await app.profile(`${P}/user_id:zoe/metadata`));
    assert.is(again['metadata'].created_at, new Date(NOW - 3_600_000).toISOString());
  } finally {
    await app.close();
  }
});

test('external_ids, metadata: from the profile the engine keeps', async () => {
  const ids = await json(await s.profile(`${P}/user_id:alice/external_ids`));
  assert.equal(ids['data'], [{ id: 'alice', type: 'user_id', collection: 'users', encoding: 'none', created_at: new Date(NOW - 120_000).toISOString(), source_id: null }]);
  assert.equal(ids['cursor'].has_more, false);
  const anon = await json(await s.profile(`${P}/anonymous_id:anon-1/external_ids?include=anonymous_id`));
  assert.equal(anon['data'].map((x: Json) => [x.type, x.id]), [['anonymous_id', 'anon-1']]);
  assert.equal((await json(await s.profile(`${P}/user_id:alice/external_ids?include=email`)))['data'], []);
  const meta = await json(await s.profile(`${P}/user_id:alice/metadata`));
  assert.equal(meta, { metadata: { created_at: new Date(NOW - 120_000).toISOString(), updated_at: new Date(NOW - 60_000).toISOString(), expires_at: null } });
  const bad = await s.profile(`${P}/user_id:alice/external_ids?next=garbage`);
  assert.is(bad.status, 400);
  assert.equal(await json(bad), { error: { code: 'invalid_request_error', message: 'next is not a cursor of external_ids' } });
});

test('not found, invalid identifiers and parameters: Segment error envelope', async () => {
  const missing = await s.profile(`${P}/user_id:nobody/traits`);
  assert.is(missing.status, 404);
  assert.equal(await json(missing), { error: { code: 'not_found', message: 'Profile was not found.' } });
  assert.ok(missing.headers.get('request-id'));
  assert.is((await s.profile(`${P}/email:alice@example.com/traits`)).status, 404, 'today profiles are found by user_id and anonymous_id only');
  const noColon = await s.profile(`${P}/alice/traits`);
  assert.is(noColon.status, 400);
  assert.is((await json(noColon))['error'].code, 'validation_error');
  const collection = await s.profile('/v1/spaces/spa_a/collections/people!/profiles/user_id:alice/traits');
  assert.is(collection.status, 400);
  assert.is((await json(collection))['error'].code, 'validation_error');
  for (const query of ['limit=0', 'limit=201', 'class=custom', 'verbose=yes']) {
    const res = await s.profile(`${P}/user_id:alice/traits?${query}`);
    assert.is(res.status, 400, query);
    assert.is((await json(res))['error'].code, 'validation_error');
  }
  // eve is a profile of space B only
  assert.is((await s.profile(`${P}/user_id:eve/traits`)).status, 404);
});

test('events from the engine’s per-profile event index (501 without the event log); links: 501 while the engine keeps no account links', async () => {
  const events = await json(await s.profile(`${P}/user_id:alice/events`));
  assert.equal(
    events['data'].map((e: Json) => [e['type'], e['event'], e['properties']]),
    [
      ['track', 'Order Completed', { total: 12.5 }],
      ['track', 'Order Completed', { total: 30 }],
      ['identify', null, null],
    ],
  );
  assert.equal(events['data'][0]['external_ids'], [{ collection: 'users', type: 'user_id', id: 'alice', encoding: 'none' }]);
  const page = await json(await s.profile(`${P}/user_id:alice/events?limit=1&sort=asc`));
  assert.equal([page['data'][0]['type'], page['cursor']['has_more']], ['identify', true]);
  const rest = await json(await s.profile(`${P}/user_id:alice/events?limit=5&sort=asc&next=${page['cursor']['next']}`));
  assert.equal(rest['data'].map((e: Json) => e['properties']?.['total']), [30, 12.5]);
  assert.equal((await json(await s.profile(`${P}/user_id:alice/events?exclude=Order%20Completed`)))['data'].map((e: Json) => e['type']), ['identify']);
  assert.is((await s.profile(`${P}/user_id:alice/links`)).status, 501);
  assert.is((await s.profile(`${P}/user_id:nobody/events`)).status, 404, 'the profile is looked up first');
  const noLog = await setup({ eventSource: undefined });
  try {
    const res = await noLog.profile(`${P}/user_id:alice/events`);
    assert.is(res.status, 501);
    assert.is((await json(res))['error'].code, 'not_implemented');
  } finally {
    await noLog.close();
  }
});

test('events: with an index, Segment shapes, the 14-day floor, filters passed through, a base64 ts_ns::message_id cursor', async () => {
  const asked: ProfileEventQuery[] = [];
  const sample: ProfileEvent = {
    messageId: 'ajs-1',
    type: 'track',
    event: 'Order Completed',
    timestamp: NOW - 5_000,
    sourceId: 'src_a',
    properties: { total: 30 },
    traits: null,
    context: { ip: '127.0.0.1' },
    externalIds: [{ type: 'user_id', id: 'alice', collection: 'users', encoding: 'none', createdAt: NOW }],
  };
  const index: ProfileEventIndex = {
    async events(_space, _profile, query) {
      asked.push(query);
      return { events: [sample], hasMore: true };
    },
  };
  const links: ProfileLinkIndex = {
    async links() {
      return [{ toCollection: 'accounts', externalIds: [{ type: 'group_id', id: 'acme', collection: 'accounts', encoding: 'none', createdAt: NOW }] }];
    },
  };
  const app = await setup({ profileEvents: index, profileLinks: links });
  try {
    const res = await json(await app.profile(`${P}/user_id:alice/events?include=Order%20Completed&sort=asc&limit=1&start=2000-01-01T00:00:00Z`));
    assert.equal(res['data'][0], {
      external_ids: [{ collection: 'users', type: 'user_id', id: 'alice', encoding: 'none' }],
      context: { ip: '127.0.0.1' },
      type: 'track',
      message_id: 'ajs-1',
      source_id: 'src_a',
      timestamp: new Date(NOW - 5_000).toISOString(),
      properties: { total: 30 },
      traits: null,
      event: 'Order Completed',
      related: { users: 'user_id:alice' },
    });
    assert.is(Buffer.from(res['cursor'].next, 'base64').toString(), `${(NOW - 5_000) * 1_000_000}::ajs-1`);
    assert.equal(asked[0], { start: NOW - 14 * 86_400_000, include: ['Order Completed'], limit: 1, sort: 'asc' });
    await app.profile(`${P}/user_id:alice/events?next=${res['cursor'].next}`);
    assert.equal(asked[1]?.after, { timestamp: NOW - 5_000, messageId: 'ajs-1' });
    const badCursor = await app.profile(`${P}/user_id:alice/events?next=${Buffer.from('nope').toString('base64')}`);
    assert.is(badCursor.status, 400);
    assert.is((await json(badCursor))['error'].code, 'invalid_request_error');
    assert.is((await app.profile(`${P}/user_id:alice/events?start=not-a-date`)).status, 400);
    const linked = await json(await app.profile(`${P}/user_id:alice/links`));
    assert.equal(linked['data'], [{ to_collection: 'accounts', external_ids: [{ id: 'acme', type: 'group_id', collection: 'accounts', encoding: 'none', created_at: new Date(NOW).toISOString(), source_id: null }] }]);
    assert.is((await app.profile(`${P}/user_id:alice/links?limit=21`)).status, 400);
  } finally {
    await app.close();
  }
});

test('rate limit: per space, 429 rate_limit_error with Retry-After; another space keeps its budget; a space may set its own', async () => {
  const limited = await setup({ profileRateLimit: 2 });
  try {
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await limited.profile(`${P}/user_id:alice/metadata`)).status);
    assert.equal(codes, [200, 200, 200, 200, 429, 429]);
    const refused = await limited.profile(`${P}/user_id:alice/metadata`);
    assert.equal(await json(refused), { error: { code: 'rate_limit_error', message: 'space spa_a is over its Profile API rate limit' } });
    assert.is(refused.headers.get('retry-after'), '1');
    assert.is((await limited.profile('/v1/spaces/spa_b/collections/users/profiles/user_id:eve/metadata', basic(SECRETS.b.access))).status, 200);
    limited.clock.now += 1000;
    assert.is((await limited.profile(`${P}/user_id:alice/metadata`)).status, 200, 'the bucket refills');
  } finally {
    await limited.close();
  }
});

test('the engine state not readable yet: 503 service_unavailable', async () => {
  const early = serviceApp();
  try {
    const res = await early.profile(`${P}/user_id:alice/traits`);
    assert.is(res.status, 503);
    assert.is((await json(res))['error'].code, 'service_unavailable');
  } finally {
    await early.close();
  }
});

test('a new version serves once Live; a deleted definition leaves the traits of the profile', async () => {
  const buyers = s.registry.byKey('spa_a', 'buyers')!;
  await s.registry.reportStatus(buyers.id, 1, { status: 'Live' });
  await s.registry.update('spa_a', buyers.id, { query: "event('Order Completed').count() >= 3" });
  // version 2 has no state yet: version 1 still serves
  assert.is((await json(await s.profile(`${P}/user_id:alice/traits?include=buyers`)))['traits'].buyers, true);
  const revenue = s.registry.byKey('spa_a', 'revenue')!;
  await s.registry.remove('spa_a', revenue.id);
  assert.equal((await json(await s.profile(`${P}/user_id:alice/traits?class=computed_trait`)))['traits'], {});
});

test('over the identity graph (as npm start serves it): any identifier finds the person, external ids and account links from the graph', async () => {
  const app = serviceApp({ identity: true });
  try {
    await app.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'Buyers', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' } });
    await app.registry.create({ space: 'spa_a', kind: 'audience', key: 'buying_accounts', name: 'Buying accounts', definition: { query: "ANY event('Order Completed').count() >= 1", type: 'ACCOUNTS' } });
    await app.runEngine([
      event({ type: 'track', event: 'Order Completed', anonymousId: 'anon-7', timestamp: NOW - 180_000 }),
      event({ type: 'identify', userId: 'Alice', anonymousId: 'anon-7', traits: { email: 'alice@example.com' }, timestamp: NOW - 120_000 }),
      event({ type: 'group', userId: 'Alice', groupId: 'acme', traits: { name: 'Acme' }, timestamp: NOW - 60_000 }),
    ]);
    const byUser = await json(await app.profile(`${P}/user_id:alice/traits`));
    assert.equal(byUser['traits'], { buyers: true, email: 'alice@example.com' });
    const ids = await json(await app.profile(`${P}/email:alice@example.com/external_ids`));
    assert.equal(ids['data'].map((x: Json) => [x.type, x.id]), [['anonymous_id', 'anon-7'], ['email', 'alice@example.com'], ['user_id', 'Alice']]);
    assert.match(ids['data'][0].first_message_id, /^m-/);
    const meta = await json(await app.profile(`${P}/anonymous_id:anon-7/metadata`));
    assert.is(meta['metadata'].created_at, new Date(NOW - 180_000).toISOString());
    const links = await json(await app.profile(`${P}/user_id:alice/links`));
    assert.equal(links['data'].map((l: Json) => [l.to_collection, l.external_ids[0].type, l.external_ids[0].id]), [['accounts', 'group_id', 'acme']]);
    // the account: its traits from group calls and its account audiences; its users as links
    const A = '/v1/spaces/spa_a/collections/accounts/profiles';
    const account = await json(await app.profile(`${A}/group_id:acme/traits`));
    assert.equal(account['traits'], { buying_accounts: true, name: 'Acme' });
    const accountIds = await json(await app.profile(`${A}/group_id:ACME/external_ids`));
    assert.equal(accountIds['data'].map((x: Json) => [x.type, x.id, x.collection]), [['group_id', 'acme', 'accounts']]);
    const users = await json(await app.profile(`${A}/group_id:acme/links`));
    assert.equal(users['data'].map((l: Json) => [l.to_collection, l.external_ids.map((x: Json) => x.type).sort()]), [['users', ['anonymous_id', 'email', 'user_id']]]);
    assert.is((await app.profile(`${A}/group_id:nobody/traits`)).status, 404);
    assert.is((await app.profile(`${A}/user_id:alice/traits`)).status, 404);
    // the canonical id works too, and unknown identifiers are 404, malformed ones 400
    const useId = app.store()!.identifierOwner('spa_a', 'user_id', 'alice')!;
    assert.match(useId, /^use_/);
    assert.is((await app.profile(`${P}/${useId}/traits`)).status, 200);
    assert.is((await app.profile(`${P}/email:bob@example.com/traits`)).status, 404);
    assert.is((await app.profile(`${P}/USER_ID:alice/traits`)).status, 400);
  } finally {
    await app.close();
  }
});

test.run();
