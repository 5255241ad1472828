/**
 * `npm run bench:dashboard`: the dashboard's targets, measured (never asserted). (1) The explorer:
 * one members page of a 1M-member audience (`FLOCK_BENCH_DASHBOARD_ROWS`) through the session's
 * `/ui/api` door, first and following pages — the store is written directly (bench/csv-store.ts).
 * (2) In chromium (playwright-core, /usr/bin/chromium) against `npm start` with 1,000 definitions:
 * the overview from navigation to every row shown, and how far live updates trail the engine — an
 * event sent, until its enter is on the definition page.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../api/app.ts';
import { DefinitionRegistry } from '../engine/definitions/registry.ts';
import type { StoreHandle } from '../engine/profiles/store-handle.ts';
import { staticSpaceDirectory } from '../engine/space/space-directory.ts';
import { CheckpointStore } from '../engine/store/checkpoint-store.ts';
import { memoryEventLog } from '../test/support/memory-event-log.ts';
import { startFlock } from '../test/support/flock-process.ts';
import { browserAvailable, CHROMIUM, launchBrowser } from '../test/support/browser.ts';
import { writeSynthetic, type SyntheticOutput, type SyntheticProfile } from './csv-store.ts';
import { writeResults, type ResultRow } from './results.ts';

const ROWS = Number(process.env['FLOCK_BENCH_DASHBOARD_ROWS'] ?? 1_000_000);
const DEFINITIONS = Number(process.env['FLOCK_BENCH_DASHBOARD_DEFINITIONS'] ?? 1000);
const SPACE = 'spa_bench';
const TOKEN = 'mgt_bench_token';
const RESULTS = process.env['FLOCK_BENCH_RESULTS'];
const began = performance.now();
const dir = mkdtempSync(join(tmpdir(), 'flock-bench-dashboard-'));
const rows: ResultRow[] = [];
const report = (row: ResultRow) => {
  rows.push(row);
  process.stdout.write(`${row.measurement}: ${row.value}${row.note === undefined ? '' : ` (${row.note})`}\n`);
};
/** The page's global, inside page functions (this file is typed without the DOM library). */
type PageGlobal = { document: { querySelectorAll(selector: string): { length: number } } };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `median ${q(0.5).toFixed(1)} ms, p90 ${q(0.9).toFixed(1)} ms, max ${s.at(-1)!.toFixed(1)} ms (n=${s.length})`;
};

// --- (1) the explorer over a 1M-member audience (FLOCK_BENCH_DASHBOARD_ROWS=0: skipped) -------------
if (ROWS > 0) {
  const registry = DefinitionRegistry.open(join(dir, 'registry'));
  const store = CheckpointStore.open(join(dir, 'engine'));
  const handle: StoreHandle = { get: () => store, close: async () => {} };
  const audience = (await registry.create({ space: SPACE, kind: 'audience', key: 'members', name: 'Members', definition: { query: "event('Signed Up').count() >= 1", type: 'USERS' } })).id;
  await registry.reportStatus(audience, 1, { status: 'Live' });
  const at = Date.parse('2026-06-01T00:00:00Z');
  const built = performance.now();
  for (let from = 0, position = 1; from < ROWS; from += 20_000, position++) {
    const profiles: SyntheticProfile[] = [];
    const outputs: SyntheticOutput[] = [];
    for (let i = from; i < Math.min(ROWS, from + 20_000); i++) {
      const id = `use_${String(i).padStart(27, '0')}`;
      profiles.push({ id, ids: [['user_id', `user-${i}`]] });
      outputs.push({ definitionId: audience, kind: 'audience', profileId: id, value: true });
    }
    await writeSynthetic(store, { space: SPACE, position, at }, profiles, outputs);
  }
  process.stdout.write(`store: ${ROWS.toLocaleString()} members written in ${((performance.now() - built) / 1000).toFixed(1)} s (not timed)\n`);
  const app = createApp({
    eventLog: memoryEventLog(),
    spaces: staticSpaceDirectory([{ id: SPACE, name: 'Bench', writeKeys: [], managementTokens: [TOKEN] }]),
    registry,
    store: handle,
  });
  const form = await app.request('/ui/sign-in');
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const pre = form.headers.getSetCookie().find((c) => c.startsWith('flock_sign_in='))!.split(';')[0]!;
  const signed = await app.request('/ui/sign-in', { method: 'POST', headers: { cookie: pre, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, token: TOKEN }).toString() });
  const cookie = signed.headers.getSetCookie().find((c) => c.startsWith('flock_session='))!.split(';')[0]!;
  const page = async (cursor?: string) => {
    const t = performance.now();
    const res = await app.request(`/ui/api/spaces/${SPACE}/audiences/${audience}/members?pagination.count=50${cursor === undefined ? '' : `&pagination.cursor=${encodeURIComponent(cursor)}`}`, { headers: { cookie } });
    const body = (await res.json()) as { data: { members: unknown[]; pagination: { next: string | null; totalEntries: number } } };
    return { ms: performance.now() - t, next: body.data.pagination.next ?? undefined, total: body.data.pagination.totalEntries, n: body.data.members.length };
  };
  const first: number[] = [];
  const following: number[] = [];
  let total = 0;
  const definition = async () => {
    const t = performance.now();
    await (await app.request(`/ui/api/spaces/${SPACE}/audiences/${audience}`, { headers: { cookie } })).json();
    return performance.now() - t;
  };
  const opening: number[] = [];
  for (let run = 0; run < 5; run++) {
    // as the definition page opens: the definition (with its size, a count of the members), then the first page
    await new Promise((r) => setTimeout(r, 2100));
    const d = await definition();
    let p = await page();
    opening.push(d + p.ms);
    first.push(p.ms);
    total = p.total;
    for (let i = 0; i < 20 && p.next !== undefined; i++) {
      p = await page(p.next);
      following.push(p.ms);
    }
  }
  report({ measurement: `explorer: the definition (its size counted) + the first members page of ${total.toLocaleString()}, through /ui/api`, value: `${median(opening).toFixed(1)} ms`, note: `${stats(opening)}; the size is a range scan of the members index, reused for 2 s` });
  report({ measurement: `explorer: first members page of ${total.toLocaleString()} (50 per page, through /ui/api)`, value: `${median(first).toFixed(1)} ms`, note: `${stats(first)}; target ≤ 100 ms` });
  report({ measurement: 'explorer: each next page (cursor)', value: `${median(following).toFixed(1)} ms`, note: `${stats(following)}; target ≤ 100 ms` });
  await registry.close();
  store.close();
}

