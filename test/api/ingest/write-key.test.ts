/** Tests for write-key auth: Basic, the body, precedence, and 401 for missing or unknown keys. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { basic, ingestApp, OTHER_WRITE_KEY, WRITE_KEY } from '../../support/ingest-app.ts';
import { basicAuthWriteKey } from '../../../api/ingest/write-key.ts';

const call = { userId: 'u', event: 'E' };

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

test('Basic auth "writeKey:" (analytics-node)', async () => {
  const { post, log } = ingestApp();
  assert.is((await post('/v1/t', call, { auth: basic(WRITE_KEY) })).status, 200);
  assert.is(log.events[0]?.space, 'spa_test');
});

test('writeKey in the body (analytics.js, mobile)', async () => {
  const { post, log } = ingestApp();
  assert.is((await post('/v1/t', { ...call, writeKey: OTHER_WRITE_KEY }, { auth: false })).status, 200);
  assert.is((await post('/v1/b', { writeKey: WRITE_KEY, batch: [{ type: 'track', ...call }] }, { auth: false })).status, 200);
  assert.equal(log.events.map((e) => [e.space, e.sourceId]), [['spa_other', 'src_other'], ['spa_test', 'src_test']]);
});

test('Basic auth wins over the body', async () => {
  const { post, log } = ingestApp();
  assert.is((await post('/v1/t', { ...call, writeKey: OTHER_WRITE_KEY }, { auth: basic(WRITE_KEY) })).status, 200);
  assert.is(log.events[0]?.space, 'spa_test');
  const res = await post('/v1/t', { ...call, writeKey: WRITE_KEY }, { auth: basic('wrong') });
  assert.is(res.status, 401);
  assert.is(await errorCode(res), 'invalid_write_key');
});

test('a Bearer token is not a write key: the body key is used', async () => {
  const { post, log } = ingestApp();
  assert.is((await post('/v1/t', { ...call, writeKey: WRITE_KEY }, { auth: 'Bearer some-oauth-token' })).status, 200);
  assert.is(log.events.length, 1);
  const res = await post('/v1/t', call, { auth: 'Bearer some-oauth-token' });
  assert.is(res.status, 401);
  assert.is(await errorCode(res), 'missing_write_key');
});

test('missing key → 401 missing_write_key; unknown key → 401 invalid_write_key; nothing stored', async () => {
  const { post, log } = ingestApp();
  const cases: Array<[unknown, string | false, string]> = [
    [call, false, 'missing_write_key'],
    [{ ...call, writeKey: '' }, false, 'missing_write_key'],
    [{ ...call, writeKey: 42 }, false, 'missing_write_key'],
    [{ ...call, writeKey: 'nope' }, false, 'invalid_write_key'],
    [call, basic('nope'), 'invalid_write_key'],
    [call, basic(''), 'missing_write_key'],
    [call, 'Basic !!!not-base64!!!', 'invalid_write_key'],
  ];
  for (const [body, auth, code] of cases) {
    const res = await post('/v1/track', body, { auth });
    assert.is(res.status, 401, `${String(auth)} ${JSON.stringify(body)}`);
    assert.is(await errorCode(res), code);
  }
  assert.is(log.events.length, 0);
});

test('a wrong Basic key is refused before the body is read', async () => {
  const { post } = ingestApp();
  // an invalid body would be 400 if it were read first.
  const res = await post('/v1/t', '{not json', { auth: basic('nope') });
  assert.is(res.status, 401);
});

test('basicAuthWriteKey: colon, no colon, case, other schemes', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  assert.is(basicAuthWriteKey(`Basic ${b64('abc:')}`), 'abc');
  assert.is(basicAuthWriteKey(`basic ${b64('abc:ignored')}`), 'abc');
  assert.is(basicAuthWriteKey(`BASIC ${b64('abc')}`), 'abc');
  assert.is(basicAuthWriteKey('Bearer abc'), undefined);
  assert.is(basicAuthWriteKey('Basic'), undefined);
  assert.is(basicAuthWriteKey(undefined), undefined);
});

test.run();
