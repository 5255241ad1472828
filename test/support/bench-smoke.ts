/** Runs a bench/suite runner at its tiny size and checks only that it completes and reports every figure (timings are not asserted). */
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure } from '../../bench/suite/figures.ts';

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/**
 * `script` (relative to the repo) with `--size tiny`: exits 0 with no problem, every figure of
 * `required` is a number, and the report's `section` lists every figure and the `versions` line.
 * Returns the figures for further checks.
 */
export async function smokeRun(script: string, required: Readonly<Record<string, readonly string[]>>, section: string, versions: RegExp): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'flock-bench-smoke-'));
  try {
    const results = join(dir, 'RESULTS.md');
    const json = join(dir, 'figures.json');
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(repo, script), '--size', 'tiny', '--results', results, '--json', json], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      child.once('exit', (code) => resolve({ code, output }));
    });
    assert.is(code, 0, output);
    const { figures, problems } = JSON.parse(readFileSync(json, 'utf8')) as { figures: Figure[]; problems: string[] };
    assert.equal(problems, []);
    const ids = new Set(figures.filter((f) => Number.isFinite(f.value)).map((f) => f.id));
    for (const id of Object.values(required).flat()) assert.ok(ids.has(id), `${id} missing or not a number`);
    const report = readFileSync(results, 'utf8');
    assert.match(report, `<!-- ${section}:begin -->`);
    for (const f of figures) assert.ok(report.includes(f.measurement), `${f.id} not in the report`);
    assert.match(report, versions);
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
