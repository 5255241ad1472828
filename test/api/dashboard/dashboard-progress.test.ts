/**
 * The overview's progress bar in chromium, driven step by step: the app over a registry whose
 * statuses the test reports itself (as the engine would), served on a loopback port; the bar and its
 * ETA move with each report and the row reaches Live, all without a reload (server-sent events).
 * `FLOCK_SCREENSHOTS=1` writes docs/screenshots/overview-backfill.png.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../../api/serve.ts';
import { browserAvailable, launchBrowser, type Browser } from '../../support/browser.ts';
import { SECRETS, serviceApp, type ServiceApp } from '../../support/service-app.ts';

const available = browserAvailable();
let s: ServiceApp;
let server: RunningServer;
let browser: Browser;
let page: Page;
let id = '';

test.before(async () => {
  if (!available) return;
  s = serviceApp();
  // (the browser's clock: "last change" and the ETA read as they would live)
  s.clock.now = Date.now();
  const created = await s.manage('POST', '/spaces/spa_a/audiences', { name: 'Slow backfill', definition: { query: "event('Order Completed').count() >= 1" }, options: { includeHistoricalData: true } });
  assert.is(created.status, 201);
  id = ((await created.json()) as { data: { audience: { id: string } } }).data.audience.id;
  server = await startServer(s.app, { host: '127.0.0.1', port: 0 });
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
});

test.after(async () => {
  await browser?.close();
  await server?.close(100);
  await s?.close();
});

const run = available ? test : test.skip;

run('the progress bar and its ETA follow the reports, then the row is Live', async () => {
  await page.goto(`${server.url}/`);
  await page.getByLabel('Management or access token').fill(SECRETS.a.management);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const row = page.locator('tr[data-key="slow_backfill"]');
  await row.locator('.status[data-status="Preparing"]').waitFor();
  const eta = s.clock.now + 90_000;
  await s.registry.reportStatus(id, 1, { status: 'Backfilling', progress: 0.25, eta });
  const bar = row.getByRole('progressbar', { name: 'Slow backfill backfill 25%' });
  await bar.waitFor();
  assert.is(await bar.getAttribute('value'), '25');
  assert.match((await row.locator('.eta').textContent()) ?? '', /25%, ETA /);
  await s.registry.reportStatus(id, 1, { status: 'Backfilling', progress: 0.8, eta });
  await row.getByRole('progressbar', { name: 'Slow backfill backfill 80%' }).waitFor();
  if (process.env['FLOCK_SCREENSHOTS'] === '1') {
    const repo = dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url)))));
    await page.screenshot({ path: join(repo, 'docs/screenshots/overview-backfill.png'), clip: { x: 0, y: 0, width: 1200, height: 260 } });
  }
  await s.registry.reportStatus(id, 1, { status: 'Live', progress: 1 });
  await row.locator('.status[data-status="Live"]').waitFor();
  assert.is(await row.getByRole('progressbar').count(), 0);
});

test.run();
