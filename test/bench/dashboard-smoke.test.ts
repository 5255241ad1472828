/** CI smoke run of `npm run bench:dashboard` at a tiny size: it completes and reports the explorer, the overview and the live figures (timings are not asserted). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { benchReport } from '../support/bench-script.ts';
import { browserAvailable } from '../support/browser.ts';

const available = browserAvailable();
(available ? test : test.skip)('npm run bench:dashboard completes and reports every figure', () => {
  const report = benchReport('bench/dashboard.ts', { FLOCK_BENCH_DASHBOARD_ROWS: '300', FLOCK_BENCH_DASHBOARD_DEFINITIONS: '4' }, 'dashboard');
  for (const row of ['explorer: the definition (its size counted) + the first members page of 300', 'explorer: first members page of 300', 'explorer: each next page', 'overview of 5 definitions', 'live: an event sent']) {
    assert.ok(report.includes(`| ${row}`), `${row} missing from\n${report}`);
  }
  assert.match(report, /\| live: an event sent[^|]*\| \d+ ms \|/);
});

test.run();
