/** `npm start` with the engine: events sent over HTTP become audience changes on the change log; bad definitions stop the start. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHANGE_LOG, decodeChangeRecord, openAppendLog, type Change } from '../../engine/index.ts';
import { startFlock, writeWalkthroughDefinitions } from '../support/flock-process.ts';

const root = mkdtempSync(join(tmpdir(), 'flock-main-engine-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const start = (args: string[]) => startFlock(args);

async function changes(dataDir: string): Promise<Change[]> {
  const log = await openAppendLog({ dataDir, log: CHANGE_LOG });
  try {
    return (await log.read(1, 1e6)).flatMap((e) => decodeChangeRecord(e.data));
  } finally {
    await log.close();
  }
}

test('HTTP ingest → engine thread → change log, then a clean stop with a final checkpoint', async () => {
  const dataDir = join(root, 'data');
  const defs = join(root, 'defs.json');
  writeWalkthroughDefinitions(defs);
  const flock = start(['--port', '0', '--data-dir', dataDir, '--definitions-file', defs]);
  assert.is((await flock.waitFor('engine ready'))['definitions'], 2);
  const url = String((await flock.waitFor('flock listening'))['url']);
  const now = new Date().toISOString();
  const res = await fetch(`${url}/v1/batch`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('dev_write_key:').toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      batch: [
        { type: 'track', userId: 'alice', event: 'Product Viewed', properties: { category: 'shoes' }, timestamp: now },
        { type: 'track', userId: 'alice', event: 'Order Completed', properties: { total: 42.5 }, timestamp: now },
        { type: 'track', userId: 'bob', event: 'Product Viewed', properties: { category: 'hats' }, timestamp: now },
      ],
    }),
  });
  assert.is(res.status, 200);
  // changes are published within a checkpoint interval of the events
  let seen: Change[] = [];
  for (let i = 0; i < 200 && seen.length < 2; i++) {
    await new Promise((r) => setTimeout(r, 50));
    seen = await changes(dataDir);
  }
  // Identity resolution: alice's events belong to one canonical profile (use_…).
  const alice = seen[0]!.profileId;
  assert.match(alice, /^use_[0-9A-Za-z]{27}$/);
  const summary = seen.map((c) => (c.kind === 'trait' ? `${c.profileId} ${c.traitKey}=${String(c.value)}` : `${c.profileId} ${c.kind} ${c.audienceKey}`)).sort();
  assert.equal(summary, [`${alice} enter shoe_viewers`, `${alice} revenue_30d=42.5`]);
  flock.child.kill('SIGTERM');
  assert.is(await flock.exited, 0);
  assert.is(flock.lines.at(-1)?.['message'], 'stopped');
});

test('a definitions file with a syntax error stops the start with its line and column', async () => {
  const defs = join(root, 'bad.json');
  writeFileSync(defs, JSON.stringify([{ space: 'spa_default', key: 'bad', kind: 'audience', query: "event('A').count( >= 1" }]));
  const flock = start(['--port', '0', '--data-dir', join(root, 'bad'), '--definitions-file', defs]);
  const code = await flock.exited;
  assert.is(code, 1);
  const failed = flock.lines.find((l) => l['message'] === 'flock failed to start');
  assert.ok(failed, JSON.stringify(flock.lines));
  assert.match(JSON.stringify(failed), /spa_default\/bad: syntax_error at 1:/);
});

test.run();
