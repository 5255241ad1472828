/** Tests for loadConfig: defaults, environment, flags winning, units, the spaces file and every failure. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configHelp, loadConfig, type ConfigResult, type FlockConfig } from '../../engine/config.ts';
import { derivedSourceId } from '../../engine/space/space.ts';

const dir = mkdtempSync(join(tmpdir(), 'flock-config-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function ok(result: ConfigResult): FlockConfig {
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
}
function issues(result: ConfigResult): string[] {
  return result.ok ? [] : result.issues.map((i) => `${i.source}: ${i.message}`);
}
function spacesFile(content: unknown): string {
  const file = join(dir, `spaces-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

test('defaults: ./data, 127.0.0.1:8080, embedded log, development space', () => {
  const config = ok(loadConfig({ env: {}, argv: [] }));
  assert.is(config.dataDir, './data');
  assert.is(config.host, '127.0.0.1');
  assert.is(config.port, 8080);
  assert.is(config.natsUrl, undefined);
  assert.is(config.partitions, 16);
  assert.equal(config.stream, { maxAgeMs: 0, maxBytes: 0, duplicateWindowMs: 120_000, replicas: 1 });
  assert.is(config.natsTimeoutMs, 5_000);
  assert.equal(config.rateLimit, { eventsPerSecond: 50_000, burst: 100_000 });
  assert.is(config.shutdownTimeoutMs, 10_000);
  assert.is(config.developmentSpace, true);
  assert.equal(config.spaces, [
    {
      id: 'spa_default',
      name: 'Default (development)',
      writeKeys: [{ key: 'dev_write_key', sourceId: 'src_default' }],
      accessTokens: ['dev_access_token'],
      managementTokens: ['dev_management_token'],
    },
  ]);
  assert.is(config.profileRateLimit, 10_000);
});

test('environment variables are read; empty ones count as unset', () => {
  const config = ok(
    loadConfig({
      env: {
        FLOCK_DATA_DIR: '/var/lib/flock',
        FLOCK_PORT: '9000',
        FLOCK_HOST: '0.0.0.0',
        FLOCK_NATS_URL: 'nats://127.0.0.2:4222',
        FLOCK_PARTITIONS: '64',
        FLOCK_STREAM_MAX_AGE: '400d',
        FLOCK_STREAM_MAX_BYTES: '50GiB',
        FLOCK_STREAM_DUPLICATE_WINDOW: '2m',
        FLOCK_STREAM_REPLICAS: '3',
        FLOCK_NATS_TIMEOUT: '2s',
        FLOCK_RATE_LIMIT: '1000',
        FLOCK_RATE_BURST: '5000',
        FLOCK_PUBLIC_API_HOST: 'flock.example.com/v1',
        FLOCK_SHUTDOWN_TIMEOUT: '500ms',
        FLOCK_SPACES_FILE: '',
      },
      argv: [],
    }),
  );
  assert.is(config.dataDir, '/var/lib/flock');
  assert.is(config.port, 9000);
  assert.is(config.host, '0.0.0.0');
  assert.is(config.natsUrl, 'nats://127.0.0.2:4222');
  assert.is(config.partitions, 64);
  assert.equal(config.stream, { maxAgeMs: 400 * 86_400_000, maxBytes: 50 * 1024 ** 3, duplicateWindowMs: 120_000, replicas: 3 });
  assert.is(config.natsTimeoutMs, 2_000);
  assert.equal(config.rateLimit, { eventsPerSecond: 1000, burst: 5000 });
  assert.is(config.publicApiHost, 'flock.example.com/v1');
  assert.is(config.shutdownTimeoutMs, 500);
  assert.is(config.developmentSpace, true);
});

test('flags win over environment variables', () => {
  const config = ok(
    loadConfig({ env: { FLOCK_PORT: '9000', FLOCK_DATA_DIR: '/env' }, argv: ['--port', '7000', '--data-dir=/flag', '--rate-limit', '0'] }),
  );
  assert.is(config.port, 7000);
  assert.is(config.dataDir, '/flag');
  assert.is(config.rateLimit.eventsPerSecond, 0);
});

test('bare numbers: durations are seconds, sizes are bytes', () => {
  const config = ok(loadConfig({ env: { FLOCK_STREAM_MAX_AGE: '90', FLOCK_STREAM_MAX_BYTES: '1048576' }, argv: [] }));
  assert.is(config.stream.maxAgeMs, 90_000);
  assert.is(config.stream.maxBytes, 1_048_576);
});

test('--help is reported, and the help text lists every flag and variable', () => {
  const result = loadConfig({ env: {}, argv: ['--help'] });
  assert.ok(result.ok && result.help);
  const help = configHelp();
  for (const needle of ['--data-dir', 'FLOCK_NATS_URL', '--rate-burst', 'FLOCK_SPACES_FILE', 'default 8080']) assert.ok(help.includes(needle), needle);
});

test('invalid values are reported with their source, all at once', () => {
  const found = issues(
    loadConfig({
      env: { FLOCK_PORT: 'eighty', FLOCK_STREAM_MAX_AGE: 'forever', FLOCK_STREAM_MAX_BYTES: 'lots' },
      argv: ['--partitions', '0', '--stream-duplicate-window', '10ms', '--rate-limit=-5'],
    }),
  );
  assert.is(found.length, 6, found.join('\n'));
  for (const source of ['FLOCK_PORT', 'FLOCK_STREAM_MAX_AGE', 'FLOCK_STREAM_MAX_BYTES', '--partitions', '--stream-duplicate-window', '--rate-limit']) {
    assert.ok(found.some((line) => line.startsWith(`${source}:`)), source);
  }
});

test('an unknown flag or a positional argument is an issue, not a crash', () => {
  assert.is(issues(loadConfig({ env: {}, argv: ['--prot', '1'] })).length, 1);
  assert.is(issues(loadConfig({ env: {}, argv: ['serve'] })).length, 1);
});

test('a spaces file: keys with and without source ids, both file shapes', () => {
  const file = spacesFile({
    spaces: [
      { id: 'spa_a', name: 'A', writeKeys: ['key_a1', { key: 'key_a2', sourceId: 'src_web' }] },
      { id: 'spa_b', name: 'B', writeKeys: [{ key: 'key_b' }] },
    ],
  });
  const config = ok(loadConfig({ env: { FLOCK_SPACES_FILE: file }, argv: [] }));
  assert.is(config.developmentSpace, false);
  assert.equal(config.spaces, [
    { id: 'spa_a', name: 'A', writeKeys: [{ key: 'key_a1', sourceId: derivedSourceId('key_a1') }, { key: 'key_a2', sourceId: 'src_web' }], accessTokens: [], managementTokens: [] },
    { id: 'spa_b', name: 'B', writeKeys: [{ key: 'key_b', sourceId: derivedSourceId('key_b') }], accessTokens: [], managementTokens: [] },
  ]);
  const bare = spacesFile([{ id: 'spa_c', name: 'C', writeKeys: ['k'] }]);
  assert.is(ok(loadConfig({ env: {}, argv: ['--spaces-file', bare] })).spaces[0]?.id, 'spa_c');
});

test('a spaces file: Profile API access tokens, management tokens and a per-space Profile API rate limit', () => {
  const file = spacesFile({ spaces: [{ id: 'spa_a', name: 'A', writeKeys: ['key_a'], accessTokens: ['acc_0000001'], managementTokens: ['mgt_0000001'], profileRateLimit: 50 }] });
  const [space] = ok(loadConfig({ env: { FLOCK_SPACES_FILE: file }, argv: [] })).spaces;
  assert.equal(space?.accessTokens, ['acc_0000001']);
  assert.equal(space?.managementTokens, ['mgt_0000001']);
  assert.is(space?.profileRateLimit, 50);
});

test('a spaces file: identity rules per space, validated like the resolver validates them', () => {
  const identity = { identifiers: { email: { limit: 2, window: 'weekly' }, user_id: { limit: 1 } }, maxMerges: 10 };
  const file = spacesFile({ spaces: [{ id: 'spa_a', name: 'A', identity }, { id: 'spa_b', name: 'B' }] });
  const [a, b] = ok(loadConfig({ env: { FLOCK_SPACES_FILE: file }, argv: [] })).spaces;
  assert.equal(a?.identity, identity);
  assert.is(b?.identity, undefined);
  const bad = spacesFile({ spaces: [{ id: 'spa_a', name: 'A', identity: { identifiers: { email: { limit: 0 } } } }] });
  assert.match(issues(loadConfig({ env: { FLOCK_SPACES_FILE: bad }, argv: [] })).join('\n'), /identity.*email.*invalid_limit/);
});

test('derived source ids are stable and do not reveal the key', () => {
  assert.is(derivedSourceId('secret'), derivedSourceId('secret'));
  assert.match(derivedSourceId('secret'), /^src_[0-9a-f]{16}$/);
  assert.not.ok(derivedSourceId('secret').includes('secret'));
});

test('spaces file failures: missing, not JSON, bad shape, duplicates, empty', () => {
  const cases: Array<[string, RegExp]> = [
    [join(dir, 'missing.json'), /cannot read/],
    [spacesFile('{not json'), /cannot read/],
    [spacesFile({ spaces: [{ id: 'has.dot', name: 'x', writeKeys: [] }] }), /space id/],
    [spacesFile({ spaces: [{ id: 'a', writeKeys: [] }] }), /name/],
    [spacesFile({ spaces: [{ id: 'a', name: 'A' }, { id: 'a', name: 'B' }] }), /used twice/],
    [spacesFile({ spaces: [{ id: 'a', name: 'A', writeKeys: ['k'] }, { id: 'b', name: 'B', writeKeys: [{ key: 'k' }] }] }), /write key of space "b" is used twice/],
    [spacesFile({ spaces: [{ id: 'a', name: 'A', writeKeys: [''] }] }), /.+/],
    // one secret is one thing: a write key that were an access token would let writers read
    [spacesFile({ spaces: [{ id: 'a', name: 'A', writeKeys: ['same_secret'], accessTokens: ['same_secret'] }] }), /an access token of space "a" is used twice/],
    [spacesFile({ spaces: [{ id: 'a', name: 'A', accessTokens: ['tok_12345678'] }, { id: 'b', name: 'B', managementTokens: ['tok_12345678'] }] }), /a management token of space "b" is used twice/],
    [spacesFile({ spaces: [{ id: 'a', name: 'A', accessTokens: ['short'] }] }), /at least 8 characters/],
    [spacesFile({ spaces: [{ id: 'a', name: 'A', profileRateLimit: -1 }] }), /.+/],
    [spacesFile({ spaces: [] }), /no space/],
  ];
  for (const [file, pattern] of cases) {
    const found = issues(loadConfig({ env: { FLOCK_SPACES_FILE: file }, argv: [] }));
    assert.ok(found.length > 0, file);
    assert.match(found.join('\n'), pattern);
    // never echo a write key into an error message.
    assert.not.ok(found.join('\n').includes('"k"'));
  }
});

test('HTTP limits: defaults match the server ones, flags and variables set them, headers may not outlast the request', async () => {
  const { DEFAULT_SERVER_LIMITS } = await import('../../api/serve.ts');
  assert.equal(ok(loadConfig({ env: {}, argv: [] })).http, DEFAULT_SERVER_LIMITS);
  const set = ok(loadConfig({ env: { FLOCK_MAX_CONNECTIONS: '0' }, argv: ['--headers-timeout', '2s', '--request-timeout', '1m', '--keep-alive-timeout', '500ms', '--max-connections-per-address', '50'] }));
  assert.equal(set.http, { headersTimeoutMs: 2_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 500, maxConnections: 0, maxConnectionsPerAddress: 50 });
  assert.equal(issues(loadConfig({ env: {}, argv: ['--headers-timeout', '20s', '--request-timeout', '10s'] })), ['--headers-timeout: the headers timeout must not exceed the request timeout']);
  assert.equal(issues(loadConfig({ env: { FLOCK_MAX_CONNECTIONS: '-1' }, argv: [] })).length, 1);
});

test('roles: all by default; identity, worker and api need a NATS URL; worker partitions as ranges and lists', () => {
  const base = { argv: [] as string[], env: {} };
  const all = ok(loadConfig(base));
  assert.is(all.role, 'all');
  assert.equal(all.workerPartitions, Array.from({ length: 16 }, (_, p) => p));
  assert.equal(issues(loadConfig({ argv: ['--role', 'worker'], env: {} })), ['--role: roles identity, worker and api share the log through NATS: set --nats-url']);
  assert.equal(issues(loadConfig({ argv: ['--role', 'api'], env: {} })), ['--role: roles identity, worker and api share the log through NATS: set --nats-url']);
  assert.equal(issues(loadConfig({ argv: [], env: { FLOCK_ROLE: 'api' } })), ['FLOCK_ROLE: roles identity, worker and api share the log through NATS: set --nats-url']);
  const api = ok(loadConfig({ argv: ['--role', 'api', '--nats-url', 'nats://a:4222,nats://b:4222', '--partitions', '32'], env: {} }));
  assert.equal([api.role, api.natsUrl, api.partitions], ['api', 'nats://a:4222,nats://b:4222', 32]);
  const worker = ok(loadConfig({ argv: ['--role', 'worker', '--nats-url', 'nats://127.0.0.1:4222', '--worker-partitions', '0-3,8,10-11,2'], env: {} }));
  assert.equal(worker.workerPartitions, [0, 1, 2, 3, 8, 10, 11]);
  assert.equal(issues(loadConfig({ argv: ['--role', 'worker', '--nats-url', 'nats://127.0.0.1:4222', '--worker-partitions', '3-1'], env: {} })), ['--worker-partitions: "3-1" is not a list of partitions (e.g. 0-7 or 0,2,4)']);
  assert.equal(issues(loadConfig({ argv: ['--role', 'worker', '--nats-url', 'nats://127.0.0.1:4222', '--worker-partitions', '16'], env: {} })), ['--worker-partitions: a worker partition is beyond --partitions']);
  assert.equal(issues(loadConfig({ argv: ['--role', 'leader'], env: {} })), ['--role: role is "all", "ingest", "identity", "worker" or "api"']);
  assert.is(ok(loadConfig({ argv: ['--role', 'ingest'], env: {} })).role, 'ingest');
  const auto = ok(loadConfig({ argv: ['--role', 'worker', '--nats-url', 'nats://127.0.0.1:4222', '--worker-partitions', 'auto'], env: { FLOCK_WORKER_SET_SIZE: '2' } }));
  assert.is(auto.workerPartitions, 'auto');
  assert.is(auto.workerSetSize, 2);
  assert.is(all.workerSetSize, 4);
  assert.equal(issues(loadConfig({ argv: ['--worker-set-size', '0'], env: {} })).length, 1);
});

test.run();
