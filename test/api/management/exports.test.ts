/**
 * CSV exports over HTTP (`app.request()`), over state the engine wrote with identity resolution:
 * start, status, download (plain and gzip) parsed with csv-parse and compared with the members, the
 * computed-trait values and the Profile API's external ids; one running export per definition (409);
 * as-of exports; failures; and another space's token never reaches an export (404).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { acceptsGzip } from '../../../api/management/export-routes.ts';
import { bearer, event, NOW, SECRETS, serviceApp, type ServiceApp } from '../../support/service-app.ts';

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;
const S = 1000;
const iso = (t: number) => new Date(t).toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let s: ServiceApp;
let buyers = '';
let revenue = '';

test.before(async () => {
  s = serviceApp({ identity: true });
  const create = async (kind: 'audience' | 'trait', key: string, query: string) => (await s.registry.create({ space: 'spa_a', kind, key, name: key, definition: { query, type: 'USERS' }, options: { includeHistoricalData: true } })).id;
  buyers = await create('audience', 'buyers', "event('Order Completed').count() >= 1");
  revenue = await create('trait', 'revenue', "event('Order Completed').sum(property('total'))");
  await s.runEngine([
    event({ type: 'identify', userId: 'alice', traits: { email: 'Alice@X.com', plan: '=cmd|calc' }, timestamp: NOW - 300 * S }),
    event({ type: 'identify', userId: 'bob', traits: { email: 'bob@x.com', plan: 'free' }, timestamp: NOW - 290 * S }),
    event({ type: 'identify', userId: 'carol', traits: { plan: 'pro' }, timestamp: NOW - 280 * S }),
    event({ type: 'track', event: 'Order Completed', userId: 'alice', properties: { total: 30 }, timestamp: NOW - 200 * S }),
    event({ type: 'track', event: 'Order Completed', userId: 'bob', properties: { total: 5 }, timestamp: NOW - 100 * S }),
  ]);
});
test.after(async () => {
  await s.close();
});

async function finished(path: string, exportId: string, auth?: string): Promise<Json> {
  for (let i = 0; i < 500; i++) {
    const e = (await json(await s.manage('GET', `${path}/${exportId}`, undefined, auth)))['data'].export;
    if (e.status !== 'IN_PROGRESS') return e;
    await sleep(5);
  }
  throw new Error('the export did not finish');
}

async function exported(kind: 'audiences' | 'computed-traits', id: string, body: Json): Promise<{ export: Json; rows: string[][]; text: string }> {
  const path = `/spaces/spa_a/${kind}/${id}/exports`;
  const res = await s.manage('POST', path, body);
  assert.is(res.status, 201, await res.clone().text());
  const started = (await json(res))['data'].export;
  const done = await finished(path, started.exportId);
  assert.is(done.status, 'SUCCESS', JSON.stringify(done));
  const download = await s.manage('GET', done.urls[0]);
  assert.is(download.status, 200);
  assert.is(download.headers.get('content-type'), 'text/csv; charset=utf-8');
  const text = await download.text();
  return { export: done, rows: parse(text) as string[][], text };
}

const members = async (kind: string, id: string) => (await json(await s.manage('GET', `/spaces/spa_a/${kind}/${id}/members`)))['data'].members as Json[];
const externalIds = async (profileId: string) => (await json(await s.profile(`/v1/spaces/spa_a/collections/users/profiles/${profileId}/external_ids`)))['data'] as Json[];

test('audience, formatted columns: one row per member with its identifiers, custom trait (neutralised) and computed trait', async () => {
  const { rows, export: e } = await exported('audiences', buyers, { format: 'columns', externalIds: ['user_id', 'email'], customTraits: ['plan'], computedTraits: ['revenue'] });
  assert.is(e.format, 'columns');
  assert.is(e.members, 2);
  assert.is(e.totalMembers, 2);
  assert.is(e.progress, 1);
  assert.ok(typeof e.snapshot.position === 'number' && e.snapshot.position > 0);
  assert.equal(rows[0], ['key', 'user_id', 'email', 'plan', 'revenue']);
  const expected: string[][] = [];
  for (const m of await members('audiences', buyers)) {
    const ids = await externalIds(m['profileId']);
    const of = (type: string) => ids.filter((x) => x['type'] === type).map((x) => x['id']).join(', ');
    const profile = (await json(await s.profile(`/v1/spaces/spa_a/collections/users/profiles/${m['profileId']}/traits?include=plan,revenue`)))['traits'];
    const plan = String(profile['plan']);
    expected.push([m['profileId'], of('user_id'), of('email'), /^[=+\-@\t\r]/.test(plan) ? `'${plan}` : plan, String(profile['revenue'])]);
  }
  assert.equal(rows.slice(1), expected);
  assert.equal(Object.fromEntries(rows.slice(1).map((r) => [r[1], [r[2], r[3], r[4]]])), { alice: ['Alice@X.com', "'=cmd|calc", '30'], bob: ['bob@x.com', 'free', '5'] });
});

test('computed trait, key,value,external_ids: valid JSON external ids equal to the Profile API', async () => {
  const { rows } = await exported('computed-traits', revenue, { format: 'unformatted' });
  assert.equal(rows[0], ['key', 'value', 'external_ids']);
  const want = await members('computed-traits', revenue);
  assert.equal(rows.slice(1).map((r) => [r[0], Number(r[1])]), want.map((m) => [m['profileId'], m['value']]));
  for (const r of rows.slice(1)) {
    const ids = await externalIds(r[0]!);
    const byType: Record<string, string[]> = {};
    for (const x of ids) (byType[x['type']] ??= []).push(x['id']);
    assert.equal(JSON.parse(r[2]!), byType);
  }
});

test('download gzip-encoded when the client accepts it; the same bytes once unzipped', async () => {
  const { export: e, text } = await exported('audiences', buyers, { format: 'identifier', identifier: 'email' });
  const res = await s.app.request(e.urls[0], { headers: { authorization: bearer(SECRETS.a.management), 'accept-encoding': 'br, gzip;q=0.8' } });
  assert.is(res.headers.get('content-encoding'), 'gzip');
  assert.is(gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8'), text);
  assert.ok(acceptsGzip('gzip') && acceptsGzip('deflate, GZIP;q=1') && !acceptsGzip('gzip;q=0') && !acceptsGzip('br') && !acceptsGzip(undefined));
});

test('one running export per definition: a second start while the first runs is 409', async () => {
  const path = `/spaces/spa_a/audiences/${buyers}/exports`;
  const [a, b] = await Promise.all([s.manage('POST', path, {}), s.manage('POST', path, {})]);
  assert.equal([a.status, b.status].sort(), [201, 409]);
  const refused = await json(a.status === 409 ? a : b);
  assert.is(refused['errors'][0].type, 'export-running');
  const started = (await json(a.status === 201 ? a : b))['data'].export;
  await finished(path, started.exportId);
  // once it finished, the next one starts
  const next = await s.manage('POST', path, {});
  assert.is(next.status, 201);
  await finished(path, (await json(next))['data'].export.exportId);
});

test('as of an instant: the members the history held then', async () => {
  const { rows } = await exported('audiences', buyers, { format: 'unformatted', at: iso(NOW - 150 * S) });
  const then = (await json(await s.manage('GET', `/spaces/spa_a/audiences/${buyers}/history/members?at=${iso(NOW - 150 * S)}`)))['data'].members as Json[];
  assert.is(then.length, 1);
  assert.equal(rows.slice(1).map((r) => r[0]), then.map((m) => m['profileId']));
  const late = await s.manage('POST', `/spaces/spa_a/audiences/${buyers}/exports`, { at: iso(NOW + 3_600_000) });
  assert.is(late.status, 400);
  assert.is((await json(late))['errors'][0].type, 'instant-not-computed');
});

test('mistakes: a format of the other kind, an option that does not apply, an unknown computed trait — 400 naming the field', async () => {
  const bad = async (kind: string, id: string, body: Json) => {
    const res = await s.manage('POST', `/spaces/spa_a/${kind}/${id}/exports`, body);
    assert.is(res.status, 400);
    return (await json(res))['errors'][0];
  };
  assert.is((await bad('audiences', buyers, { format: 'rows' })).field, 'format');
  assert.is((await bad('computed-traits', revenue, { format: 'columns' })).field, 'format');
  assert.is((await bad('audiences', buyers, { format: 'indexed', hashed: true })).field, 'hashed');
  assert.is((await bad('audiences', buyers, { computedTraits: ['nope'] })).field, 'computedTraits');
  assert.is((await bad('audiences', buyers, { format: 'csv' })).field, 'format');
  assert.is((await s.manage('GET', `/spaces/spa_a/audiences/${buyers}/exports/exp_missing`)).status, 404);
  assert.is((await s.manage('POST', `/spaces/spa_a/computed-traits/${buyers}/exports`, {})).status, 404);
});

test("cross-space isolation: another space's token gets 401 on this space and 404 for this space's ids under its own", async () => {
  const path = `/spaces/spa_a/audiences/${buyers}/exports`;
  const started = (await json(await s.manage('POST', path, {})))['data'].export;
  await finished(path, started.exportId);
  const b = bearer(SECRETS.b.management);
  assert.is((await s.manage('GET', `${path}/${started.exportId}/download`, undefined, b)).status, 401);
  assert.is((await s.manage('POST', path, {}, b)).status, 401);
  const other = `/spaces/spa_b/audiences/${buyers}/exports`;
  assert.is((await s.manage('POST', other, {}, b)).status, 404);
  assert.is((await s.manage('GET', `${other}/${started.exportId}`, undefined, b)).status, 404);
  assert.is((await s.manage('GET', `${other}/${started.exportId}/download`, undefined, b)).status, 404);
});

test.run();
