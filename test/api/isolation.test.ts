/**
 * Spaces are tenants. For every route of the OpenAPI document that names a space: only the right
 * kind of secret of that space gets in; no credential, the wrong scheme, write keys, the other
 * role's token and every secret of the other space get the same 401; and the other space's own
 * routes never reach this space's definitions, destinations or profiles.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { basic, bearer, event, SECRETS, serviceApp, type ServiceApp } from '../support/service-app.ts';

type Json = Record<string, any>;
let s: ServiceApp;
const ids: Record<string, string> = {};

test.before(async () => {
  s = serviceApp({ withDestinations: true });
  ids['audience'] = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'Buyers', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' } })).id;
  ids['trait'] = (await s.registry.create({ space: 'spa_a', kind: 'trait', key: 'revenue', name: 'Revenue', definition: { query: "event('Order Completed').sum(property('total'))", type: 'USERS' } })).id;
  ids['audiencePreview'] = (await s.registry.createPreview({ space: 'spa_a', kind: 'audience', definition: { query: "event('A').count() >= 1", type: 'USERS' } })).id;
  ids['traitPreview'] = (await s.registry.createPreview({ space: 'spa_a', kind: 'trait', definition: { query: "event('A').count()", type: 'USERS' } })).id;
  await s.runEngine([event({ type: 'track', event: 'Order Completed', userId: 'alice', properties: { total: 3 } })]);
  const destination = (await (await send('POST', '/spaces/spa_a/destinations', bearer(SECRETS.a.management), { name: 'hook', kind: 'webhook', settings: { url: 'http://127.0.0.1:9/h' } })).json()) as Json;
  ids['destination'] = destination['data'].destination.id;
  const connection = (await (await send('POST', `/spaces/spa_a/destinations/${ids['destination']}/connections`, bearer(SECRETS.a.management), { definitionId: ids['audience'] })).json()) as Json;
  ids['connection'] = connection['data'].connection.id;
  // a finished CSV export of each, for the export status and download routes
  for (const kind of ['audience', 'trait'] as const) {
    const path = `/spaces/spa_a/${kind === 'trait' ? 'computed-traits' : 'audiences'}/${ids[kind]}/exports`;
    const started = (await (await send('POST', path, bearer(SECRETS.a.management), {})).json()) as Json;
    ids[`${kind}Export`] = started['data'].export.exportId;
    while (((await (await send('GET', `${path}/${ids[`${kind}Export`]}`, bearer(SECRETS.a.management))).json()) as Json)['data'].export.status === 'IN_PROGRESS') await new Promise((r) => setTimeout(r, 5));
  }
});
test.after(async () => {
  await s.close();
});

interface Route {
  readonly method: string;
  readonly template: string;
}

async function spaceRoutes(): Promise<Route[]> {
  const doc = (await (await s.app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
  const routes: Route[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    if (!path.includes('{spaceId}')) continue;
    for (const method of Object.keys(methods)) routes.push({ method: method.toUpperCase(), template: path });
  }
  return routes;
}

/** The route's URL for `space` with space A's resources, and a valid body for writes. */
function request(route: Route, space: string): { url: string; body?: unknown } {
  if (route.template.includes('/destinations')) {
    const url = route.template.replace('{spaceId}', space).replace('{id}', ids['destination']!).replace('{connectionId}', ids['connection']!);
    if (route.method === 'POST' && url.endsWith('/destinations')) return { url, body: { name: `made by ${space}`, kind: 'webhook', settings: { url: 'http://127.0.0.1:9/h' } } };
    if (route.method === 'POST' && url.endsWith('/connections')) return { url, body: { definitionId: ids['trait'] } };
    if (route.method === 'POST' && url.endsWith('/replay')) return { url, body: {} };
    if (route.method === 'PATCH') return { url, body: { name: `patched by ${space}` } };
    return { url };
  }
  const preview = route.template.includes('/previews/');
  const isTrait = route.template.includes('/computed-traits');
  const id = preview ? (isTrait ? ids['traitPreview'] : ids['audiencePreview']) : isTrait ? ids['trait'] : ids['audience'];
  const url = route.template
    .replace('{spaceId}', space)
    .replace('{id}', id!)
    .replace('{collection}', 'users')
    .replace('{identifier}', 'user_id:alice')
    .replace('{key}', 'buyers')
    .replace('{exportId}', isTrait ? ids['traitExport']! : ids['audienceExport']!);
  if (route.method === 'POST' && url.endsWith('/exports')) return { url, body: {} };
  if (route.method === 'POST' && url.endsWith('/validations')) return { url, body: { definition: { query: "event('A').count() >= 1" } } };
  if (route.method === 'POST' && url.endsWith('/previews')) return { url, body: { definition: { query: isTrait ? "event('A').count()" : "event('A').count() >= 1" } } };
  if (route.method === 'POST') return { url, body: { name: `made by ${space} ${Math.random()}`, definition: { query: isTrait ? "event('B').count()" : "event('B').count() >= 1" } } };
  if (route.method === 'PATCH') return { url, body: { description: `patched by ${space}` } };
  return { url };
}

