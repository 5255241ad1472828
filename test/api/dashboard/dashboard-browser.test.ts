/**
 * The dashboard in a real browser (Debian chromium via playwright-core) against `npm start` with two
 * spaces: sign in, build an audience (an inline diagnostic first, a preview, then Live), the
 * explorer, a profile's timeline and explanation, a CSV export, the system page, destinations (a
 * webhook at a local receiver; dead letters replayed, a pause resumed) — and the other space's data
 * never appears. `FLOCK_SCREENSHOTS=1` writes each page to docs/screenshots/.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startFlock, type Flock } from '../../support/flock-process.ts';
import { browserAvailable, launchBrowser, type Browser } from '../../support/browser.ts';
import { startReceiver, type Receiver } from '../../support/receiver.ts';

type Json = Record<string, any>;
const repo = dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url)))));
const root = mkdtempSync(join(tmpdir(), 'flock-dashboard-'));
const shots = process.env['FLOCK_SCREENSHOTS'] === '1' ? join(repo, 'docs/screenshots') : join(root, 'screenshots');
mkdirSync(shots, { recursive: true });

const ALPHA = { id: 'spa_alpha', name: 'Alpha', writeKey: 'alpha_write_key', access: 'alpha_access_token', management: 'alpha_management_token' };
const BETA = { id: 'spa_beta', name: 'Beta', writeKey: 'beta_write_key', access: 'beta_access_token', management: 'beta_management_token' };

let flock: Flock;
let url = '';
let browser: Browser;
let page: Page;
let receiver: Receiver;
let flaky: Receiver;

const basic = (token: string) => `Basic ${Buffer.from(`${token}:`).toString('base64')}`;
async function call(method: string, path: string, auth: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${url}${path}`, { method, headers: { authorization: auth, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Json };
}
async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`) });

const available = browserAvailable();

test.before(async () => {
  if (!available) return;
  const spacesFile = join(root, 'spaces.json');
  writeFileSync(
    spacesFile,
    JSON.stringify({
      spaces: [ALPHA, BETA].map((s) => ({ id: s.id, name: s.name, writeKeys: [s.writeKey], accessTokens: [s.access], managementTokens: [s.management] })),
    }),
  );
  flock = startFlock(['--port', '0', '--data-dir', join(root, 'data')], { FLOCK_SPACES_FILE: spacesFile });
  url = String((await flock.waitFor('flock listening'))['url']);
  await until('ready', async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined));
  const now = Date.now();
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  // Alpha: alice and bob shop; Beta: a profile and an audience Alpha must never see
  const ingest = async (space: typeof ALPHA, batch: Json[]) => assert.is((await call('POST', '/v1/batch', basic(space.writeKey), { batch })).status, 200);
  await ingest(ALPHA, [
    { type: 'identify', userId: 'alice', traits: { email: 'alice@example.com', plan: 'pro' }, timestamp: at(30) },
    { type: 'track', userId: 'alice', event: 'Order Completed', properties: { total: 120 }, timestamp: at(20) },
    { type: 'track', userId: 'bob', event: 'Product Viewed', properties: { category: 'hats' }, timestamp: at(10) },
  ]);
  const revenue = await call('POST', `/spaces/${ALPHA.id}/computed-traits`, `Bearer ${ALPHA.management}`, {
    name: 'Revenue 30 days',
    definition: { query: "event('Order Completed').within(30 days).sum(property('total'))" },
    options: { includeHistoricalData: true },
  });
  assert.is(revenue.status, 201);
  await ingest(BETA, [{ type: 'track', userId: 'zed_beta_only', event: 'Order Completed', properties: { total: 5 }, timestamp: at(5) }]);
  const beta = await call('POST', `/spaces/${BETA.id}/audiences`, `Bearer ${BETA.management}`, {
    name: 'Beta secret buyers',
    definition: { query: "event('Order Completed').within(7 days).count() >= 1" },
    options: { includeHistoricalData: true },
  });
  assert.is(beta.status, 201);
  const betaHook = await call('POST', `/spaces/${BETA.id}/destinations`, `Bearer ${BETA.management}`, { name: 'Beta secret hook', kind: 'webhook', settings: { url: 'http://127.0.0.1:9/beta' } });
  assert.is(betaHook.status, 201);
  receiver = await startReceiver({ secret: 'whsec_dashboard' });
  flaky = await startReceiver();
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
});

test.after(async () => {
  await browser?.close();
  await receiver?.close();
  await flaky?.close();
  flock?.kill9();
  await flock?.exited;
  rmSync(root, { recursive: true, force: true });
});

const run = available ? test : test.skip;

run('sign in: a wrong token is refused; the management token (and the access token) open the overview; the session cookie is HttpOnly and SameSite=Strict', async () => {
  await page.goto(`${url}/`);
  await page.getByLabel('Management or access token').fill('not_a_token_at_all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not a management or access token' }).waitFor();
  await page.getByLabel('Management or access token').fill(ALPHA.management);
  await page.getByLabel('Access token, for profiles (optional)').fill(ALPHA.access);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  const cookie = (await browser.context.cookies(url)).find((c) => c.name === 'flock_session');
  assert.ok(cookie);
  assert.is(cookie.httpOnly, true);
  assert.is(cookie.sameSite, 'Strict');
  // a state change without the session's CSRF token is refused, with it accepted
  const refused = await page.evaluate(async () => (await fetch('/ui/api/spaces/spa_alpha/audiences/validations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"definition":{"query":"x"}}' })).status);
  assert.is(refused, 403);
  const signOutWithoutToken = await page.evaluate(async () => (await fetch('/ui/sign-out', { method: 'POST', body: new URLSearchParams({ csrf: 'wrong' }) })).status);
  assert.is(signOutWithoutToken, 403);
});

run('builder: an inline diagnostic at its line and column as you type, the JSON form, a preview, then create; its progress reaches Live', async () => {
  await page.getByRole('link', { name: 'New definition' }).click();
  await page.getByLabel('Name').fill('Big buyers');
  const query = page.getByLabel('Query', { exact: true });
  await query.fill("event('Order Completed')\n  .within(7 days).count( >= 1");
  const diagnostic = page.locator('#diagnostics li').first();
  await diagnostic.waitFor();
  assert.match((await diagnostic.textContent()) ?? '', /^line 2, column \d+: /);
  const marked = page.locator('.highlight .diag').first();
  await marked.waitFor();
  assert.is(await marked.getAttribute('data-line'), '2');
  assert.is(await query.getAttribute('aria-invalid'), 'true');
  await shot('builder');
  await query.fill("event('Order Completed').where(property('total') > 100).within(7 days).count() >= 1");
  await page.locator('#diagnostics li').waitFor({ state: 'detached' });
  await page.locator('#json-form').filter({ hasText: '"kind"' }).waitFor();
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.locator('#preview-size').filter({ hasText: 'Size: 1' }).waitFor();
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { name: /Big buyers/ }).waitFor();
  await page.locator('#status .status[data-status="Live"]').waitFor({ timeout: 20_000 });
  // the overview shows it Live with its size, live, without a reload
  await page.getByRole('link', { name: 'Overview' }).click();
  const row = page.locator('tr[data-key="big_buyers"]');
  await row.locator('.status[data-status="Live"]').waitFor();
  await row.locator('td.num').filter({ hasText: '1' }).waitFor();
  await page.getByLabel('Search').fill('nothing matches this');
  assert.is(await row.isVisible(), false);
  await page.getByLabel('Search').fill('big');
  assert.is(await row.isVisible(), true);
  assert.is(await page.locator('tr[data-key="revenue_30_days"]').isVisible(), false);
  await page.getByLabel('Search').fill('');
  await page.locator('tr[data-key="revenue_30_days"] .status[data-status="Live"]').waitFor();
  await shot('overview');
});

run('definition page: size chart, members, recent enters live, versions; a CSV export downloads', async () => {
  await page.locator('tr[data-key="big_buyers"] a').click();
  await page.locator('#size-chart canvas').waitFor();
  const member = page.locator('table.members tbody tr a').first();
  await member.waitFor();
  assert.match((await member.textContent()) ?? '', /^use_/);
  await page.locator('#changes li[data-kind="enter"]').first().waitFor();
  // a new member appears in the recent changes without a reload
  await call('POST', '/v1/batch', basic(ALPHA.writeKey), { batch: [{ type: 'track', userId: 'carol', event: 'Order Completed', properties: { total: 500 }, timestamp: new Date().toISOString() }] });
  await until('carol entered, shown live', async () => ((await page.locator('#changes li[data-kind="enter"]').count()) >= 2 ? true : undefined));
  await until('the members page follows', async () => ((await page.locator('table.members tbody tr').count()) === 2 ? true : undefined));
  // the search runs over every member on the server: an identifier finds its profile
  await page.locator('#members-search').fill('user_id:carol');
  await until('the search finds carol alone', async () => ((await page.locator('table.members tbody tr').count()) === 1 ? true : undefined));
  await page.locator('#members-search').fill('user_id:nobody');
  await until('no member matches', async () => ((await page.locator('table.members tbody tr').count()) === 0 ? true : undefined));
  await page.locator('#members-search').fill('');
  await until('every member again', async () => ((await page.locator('table.members tbody tr').count()) === 2 ? true : undefined));
  await page.locator('#size').filter({ hasText: '2' }).waitFor();
  await page.locator('section[aria-labelledby="h-versions"] tbody tr').first().waitFor();
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const link = page.locator('#export-link');
  await link.waitFor();
  const csv = await page.evaluate(async (href) => (await fetch(href)).text(), (await link.getAttribute('href'))!);
  assert.ok(csv.split('\n').filter((l) => l.trim() !== '').length >= 3, csv);
  assert.match(csv, /alice/);
  await shot('definition');
});

run("profile page: traits, audiences, external ids, the timeline and an explanation", async () => {
  // a member's link opens its profile; any identifier finds it
  await page.locator('table.members tbody tr a').first().click();
  await page.locator('#audiences li').filter({ hasText: 'big_buyers' }).waitFor();
  await page.getByLabel('Identifier').fill('email:alice@example.com');
  await page.getByRole('button', { name: 'Look up' }).click();
  await page.locator('#external-ids td').filter({ hasText: 'alice' }).first().waitFor();
  await page.locator('#audiences li').filter({ hasText: 'big_buyers' }).waitFor();
  await page.locator('#traits td').filter({ hasText: 'plan' }).waitFor();
  const entry = page.locator('#timeline li[data-kind="enter"]').first();
  await entry.waitFor();
  await entry.getByRole('button', { name: 'explain' }).click();
  await page.locator('#explanation .summary').filter({ hasText: 'big_buyers' }).waitFor();
  assert.match((await page.locator('#explanation .summary').textContent()) ?? '', /true/);
  await page.locator('#explanation .tree li').first().waitFor();
  await shot('profile');
});

run('system page: charts from /metrics', async () => {
  await page.getByRole('link', { name: 'System' }).click();
  await page.locator('#chart-events canvas').waitFor({ timeout: 10_000 });
  await page.locator('main[data-samples="3"]').waitFor();
  await page.locator('#definition-statuses').filter({ hasText: 'Live' }).waitFor();
  assert.not.match((await page.locator('main').textContent()) ?? '', /Beta secret|beta_secret/);
  await shot('system');
});

run("destinations: create a webhook, connect it from the definition page, see it deliver; a paused one's dead letter replayed and resumed; never the other space's", async () => {
  await page.getByRole('link', { name: 'Destinations' }).click();
  await page.getByRole('heading', { name: 'Destinations' }).waitFor();
  await page.getByLabel('Name').fill('CRM hook');
  await page.getByLabel('Webhook URL').fill(receiver.url);
  await page.getByLabel('Signing secret (optional)').fill('whsec_dashboard');
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await page.locator('table.destinations tbody tr').filter({ hasText: 'CRM hook' }).waitFor();
  // connected from the audience's page, whose Destinations section then shows it delivering
  await page.getByRole('link', { name: 'Overview' }).click();
  const bigId = (await page.locator('tr[data-key="big_buyers"]').getAttribute('data-id'))!;
  await page.locator('tr[data-key="big_buyers"] a').click();
  await page.locator('#destinations td').filter({ hasText: 'Not connected' }).waitFor();
  await page.getByLabel('Connect to').selectOption({ label: 'CRM hook (webhook)' });
  await page.getByRole('button', { name: 'Connect' }).click();
  const connected = page.locator('#destinations tbody tr').filter({ hasText: 'CRM hook' });
  await connected.waitFor();
  await connected.locator('td.delivered').filter({ hasText: /^[1-9]/ }).waitFor({ timeout: 30_000 });
  assert.ok(receiver.requests.length > 0 && receiver.requests.every((r) => r.signed));
  assert.ok(receiver.messages.some((m) => m['userId'] === 'alice' || m['context']?.['traits']?.['email'] === 'alice@example.com'), JSON.stringify(receiver.messages));
  // a destination whose receiver refuses (400: no retry): one dead letter pauses it
  flaky.fault = () => ({ kind: 'status', status: 400 });
  const created = await call('POST', `/spaces/${ALPHA.id}/destinations`, `Bearer ${ALPHA.management}`, { name: 'Flaky hook', kind: 'webhook', settings: { url: flaky.url }, retry: { maxAttempts: 1, pauseAfterDeadLetters: 1 } });
  assert.is(created.status, 201);
  const flakyId = String(created.body['data'].destination.id);
  assert.is((await call('POST', `/spaces/${ALPHA.id}/destinations/${flakyId}/connections`, `Bearer ${ALPHA.management}`, { definitionId: bigId })).status, 201);
  await page.getByRole('link', { name: 'Destinations' }).click();
  const crm = page.locator('table.destinations tbody tr').filter({ hasText: 'CRM hook' });
  await crm.locator('td.delivered').filter({ hasText: /^[1-9]/ }).waitFor();
  const paused = page.locator(`table.destinations tbody tr[data-id="${flakyId}"][data-state="paused"]`);
  await paused.waitFor({ timeout: 30_000 });
  assert.match((await paused.textContent()) ?? '', /400/);
  const main = (await page.locator('main').textContent()) ?? '';
  assert.not.match(main, /Beta secret hook/);
  assert.not.match(main, /whsec_/);
  assert.is(await page.evaluate(async () => (await fetch('/ui/api/spaces/spa_beta/destinations')).status), 403);
  await shot('destinations');
  // its page: the connection, the dead letter; replay it and resume once the receiver answers
  await paused.getByRole('link', { name: 'Flaky hook' }).click();
  await page.locator('table.connections tbody tr').filter({ hasText: bigId }).waitFor();
  const letter = page.locator('table.dead-letters tbody tr').first();
  await letter.waitFor();
  assert.match((await letter.textContent()) ?? '', /400/);
  flaky.fault = () => ({ kind: 'ok' });
  const first = (await letter.getAttribute('data-id'))!;
  await letter.getByRole('button', { name: /^Replay dead letter/ }).click();
  await page.locator(`table.dead-letters tbody tr[data-id="${first}"]`).waitFor({ state: 'detached' });
  // (batches in flight when it paused may have been dead-lettered too)
  const all = page.getByRole('button', { name: /^Replay all/ });
  if ((await all.count()) > 0) await all.click();
  await page.locator('#dead-letter-count').filter({ hasText: 'None' }).waitFor();
  await page.getByRole('button', { name: 'Resume' }).click();
  await page.locator('main[data-state="running"]').waitFor({ timeout: 30_000 });
  await page.locator('#delivered').filter({ hasText: /^[1-9]/ }).waitFor({ timeout: 30_000 });
  assert.ok(flaky.messages.length > 0);
});

run('builder, editing: a preview shows who would exit, the edit is a new version that goes Live; disable, then delete', async () => {
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.locator('tr[data-key="big_buyers"] a').click();
  await page.getByRole('link', { name: 'Edit' }).click();
  const query = page.getByLabel('Query', { exact: true });
  await query.waitFor();
  assert.match(await query.inputValue(), /> 100/);
  await query.fill("event('Order Completed').where(property('total') > 200).within(7 days).count() >= 1");
  await page.locator('#json-form').filter({ hasText: '200' }).waitFor();
  await page.getByRole('button', { name: 'Preview' }).click();
  // alice (120) would leave, carol (500) stays
  await page.locator('#preview-difference').filter({ hasText: '0 would enter, 1 would exit' }).waitFor();
  await page.getByRole('button', { name: 'Save new version' }).click();
  await page.locator('section[aria-labelledby="h-versions"] tbody tr').nth(1).waitFor();
  await until('version 2 Live', async () => ((await page.locator('.facts').textContent())?.includes('2 (live: 2)') ? true : undefined));
  await page.locator('#size').filter({ hasText: /^1$/ }).waitFor();
  // the computed trait: disabled, then deleted
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.locator('tr[data-key="revenue_30_days"] a').click();
  await page.getByRole('link', { name: 'Edit' }).click();
  await page.getByRole('button', { name: 'Disable' }).click();
  await page.locator('.facts dd').filter({ hasText: 'no' }).waitFor();
  await page.getByRole('link', { name: 'Edit' }).click();
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.locator('tr[data-key="big_buyers"]').waitFor();
  await page.locator('tr[data-key="revenue_30_days"]').waitFor({ state: 'detached' });
});

run("spaces: the other space's data never appears; a second space is a switch", async () => {
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.locator('tr[data-key="big_buyers"]').waitFor();
  assert.not.match((await page.locator('main').textContent()) ?? '', /Beta secret/);
  // the session refuses another space's routes, even ones it could name
  const statuses = await page.evaluate(async () =>
    Promise.all(['/ui/api/spaces/spa_beta/audiences', '/ui/api/v1/spaces/spa_beta/collections/users/profiles/user_id:zed_beta_only/traits', '/ui/api/spaces/spa_alpha/../spa_beta/audiences'].map(async (p) => (await fetch(p)).status)),
  );
  assert.equal(statuses, [403, 403, 403]);
  const live = await page.evaluate(async () => (await fetch('/ui/api/spaces/spa_alpha/audiences')).status);
  assert.is(live, 200);
  // add Beta: the switch shows Beta's definitions and none of Alpha's
  await page.getByRole('link', { name: 'Add a space' }).click();
  await page.getByLabel('Management or access token').fill(BETA.management);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('tr[data-key="beta_secret_buyers"]').waitFor();
  assert.not.match((await page.locator('main').textContent()) ?? '', /Big buyers|big_buyers/);
  assert.is(await page.evaluate(async () => (await fetch('/ui/api/spaces/spa_alpha/audiences')).status), 403);
  // no access token for Beta: its profiles are not readable through this session
  assert.is(await page.evaluate(async () => (await fetch('/ui/api/v1/spaces/spa_beta/collections/users/profiles/user_id:zed_beta_only/traits')).status), 403);
  await page.getByLabel('Space').selectOption(ALPHA.id);
  await page.getByRole('button', { name: 'Switch' }).click();
  await page.locator('tr[data-key="big_buyers"]').waitFor();
  assert.not.match((await page.locator('main').textContent()) ?? '', /Beta secret/);
  // sign out ends the session
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await shot('sign-in');
  assert.is(await page.evaluate(async () => (await fetch('/ui/api/spaces/spa_alpha/audiences')).status), 401);
});

test.run();
