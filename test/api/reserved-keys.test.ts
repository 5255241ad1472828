/**
 * `__proto__` and `constructor` keys, through HTTP end to end: sent to the tracking API, stored by
 * the real codec (msgpackr) in the embedded log and by the engine in LMDB, read back exactly as sent
 * from the Profile API, and usable in queries. As definition keys they are refused (422 reserved_word).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEventLog } from '../../engine/log/open-event-log.ts';
import { staticSpaceDirectory } from '../../engine/space/space-directory.ts';
import { escapeKeys, unescapeKeys } from '../../engine/event/safe-keys.ts';
import { getPath } from '../../engine/eval/values.ts';
import { basic, ingestApp } from '../support/ingest-app.ts';
import { NOW, SECRETS, SERVICE_SPACES, serviceApp } from '../support/service-app.ts';

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;
const P = '/v1/spaces/spa_a/collections/users/profiles/user_id:alice';

// raw JSON text: an object literal with `__proto__` would set the prototype instead of a key
const TRAITS = '{"__proto__":{"x":1,"__proto__":2},"constructor":"c","toJSON":"j","__proto_":"p","__proto___":"pp","constructor_":"c_","plan":"pro"}';
const PROPERTIES = '{"__proto__":{"a":1},"constructor":5,"valueOf":6,"list":[{"constructor":true}]}';

test('traits and properties keyed __proto__ or constructor are stored and served back exactly as sent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-keys-'));
  const log = await openEventLog({ dataDir: dir, partitions: 1 });
  const s = serviceApp({ identity: true });
  try {
    const { post } = ingestApp({ eventLog: log, spaces: staticSpaceDirectory(SERVICE_SPACES), clock: () => NOW - 1_000 });
    const auth = { auth: basic(SECRETS.a.write) };
    const identify = await post('/v1/identify', `{"userId":"alice","traits":${TRAITS}}`, auth);
    assert.is(identify.status, 200, await identify.clone().text());
    const track = await post('/v1/track', `{"userId":"alice","event":"E","properties":${PROPERTIES}}`, auth);
    assert.is(track.status, 200);

    await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'proto_a', name: 'proto', definition: { query: "event('E').where(property('__proto__.a') = 1).count() >= 1", type: 'USERS' } });
    await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'ctor_c', name: 'ctor', definition: { query: "trait('constructor') = 'c'", type: 'USERS' } });
    await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'has_to_string', name: 'inherited', definition: { query: "trait('toString').exists()", type: 'USERS' } });
    await s.registry.create({ space: 'spa_a', kind: 'trait', key: 'ctor_sum', name: 'sum', definition: { query: "event('E').sum(property('constructor'))", type: 'USERS' } });
    // the events as the log's codec (msgpackr records) gives them back
    const events = (await log.read(1, 10)).map((e) => e.event);
    await s.runEngine(events);

    const traits = await json(await s.profile(`${P}/traits?limit=50`));
    assert.equal(JSON.stringify(traits['traits']), JSON.stringify(JSON.parse(`{"__proto_":"p","__proto__":{"x":1,"__proto__":2},"__proto___":"pp","constructor":"c","constructor_":"c_","ctor_c":true,"ctor_sum":5,"plan":"pro","proto_a":true,"toJSON":"j"}`)));
    const named = await json(await s.profile(`${P}/traits?include=__proto__,constructor`));
    assert.equal(Object.keys(named['traits']), ['__proto__', 'constructor']);

    const listed = await json(await s.profile(`${P}/events`));
    const byType = Object.fromEntries(listed['data'].map((e: Json) => [e.type, e]));
    assert.equal(JSON.stringify(byType['track'].properties), JSON.stringify(JSON.parse(PROPERTIES)));
    assert.equal(JSON.stringify(byType['identify'].traits), JSON.stringify(JSON.parse(TRAITS)));
  } finally {
    await s.close();
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an audience or computed trait keyed __proto__ or constructor is refused at creation: 422 reserved_word', async () => {
  const s = serviceApp();
  try {
    for (const [path, key] of [['audiences', '__proto__'], ['audiences', 'constructor'], ['computed-traits', '__proto__'], ['computed-traits', 'constructor']] as const) {
      const query = path === 'audiences' ? "event('E').count() >= 1" : "event('E').count()";
      const res = await s.manage('POST', `/spaces/spa_a/${path}`, { name: 'x', key, definition: { query, type: 'USERS' } });
      assert.is(res.status, 422, `${path} ${key}`);
      const body = await json(res);
      assert.equal([body['errors'][0].type, body['errors'][0].code, body['errors'][0].field], ['input-validation', 'reserved_word', 'key']);
    }
    // their families are ordinary keys
    assert.is((await s.manage('POST', '/spaces/spa_a/audiences', { name: 'x', key: '__proto___', definition: { query: "event('E').count() >= 1", type: 'USERS' } })).status, 201);
  } finally {
    await s.close();
  }
});

test('the stored spelling is reversible, and lookups see only own keys', () => {
  const sent = JSON.parse('{"__proto__":{"__proto__":[{"constructor":1}]},"__proto_":1,"__proto___":2,"constructor":3,"constructor_":4,"c":5,"_":6}');
  const stored = escapeKeys(sent);
  assert.equal(Object.keys(stored), ['__proto___', '__proto_', '__proto____', 'constructor_', 'constructor__', 'c', '_']);
  assert.equal(JSON.stringify(unescapeKeys(stored)), JSON.stringify(sent));
  const plain = { a: { b: 1 } };
  assert.is(escapeKeys(plain), plain, 'nothing to escape: the same object');
  assert.is(getPath(stored, ['__proto__', '__proto__', '0']), undefined, 'arrays are not walked');
  assert.equal(getPath(stored, ['__proto__', '__proto__']), [{ constructor_: 1 }]);
  assert.is(getPath(stored, ['constructor']), 3);
  assert.is(getPath({}, ['constructor']), undefined);
  assert.is(getPath({}, ['toString']), undefined);
});

test.run();
