/** Tests that success is answered only after a durable append, and that a failing log gives 503, never a crash. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ingestApp } from '../../support/ingest-app.ts';
import type { FlockEvent } from '../../../engine/event/model.ts';
import type { AppendResult } from '../../../engine/log/append-log.ts';

test('append rejects → 503 log_unavailable with Retry-After, no success, the error logged', async () => {
  const { post, log, logs } = ingestApp();
  log.failWith = new Error('disk full');
  for (const [path, body] of [
    ['/v1/t', { userId: 'u', event: 'E' }],
    ['/v1/b', { batch: [{ type: 'identify', userId: 'u' }] }],
  ] as const) {
    const res = await post(path, body);
    assert.is(res.status, 503);
    const answer = (await res.json()) as Record<string, unknown>;
    assert.equal(answer, { error: { code: 'log_unavailable', message: 'the events were not stored; retry the request' } });
    assert.is(answer['success'], undefined);
    assert.is(res.headers.get('retry-after'), '1');
    assert.ok(res.headers.get('request-id'));
  }
  assert.is(log.events.length, 0);
  assert.is(logs.filter((l) => l.level === 'error').length, 2);
  // the log comes back: the retry succeeds.
  log.failWith = null;
  assert.is((await post('/v1/t', { userId: 'u', event: 'E', messageId: 'm' })).status, 200);
  assert.is(log.events.length, 1);
});

test('the answer waits for the append to resolve', async () => {
  let release: (result: AppendResult) => void = () => undefined;
  const appended: FlockEvent[][] = [];
  const slowLog = {
    append(events: readonly FlockEvent[]): Promise<AppendResult> {
      appended.push([...events]);
      return new Promise((resolve) => (release = resolve));
    },
  };
  const { post } = ingestApp({ eventLog: slowLog });
  let answered = false;
  const pending = post('/v1/t', { userId: 'u', event: 'E' }).then((res) => {
    answered = true;
    return res;
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.is(appended.length, 1);
  assert.not.ok(answered);
  release({ seqs: [1], duplicates: 0 });
  assert.is((await pending).status, 200);
});

test('a log that throws synchronously or rejects with a non-Error still gives 503', async () => {
  const throwing = {
    append(): Promise<AppendResult> {
      throw new TypeError('boom');
    },
  };
  assert.is((await ingestApp({ eventLog: throwing }).post('/v1/t', { userId: 'u', event: 'E' })).status, 503);
  const rejectingString = { append: (): Promise<AppendResult> => Promise.reject('nope') };
  assert.is((await ingestApp({ eventLog: rejectingString }).post('/v1/t', { userId: 'u', event: 'E' })).status, 503);
});

test('an unexpected error is 500 internal_error with the envelope, and logged', async () => {
  const { post, logs } = ingestApp({
    spaces: {
      byWriteKey: () => Promise.reject(new Error('directory down')),
    },
  });
  const res = await post('/v1/t', { userId: 'u', event: 'E' });
  assert.is(res.status, 500);
  assert.equal(await res.json(), { error: { code: 'internal_error', message: 'internal error' } });
  assert.ok(res.headers.get('request-id'));
  assert.is(logs[0]?.level, 'error');
});

test.run();
