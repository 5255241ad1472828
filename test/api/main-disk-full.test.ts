/** `npm start` with less free disk than its reserve: ingest answers 503 storage_full with Retry-After, /readyz says disk_full, the process stays up. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFlock } from '../support/flock-process.ts';

const root = mkdtempSync(join(tmpdir(), 'flock-main-disk-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

test('a reserve larger than the disk: 503 storage_full, not ready with reason disk_full, still running', async () => {
  // (no disk has an exabyte free: the data dir's filesystem is below this reserve)
  const flock = startFlock(['--port', '0', '--data-dir', join(root, 'data'), '--min-free-space', '1000000TB']);
  try {
    const url = String((await flock.waitFor('flock listening'))['url']);
    const res = await fetch(`${url}/v1/track`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('dev_write_key:').toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'alice', event: 'Product Viewed', messageId: 'm-1' }),
    });
    assert.is(res.status, 503);
    assert.is(res.headers.get('retry-after'), '10');
    assert.is(((await res.json()) as { error: { code: string } }).error.code, 'storage_full');
    const ready = await fetch(`${url}/readyz`);
    assert.is(ready.status, 503);
    assert.is(((await ready.json()) as { details: { reason?: string } }).details.reason, 'disk_full');
    assert.is(flock.child.exitCode, null);
    flock.child.kill('SIGTERM');
    assert.is(await flock.exited, 0);
  } finally {
    if (flock.child.exitCode === null) flock.child.kill('SIGKILL');
  }
});

test.run();
