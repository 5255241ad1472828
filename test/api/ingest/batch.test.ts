/** Tests for /v1/batch and /v1/b: partial rejection, the 2,500-event cap, inherited context and integrations, bad envelopes. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ingestApp, NOW } from '../../support/ingest-app.ts';
import { MAX_BATCH_EVENTS } from '../../../engine/event/limits.ts';

interface BatchAnswer {
  success: boolean;
  rejected?: { index: number; code: string; message: string }[];
}

test('valid items are stored, invalid ones listed with index, code and message', async () => {
  const { post, log } = ingestApp();
  const res = await post('/v1/batch', {
    batch: [
      { type: 'track', userId: 'u', event: 'Kept 1' },
      { type: 'track', userId: 'u' },
      { type: 'identify' },
      { type: 'alias', userId: 'u' },
      { type: 'group', userId: 'u' },
      { type: 'wat', userId: 'u' },
      { type: 'track', userId: 'u', event: 'E', timestamp: 'noon' },
      { type: 'page', anonymousId: 'a', name: 'Kept 2' },
    ],
  });
  assert.is(res.status, 200);
  const answer = (await res.json()) as BatchAnswer;
  assert.is(answer.success, true);
  assert.equal(
    answer.rejected?.map(({ index, code }) => [index, code]),
    [
      [1, 'missing_event'],
      [2, 'no_user_anon_id'],
      [3, 'missing_previous_id'],
      [4, 'missing_group_id'],
      [5, 'invalid_type'],
      [6, 'invalid_timestamp'],
    ],
  );
  assert.ok(answer.rejected?.every((r) => r.message.length > 0));
  assert.equal(log.events.map((e) => e.event), ['Kept 1', 'Page Viewed']);
});

test('`rejected` is omitted when every item is kept', async () => {
  const { post } = ingestApp();
  const res = await post('/v1/b', { batch: [{ type: 'track', userId: 'u', event: 'E' }] });
  assert.equal(await res.json(), { success: true });
});

test('all items rejected is still 200, with nothing appended', async () => {
  const { post, log } = ingestApp();
  const res = await post('/v1/b', { batch: [{ type: 'track' }, { type: 'track' }] });
  assert.is(res.status, 200);
  assert.is(((await res.json()) as BatchAnswer).rejected?.length, 2);
  assert.is(log.appends, 0);
});

test('an empty batch is success with no append', async () => {
  const { post, log } = ingestApp();
  assert.equal(await (await post('/v1/b', { batch: [] })).json(), { success: true });
  assert.is(log.appends, 0);
});

test(`over ${MAX_BATCH_EVENTS} events: 200, the first ${MAX_BATCH_EVENTS} kept, the rest rejected with batch_too_large`, async () => {
  const { post, log } = ingestApp();
  const batch = Array.from({ length: MAX_BATCH_EVENTS + 2 }, (_, i) => ({ type: 'track', userId: `u${i}`, event: 'E', messageId: `${i}` }));
  const res = await post('/v1/batch', { batch });
  assert.is(res.status, 200);
  const answer = (await res.json()) as BatchAnswer;
  assert.equal(answer.rejected?.map(({ index, code }) => [index, code]), [
    [MAX_BATCH_EVENTS, 'batch_too_large'],
    [MAX_BATCH_EVENTS + 1, 'batch_too_large'],
  ]);
  assert.is(log.events.length, MAX_BATCH_EVENTS);
  assert.is(log.events.at(-1)?.messageId, String(MAX_BATCH_EVENTS - 1));
  assert.is(log.appends, 1);
});

test('an item over 32 KB is rejected in the batch, its neighbours kept', async () => {
  const { post, log } = ingestApp();
  const res = await post('/v1/b', {
    batch: [
      { type: 'track', userId: 'u', event: 'Small' },
      { type: 'track', userId: 'u', event: 'Big', properties: { blob: 'x'.repeat(33 * 1024) } },
    ],
  });
  assert.equal(((await res.json()) as BatchAnswer).rejected?.map((r) => [r.index, r.code]), [[1, 'event_too_large']]);
  assert.equal(log.events.map((e) => e.event), ['Small']);
});

test('top-level context and integrations merge into each item (item keys win); sentAt corrects each item', async () => {
  const { post, log } = ingestApp();
  await post('/v1/batch', {
    context: { library: { name: 'analytics-python', version: '2.3.0' }, ip: '203.0.113.1' },
    integrations: { All: true, Salesforce: false },
    sentAt: '2024-05-01T15:00:00.000Z',
    batch: [
      { type: 'track', userId: 'u', event: 'A', timestamp: '2024-05-01T14:59:58.000Z' },
      { type: 'track', userId: 'u', event: 'B', timestamp: '2024-05-01T14:59:59.000Z', context: { ip: '203.0.113.2' }, integrations: { Salesforce: true } },
    ],
  });
  const [a, b] = log.events;
  assert.equal(a?.context, { library: { name: 'analytics-python', version: '2.3.0' }, ip: '203.0.113.1' });
  assert.equal(a?.integrations, { All: true, Salesforce: false });
  assert.is(a?.timestamp, NOW - 2_000);
  assert.equal(b?.context, { library: { name: 'analytics-python', version: '2.3.0' }, ip: '203.0.113.2' });
  assert.equal(b?.integrations, { All: true, Salesforce: true });
  assert.is(b?.timestamp, NOW - 1_000);
});

test('a batch missing its array, or with a bad top-level sentAt, is 400', async () => {
  const { post, log } = ingestApp();
  for (const [body, code] of [
    [{}, 'invalid_event'],
    [{ batch: { type: 'track' } }, 'invalid_event'],
    [{ batch: [], sentAt: 'now' }, 'invalid_timestamp'],
  ] as const) {
    const res = await post('/v1/b', body);
    assert.is(res.status, 400, JSON.stringify(body));
    assert.is(((await res.json()) as { error: { code: string } }).error.code, code);
  }
  assert.is(log.appends, 0);
});

test('messageId dedupe: a retried batch is answered success and stored once', async () => {
  const { post, log } = ingestApp();
  const body = { batch: [{ type: 'track', userId: 'u', event: 'E', messageId: 'same' }] };
  assert.is((await post('/v1/b', body)).status, 200);
  assert.is((await post('/v1/b', body)).status, 200);
  assert.is(log.events.length, 1);
});

test('calls without messageId get generated ones', async () => {
  const { post, log } = ingestApp();
  await post('/v1/b', { batch: [{ type: 'track', userId: 'u', event: 'E' }, { type: 'track', userId: 'u', event: 'E' }] });
  assert.equal(log.events.map((e) => e.messageId), ['gen-1', 'gen-2']);
});

test.run();
