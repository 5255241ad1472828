/** Management API: audiences and computed traits over `app.request()`, with every failure path. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { event, serviceApp, type ServiceApp } from '../../support/service-app.ts';

let s: ServiceApp;
test.before.each(() => {
  s = serviceApp();
});
test.after.each(async () => {
  await s.close();
});

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;
const create = (path: 'audiences' | 'computed-traits', body: unknown) => s.manage('POST', `/spaces/spa_a/${path}`, body);
const buyers = { name: 'Buyers', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' } };

test('create an audience: 201, Segment shape in a data envelope, key from the name, Preparing, no size yet', async () => {
  const res = await create('audiences', { ...buyers, description: 'bought once', options: { includeHistoricalData: true, backfillEventDataDays: 30 } });
  assert.is(res.status, 201);
  const { audience } = (await json(res))['data'];
  assert.match(audience.id, /^aud_/);
  assert.is(audience.spaceId, 'spa_a');
  assert.is(audience.key, 'buyers');
  assert.is(audience.audienceType, 'USERS');
  assert.equal(audience.definition, buyers.definition);
  assert.equal(audience.options, { includeHistoricalData: true, backfillEventDataDays: 30, includeAnonymousUsers: false });
  assert.equal(audience.computeCadence, { type: 'REALTIME' });
  assert.is(audience.status, 'Preparing');
  assert.equal(audience.size, { count: null, type: 'USERS' });
  assert.is(audience.version, 1);
  assert.is(audience.liveVersion, null);
  assert.is(audience.versions.length, 1);
  const got = await json(await s.manage('GET', `/spaces/spa_a/audiences/${audience.id}`));
  assert.equal(got['data'].audience, audience);
});

test('create a computed trait: tra_ id, computedTrait envelope, BATCH cadence with its default interval', async () => {
  const res = await create('computed-traits', { name: 'Revenue 30d', definition: { query: "event('Order Completed').within(30 days).sum(property('total'))" }, computeCadence: { type: 'BATCH' } });
  assert.is(res.status, 201);
  const { computedTrait } = (await json(res))['data'];
  assert.match(computedTrait.id, /^tra_/);
  assert.is(computedTrait.key, 'revenue_30d');
  assert.is(computedTrait.audienceType, undefined);
  assert.equal(computedTrait.computeCadence, { type: 'BATCH', interval: '8h' });
  // an audience id is not a computed trait
  const audience = (await json(await create('audiences', buyers)))['data'].audience;
  assert.is((await s.manage('GET', `/spaces/spa_a/computed-traits/${audience.id}`)).status, 404);
  assert.is((await s.manage('GET', `/spaces/spa_a/audiences/${computedTrait.id}`)).status, 404);
});

test('query diagnostics: 422 with one error per diagnostic, each with code, line and column', async () => {
  const res = await create('audiences', { name: 'Bad', definition: { query: "event('A').count() >= 1 AND\n  trait('A').count() >= 1 AND\n  event('B').count( >= 1" } });
  assert.is(res.status, 422);
  const body = await json(res);
  assert.equal(Object.keys(body), ['errors']);
  const codes = body['errors'].map((e: Json) => [e.type, e.field, e.code, e.line]);
  assert.ok(codes.some((c: unknown[]) => c[2] === 'syntax_error' && c[3] === 3), JSON.stringify(body));
  for (const e of body['errors']) {
    assert.is(e.type, 'input-validation');
    assert.is(e.field, 'definition.query');
    assert.type(e.column, 'number');
  }
  assert.equal(body['errors'].map((e: Json) => [e.code, e.line]), [['invalid_chain', 2], ['syntax_error', 3]]);
  // a computed trait must be a scalar, an audience a boolean
  assert.is((await json(await create('computed-traits', buyers)))['errors'][0].code, 'not_scalar');
  assert.is((await json(await create('audiences', { name: 'x', definition: { query: "event('A').count()" } })))['errors'][0].code, 'not_boolean');
});

test('malformed requests: 400 input-validation naming the field', async () => {
  const cases: Array<[unknown, string]> = [
    ['{not json', ''],
    [{ definition: { query: "event('A').count() >= 1" } }, 'name'],
    [{ name: 'x' }, 'definition'],
    [{ name: 'x', definition: { query: '' } }, 'definition.query'],
    [{ name: 'x', definition: { query: "event('A').count() >= 1", type: 'PEOPLE' } }, 'definition.type'],
    [{ name: 'x', key: 'Has Spaces', definition: { query: "event('A').count() >= 1" } }, 'key'],
    [{ name: 'x', definition: { query: "event('A').count() >= 1" }, surprise: true }, ''],
    [{ name: 'x', definition: { query: "event('A').count() >= 1" }, options: { backfillEventDataDays: 7 } }, 'options.backfillEventDataDays'],
    [{ name: 'x', definition: { query: "event('A').count() >= 1" }, computeCadence: { type: 'REALTIME', interval: '1h' } }, 'computeCadence.interval'],
    [{ name: 'x', definition: { query: "event('A').count() >= 1" }, computeCadence: { type: 'BATCH', interval: '3h' } }, 'computeCadence.interval'],
    [{ name: '日本語', definition: { query: "event('A').count() >= 1" } }, 'key'],
  ];
  for (const [body, field] of cases) {
    const res = await create('audiences', body);
    assert.is(res.status, 400, JSON.stringify(body));
    const errors = (await json(res))['errors'];
    assert.is(errors[0].type, 'input-validation');
    if (field !== '') assert.ok(errors.some((e: Json) => e.field === field), `${JSON.stringify(body)} → ${JSON.stringify(errors)}`);
  }
});

test('a body that is not JSON by its content type: 415', async () => {
  const res = await s.app.request('/spaces/spa_a/audiences', { method: 'POST', headers: { authorization: 'Bearer mgt_space_a_0001', 'content-type': 'text/plain' }, body: JSON.stringify(buyers) });
  assert.is(res.status, 415);
  assert.equal(await json(res), { errors: [{ type: 'unsupported-media-type', message: 'send the body as JSON (Content-Type: application/json)' }] });
});

test('keys: 409 when taken (also by the other kind); reserved after deletion; free in another space', async () => {
  const a = (await json(await create('audiences', buyers)))['data'].audience;
  const taken = await create('audiences', buyers);
  assert.is(taken.status, 409);
  assert.equal((await json(taken))['errors'][0], { type: 'conflict', message: `the key buyers is taken by ${a.id}`, field: 'key', code: 'key_taken' });
  assert.is((await create('computed-traits', { name: 'buyers', definition: { query: "event('A').count()" } })).status, 409);
  assert.is((await s.manage('DELETE', `/spaces/spa_a/audiences/${a.id}`)).status, 200);
  const reserved = await create('audiences', buyers);
  assert.is(reserved.status, 409);
  assert.is((await json(reserved))['errors'][0].code, 'key_reserved');
  assert.is((await s.manage('POST', '/spaces/spa_b/audiences', buyers, 'Bearer mgt_space_b_0001')).status, 201);
});

test('update: name and options in place; a new query is version 2 beside the live version 1', async () => {
  const a = (await json(await create('audiences', buyers)))['data'].audience;
  await s.registry.reportStatus(a.id, 1, { status: 'Live' });
  const renamed = await s.manage('PATCH', `/spaces/spa_a/audiences/${a.id}`, { name: 'Big buyers', description: 'd', options: { includeHistoricalData: true } });
  assert.is(renamed.status, 200);
  const r = (await json(renamed))['data'].audience;
  assert.equal([r.name, r.description, r.options.includeHistoricalData, r.version, r.status], ['Big buyers', 'd', true, 1, 'Live']);
  const edited = (await json(await s.manage('PATCH', `/spaces/spa_a/audiences/${a.id}`, { definition: { query: "event('Order Completed').count() >= 2" } })))['data'].audience;
  assert.equal([edited.version, edited.liveVersion, edited.status], [2, 1, 'Preparing']);
  assert.equal(edited.versions.map((v: Json) => [v.version, v.status]), [[1, 'Live'], [2, 'Preparing']]);
  assert.is(edited.definition.query, "event('Order Completed').count() >= 2");
  const disabled = (await json(await s.manage('PATCH', `/spaces/spa_a/audiences/${a.id}`, { enabled: false })))['data'].audience;
  assert.equal([disabled.enabled, disabled.status], [false, 'Disabled']);
});

test('update failures: cadence switch and type change 409, includeAnonymousUsers 409, bad query 422, empty body 400, unknown id 404', async () => {
  const a = (await json(await create('audiences', buyers)))['data'].audience;
  const path = `/spaces/spa_a/audiences/${a.id}`;
  const cadence = await s.manage('PATCH', path, { computeCadence: { type: 'BATCH' } });
  assert.is(cadence.status, 409);
  assert.equal((await json(cadence))['errors'][0].field, 'computeCadence.type');
  assert.is((await s.manage('PATCH', path, { definition: { type: 'ACCOUNTS' } })).status, 409);
  assert.is((await s.manage('PATCH', path, { options: { includeAnonymousUsers: true } })).status, 409);
  const bad = await s.manage('PATCH', path, { definition: { query: "event('A').count( >= 1" } });
  assert.is(bad.status, 422);
  assert.is((await json(bad))['errors'][0].code, 'syntax_error');
  assert.is((await s.manage('PATCH', path, {})).status, 400);
  assert.is((await s.manage('PATCH', path, { key: 'renamed' })).status, 400, 'the key cannot change');
  const missing = await s.manage('PATCH', '/spaces/spa_a/audiences/aud_missing', { name: 'x' });
  assert.is(missing.status, 404);
  assert.equal((await json(missing))['errors'][0].type, 'not-found');
  // nothing changed
  assert.equal((await json(await s.manage('GET', path)))['data'].audience.versions.length, 1);
});

test('references and delete: consumers listed; deleting a used audience is 409; deleted is 404', async () => {
  const base = (await json(await create('audiences', buyers)))['data'].audience;
  const vip = (await json(await create('audiences', { name: 'VIP', definition: { query: "trait('buyers') = true AND trait('plan') = 'pro'" } })))['data'].audience;
  const spend = (await json(await create('computed-traits', { name: 'Buyer spend', definition: { query: "event('Order Completed').where(trait('buyers') = true).sum(property('total'))" } })))['data'].computedTrait;
  const refs = await json(await s.manage('GET', `/spaces/spa_a/audiences/${base.id}/audience-references`));
  assert.equal(refs['data'], { audiences: [{ id: vip.id, key: 'vip', name: 'VIP' }], computedTraits: [{ id: spend.id, key: 'buyer_spend', name: 'Buyer spend' }] });
  const refused = await s.manage('DELETE', `/spaces/spa_a/audiences/${base.id}`);
  assert.is(refused.status, 409);
  assert.is((await json(refused))['errors'][0].code, 'referenced');
  assert.is((await s.manage('DELETE', `/spaces/spa_a/audiences/${vip.id}`)).status, 200);
  assert.is((await s.manage('DELETE', `/spaces/spa_a/computed-traits/${spend.id}`)).status, 200);
  assert.equal(await json(await s.manage('DELETE', `/spaces/spa_a/audiences/${base.id}`)), { data: { status: 'SUCCESS' } });
  assert.is((await s.manage('GET', `/spaces/spa_a/audiences/${base.id}`)).status, 404);
  assert.is((await s.manage('DELETE', `/spaces/spa_a/audiences/${base.id}`)).status, 404);
  assert.is((await s.manage('GET', `/spaces/spa_a/audiences/${base.id}/audience-references`)).status, 404);
  // a cycle through an edit is a diagnostic
  const a = (await json(await create('audiences', { name: 'a1', definition: { query: "event('A').count() >= 1" } })))['data'].audience;
  await create('audiences', { name: 'a2', definition: { query: "trait('a1') = true" } });
  const cycle = await s.manage('PATCH', `/spaces/spa_a/audiences/${a.id}`, { definition: { query: "trait('a2') = true" } });
  assert.is(cycle.status, 422);
  assert.equal((await json(cycle))['errors'][0].code, 'reference_cycle');
});

test('list: cursor pagination forwards and back with totalEntries; deleted ones left out', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await json(await create('audiences', { name: `aud ${i}`, definition: { query: `event('E${i}').count() >= 1` } })))['data'].audience.id);
  await create('computed-traits', { name: 'ct', definition: { query: "event('A').count()" } });
  await s.manage('DELETE', `/spaces/spa_a/audiences/${ids[1]}`);
  const live = ids.filter((_, i) => i !== 1);
  const page1 = (await json(await s.manage('GET', '/spaces/spa_a/audiences?pagination.count=2')))['data'];
  assert.equal(page1.audiences.map((a: Json) => a.id), live.slice(0, 2));
  assert.is(page1.pagination.totalEntries, 4);
  assert.is(page1.pagination.previous, null);
  assert.type(page1.pagination.current, 'string');
  const page2 = (await json(await s.manage('GET', `/spaces/spa_a/audiences?pagination.count=2&pagination.cursor=${page1.pagination.next}`)))['data'];
  assert.equal(page2.audiences.map((a: Json) => a.id), live.slice(2, 4));
  assert.is(page2.pagination.next, null);
  assert.is(page2.pagination.current, page1.pagination.next);
  const back = (await json(await s.manage('GET', `/spaces/spa_a/audiences?pagination.count=2&pagination.cursor=${page2.pagination.previous}`)))['data'];
  assert.equal(back.audiences.map((a: Json) => a.id), live.slice(0, 2));
  const traits = (await json(await s.manage('GET', '/spaces/spa_a/computed-traits')))['data'];
  assert.equal(traits.computedTraits.map((t: Json) => t.key), ['ct']);
  assert.equal(traits.pagination, { current: traits.pagination.current, next: null, previous: null, totalEntries: 1 });
});

test('list failures: a bad count, a garbage cursor, a cursor of another list or space: 400 naming the field', async () => {
  for (let i = 0; i < 3; i++) await create('audiences', { name: `aud ${i}`, definition: { query: `event('E${i}').count() >= 1` } });
  const next = (await json(await s.manage('GET', '/spaces/spa_a/audiences?pagination.count=1')))['data'].pagination.next;
  for (const count of ['0', '201', 'ten']) {
    const res = await s.manage('GET', `/spaces/spa_a/audiences?pagination.count=${count}`);
    assert.is(res.status, 400, count);
    assert.is((await json(res))['errors'][0].field, 'pagination.count');
  }
  const garbage = await s.manage('GET', '/spaces/spa_a/audiences?pagination.cursor=%%%not-a-cursor');
  assert.is(garbage.status, 400);
  assert.equal((await json(garbage))['errors'][0], { type: 'input-validation', message: 'pagination.cursor is not a cursor this API returned', field: 'pagination.cursor' });
  const otherList = await s.manage('GET', `/spaces/spa_a/computed-traits?pagination.cursor=${next}`);
  assert.is(otherList.status, 400);
  assert.match((await json(otherList))['errors'][0].message, /belongs to another list/);
  const otherSpace = await s.manage('GET', `/spaces/spa_b/audiences?pagination.cursor=${next}`, undefined, 'Bearer mgt_space_b_0001');
  assert.is(otherSpace.status, 400);
  const json64 = Buffer.from('{"x":1}').toString('base64url');
  assert.is((await s.manage('GET', `/spaces/spa_a/audiences?pagination.cursor=${json64}`)).status, 400);
});

test('a custom boolean trait in the membership form: created, computed and served (no definition has its key)', async () => {
  const res = await create('audiences', { name: 'VIPs', definition: { query: "trait('vip') = true" } });
  assert.is(res.status, 201, JSON.stringify(await res.clone().json()));
  const vips = (await json(res))['data'].audience;
  const notVip = (await json(await create('audiences', { name: 'Not VIP', definition: { query: "trait('vip') != true" } })))['data'].audience;
  const preview = await s.manage('POST', '/spaces/spa_a/audiences/previews', { definition: { query: "trait('vip') = false" } });
  assert.is(preview.status, 201);
  await s.runEngine([
    event({ type: 'identify', userId: 'alice', traits: { vip: true } }),
    event({ type: 'identify', userId: 'bob', traits: { vip: false } }),
  ]);
  assert.equal((await json(await s.manage('GET', `/spaces/spa_a/audiences/${vips.id}`)))['data'].audience.size, { count: 1, type: 'USERS' });
  assert.equal((await json(await s.manage('GET', `/spaces/spa_a/audiences/${notVip.id}`)))['data'].audience.size, { count: 1, type: 'USERS' });
  const traits = await json(await s.profile('/v1/spaces/spa_a/collections/users/profiles/user_id:alice/traits?include=vips,not_vip,vip'));
  assert.equal(traits['traits'], { vips: true, not_vip: false, vip: true });
});

test('size: the outputs index of the serving version', async () => {
  const a = (await json(await create('audiences', buyers)))['data'].audience;
  await s.runEngine([
    event({ type: 'track', event: 'Order Completed', userId: 'alice' }),
    event({ type: 'track', event: 'Order Completed', userId: 'bob' }),
    event({ type: 'track', event: 'Product Viewed', userId: 'carol' }),
  ]);
  const got = (await json(await s.manage('GET', `/spaces/spa_a/audiences/${a.id}`)))['data'].audience;
  assert.equal(got.size, { count: 2, type: 'USERS' });
  // while the first version backfills, nothing is served
  await s.registry.reportStatus(a.id, 1, { status: 'Backfilling', progress: 0.5 });
  const backfilling = (await json(await s.manage('GET', `/spaces/spa_a/audiences/${a.id}`)))['data'].audience;
  assert.equal([backfilling.status, backfilling.progress, backfilling.size.count], ['Backfilling', 0.5, null]);
  const listed = (await json(await s.manage('GET', '/spaces/spa_a/audiences')))['data'].audiences[0];
  assert.is(listed.progress, 0.5);
});

test('previews: validated, RUNNING until the engine reports, then COMPLETED with size and sample; unknown ids 404', async () => {
  const bad = await s.manage('POST', '/spaces/spa_a/audiences/previews', { definition: { query: 'nope(' } });
  assert.is(bad.status, 422);
  const res = await s.manage('POST', '/spaces/spa_a/audiences/previews', { definition: { query: "event('A').count() >= 1" } });
  assert.is(res.status, 201);
  const preview = (await json(res))['data'].audiencePreview;
  assert.match(preview.id, /^prv_/);
  assert.is(preview.status, 'RUNNING');
  await s.registry.reportPreview(preview.id, { status: 'COMPLETED', size: 1, results: [{ profileId: 'user_id:alice' }] });
  const done = (await json(await s.manage('GET', `/spaces/spa_a/audiences/previews/${preview.id}`)))['data'].audiencePreview;
  assert.equal([done.status, done.size, done.results], ['COMPLETED', { count: 1 }, [{ id: 'user_id:alice' }]]);
  assert.is((await s.manage('GET', `/spaces/spa_a/computed-traits/previews/${preview.id}`)).status, 404);
  assert.is((await s.manage('GET', '/spaces/spa_a/audiences/previews/prv_missing')).status, 404);
  const trait = await s.manage('POST', '/spaces/spa_a/computed-traits/previews', { definition: { query: "event('A').count()" } });
  assert.is((await json(trait))['data'].computedTraitPreview.status, 'RUNNING');
  // an edit's preview names the definition; the engine reports who would enter and exit
  const a = (await json(await create('audiences', buyers)))['data'].audience;
  const edit = (await json(await s.manage('POST', '/spaces/spa_a/audiences/previews', { definition: { query: "event('Order Completed').count() >= 2" }, compareTo: a.id })))['data'].audiencePreview;
  assert.is(edit.compareTo, a.id);
  await s.registry.reportPreview(edit.id, { status: 'COMPLETED', size: 0, results: [], difference: { enter: 0, exit: 1, changed: 0 } });
  const diff = (await json(await s.manage('GET', `/spaces/spa_a/audiences/previews/${edit.id}`)))['data'].audiencePreview;
  assert.equal(diff.difference, { enter: 0, exit: 1, changed: 0 });
  assert.is((await s.manage('POST', '/spaces/spa_a/audiences/previews', { definition: { query: "event('A').count() >= 1" }, compareTo: 'aud_missing' })).status, 404);
  assert.is((await s.manage('POST', '/spaces/spa_a/computed-traits/previews', { definition: { query: "event('A').count()" }, compareTo: a.id })).status, 409, 'an audience edit is no computed trait');
});

test('unknown management routes answer in the Public API envelope', async () => {
  const res = await s.manage('GET', '/spaces/spa_a/segments');
  assert.is(res.status, 404);
  assert.is((await json(res))['errors'][0].type, 'not-found');
});

test.run();
