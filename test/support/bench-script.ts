/** Test support: runs a bench script (`bench/<name>.ts`) at a small size with its section written to a temporary RESULTS.md, and returns that report. */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/** Runs `script` (relative to the repo) with `env` added; it must exit 0 and write its `section`. */
export function benchReport(script: string, env: Readonly<Record<string, string>>, section: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'flock-bench-script-'));
  try {
    const results = join(dir, 'RESULTS.md');
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(repo, script)], {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, ...env, FLOCK_BENCH_RESULTS: results },
    });
    assert.is(r.status, 0, r.stderr);
    const report = readFileSync(results, 'utf8');
    assert.match(report, `<!-- ${section}:begin -->`);
    return report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
