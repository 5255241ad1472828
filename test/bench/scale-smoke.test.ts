/** Smoke run of `npm run bench:scale` at the tiny size (2k profiles of state, a 5k-event backfill): it completes and reports every figure (timings are not asserted). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REQUIRED_SCALE_FIGURES, type Figure } from '../../bench/suite/figures.ts';

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

test('npm run bench:scale --size tiny completes, writes its report and reports every figure', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-scale-smoke-'));
  try {
    const results = join(dir, 'RESULTS.md');
    const json = join(dir, 'figures.json');
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'bench/suite/scale.ts'), '--size', 'tiny', '--results', results, '--json', json], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      child.once('exit', (code) => resolve({ code, output }));
    });
    assert.is(code, 0, output);
    const { figures, problems } = JSON.parse(readFileSync(json, 'utf8')) as { figures: Figure[]; problems: string[] };
    assert.equal(problems, []);
    const ids = new Set(figures.filter((f) => Number.isFinite(f.value)).map((f) => f.id));
    for (const id of Object.values(REQUIRED_SCALE_FIGURES).flat()) assert.ok(ids.has(id), `${id} missing or not a number`);
    // the restart really had the tiny size's profiles of state (counted in the store)
    assert.ok(figures.find((f) => f.id === 'scale.recovery.profiles')!.value >= 2000);
    const report = readFileSync(results, 'utf8');
    assert.match(report, '<!-- scale:begin -->');
    for (const f of figures) assert.ok(report.includes(f.measurement), `${f.id} not in the report`);
    assert.match(report, /Versions: flock .*lmdb/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
