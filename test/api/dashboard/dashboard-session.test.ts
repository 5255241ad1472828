/** The dashboard's server side without a browser: sign-in, the session cookie, CSRF on every state change, the space a session may reach (its destinations too), the switch, sign-out, static files; and the validations route the builder calls as you type. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SECRETS, serviceApp, type ServiceApp } from '../../support/service-app.ts';

let s: ServiceApp;
let destinationA = '';
let destinationB = '';
test.before(async () => {
  s = serviceApp({ withDestinations: true });
  assert.is((await s.manage('POST', '/spaces/spa_a/audiences', { name: 'A buyers', definition: { query: "event('Order Completed').count() >= 1" } })).status, 201);
  assert.is((await s.manage('POST', '/spaces/spa_b/audiences', { name: 'B secret', definition: { query: "event('X').count() >= 1" } }, `Bearer ${SECRETS.b.management}`)).status, 201);
  const hook = (name: string) => ({ name, kind: 'webhook', settings: { url: 'http://127.0.0.1:9/hook' }, secret: `whsec_${name}` });
  const a = await s.manage('POST', '/spaces/spa_a/destinations', hook('A hook'));
  const b = await s.manage('POST', '/spaces/spa_b/destinations', hook('B hook'), `Bearer ${SECRETS.b.management}`);
  assert.is(a.status, 201);
  assert.is(b.status, 201);
  destinationA = ((await a.json()) as any).data.destination.id;
  destinationB = ((await b.json()) as any).data.destination.id;
});
test.after(() => s.close());

const cookieOf = (res: Response, name: string): string | undefined =>
  res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`))?.split(';')[0]?.slice(name.length + 1);

/** Signs in with `fields` (the sign-in form's CSRF token added) on top of `session`; the new session cookie and CSRF token. */
async function signIn(fields: Record<string, string>, session?: string): Promise<{ status: number; session?: string; csrf?: string | undefined; body: string }> {
  const form = await s.app.request('/ui/sign-in', { headers: session === undefined ? {} : { cookie: `flock_session=${session}` } });
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const pre = cookieOf(form, 'flock_sign_in');
  const cookie = [pre === undefined ? '' : `flock_sign_in=${pre}`, session === undefined ? '' : `flock_session=${session}`].filter(Boolean).join('; ');
  const res = await s.app.request('/ui/sign-in', { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, ...fields }).toString() });
  const id = cookieOf(res, 'flock_session');
  if (id === undefined) return { status: res.status, body: await res.text() };
  const shell = await (await s.app.request('/', { headers: { cookie: `flock_session=${id}` } })).text();
  return { status: res.status, session: id, csrf: /name="flock-csrf" content="([^"]+)"/.exec(shell)?.[1], body: shell };
}
const get = (session: string, path: string) => s.app.request(path, { headers: { cookie: `flock_session=${session}` } });
const post = (session: string, path: string, body: unknown, csrf?: string) =>
  s.app.request(path, { method: 'POST', headers: { cookie: `flock_session=${session}`, 'content-type': 'application/json', ...(csrf === undefined ? {} : { 'x-csrf-token': csrf }) }, body: JSON.stringify(body) });

test('sign-in: the form carries a CSRF token; without it, or with an unknown token, no session', async () => {
  const page = await s.app.request('/');
  assert.is(page.status, 200);
  assert.match(await page.text(), /Management or access token/);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const forged = await s.app.request('/ui/sign-in', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${SECRETS.a.management}` });
  assert.is(forged.status, 403);
  assert.is(cookieOf(forged, 'flock_session'), undefined);
  const unknown = await signIn({ token: 'not_a_token_of_any_space' });
  assert.is(unknown.status, 401);
  assert.match(unknown.body, /not a management or access token/);
  // a write key is no dashboard credential
  assert.is((await signIn({ token: SECRETS.a.write })).status, 401);
  // an access token of another space beside a management token is refused
  assert.is((await signIn({ token: SECRETS.a.management, access_token: SECRETS.b.access })).status, 401);
});

test('a session: HttpOnly SameSite=Strict cookie; reads pass, state changes need the CSRF token; only its space', async () => {
  const form = await s.app.request('/ui/sign-in');
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const res = await s.app.request('/ui/sign-in', {
    method: 'POST',
    headers: { cookie: `flock_sign_in=${cookieOf(form, 'flock_sign_in')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, token: SECRETS.a.management }).toString(),
  });
  assert.is(res.status, 303);
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('flock_session='))!;
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);

  const a = await signIn({ token: SECRETS.a.management });
  const list = await get(a.session!, '/ui/api/spaces/spa_a/audiences');
  assert.is(list.status, 200);
  const text = await list.text();
  assert.match(text, /A buyers/);
  assert.not.match(text, /B secret/);
  // state changes: refused without the session's CSRF token, accepted with it
  const query = { definition: { query: "event('A').count() >= 1" } };
  assert.is((await post(a.session!, '/ui/api/spaces/spa_a/audiences/validations', query)).status, 403);
  assert.is((await post(a.session!, '/ui/api/spaces/spa_a/audiences/validations', query, 'wrong')).status, 403);
  assert.is((await post(a.session!, '/ui/api/spaces/spa_a/audiences/validations', query, a.csrf)).status, 200);
  // another space, however spelled, and routes outside the two APIs
  for (const path of ['/ui/api/spaces/spa_b/audiences', '/ui/api/spaces/spa_a/../spa_b/audiences', '/ui/api/spaces/spa_a/%2e%2e/spa_b/audiences', '/ui/api/v1/spaces/spa_b/collections/users/profiles/user_id:x/traits']) {
    const refused = await get(a.session!, path);
    assert.ok(refused.status === 403 || refused.status === 404, `${path}: ${refused.status}`);
    assert.not.match(await refused.text(), /B secret/);
  }
  assert.is((await get(a.session!, '/ui/api/metrics')).status, 404);
  // no access token in this session: no profiles
  assert.is((await get(a.session!, '/ui/api/v1/spaces/spa_a/collections/users/profiles/user_id:alice/traits')).status, 403);
  // no session: 401
  assert.is((await s.app.request('/ui/api/spaces/spa_a/audiences')).status, 401);
  assert.is((await s.app.request('/ui/live')).status, 401);
});

