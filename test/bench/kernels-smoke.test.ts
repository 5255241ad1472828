/** CI smoke run of `npm run bench:kernels` with short tasks: it completes and reports every kernel (timings are not asserted). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

test('npm run bench:kernels completes and reports every kernel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-kernels-'));
  try {
    const results = join(dir, 'RESULTS.md');
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'bench/kernels.ts')], {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, FLOCK_BENCH_KERNEL_MS: '10', FLOCK_BENCH_RESULTS: results },
    });
    assert.is(r.status, 0, r.stderr);
    const report = readFileSync(results, 'utf8');
    assert.match(report, '<!-- kernels:begin -->');
    for (const kernel of ['window aggregate: count', 'window aggregate: unique', 'window aggregate: count, session', 'instance store', 'timer heap', 'change encoding: encode', 'state encoding: msgpack → profile']) {
      assert.match(report, new RegExp(`\\| ${kernel}[^|]*\\| \\d+ ns per (event|profile) \\|`), kernel);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
