/**
 * `npm start` on JetStream rides out nats-server outages (SIGKILL and SIGTERM) longer than every
 * timeout: the process stays up, ingest answers 503, /readyz says the log is unreachable, /metrics
 * shows it, and after the restart every accepted event is applied and every change comes out once —
 * including the window exits that fell due while the server was down.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHANGE_LOG, decodeChangeRecord, openAppendLog, type Change } from '../../engine/index.ts';
import { startFlock, type Flock } from '../support/flock-process.ts';
import { natsServerAvailable, startNatsServer, type NatsServer } from '../support/nats-server.ts';
import { sleep, until } from '../support/until.ts';

const root = mkdtempSync(join(tmpdir(), 'flock-nats-outage-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const AUTH = `Basic ${Buffer.from('dev_write_key:').toString('base64')}`;
/** audience members leave 3 s after their view: exits fall due while nats-server is down. */
const WINDOW_S = 3;
/** longer than every timeout on the engine's path (NATS 1 s here, the tail's 5 s pull expiry) */
const OUTAGE_MS = 7_000;

async function changeLog(nats: NatsServer): Promise<Change[]> {
  const log = await openAppendLog({ dataDir: root, natsUrl: nats.url, log: CHANGE_LOG });
  try {
    return (await log.read(1, 1e6)).flatMap((e) => decodeChangeRecord(e.data));
  } finally {
    await log.close();
  }
}

async function send(url: string, users: readonly string[]): Promise<Response> {
  return fetch(`${url}/v1/batch`, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ batch: users.map((userId) => ({ type: 'track', userId, event: 'Product Viewed', messageId: `view-${userId}`, timestamp: new Date().toISOString() })) }),
  });
}

async function metric(url: string, name: string): Promise<number | undefined> {
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  assert.is(res.status, 200, text);
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** Waits out one outage: the server down (`how`) for OUTAGE_MS, the service checked meanwhile, then restarted. */
async function outage(nats: NatsServer, flock: Flock, url: string, how: 'kill' | 'stop'): Promise<void> {
  await (how === 'kill' ? nats.kill() : nats.stop());
  await sleep(OUTAGE_MS);
  assert.is(flock.child.exitCode, null, `the process is still running: ${JSON.stringify(flock.lines.slice(-3))}`);
  const r = await fetch(`${url}/readyz`);
  assert.is(r.status, 503, JSON.stringify(flock.lines.slice(-4)));
  assert.is(((await r.json()) as { details: { reason?: string } }).details.reason, 'log_unreachable');
  assert.is(await metric(url, 'flock_log_reachable'), 0);
  assert.is(await metric(url, 'flock_engine_paused{reason="log_unreachable"}'), 1);
  assert.ok(((await metric(url, 'flock_engine_retries_total{reason="log_unreachable"}')) ?? 0) > 0);
  assert.is((await send(url, ['during-outage'])).status, 503);
  assert.ok(flock.lines.some((l) => l['message'] === 'engine paused: retrying until it can go on' && l['reason'] === 'log_unreachable'));
  await nats.restart();
  await until('/readyz after the restart', async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), 60_000);
}

if (natsServerAvailable('the NATS outage test')) {
  test('the engine waits out nats-server kill -9 and TERM, then applies and publishes everything exactly once', async () => {
    const nats = await startNatsServer();
    const defs = join(root, 'defs.json');
    writeFileSync(defs, JSON.stringify({ definitions: [{ space: 'spa_default', key: 'recent_viewers', kind: 'audience', query: `event('Product Viewed').within(${WINDOW_S} seconds).count() >= 1` }] }));
    const flock = startFlock(['--port', '0', '--data-dir', join(root, 'data'), '--definitions-file', defs, '--nats-url', nats.url, '--nats-timeout', '1s']);
    try {
      const url = String((await flock.waitFor('flock listening'))['url']);
      await until('readiness', async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined));
      const waves = [
        { users: ['a1', 'a2', 'a3'], how: 'kill' as const },
        { users: ['b1', 'b2', 'b3'], how: 'stop' as const },
      ];
      let accepted = 0;
      for (const wave of waves) {
        // as a Segment client does: a 503 (the server just restarted) is retried
        await until('the events accepted', async () => ((await send(url, wave.users)).status === 200 ? true : undefined));
        accepted += wave.users.length;
        // the enters are out; the exits fall due during the outage
        await until('the enters', async () => {
          const enters = (await changeLog(nats)).filter((c) => c.kind === 'enter' && wave.users.length > 0);
          return enters.length >= accepted ? true : undefined;
        });
        await outage(nats, flock, url, wave.how);
      }
      const all = await until('every exit', async () => {
        const changes = await changeLog(nats);
        return changes.filter((c) => c.kind === 'exit').length >= accepted ? changes : undefined;
      });
      await sleep(500); // (nothing more may come)
      const final = await changeLog(nats);
      const ids = final.map((c) => c.id);
      assert.is(new Set(ids).size, ids.length, `no change published twice: ${ids.join(' ')}`);
      assert.is(final.filter((c) => c.kind === 'enter').length, accepted);
      assert.is(final.filter((c) => c.kind === 'exit').length, accepted);
      assert.is(all.length, 2 * accepted);
      assert.is(await metric(url, 'flock_engine_events_in_total'), accepted);
      assert.is(await metric(url, 'flock_log_reachable'), 1);
      // an idle engine has nothing to publish: the connection itself tells the outage
      await nats.kill();
      await until('/readyz to report an idle outage', async () => {
        const r = await fetch(`${url}/readyz`);
        return r.status === 503 && ((await r.json()) as { details: { reason?: string } }).details.reason === 'log_unreachable' ? true : undefined;
      }, 10_000);
      assert.is(await metric(url, 'flock_log_reachable'), 0);
      await nats.restart();
      await until('/readyz after the idle outage', async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), 60_000);
      assert.is(flock.child.exitCode, null);
      flock.child.kill('SIGTERM');
      assert.is(await flock.exited, 0);
    } finally {
      if (flock.child.exitCode === null) flock.child.kill('SIGKILL');
      await nats.dispose();
    }
  });
}

test.run();
