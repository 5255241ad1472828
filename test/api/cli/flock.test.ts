/**
 * The `flock` CLI against a served app: create, list, inspect, wait with progress, preview, errors
 * and exit codes — in this process (`run()` with captured output, over real HTTP), and as the `bin`
 * process for the command itself and `flock start`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run as runCli, type CliIo } from '../../../api/cli/flock.ts';
import { startServer, type RunningServer } from '../../../api/serve.ts';
import { parse } from 'csv-parse/sync';
import { event, SECRETS, serviceApp, type ServiceApp } from '../../support/service-app.ts';

const repo = dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url)))));
let s: ServiceApp;
let server: RunningServer;

test.before(async () => {
  s = serviceApp({ clock: Date.now });
  server = await startServer(s.app, { host: '127.0.0.1', port: 0 });
});
test.after(async () => {
  await server.close(100);
  await s.close();
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function flock(args: string[], env: Record<string, string> = {}): { done: Promise<Run>; kill: (signal: NodeJS.Signals) => void; stdout: () => string } {
  const child = spawn(process.execPath, [join(repo, 'bin/flock.mjs'), ...args], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? '', FLOCK_URL: server.url, FLOCK_SPACE: 'spa_a', FLOCK_MANAGEMENT_TOKEN: SECRETS.a.management, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Run>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return { done, kill: (signal) => child.kill(signal), stdout: () => stdout };
}
/** The CLI in this process, over HTTP to the test server, with its output captured. */
async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { out: (t) => (stdout += t), err: (t) => (stderr += t), tty: false };
  const conn = ['--url', env['FLOCK_URL'] ?? server.url, '--space', 'spa_a', '--token', env['FLOCK_MANAGEMENT_TOKEN'] ?? SECRETS.a.management];
  const code = await runCli([...conn, ...args], io);
  return { code, stdout, stderr };
}
const background = (args: string[]) => ({ done: run(args) });

test('create, list, inspect an audience; create a computed trait', async () => {
  const [created, trait] = await Promise.all([
    run(['audiences', 'create', '--name', 'Shoe buyers', '--query', "event('Order Completed').where(property('category') = 'shoes').count() >= 1", '--historical']),
    run(['traits', 'create', '--name', 'Revenue', '--key', 'revenue', '--query', "event('Order Completed').sum(property('total'))", '--batch', '1h']),
  ]);
  assert.is(created.code, 0, created.stderr);
  assert.match(created.stdout, /^created aud_\w+ {2}shoe_buyers {2}Preparing {2}v1 {2}size -/);
  assert.is(trait.code, 0, trait.stderr);
  const list = await run(['audiences', 'list']);
  assert.is(list.code, 0);
  assert.match(list.stdout, /shoe_buyers {2}Preparing/);
  const id = /aud_\w+/.exec(list.stdout)![0];
  const [inspected, asJson] = await Promise.all([run(['audiences', 'inspect', id]), run(['--json', 'traits', 'list'])]);
  assert.match(inspected.stdout, /options: \{"includeHistoricalData":true,"includeAnonymousUsers":false\}/);
  assert.match(inspected.stdout, /v1 Preparing: event\('Order Completed'\)/);
  const traits = JSON.parse(asJson.stdout) as Array<{ key: string; computeCadence: unknown }>;
  assert.equal(traits.map((t) => [t.key, t.computeCadence]), [['revenue', { type: 'BATCH', interval: '1h' }]]);
});

test('a bad query: exit 1 with each diagnostic under its column', async () => {
  const bad = await run(['audiences', 'create', '--name', 'Bad', '--query', "event('A').count( >= 1"]);
  assert.is(bad.code, 1);
  assert.equal(bad.stderr.split('\n').slice(0, 4), ['HTTP 422', "query:1:19: syntax_error: expected an expression but found '>='", "  event('A').count( >= 1", `  ${' '.repeat(18)}^`]);
});

test('wait: a progress bar while the backfill runs, exit 0 once Live; exit 1 when Failed; exit 3 at the timeout', async () => {
  const a = await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'waited', name: 'W', definition: { query: "event('A').count() >= 1", type: 'USERS' }, options: { includeHistoricalData: true } });
  const waiting = background(['audiences', 'wait', a.id, '--interval', '0.05']);
  await s.registry.reportStatus(a.id, 1, { status: 'Backfilling', progress: 0.3 });
  await new Promise((r) => setTimeout(r, 300));
  await s.registry.reportStatus(a.id, 1, { status: 'Backfilling', progress: 0.7 });
  await new Promise((r) => setTimeout(r, 300));
  await s.registry.reportStatus(a.id, 1, { status: 'Live' });
  const done = await waiting.done;
  assert.is(done.code, 0, done.stderr);
  assert.match(done.stdout, /waited {2}Live {2}v1 \(live v1\)/);
  // without a terminal, one line per status and percentage
  assert.match(done.stdout, /^waited Backfilling 30%\nwaited Backfilling 70%\nwaited Live 100%\n/m);
  const f = await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'failing', name: 'F', definition: { query: "event('A').count() >= 2", type: 'USERS' } });
  await s.registry.reportStatus(f.id, 1, { status: 'Failed', failureReason: 'unsupported: account-level definitions' });
  const failed = await run(['audiences', 'wait', f.id]);
  assert.is(failed.code, 1);
  assert.match(failed.stdout, /v1 Failed \(unsupported: account-level definitions\)/);
  const p = await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'pending', name: 'P', definition: { query: "event('A').count() >= 3", type: 'USERS' } });
  const timeout = await run(['audiences', 'wait', p.id, '--interval', '0.05', '--timeout', '0.2']);
  assert.is(timeout.code, 3);
  assert.match(timeout.stdout, /still Preparing after 0 s/);
});

