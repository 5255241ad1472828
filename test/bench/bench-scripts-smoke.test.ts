/** CI smoke runs of `npm run bench:kernels`, `npm run bench:profile` and `npm run bench:destinations` at small sizes: they complete and report every row (timings are not asserted). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { benchReport } from '../support/bench-script.ts';

test('npm run bench:kernels completes and reports every kernel', () => {
  const report = benchReport('bench/kernels.ts', { FLOCK_BENCH_KERNEL_MS: '10' }, 'kernels');
  for (const kernel of ['window aggregate: count', 'window aggregate: unique', 'window aggregate: count, session', 'instance store', 'timer heap', 'change encoding: encode', 'state encoding: msgpack → profile']) {
    assert.match(report, new RegExp(`\\| ${kernel}[^|]*\\| \\d+ ns per (event|profile) \\|`), kernel);
  }
});

test('npm run bench:profile completes and reports the rate, its floor and the shares of time', () => {
  const report = benchReport('bench/profile.ts', { FLOCK_BENCH_EVENTS: '3000', FLOCK_BENCH_PROFILES: '300', FLOCK_CHECKPOINT_WRITER: 'thread' }, 'profile');
  assert.match(report, /\| embedded log → change log, realistic set \(events\/s\) \| [\d,]+ \| [\d.]+ % of raw consume \+ decode/);
  assert.match(report, /\| busy \(not idle\) CPU time: engine thread \/ writer thread \| [\d.]+ s \/ [\d.]+ s \|/);
  for (const bucket of ['runtime evaluation', 'GC']) assert.match(report, new RegExp(`\\| engine thread share: ${bucket}[^|]*\\| [\\d.]+ % \\|`), bucket);
  // the checkpoint's writes are the writer thread's
  for (const bucket of ['checkpoint store', 'history and event index']) assert.match(report, new RegExp(`\\| writer thread share: ${bucket}[^|]*\\| [\\d.]+ % \\|`), bucket);
});

test('npm run bench:destinations completes and reports every row', () => {
  const report = benchReport('bench/destinations.ts', { FLOCK_BENCH_DEST_EVENTS: '3000', FLOCK_BENCH_DEST_LIST: '2000', FLOCK_BENCH_DEST_LATENCY_MS: '300', FLOCK_BENCH_DEST_RATE_REQUESTS: '20' }, 'destinations');
  assert.match(report, /\| webhook: delivered events\/s \(backlog, 500 per request, 4 in flight\) \| [\d,]+ \| 3,000 events in/);
  assert.match(report, /\| webhook: change appended → received, p50 \/ p99 \(ms\) at half load \| \d+ \/ \d+ \|/);
  assert.match(report, /\| rate limit 100 requests\/s: rate the receiver saw \| [\d.]+ \| \d+ requests/);
  assert.match(report, /\| list: first sync of a 2,000-member audience \(s\) \| [\d.]+ \| 2,000 SHA-256 emails in 1 requests/);
});

test.run();
