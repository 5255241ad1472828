/** End-to-end tests of `npm start` (api/main.ts) as a process: start, ingest, graceful SIGTERM, and the failures at start. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openEventLog } from '../../engine/log/open-event-log.ts';
import { natsServerAvailable, startNatsServer } from '../support/nats-server.ts';
import { startFlock as flock } from '../support/flock-process.ts';

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const root = mkdtempSync(join(tmpdir(), 'flock-main-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

test('start, warn about the development space, ingest, stop on SIGTERM, the event is durable', async () => {
  const dataDir = join(root, 'embedded');
  const service = flock(['--port', '0', '--data-dir', dataDir]);
  const warning = await service.waitFor('no FLOCK_SPACES_FILE: serving the development space "spa_default" with write key "dev_write_key"; do not expose this to a network');
  assert.is(warning['level'], 'warn');
  const listening = await service.waitFor('flock listening');
  assert.is(listening['log'], 'embedded');
  const url = String(listening['url']);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);

  const res = await fetch(`${url}/v1/track`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('dev_write_key:').toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ userId: 'u1', event: 'Signed Up', messageId: 'main-1' }),
  });
  assert.is(res.status, 200);
  assert.ok(res.headers.get('request-id'));

  service.child.kill('SIGTERM');
  assert.is(await service.exited, 0);
  assert.ok(service.lines.some((line) => line['message'] === 'shutting down' && line['signal'] === 'SIGTERM'));
  assert.is(service.lines.at(-1)?.['message'], 'stopped');
  // every stdout line is a JSON log line.
  assert.not.ok(service.lines.some((line) => line['message'] === '(not json)'));

  const log = await openEventLog({ dataDir });
  try {
    const events = await log.read(1, 10);
    assert.equal(events.map((e) => [e.event.messageId, e.event.space, e.event.event]), [['main-1', 'spa_default', 'Signed Up']]);
  } finally {
    await log.close();
  }
});

test('a spaces file replaces the development space', async () => {
  const file = join(root, 'spaces.json');
  writeFileSync(file, JSON.stringify({ spaces: [{ id: 'spa_prod', name: 'Prod', writeKeys: ['prod_key'] }] }));
  const service = flock(['--port', '0', '--data-dir', join(root, 'spaces')], { FLOCK_SPACES_FILE: file });
  const listening = await service.waitFor('flock listening');
  assert.equal(listening['spaces'], ['spa_prod']);
  assert.not.ok(service.lines.some((line) => line['level'] === 'warn'));
  const post = (key: string) =>
    fetch(`${String(listening['url'])}/v1/t`, { method: 'POST', body: JSON.stringify({ writeKey: key, userId: 'u', event: 'E' }) });
  assert.is((await post('prod_key')).status, 200);
  assert.is((await post('dev_write_key')).status, 401);
  service.child.kill('SIGINT');
  assert.is(await service.exited, 0);
});

test('invalid configuration: exit 2 with one JSON line per problem', async () => {
  const service = flock(['--port', 'http', '--partitions', '0'], { FLOCK_DATA_DIR: join(root, 'never') });
  assert.is(await service.exited, 2);
  const problems = service.lines.filter((line) => line['message'] === 'invalid configuration');
  assert.equal(problems.map((line) => line['source']).sort(), ['--partitions', '--port']);
});

test('a busy port: exit 1 with the reason logged', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const address = blocker.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  try {
    const service = flock(['--port', String(port), '--data-dir', join(root, 'busy')]);
    assert.is(await service.exited, 1);
    const failure = service.lines.find((line) => line['message'] === 'flock failed to start');
    assert.match(JSON.stringify(failure), /EADDRINUSE/);
  } finally {
    blocker.close();
  }
});

test('--help prints the flags and variables and exits 0', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'api/main.ts'), '--help'], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.is(code, 0);
  assert.match(out, /--nats-url\s+FLOCK_NATS_URL/);
});

if (natsServerAvailable('npm start over JetStream')) {
  test('FLOCK_NATS_URL: serves over JetStream', async () => {
    const nats = await startNatsServer();
    try {
      const service = flock(['--port', '0', '--data-dir', join(root, 'js')], { FLOCK_NATS_URL: nats.url });
      const listening = await service.waitFor('flock listening');
      assert.is(listening['log'], 'jetstream');
      const res = await fetch(`${String(listening['url'])}/v1/b`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ writeKey: 'dev_write_key', batch: [{ type: 'identify', userId: 'u', messageId: 'js-1' }] }),
      });
      assert.is(res.status, 200);
      service.child.kill('SIGTERM');
      assert.is(await service.exited, 0);
      const log = await openEventLog({ dataDir: join(root, 'js'), natsUrl: nats.url });
      try {
        assert.equal((await log.read(1, 10)).map((e) => e.event.messageId), ['js-1']);
      } finally {
        await log.close();
      }
    } finally {
      await nats.dispose();
    }
  });
}

test.run();
