/**
 * Ctrl-C: SIGINT to the process group of `npm start` (npm and the service both get it, and npm
 * forwards its own to the service) stops cleanly every time: exit code 0, and the final checkpoint
 * holds the events accepted just before. A repeat long after the first still exits at once.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signalEcho } from '../../api/signal-echo.ts';
import { engineStorePath } from '../../engine/profiles/store-handle.ts';
import { openEventLog } from '../../engine/log/open-event-log.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import { startFlock } from '../support/flock-process.ts';

const root = mkdtempSync(join(tmpdir(), 'flock-signals-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const WRITE = `Basic ${Buffer.from('dev_write_key:').toString('base64')}`;

test('a signal: the first stops, a repeat within the echo window is the same stop, a later one forces', () => {
  const clock = { now: 0 };
  const decide = signalEcho(2000, () => clock.now);
  assert.is(decide(), 'stop');
  clock.now = 5;
  assert.is(decide(), 'echo');
  clock.now = 1999;
  assert.is(decide(), 'echo');
  clock.now = 2000;
  assert.is(decide(), 'force');
});

test('SIGINT to the npm start process group, 5 times in a row: exit code 0 and a final checkpoint with the last events', async () => {
  const dataDir = join(root, 'data');
  for (let run = 1; run <= 5; run++) {
    const flock = startFlock(['--port', '0', '--data-dir', dataDir], {}, { npm: true });
    const url = String((await flock.waitFor('flock listening'))['url']);
    await flock.waitFor('engine ready');
    const now = new Date().toISOString();
    const res = await fetch(`${url}/v1/batch`, {
      method: 'POST',
      headers: { authorization: WRITE, 'content-type': 'application/json' },
      body: JSON.stringify({
        batch: [
          { type: 'identify', userId: `u${run}`, traits: { run }, timestamp: now },
          { type: 'track', userId: `u${run}`, event: 'Stopped', timestamp: now },
        ],
      }),
    });
    assert.is(res.status, 200);
    flock.signalGroup('SIGINT');
    const code = await flock.exited;
    const messages = flock.lines.map((l) => l['message']);
    assert.is(code, 0, `run ${run}: ${JSON.stringify(flock.lines)}`);
    assert.ok(messages.includes('stopped'), `run ${run}: ${JSON.stringify(messages)}`);
    assert.not.ok(messages.includes('second signal: exiting without waiting'), `run ${run}`);
    const log = await openEventLog({ dataDir });
    const last = await log.lastSeq();
    await log.close();
    assert.is(last, 2 * run);
    const store = CheckpointStore.open(engineStorePath(dataDir));
    try {
      assert.is(store.meta().position, last, `run ${run}: the final checkpoint holds the last events`);
    } finally {
      await store.close();
    }
  }
});

test.run();
