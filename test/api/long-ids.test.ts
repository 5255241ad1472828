/**
 * Over-long ids in paths (profile identifiers, definition ids and keys) answer 400 with a code of
 * their own on every route that takes one, never a 500 from LMDB's key size; up to the bound they
 * are looked up as usual.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_PATH_ID_LENGTH, MAX_PROFILE_IDENTIFIER_LENGTH } from '../../api/path-params.ts';
import { event, serviceApp, type ServiceApp } from '../support/service-app.ts';

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;
const PROFILE_RESOURCES = ['traits', 'external_ids', 'metadata', 'links', 'events', 'timeline', 'as_of', 'explain/buyers'];
/** a real userId at the limit identity resolution keeps */
const LONGEST_USER = 'u'.repeat(500);

let s: ServiceApp;
test.before(async () => {
  s = serviceApp({ identity: true });
  await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'Buyers', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' } });
  await s.runEngine([event({ type: 'track', event: 'Order Completed', userId: LONGEST_USER }), event({ type: 'group', userId: 'alice', groupId: 'acme' })]);
});
test.after(async () => {
  await s.close();
});

test('Profile API and its history routes: an identifier over the bound is 400 identifier_too_long, whatever its length', async () => {
  const over = [MAX_PROFILE_IDENTIFIER_LENGTH + 1, 4_100, 8_000, 16_000, 20_000];
  for (const length of over) {
    for (const [collection, type] of [['users', 'user_id'], ['accounts', 'group_id']] as const) {
      const identifier = `${type}:${'a'.repeat(length - type.length - 1)}`;
      for (const resource of PROFILE_RESOURCES) {
        const res = await s.profile(`/v1/spaces/spa_a/collections/${collection}/profiles/${identifier}/${resource}`);
        assert.is(res.status, 400, `${collection} ${length} ${resource}`);
        assert.is((await json(res))['error'].code, 'identifier_too_long', `${collection} ${length} ${resource}`);
      }
    }
  }
  // multi-byte characters count as characters: 1,400 "€" are 4,200 bytes
  const euro = await s.profile(`/v1/spaces/spa_a/collections/users/profiles/user_id:${encodeURIComponent('€'.repeat(1_400))}/traits`);
  assert.equal([euro.status, (await json(euro))['error'].code], [400, 'identifier_too_long']);
});

test('up to the bound, identifiers are looked up: the longest userId is found, the longest identifier is a 404', async () => {
  for (const resource of PROFILE_RESOURCES) {
    const found = await s.profile(`/v1/spaces/spa_a/collections/users/profiles/user_id:${LONGEST_USER}/${resource}`);
    assert.ok(found.status === 200 || found.status === 501, `${resource}: ${found.status}`);
    const longest = `user_id:${'€'.repeat(MAX_PROFILE_IDENTIFIER_LENGTH - 'user_id:'.length)}`;
    assert.is(longest.length, MAX_PROFILE_IDENTIFIER_LENGTH);
    const missing = await s.profile(`/v1/spaces/spa_a/collections/users/profiles/${encodeURIComponent(longest)}/${resource}`);
    assert.is(missing.status, 404, resource);
  }
  assert.equal((await json(await s.profile(`/v1/spaces/spa_a/collections/users/profiles/user_id:${LONGEST_USER}/traits`)))['traits'], { buyers: true });
});

test('explain: a definition key over the bound is 400 key_too_long', async () => {
  for (const length of [MAX_PATH_ID_LENGTH + 1, 4_100, 16_000]) {
    const res = await s.profile(`/v1/spaces/spa_a/collections/users/profiles/user_id:alice/explain/${'k'.repeat(length)}`);
    assert.equal([res.status, (await json(res))['error'].code], [400, 'key_too_long'], String(length));
  }
  assert.is((await s.profile(`/v1/spaces/spa_a/collections/users/profiles/user_id:alice/explain/${'k'.repeat(MAX_PATH_ID_LENGTH)}`)).status, 404);
});

test('management API: a definition or preview id over the bound is 400 id-too-long on every route', async () => {
  const routes = (id: string) =>
    ['audiences', 'computed-traits'].flatMap((kind) => [
      ['GET', `/spaces/spa_a/${kind}/${id}`],
      ['PATCH', `/spaces/spa_a/${kind}/${id}`],
      ['DELETE', `/spaces/spa_a/${kind}/${id}`],
      ['GET', `/spaces/spa_a/${kind}/${id}/audience-references`],
      ['GET', `/spaces/spa_a/${kind}/${id}/members`],
      ['GET', `/spaces/spa_a/${kind}/${id}/changes`],
      ['GET', `/spaces/spa_a/${kind}/${id}/size-history`],
      ['GET', `/spaces/spa_a/${kind}/${id}/history/members`],
      ['GET', `/spaces/spa_a/${kind}/${id}/history/size`],
      ['GET', `/spaces/spa_a/${kind}/previews/${id}`],
    ]);
  for (const length of [MAX_PATH_ID_LENGTH + 1, 4_100, 16_000]) {
    for (const [method, path] of routes('a'.repeat(length))) {
      const res = await s.manage(method!, path!, method === 'PATCH' ? { enabled: false } : undefined);
      assert.is(res.status, 400, `${method} ${path!.slice(0, 60)} ${length}`);
      assert.is((await json(res))['errors'][0].type, 'id-too-long');
    }
  }
  for (const [method, path] of routes('a'.repeat(MAX_PATH_ID_LENGTH))) {
    const res = await s.manage(method!, path!, method === 'PATCH' ? { enabled: false } : undefined);
    assert.ok(res.status === 404 || res.status === 400, `${method} ${path!.slice(0, 60)}: ${res.status}`);
    if (res.status === 400) assert.is.not((await json(res))['errors'][0].type, 'id-too-long');
  }
});

test.run();
