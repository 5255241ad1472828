/**
 * Smoke run of `npm run bench:takeover -- --standby cold` at a few thousand profiles: it completes (the standby on an
 * empty data dir restored the killed holder's newest snapshot, replayed to its fence and caught up —
 * the bench checks those itself and fails otherwise), writes its section and reports every step.
 * Timings are not asserted.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { natsServerAvailable } from '../support/nats-server.ts';

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

if (natsServerAvailable('the takeover bench smoke test')) {
  test('npm run bench:takeover at 3,000 profiles completes, writes its section and reports every step', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flock-takeover-smoke-'));
    try {
      const results = join(dir, 'RESULTS.md');
      const json = join(dir, 'takeover.json');
      const args = ['--standby', 'cold', '--profiles', '3000', '--rate', '200', '--lease-ttl', '3000', '--snapshot-ms', '2000', '--kill-after', '1', '--results', results, '--json', json];
      const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'bench/cluster/takeover.ts'), ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (c: Buffer) => (output += c.toString()));
        child.stderr.on('data', (c: Buffer) => (output += c.toString()));
        child.once('exit', (code) => resolve({ code, output }));
      });
      assert.is(code, 0, output);
      const m = JSON.parse(readFileSync(json, 'utf8')) as Record<string, number>;
      assert.ok(m['profiles']! >= 3000, `${m['profiles']} profiles in the standby's store`);
      assert.ok(m['snapshotBytes']! > 0);
      for (const step of ['leaseWaitMs', 'restoreMs', 'openMs', 'replayMs', 'catchUpMs']) assert.ok(Number.isFinite(m[step]) && m[step]! >= 0, `${step}: ${m[step]}`);
      assert.ok(m['leaseWaitMs']! <= m['activeMs']! && m['activeMs']! <= m['totalMs']!);
      assert.ok(m['restoreMs']! > 0, 'a fresh machine downloads the snapshot');
      assert.ok(m['replayedRecords']! > 0, 'the holder was killed past its snapshot');
      const report = readFileSync(results, 'utf8');
      assert.match(report, '<!-- takeover:begin -->');
      for (const row of ['lease expiry wait', 'snapshot download', 'muted replay to the fence', 'catch-up with the live log', 'snapshot size', 'holder RSS', 'standby RSS']) assert.ok(report.includes(row), `${row} not in the report`);
      assert.match(report, /cat \/proc\/loadavg/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
