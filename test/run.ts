/** Runs every `*.test.ts` under test/ with uvu and closes with a plain `N passed, N failed` line. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// An optional argument narrows the run to test files whose path matches it.
const pattern = process.argv[2] === undefined ? '\\.test\\.ts$' : `^(?=.*(?:${process.argv[2]})).*\\.test\\.ts$`;
const child = spawn(
  process.execPath,
  ['--import', 'tsx', join(root, 'node_modules/uvu/bin.js'), 'test', pattern, '--color=false'],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FORCE_COLOR: '0' } },
);
let out = '';
child.stdout.on('data', (chunk: Buffer) => {
  const text = chunk.toString();
  out += text;
  process.stdout.write(text);
});
child.on('close', (code) => {
  const num = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(out)?.[1] ?? 0);
  const total = num('Total');
  const passed = num('Passed');
  const skipped = num('Skipped');
  const failed = Math.max(total - passed - skipped, code === 0 ? 0 : 1);
  process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  process.exit(code === 0 && failed === 0 ? 0 : 1);
});