test("the live stream: the session's space's definitions, none of another space's", async () => {
  const a = await signIn({ token: SECRETS.a.management });
  const res = await get(a.session!, '/ui/live');
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('event: definitions')) text += new TextDecoder().decode((await reader.read()).value);
  while (!/event: definitions\ndata: .*\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  const data = JSON.parse(/event: definitions\ndata: (.*)\n/.exec(text)![1]!) as { definitions: Array<{ name: string; status: string }>; full: boolean };
  assert.is(data.full, true);
  assert.equal(data.definitions.map((d) => d.name), ['A buyers']);
});

test('an access token alone: profiles only (read-only), no management routes', async () => {
  const r = await signIn({ token: SECRETS.a.access });
  assert.is(r.status, 303);
  assert.match(r.body, /name="flock-manage" content="false"/);
  assert.is((await get(r.session!, '/ui/api/spaces/spa_a/audiences')).status, 403);
  assert.is((await get(r.session!, '/ui/live')).status, 403);
  // reaches the Profile API with its credential (no profile yet: the API's own 404 or 503)
  const profile = await get(r.session!, '/ui/api/v1/spaces/spa_a/collections/users/profiles/user_id:alice/traits');
  assert.ok(profile.status === 404 || profile.status === 503, String(profile.status));
});

test('a second space is a switch: the session shows one space at a time; sign-out ends it', async () => {
  const a = await signIn({ token: SECRETS.a.management });
  const both = await signIn({ token: SECRETS.b.management }, a.session);
  assert.ok(both.session !== undefined && both.session !== a.session, 'a new session id at each sign-in');
  assert.is((await get(a.session!, '/ui/api/spaces/spa_a/audiences')).status, 401, 'the previous session ended');
  assert.is((await get(both.session!, '/ui/api/spaces/spa_b/audiences')).status, 200);
  assert.is((await get(both.session!, '/ui/api/spaces/spa_a/audiences')).status, 403);
  const switchTo = (space: string, csrf: string) =>
    s.app.request('/ui/switch', { method: 'POST', headers: { cookie: `flock_session=${both.session}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ space, csrf }).toString() });
  assert.is((await switchTo('spa_a', 'wrong')).status, 403);
  assert.is((await switchTo('spa_nope', both.csrf!)).status, 403);
  assert.is((await switchTo('spa_a', both.csrf!)).status, 303);
  assert.is((await get(both.session!, '/ui/api/spaces/spa_a/audiences')).status, 200);
  assert.is((await get(both.session!, '/ui/api/spaces/spa_b/audiences')).status, 403);
  const out = await s.app.request('/ui/sign-out', { method: 'POST', headers: { cookie: `flock_session=${both.session}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf: both.csrf! }).toString() });
  assert.is(out.status, 303);
  assert.is((await get(both.session!, '/ui/api/spaces/spa_a/audiences')).status, 401);
});