test('preview: diagnostics at once; the result once the engine reports it; exit 3 while it runs', async () => {
  const runningChild = background(['audiences', 'preview', '--query', "event('A').count() >= 1", '--timeout', '0.3']);
  const badChild = background(['traits', 'preview', '--query', "event('A').count() >= 1"]);
  const child = background(['traits', 'preview', '--query', "event('A').count()", '--timeout', '30']);
  let pending: Array<{ id: string }> = [];
  for (let i = 0; i < 600 && pending.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    pending = s.registry.pendingPreviews().filter((x) => x.kind === 'trait');
  }
  await s.registry.reportPreview(pending[0]!.id, { status: 'COMPLETED', size: 2, results: [{ profileId: 'use_1', value: 3 }, { profileId: 'use_2', value: 1 }] });
  const done = await child.done;
  assert.is(done.code, 0, done.stderr);
  assert.match(done.stdout, /: 2 profiles\n {2}use_1 {2}3\n {2}use_2 {2}1/);
  const running = await runningChild.done;
  assert.is(running.code, 3);
  assert.match(running.stdout, /still running/);
  const a = await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'to_edit', name: 'E', definition: { query: "event('A').count() >= 1", type: 'USERS' } });
  const edit = background(['audiences', 'preview', '--query', "event('A').count() >= 2", '--compare-to', a.id, '--timeout', '30']);
  let editPreview: Array<{ id: string }> = [];
  for (let i = 0; i < 600 && editPreview.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    editPreview = s.registry.pendingPreviews().filter((x) => x.compareTo === a.id);
  }
  await s.registry.reportPreview(editPreview[0]!.id, { status: 'COMPLETED', size: 4, results: [], difference: { enter: 1, exit: 3, changed: 0 } });
  assert.match((await edit.done).stdout, new RegExp(`against ${a.id}: 1 would enter, 3 would exit\\n`));
  const bad = await badChild.done;
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /not_scalar/);
});

test('export: the CSV on stdout (in process and from the bin), progress on stderr; an unknown id exits 1', async () => {
  const a = await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'exported', name: 'X', definition: { query: "event('Bought').count() >= 1", type: 'USERS' } });
  await s.runEngine([event({ type: 'track', event: 'Bought', userId: 'ann' }), event({ type: 'track', event: 'Bought', userId: '=bob' }), event({ type: 'track', event: 'Other', userId: 'cid' })]);
  const done = await run(['audiences', 'export', a.id, '--format', 'indexed']);
  assert.is(done.code, 0, done.stderr);
  assert.equal(parse(done.stdout), [
    ['key', 'external_ids', 'user_id'],
    ['user_id:=bob', '{"user_id":["=bob"]}', "'=bob"],
    ['user_id:ann', '{"user_id":["ann"]}', 'ann'],
  ]);
  assert.match(done.stderr, /export exp_\w+ 100% \(2 members\)/);
  assert.match(done.stderr, /exported 2 members/);
  const bin = await flock(['audiences', 'export', a.id, '--format', 'identifier', '--identifier', 'user_id', '--raw']).done;
  assert.is(bin.code, 0, bin.stderr);
  assert.is(bin.stdout, "user_id\r\n'=bob\r\nann\r\n");
  const missing = await run(['audiences', 'export', 'aud_missing']);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /HTTP 404/);
  const usage = await run(['traits', 'export', a.id, '--format', 'columns']);
  assert.is(usage.code, 2);
});

test('errors: a wrong token, an unknown id, an unreachable service exit 1; usage errors exit 2', async () => {
  const [token, missing, down, unknown, noName, noQuery, negative, help] = await Promise.all([
    run(['audiences', 'list'], { FLOCK_MANAGEMENT_TOKEN: SECRETS.b.management }),
    run(['audiences', 'get', 'aud_missing']),
    run(['audiences', 'list'], { FLOCK_URL: 'http://127.0.0.1:9' }),
    run(['audiences', 'frobnicate']),
    run(['audiences', 'create', '--query', 'x']),
    run(['audiences', 'create', '--name', 'x']),
    run(['audiences', 'wait', 'aud_x', '--interval', '-1']),
    run(['--help']),
  ]);
  assert.is(token.code, 1);
  assert.match(token.stderr, /HTTP 401\nunauthorized: the token is not a management token of space "spa_a"/);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /HTTP 404/);
  assert.is(down.code, 1);
  assert.match(down.stderr, /cannot reach Flock at http:\/\/127\.0\.0\.1:9/);
  assert.is(unknown.code, 2);
  assert.is(noName.code, 2, '--name is required');
  assert.is(noQuery.code, 2, 'a query is required');
  assert.is(negative.code, 2);
  assert.is(help.code, 0);
});

test('the bin: a command over HTTP with its connection from the environment, and exit codes', async () => {
  const [list, usage] = await Promise.all([flock(['audiences', 'list']).done, flock(['audiences', 'frobnicate']).done]);
  assert.is(list.code, 0, list.stderr);
  assert.match(list.stdout, /shoe_buyers/);
  assert.is(usage.code, 2);
});

test('flock start runs the service with its flags', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-cli-start-'));
  try {
    const service = flock(['start', '--port', '0', '--data-dir', dir, '--engine', 'off']);
    for (let i = 0; i < 1200 && !service.stdout().includes('flock listening'); i++) await new Promise((r) => setTimeout(r, 50));
    const listening = JSON.parse(service.stdout().split('\n').find((l) => l.includes('flock listening'))!) as { url: string };
    assert.is((await fetch(`${listening.url}/healthz`)).status, 200);
    service.kill('SIGTERM');
    assert.is((await service.done).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