async function send(method: string, url: string, authorization: string | undefined, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers['authorization'] = authorization;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return s.app.request(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

test('the OpenAPI document lists every space route (management, explorer, Profile API)', async () => {
  const routes = await spaceRoutes();
  const templates = new Set(routes.map((r) => `${r.method} ${r.template}`));
  for (const expected of [
    'POST /spaces/{spaceId}/audiences',
    'GET /spaces/{spaceId}/audiences',
    'GET /spaces/{spaceId}/audiences/{id}',
    'PATCH /spaces/{spaceId}/computed-traits/{id}',
    'DELETE /spaces/{spaceId}/audiences/{id}',
    'GET /spaces/{spaceId}/audiences/{id}/audience-references',
    'POST /spaces/{spaceId}/audiences/previews',
    'GET /spaces/{spaceId}/computed-traits/previews/{id}',
    'GET /spaces/{spaceId}/audiences/{id}/members',
    'GET /spaces/{spaceId}/audiences/{id}/changes',
    'GET /spaces/{spaceId}/audiences/{id}/size-history',
    'GET /v1/spaces/{spaceId}/collections/{collection}/profiles/{identifier}/traits',
    'GET /v1/spaces/{spaceId}/collections/{collection}/profiles/{identifier}/external_ids',
    'GET /v1/spaces/{spaceId}/collections/{collection}/profiles/{identifier}/metadata',
    'GET /v1/spaces/{spaceId}/collections/{collection}/profiles/{identifier}/events',
    'GET /v1/spaces/{spaceId}/collections/{collection}/profiles/{identifier}/links',
    'GET /spaces/{spaceId}/audiences/{id}/history/members',
    'GET /spaces/{spaceId}/computed-traits/{id}/history/size',
    'GET /v1/spaces/{spaceId}/collections/{collection}/profiles/{identifier}/timeline',
    'GET /v1/spaces/{spaceId}/collections/{collection}/profiles/{identifier}/as_of',
    'GET /v1/spaces/{spaceId}/collections/{collection}/profiles/{identifier}/explain/{key}',
    'POST /spaces/{spaceId}/audiences/{id}/exports',
    'GET /spaces/{spaceId}/computed-traits/{id}/exports/{exportId}',
    'GET /spaces/{spaceId}/audiences/{id}/exports/{exportId}/download',
    'POST /spaces/{spaceId}/destinations',
    'PATCH /spaces/{spaceId}/destinations/{id}',
    'DELETE /spaces/{spaceId}/destinations/{id}/connections/{connectionId}',
    'GET /spaces/{spaceId}/destinations/{id}/status',
    'POST /spaces/{spaceId}/destinations/{id}/dead-letters/replay',
  ]) {
    assert.ok(templates.has(expected), `${expected} is not in the document`);
  }
  assert.ok(routes.length >= 27, `${routes.length} space routes`);
});

test('every route: only the right secret of the space gets in; everything else is the same 401', async () => {
  const routes = await spaceRoutes();
  // deletes last: they would remove what the other routes read (a connection before its destination)
  routes.sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE') || (a.method === 'DELETE' ? b.template.length - a.template.length : 0));
  for (const route of routes) {
    const profileApi = route.template.startsWith('/v1/');
    const right = profileApi ? basic(SECRETS.a.access) : bearer(SECRETS.a.management);
    const wrong: Array<[string, string | undefined]> = [
      ['no credential', undefined],
      ['the right token with the wrong scheme', profileApi ? bearer(SECRETS.a.access) : basic(SECRETS.a.management)],
      ["space A's write key (Basic)", basic(SECRETS.a.write)],
      ["space A's write key (Bearer)", bearer(SECRETS.a.write)],
      ["space A's token of the other role", profileApi ? basic(SECRETS.a.management) : bearer(SECRETS.a.access)],
      ["space B's token of this role", profileApi ? basic(SECRETS.b.access) : bearer(SECRETS.b.management)],
      ["space B's token of the other role", profileApi ? basic(SECRETS.b.management) : bearer(SECRETS.b.access)],
      ["space B's write key", basic(SECRETS.b.write)],
      ['garbage', 'Basic !!!'],
    ];
    const { url, body } = request(route, 'spa_a');
    for (const [who, authorization] of wrong) {
      const res = await send(route.method, url, authorization, body);
      const text = await res.text();
      assert.is(res.status, 401, `${route.method} ${url} with ${who}: ${text}`);
      assert.not.ok(text.includes('buyers') || text.includes('alice'), `${who} saw data: ${text}`);
      assert.ok(res.headers.get('request-id'), 'Request-Id on every response');
    }
    const owner = await send(route.method, url, right, body);
    assert.ok(owner.status < 400 || owner.status === 501, `${route.method} ${url} with its own token: ${owner.status} ${await owner.clone().text()}`);
  }
});

test("space B's own routes never reach space A's definitions, previews or profiles", async () => {
  const routes = await spaceRoutes();
  for (const route of routes) {
    if (!route.template.includes('{id}') && !route.template.includes('{identifier}')) continue;
    const profileApi = route.template.startsWith('/v1/');
    const { url, body } = request(route, 'spa_b');
    const res = await send(route.method, url, profileApi ? basic(SECRETS.b.access) : bearer(SECRETS.b.management), body);
    assert.is(res.status, 404, `${route.method} ${url}: ${await res.clone().text()}`);
  }
  // and B's lists are empty
  const list = (await (await send('GET', '/spaces/spa_b/audiences', bearer(SECRETS.b.management))).json()) as Json;
  assert.equal(list['data'].audiences.filter((a: Json) => a.spaceId !== 'spa_b'), []);
});

test('the ingest and ops routes: write keys write, but only ops routes need no secret', async () => {
  assert.is((await send('GET', '/healthz', undefined)).status, 200);
  assert.is((await send('GET', '/spaces/spa_a/audiences', basic(SECRETS.a.write))).status, 401);
  assert.is((await send('POST', '/v1/track', basic(SECRETS.a.access), { userId: 'x', event: 'E' })).status, 401, 'an access token cannot write');
  assert.is((await send('POST', '/v1/track', basic(SECRETS.a.management), { userId: 'x', event: 'E' })).status, 401, 'a management token cannot write');
});

test.run();
