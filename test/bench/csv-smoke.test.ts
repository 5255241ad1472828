/** CI smoke run of `npm run bench:csv` at a tiny size: it completes and reports every figure (timings are not asserted). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { benchReport } from '../support/bench-script.ts';

test('npm run bench:csv completes and reports every format, the download and the targets', () => {
  const report = benchReport('bench/csv.ts', { FLOCK_BENCH_CSV_ROWS: '300' }, 'csv');
  assert.match(report, '300 members');
  for (const row of ['floor: range scan', 'export: formatted', 'export: unformatted', 'export: key,external_ids', 'export: indexed', 'export: single column', 'download of the formatted export |', 'download of the formatted export, gzip', 'targets:']) {
    assert.ok(report.includes(`| ${row}`), `${row} missing from\n${report}`);
  }
  assert.match(report, /\| export: formatted[^|]*\| \d+\.\d\d s \| \d+ ns per row, CPU \d+\.\d\d s, \d+ MB; RSS \+\d+ MB/);
});

test.run();
