/** `flock destinations …` against a served app over real HTTP: create, list, get, connect, status, update, dead letters, replay, resume, delete, and a refused create's exit code. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { run as runCli, type CliIo } from '../../../api/cli/flock.ts';
import { startServer, type RunningServer } from '../../../api/serve.ts';
import { SECRETS, serviceApp, type ServiceApp } from '../../support/service-app.ts';

let s: ServiceApp;
let server: RunningServer;
test.before(async () => {
  s = serviceApp({ clock: Date.now, withDestinations: true });
  server = await startServer(s.app, { host: '127.0.0.1', port: 0 });
});
test.after(async () => {
  await server.close(100);
  await s.close();
});

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { out: (t) => (stdout += t), err: (t) => (stderr += t), tty: false };
  const code = await runCli(['--url', server.url, '--space', 'spa_a', '--token', SECRETS.a.management, ...args], io);
  return { code, stdout, stderr };
}

test('the destinations commands', async () => {
  const audience = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'buyers', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' } })).id;
  const refused = await run('destinations', 'create', '--name', 'x', '--kind', 'webhook');
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /input-validation \(settings\.url\)/);

  const created = await run('--json', 'destinations', 'create', '--name', 'Hook', '--kind', 'webhook', '--endpoint', 'http://127.0.0.1:9/h', '--secret', 'sssh', '--preset', 'intercom', '--header', 'X-Key=abc');
  assert.is(created.code, 0, created.stderr);
  const d = JSON.parse(created.stdout);
  assert.equal([d.limits.requestsPerSecond, d.hasSecret, d.settings.headers], [8, true, { 'X-Key': '(hidden)' }]);
  assert.not.ok(created.stdout.includes('sssh'));

  assert.match((await run('destinations', 'list')).stdout, new RegExp(`^${d.id}  webhook  Hook  enabled  http://127.0.0.1:9/h\\n$`));
  const connected = await run('destinations', 'connect', d.id, '--definition', audience, '--track', '--identifiers', 'user_id:all,email:last', '--enrich', 'plan');
  assert.is(connected.code, 0, connected.stderr);
  assert.match(connected.stdout, /^connected aud_\w+ to dst_\w+ \(dcn_\w+\)\n$/);
  const c = s.destinations!.connections(d.id)[0]!;
  assert.equal([c.track, c.identifiers, c.enrichTraits], [true, [{ type: 'user_id', strategy: 'all' }, { type: 'email', strategy: 'last' }], ['plan']]);
  const got = await run('destinations', 'get', d.id);
  assert.match(got.stdout, /limits: .*"requestsPerSecond":8.*\(preset intercom\)/);
  assert.match(got.stdout, /secret: set/);
  assert.match((await run('destinations', 'status', d.id)).stdout, new RegExp(`^${d.id}  backfilling  lag -  delivered 0  retrying 0  failed 0  dead letters 0\\n$`));
  assert.match((await run('destinations', 'update', d.id, '--disable', '--rps', '3')).stdout, /disabled/);
  assert.is(s.destinations!.destination('spa_a', d.id)!.limits.requestsPerSecond, 3);
  assert.match((await run('destinations', 'dead-letters', d.id)).stdout, /^0 dead letters\n$/);
  assert.match((await run('destinations', 'replay', d.id)).stdout, /^queued 0 dead letters for replay\n$/);
  assert.match((await run('destinations', 'resume', d.id)).stdout, /^resumed /);
  assert.is((await run('destinations', 'disconnect', d.id, c.id)).code, 0);
  assert.is((await run('destinations', 'delete', d.id)).code, 0);
  assert.is((await run('destinations', 'get', d.id)).code, 1);
});

test.run();
