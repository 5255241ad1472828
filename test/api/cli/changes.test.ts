/**
 * `npm run changes`: reads the change log of the data dir it is given (`--data-dir`, FLOCK_DATA_DIR),
 * answers `--help`, and never creates a data dir: a missing one (or one without a change log) is an
 * error with a code and exit code 2.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { changes, CHANGES_EXIT } from '../../../api/cli/changes.ts';
import { encodeChangeRecords } from '../../../engine/engine.ts';
import { CHANGE_LOG, openAppendLog } from '../../../engine/log/open-event-log.ts';
import type { Change } from '../../../engine/runtime/change.ts';

const repo = dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url)))));
const root = mkdtempSync(join(tmpdir(), 'flock-changes-cli-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await changes(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const change: Change = { id: 'c1', space: 'spa_default', collection: 'users', definitionId: 'aud_1', version: 1, profileId: 'use_1', at: 1_700_000_000_000, kind: 'enter', audienceKey: 'vips' };

test('prints the change log of the data dir given by --data-dir', async () => {
  const dataDir = join(root, 'data');
  const log = await openAppendLog({ dataDir, log: CHANGE_LOG });
  await log.append(encodeChangeRecords([change], 16));
  await log.close();
  const r = await run(['--data-dir', dataDir]);
  assert.is(r.code, CHANGES_EXIT.ok, r.err);
  assert.equal(r.out.trim().split('\n').map((l) => JSON.parse(l) as unknown), [change]);
  // --from past the end prints nothing
  assert.equal(await run(['--data-dir', dataDir, '--from', '2']), { code: 0, out: '', err: '' });
});

test('a data dir that does not exist is an error with a code, and is not created', async () => {
  const missing = join(root, 'nowhere', 'data');
  const r = await run(['--data-dir', missing]);
  assert.is(r.code, CHANGES_EXIT.usage);
  assert.match(r.err, /^error \[data_dir_not_found\]: the data directory .*nowhere\/data does not exist/);
  assert.is(existsSync(join(root, 'nowhere')), false);
});

test('a data dir without a change log is an error, and gets none', async () => {
  const empty = join(root, 'empty');
  mkdirSync(empty);
  const r = await run(['--data-dir', empty]);
  assert.is(r.code, CHANGES_EXIT.usage);
  assert.match(r.err, /^error \[change_log_not_found\]: /);
  assert.is(existsSync(join(empty, CHANGE_LOG.name)), false);
});

test('--help describes the options; a bad --from or an unknown option is a usage error', async () => {
  const help = await run(['--help']);
  assert.is(help.code, CHANGES_EXIT.ok);
  for (const option of ['--data-dir', 'FLOCK_DATA_DIR', '--nats-url', '--follow', '--from']) assert.ok(help.out.includes(option), help.out);
  const from = await run(['--from', 'zero']);
  assert.is(from.code, CHANGES_EXIT.usage);
  assert.match(from.err, /--from/);
  assert.is((await run(['--data-dirr', root])).code, CHANGES_EXIT.usage);
});

test('as a process: FLOCK_DATA_DIR is read, and no ./data is created in the working directory', async () => {
  const cwd = join(root, 'cwd');
  mkdirSync(cwd);
  const spawnChanges = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(repo, 'api/cli/changes.ts'), ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  const fromEnv = await spawnChanges([], { FLOCK_DATA_DIR: join(root, 'data') });
  assert.is(fromEnv.code, 0, fromEnv.stderr);
  assert.equal(JSON.parse(fromEnv.stdout) as unknown, change);
  const bare = await spawnChanges([], {});
  assert.is(bare.code, 2);
  assert.match(bare.stderr, /error \[data_dir_not_found\]/);
  assert.is(existsSync(join(cwd, 'data')), false);
});

test.run();
