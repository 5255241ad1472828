/** CI smoke run of `npm run bench:csv` at a tiny size: it completes and reports every figure (timings are not asserted). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

test('npm run bench:csv completes and reports every format, the download and the targets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-bench-csv-'));
  try {
    const results = join(dir, 'RESULTS.md');
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(repo, 'bench/csv.ts')], {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, FLOCK_BENCH_CSV_ROWS: '300', FLOCK_BENCH_RESULTS: results },
    });
    assert.is(r.status, 0, r.stderr);
    const report = readFileSync(results, 'utf8');
    assert.match(report, '<!-- csv:begin -->');
    assert.match(report, '300 members');
    for (const row of ['floor: range scan', 'export: formatted', 'export: unformatted', 'export: key,external_ids', 'export: indexed', 'export: single column', 'download of the formatted export |', 'download of the formatted export, gzip', 'targets:']) {
      assert.ok(report.includes(`| ${row}`), `${row} missing from\n${report}`);
    }
    assert.match(report, /\| export: formatted[^|]*\| \d+\.\d\d s \| \d+ ns per row, CPU \d+\.\d\d s, \d+ MB; RSS \+\d+ MB/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
