/** Explorer routes: members (outputs index), recent changes and size over time (explorer store), over engine-written state. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { event, NOW, serviceApp, type ServiceApp } from '../../support/service-app.ts';

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;
const MIN = 60_000;

let s: ServiceApp;
let audienceId = '';
let traitId = '';
test.before(async () => {
  s = serviceApp();
  audienceId = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'viewers', name: 'Viewers', definition: { query: "event('Product Viewed').within(10 minutes).count() >= 1", type: 'USERS' } })).id;
  traitId = (await s.registry.create({ space: 'spa_a', kind: 'trait', key: 'spend', name: 'Spend', definition: { query: "event('Order Completed').sum(property('total'))", type: 'USERS' } })).id;
  // five viewers a minute apart; the window makes the first ones exit as the clock moves on
  const events = [];
  for (let i = 0; i < 5; i++) events.push(event({ type: 'track', event: 'Product Viewed', userId: `u${i}`, timestamp: NOW - 30 * MIN + i * MIN, receivedAt: NOW - 30 * MIN + i * MIN }));
  events.push(event({ type: 'track', event: 'Order Completed', userId: 'u0', properties: { total: 7 }, timestamp: NOW - 20 * MIN }));
  s.clock.now = NOW - 18.5 * MIN;
  await s.runEngine(events);
});
test.after(async () => {
  await s.close();
});

test('members: keyset pages by profile id with the instant each entered; totalEntries from the outputs index', async () => {
  const first = (await json(await s.manage('GET', `/spaces/spa_a/audiences/${audienceId}/members?pagination.count=2`)))['data'];
  assert.is(first.version, 1);
  assert.equal(first.members.map((m: Json) => m.profileId), ['user_id:u2', 'user_id:u3']);
  assert.equal(first.members[0], { profileId: 'user_id:u2', value: true, since: new Date(NOW - 28 * MIN).toISOString() });
  assert.is(first.pagination.totalEntries, 3);
  const second = (await json(await s.manage('GET', `/spaces/spa_a/audiences/${audienceId}/members?pagination.count=2&pagination.cursor=${first.pagination.next}`)))['data'];
  assert.equal(second.members.map((m: Json) => m.profileId), ['user_id:u4']);
  assert.is(second.pagination.next, null);
  const values = (await json(await s.manage('GET', `/spaces/spa_a/computed-traits/${traitId}/members`)))['data'];
  assert.equal(values.members.map((m: Json) => [m.profileId, m.value]), [['user_id:u0', 7]]);
});

test('members: search by an identifier (the profile holding it, if a member) or by a profile id prefix, over every member; its own cursors', async () => {
  const search = async (q: string, extra = '') => (await json(await s.manage('GET', `/spaces/spa_a/audiences/${audienceId}/members?search=${encodeURIComponent(q)}${extra}`)))['data'];
  assert.equal((await search('user_id:u3')).members.map((m: Json) => m.profileId), ['user_id:u3']);
  assert.equal((await search('user_id:u0')).members, [], 'u0 exited: not a member');
  assert.equal((await search('user_id:')).members.map((m: Json) => m.profileId), ['user_id:u2', 'user_id:u3', 'user_id:u4']);
  const page = await search('user_id:u', '&pagination.count=2');
  assert.equal(page.members.map((m: Json) => m.profileId), ['user_id:u2', 'user_id:u3']);
  const rest = await search('user_id:u', `&pagination.count=2&pagination.cursor=${page.pagination.next}`);
  assert.equal(rest.members.map((m: Json) => m.profileId), ['user_id:u4']);
  assert.is(rest.pagination.next, null);
  assert.equal((await search('nobody')).members, []);
  // a cursor of one search is not one of another (or of the unfiltered list)
  assert.is((await s.manage('GET', `/spaces/spa_a/audiences/${audienceId}/members?pagination.cursor=${page.pagination.next}`)).status, 400);
  assert.equal((await search('user_id:u4')).members[0].value, true);
});

test('recent changes: newest first with instants, filtered by kind, paged', async () => {
  const all = (await json(await s.manage('GET', `/spaces/spa_a/audiences/${audienceId}/changes?pagination.count=3`)))['data'];
  assert.equal(all.changes.map((c: Json) => [c.kind, c.profileId]), [['exit', 'user_id:u1'], ['exit', 'user_id:u0'], ['enter', 'user_id:u4']]);
  assert.is(all.changes[0].at, new Date(NOW - 19 * MIN).toISOString());
  const rest = (await json(await s.manage('GET', `/spaces/spa_a/audiences/${audienceId}/changes?pagination.count=10&pagination.cursor=${all.pagination.next}`)))['data'];
  assert.equal(rest.changes.map((c: Json) => c.profileId), ['user_id:u3', 'user_id:u2', 'user_id:u1', 'user_id:u0']);
  assert.is(rest.pagination.next, null);
  const exits = (await json(await s.manage('GET', `/spaces/spa_a/audiences/${audienceId}/changes?kind=exit`)))['data'];
  assert.equal(exits.changes.map((c: Json) => c.profileId), ['user_id:u1', 'user_id:u0']);
  const traits = (await json(await s.manage('GET', `/spaces/spa_a/computed-traits/${traitId}/changes`)))['data'];
  assert.equal(traits.changes.map((c: Json) => [c.kind, c.value, c.previous]), [['trait', 7, null]]);
  // a cursor of the unfiltered list is not one of the filtered list
  assert.is((await s.manage('GET', `/spaces/spa_a/audiences/${audienceId}/changes?kind=exit&pagination.cursor=${all.pagination.next}`)).status, 400);
});

test('size history: one point per minute in event time; defaults to the last 24 hours by hour', async () => {
  const start = new Date(NOW - 31 * MIN).toISOString();
  const end = new Date(NOW - 18 * MIN).toISOString();
  const res = (await json(await s.manage('GET', `/spaces/spa_a/audiences/${audienceId}/size-history?granularity=minute&start=${start}&end=${end}`)))['data'];
  assert.is(res.version, 1);
  assert.equal(
    res.points.map((p: Json) => p.count),
    [0, 1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 4, 3, 3],
  );
  assert.is(res.points[1].at, new Date(NOW - 29 * MIN).toISOString());
  const daily = (await json(await s.manage('GET', `/spaces/spa_a/audiences/${audienceId}/size-history`)))['data'];
  assert.is(daily.granularity, 'hour');
  assert.is(daily.points.length, 25);
  assert.is(daily.points.at(-1).count, 3);
});

test('explorer failures: unknown ids 404, bad ranges 400, garbage cursors 400, no explorer 503', async () => {
  assert.is((await s.manage('GET', '/spaces/spa_a/audiences/aud_missing/members')).status, 404);
  assert.is((await s.manage('GET', `/spaces/spa_a/computed-traits/${audienceId}/changes`)).status, 404);
  assert.is((await s.manage('GET', `/spaces/spa_a/audiences/${audienceId}/members?pagination.cursor=zzz`)).status, 400);
  assert.is((await s.manage('GET', `/spaces/spa_a/audiences/${audienceId}/size-history?start=yesterday`)).status, 400);
  const late = new Date(NOW).toISOString();
  const early = new Date(NOW - 60 * MIN).toISOString();
  assert.is((await s.manage('GET', `/spaces/spa_a/audiences/${audienceId}/size-history?start=${late}&end=${early}`)).status, 400);
  const tooMany = await s.manage('GET', `/spaces/spa_a/audiences/${audienceId}/size-history?granularity=minute&start=2020-01-01T00:00:00Z&end=2025-01-01T00:00:00Z`);
  assert.is(tooMany.status, 400);
  assert.is((await json(tooMany))['errors'][0].field, 'granularity');
  const off = serviceApp({ explorer: undefined });
  try {
    const id = (await off.registry.create({ space: 'spa_a', kind: 'audience', key: 'k', name: 'k', definition: { query: "event('A').count() >= 1", type: 'USERS' } })).id;
    const res = await off.manage('GET', `/spaces/spa_a/audiences/${id}/changes`);
    assert.is(res.status, 503);
    assert.is((await json(res))['errors'][0].type, 'unavailable');
    // members read the engine's state: not there yet → 503 too
    assert.is((await off.manage('GET', `/spaces/spa_a/audiences/${id}/members`)).status, 503);
  } finally {
    await off.close();
  }
});

test.run();
