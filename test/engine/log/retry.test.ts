/** The retry loop the engine waits out an unreachable log with: capped backoff with jitter, retryable failures only, stopping. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LogAppendError, LogClosedError } from '../../../engine/log/log-errors.ts';
import { backoffDelay, isTransientLogError, retrying, RetryAbortedError } from '../../../engine/log/retry.ts';

test('backoff doubles from the base to the cap, half of it jitter', () => {
  const policy = { baseMs: 100, maxMs: 5_000 };
  assert.equal([0, 1, 2, 3, 4, 5, 6, 40].map((a) => backoffDelay(a, 1, policy)), [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  assert.equal([0, 1, 6].map((a) => backoffDelay(a, 0, policy)), [50, 100, 2500]);
});

test('retries transient log failures until the operation succeeds, and reports them', async () => {
  let calls = 0;
  const failures: number[] = [];
  let recovered = 0;
  const result = await retrying(
    async () => {
      if (++calls < 4) throw new LogAppendError('publish failed', { cause: new Error('no ack') });
      return 'ok';
    },
    { what: 'publish', retryable: isTransientLogError, policy: { baseMs: 1, maxMs: 2 }, onFailure: (_, attempt) => failures.push(attempt), onRecovery: () => recovered++ },
  );
  assert.is(result, 'ok');
  assert.equal(failures, [0, 1, 2]);
  assert.is(recovered, 1);
});

test('any other failure is thrown at once', async () => {
  let calls = 0;
  const closed = new LogClosedError('append');
  try {
    await retrying(async () => {
      calls++;
      throw closed;
    }, { what: 'append', retryable: isTransientLogError, policy: { baseMs: 1, maxMs: 1 } });
    assert.unreachable();
  } catch (error) {
    assert.is(error, closed);
  }
  assert.is(calls, 1);
});

test('stopping ends the wait with RetryAbortedError, the last failure as its cause', async () => {
  const controller = new AbortController();
  const failure = new LogAppendError('publish failed', { cause: undefined });
  const run = retrying(async () => {
    throw failure;
  }, { what: 'publish', retryable: isTransientLogError, signal: controller.signal, policy: { baseMs: 60_000, maxMs: 60_000 } });
  setTimeout(() => controller.abort(), 10);
  try {
    await run;
    assert.unreachable();
  } catch (error) {
    assert.instance(error, RetryAbortedError);
    assert.is((error as Error).cause, failure);
  }
});

test.run();