// --- (2) the overview with 1,000 definitions and live updates, in chromium -------------------------
if (browserAvailable()) {
  const defs = join(dir, 'defs.json');
  const definitions = Array.from({ length: DEFINITIONS }, (_, i) =>
    i % 2 === 0
      ? { space: 'spa_default', key: `aud_${i}`, kind: 'audience', query: `event('E${i % 50}').within(${1 + (i % 30)} days).count() >= ${1 + (i % 3)}` }
      : { space: 'spa_default', key: `tra_${i}`, kind: 'trait', query: `event('E${i % 50}').within(${1 + (i % 30)} days).count()` },
  );
  definitions.push({ space: 'spa_default', key: 'pings', kind: 'audience', query: "event('Ping').count() >= 1" });
  writeFileSync(defs, JSON.stringify({ definitions }));
  const flock = startFlock(['--port', '0', '--data-dir', join(dir, 'data'), '--definitions-file', defs]);
  const browser = await launchBrowser();
  try {
    const url = String((await flock.waitFor('flock listening', 120_000))['url']);
    const page = await browser.context.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto(`${url}/`);
    await page.getByLabel('Management or access token').fill('dev_management_token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('main[data-ready="true"]').waitFor();
    // every definition Live before timing
    await page.waitForFunction((n) => (globalThis as unknown as PageGlobal).document.querySelectorAll('tr .status[data-status="Live"]').length >= n, DEFINITIONS + 1, { timeout: 300_000, polling: 500 });
    const overview: number[] = [];
    for (let run = 0; run < 7; run++) {
      await page.goto(`${url}/#/system`);
      await page.goto(`${url}/`);
      await page.locator('main[data-ready="true"]').waitFor();
      // navigation start → the mark the overview sets once every row is in the table
      const shown = await page.evaluate(() => performance.getEntriesByName('overview-shown')[0]?.startTime);
      const rows = await page.locator('table.definitions tbody tr').count();
      if (rows !== DEFINITIONS + 1 || shown === undefined) throw new Error(`${rows} rows, mark ${shown}`);
      overview.push(shown);
    }
    report({ measurement: `overview of ${DEFINITIONS + 1} definitions: navigation start → every row shown (chromium)`, value: `${median(overview.slice(2)).toFixed(0)} ms`, note: `${stats(overview.slice(2))}, the first two runs warm up; target ≤ 500 ms` });

    // live: an event sent → its enter on the definition page
    await page.locator('tr[data-key="pings"] a').click();
    await page.locator('#changes').waitFor({ state: 'attached' });
    const lag: number[] = [];
    for (let i = 0; i < 10; i++) {
      const before = await page.locator('#changes li').count();
      const t = performance.now();
      const res = await fetch(`${url}/v1/track`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('dev_write_key:').toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ userId: `pinger-${i}`, event: 'Ping', timestamp: new Date().toISOString() }),
      });
      if (res.status !== 200) throw new Error(`track: ${res.status}`);
      await page.waitForFunction((n) => (globalThis as unknown as PageGlobal).document.querySelectorAll('#changes li').length > n, before, { polling: 'raf' });
      lag.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 400));
    }
    report({ measurement: 'live: an event sent → its enter on the definition page (chromium)', value: `${median(lag).toFixed(0)} ms`, note: `${stats(lag)}; the live stream reads every 500 ms; target ≤ 1 s` });
  } finally {
    await browser.close();
    flock.kill9();
    await flock.exited;
  }
}
rmSync(dir, { recursive: true, force: true });
writeResults('dashboard', 'Dashboard (npm run bench:dashboard)', rows, {
  command: 'npm run bench:dashboard',
  seconds: (performance.now() - began) / 1000,
  details: [`${ROWS.toLocaleString()} members in the explorer's audience; ${DEFINITIONS.toLocaleString()} definitions (+1) in the overview; Debian chromium ${CHROMIUM}`],
  ...(RESULTS === undefined ? {} : { file: RESULTS }),
});
