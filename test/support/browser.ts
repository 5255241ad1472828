/** Test support: Debian's chromium driven by playwright-core (no browser download) — or, when it is missing, why the browser tests do not run (a failure in CI). */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Whether the browser tests can run here; without chromium they are skipped locally and fail in CI. */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env['CI'] !== undefined && process.env['CI'] !== '') throw new Error(`${CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium)`);
  process.stdout.write(`\n[notice] ${CHROMIUM} is missing: the dashboard browser tests are skipped (apt-get install -y chromium to run them)\n`);
  return false;
}

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** A headless chromium with a fresh profile directory, no network beyond loopback, no background traffic. */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'flock-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 760 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