test("destinations through the session: its space's routes (state changes with the CSRF token), never another space's", async () => {
  const a = await signIn({ token: SECRETS.a.management });
  const list = await get(a.session!, '/ui/api/spaces/spa_a/destinations');
  assert.is(list.status, 200);
  const listed = ((await list.json()) as any).data.destinations;
  assert.equal(listed.map((d: any) => d.name), ['A hook']);
  assert.not.match(JSON.stringify(listed), /whsec_/);
  for (const rest of ['/status', '/connections', '/dead-letters']) assert.is((await get(a.session!, `/ui/api/spaces/spa_a/destinations/${destinationA}${rest}`)).status, 200, rest);
  // another space's destinations: refused by the session, whatever the path names
  for (const path of [
    '/ui/api/spaces/spa_b/destinations',
    `/ui/api/spaces/spa_b/destinations/${destinationB}`,
    `/ui/api/spaces/spa_b/destinations/${destinationB}/status`,
    `/ui/api/spaces/spa_b/destinations/${destinationB}/dead-letters`,
    `/ui/api/spaces/spa_a/../spa_b/destinations/${destinationB}/status`,
    `/ui/api/spaces/spa_a/destinations/../../spa_b/destinations`,
  ]) {
    const res = await get(a.session!, path);
    assert.is(res.status, 403, path);
    assert.not.match(await res.text(), /B hook/);
  }
  // B's destination id under A's space is no destination of A
  assert.is((await get(a.session!, `/ui/api/spaces/spa_a/destinations/${destinationB}/status`)).status, 404);
  assert.is((await post(a.session!, `/ui/api/spaces/spa_b/destinations/${destinationB}/dead-letters/replay`, {}, a.csrf)).status, 403);
  assert.is((await post(a.session!, `/ui/api/spaces/spa_b/destinations/${destinationB}/resume`, {}, a.csrf)).status, 403);
  // a prefix of the route is no route of it
  assert.is((await get(a.session!, '/ui/api/spaces/spa_a/destinationsx')).status, 404);
  // state changes of its own destinations need the CSRF token
  assert.is((await post(a.session!, `/ui/api/spaces/spa_a/destinations/${destinationA}/resume`, {})).status, 403);
  assert.is((await post(a.session!, `/ui/api/spaces/spa_a/destinations/${destinationA}/resume`, {}, a.csrf)).status, 200);
  assert.is((await post(a.session!, `/ui/api/spaces/spa_a/destinations/${destinationA}/dead-letters/replay`, {}, a.csrf)).status, 202);
  // an access-token session reaches no destination route
  const r = await signIn({ token: SECRETS.a.access });
  assert.is((await get(r.session!, '/ui/api/spaces/spa_a/destinations')).status, 403);
});

test('static files: the app, its stylesheet and uPlot from node_modules; nothing else', async () => {
  const page = await (await s.app.request('/')).text();
  const version = /\/ui\/assets\/([0-9a-f]{12})\/style\.css/.exec(page)?.[1];
  assert.ok(version, 'the sign-in page links the versioned stylesheet');
  for (const path of [`/ui/assets/${version}/app.js`, `/ui/assets/${version}/style.css`, '/ui/vendor/uPlot.iife.min.js', '/ui/vendor/uPlot.min.css']) {
    const res = await s.app.request(path);
    assert.is(res.status, 200, path);
  }
  assert.match((await s.app.request(`/ui/assets/${version}/app.js`)).headers.get('cache-control') ?? '', /immutable/);
  // an older page's version: today's file, not kept
  assert.is((await s.app.request('/ui/assets/000000000000/app.js')).headers.get('cache-control'), 'no-cache');
  for (const path of [`/ui/assets/${version}/..%2fdashboard-routes.ts`, `/ui/assets/${version}/nope.js`, '/ui/assets/app.js', '/ui/vendor/package.json']) assert.is((await s.app.request(path)).status, 404, path);
});

test('validations: diagnostics at line and column, references and the JSON form; nothing is stored', async () => {
  const bad = await s.manage('POST', '/spaces/spa_a/audiences/validations', { definition: { query: "event('A')\n  .count( >= 1" } });
  assert.is(bad.status, 200);
  const badBody = (await bad.json()) as { data: { valid: boolean; diagnostics: Array<{ line: number; column: number; code: string }>; json: unknown } };
  assert.is(badBody.data.valid, false);
  assert.is(badBody.data.diagnostics[0]!.line, 2);
  assert.is(badBody.data.diagnostics[0]!.code, 'syntax_error');
  assert.is(badBody.data.json, null);
  const good = (await (await s.manage('POST', '/spaces/spa_a/computed-traits/validations', { definition: { query: "trait('a_buyers') = true" } })).json()) as { data: Record<string, any> };
  assert.is(good.data['valid'], false, 'a trait must end in a scalar');
  const ok = (await (await s.manage('POST', '/spaces/spa_a/audiences/validations', { definition: { query: "trait('a_buyers') = true AND event('B').count() >= 2" } })).json()) as { data: Record<string, any> };
  assert.is(ok.data['valid'], true);
  assert.equal(ok.data['references'], ['a_buyers']);
  assert.is(ok.data['json'].kind, 'audience');
  assert.is(s.registry.count('spa_a', 'audience'), 1);
  assert.is((await s.manage('POST', '/spaces/spa_a/audiences/validations', { definition: { query: 'x' } }, `Bearer ${SECRETS.b.management}`)).status, 401);
});

test.run();
