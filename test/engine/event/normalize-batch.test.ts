/** Tests for normalizeBatch: inheritance, partial rejection, the count and size limits, bad envelopes. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizeBatch, jsonBytes } from '../../../engine/event/normalize-batch.ts';
import { MAX_BATCH_EVENTS, MAX_EVENT_BYTES } from '../../../engine/event/limits.ts';
import type { NormalizeMeta } from '../../../engine/event/normalize.ts';

const RECEIVED = Date.UTC(2024, 4, 1, 12);
const meta: NormalizeMeta = { space: 'spa_1', receivedAt: RECEIVED, sourceId: null };

test('valid items are kept, invalid ones listed by index', () => {
  const result = normalizeBatch(
    {
      batch: [
        { type: 'track', userId: 'u', event: 'A', messageId: 'm0' },
        { type: 'track', userId: 'u', messageId: 'm1' },
        { type: 'identify', anonymousId: 'a', messageId: 'm2' },
        { type: 'nope', userId: 'u' },
        'not an object',
      ],
    },
    meta,
  );
  if (!result.ok) throw new Error(result.rejection.code);
  assert.equal(result.events.map((e) => e.messageId), ['m0', 'm2']);
  assert.equal(
    result.rejected.map(({ index, code }) => ({ index, code })),
    [
      { index: 1, code: 'missing_event' },
      { index: 3, code: 'invalid_type' },
      { index: 4, code: 'invalid_event' },
    ],
  );
});

test('top-level context, integrations and sentAt apply to every item; item keys win', () => {
  const result = normalizeBatch(
    {
      context: { library: { name: 'analytics-node' }, ip: '1.1.1.1' },
      integrations: { All: false },
      sentAt: '2024-05-01T13:00:00.000Z',
      batch: [
        { type: 'track', userId: 'u', event: 'A', timestamp: '2024-05-01T12:59:59.000Z' },
        { type: 'track', userId: 'u', event: 'B', context: { ip: '2.2.2.2' }, integrations: { All: true }, sentAt: '2024-05-01T12:59:59.500Z', timestamp: '2024-05-01T12:59:59.000Z' },
      ],
    },
    meta,
  );
  if (!result.ok) throw new Error(result.rejection.code);
  const [a, b] = result.events;
  assert.equal(a?.context, { library: { name: 'analytics-node' }, ip: '1.1.1.1' });
  assert.equal(a?.integrations, { All: false });
  assert.is(a?.timestamp, RECEIVED - 1_000);
  assert.equal(b?.context, { library: { name: 'analytics-node' }, ip: '2.2.2.2' });
  assert.equal(b?.integrations, { All: true });
  assert.is(b?.timestamp, RECEIVED - 500);
});

test(`more than ${MAX_BATCH_EVENTS} items: the first ${MAX_BATCH_EVENTS} are kept, the rest rejected`, () => {
  const batch = Array.from({ length: MAX_BATCH_EVENTS + 3 }, (_, i) => ({ type: 'track', userId: 'u', event: 'E', messageId: `m${i}` }));
  const result = normalizeBatch({ batch }, meta);
  if (!result.ok) throw new Error(result.rejection.code);
  assert.is(result.events.length, MAX_BATCH_EVENTS);
  assert.is(result.events.at(-1)?.messageId, `m${MAX_BATCH_EVENTS - 1}`);
  assert.equal(
    result.rejected.map(({ index, code }) => [index, code]),
    [0, 1, 2].map((i) => [MAX_BATCH_EVENTS + i, 'batch_too_large']),
  );
});

test('an item over 32 KB is rejected with event_too_large, its neighbours kept', () => {
  const big = { type: 'track', userId: 'u', event: 'E', properties: { blob: 'x'.repeat(MAX_EVENT_BYTES) } };
  const edge = { type: 'track', userId: 'u', event: 'E', properties: { blob: '' } };
  // pad `edge` to exactly the limit: it must be kept.
  edge.properties.blob = 'y'.repeat(MAX_EVENT_BYTES - jsonBytes(edge));
  assert.is(jsonBytes(edge), MAX_EVENT_BYTES);
  const body = { batch: [{ type: 'track', userId: 'u', event: 'E' }, big, edge] };
  const result = normalizeBatch(body, meta, { bodyBytes: jsonBytes(body) });
  if (!result.ok) throw new Error(result.rejection.code);
  assert.is(result.events.length, 2);
  assert.equal(result.rejected.map(({ index, code }) => [index, code]), [[1, 'event_too_large']]);
});

test('multi-byte characters count as bytes, not characters', () => {
  const item = { type: 'track', userId: 'u', event: 'E', properties: { text: 'é'.repeat(MAX_EVENT_BYTES / 2) } };
  const result = normalizeBatch({ batch: [item] }, meta);
  if (!result.ok) throw new Error(result.rejection.code);
  assert.equal(result.rejected.map((r) => r.code), ['event_too_large']);
});

test('a small body is not measured item by item', () => {
  // a lie about the body size is enough to show the items are not re-serialised below the limit.
  const big = { type: 'track', userId: 'u', event: 'E', properties: { blob: 'x'.repeat(MAX_EVENT_BYTES) } };
  const result = normalizeBatch({ batch: [big] }, meta, { bodyBytes: 10 });
  assert.ok(result.ok && result.events.length === 1);
});

test('sizes measured by the caller are used, one per item, or ignored', () => {
  const items = [
    { type: 'track', userId: 'u', event: 'A' },
    { type: 'track', userId: 'u', event: 'B' },
  ];
  // the caller says item 1 was 40 KB as sent (e.g. padded with whitespace): it is rejected.
  const told = normalizeBatch({ batch: items }, meta, { bodyBytes: 50_000, itemBytes: [30, 40_000] });
  assert.ok(told.ok && told.events.length === 1 && told.rejected[0]?.code === 'event_too_large' && told.rejected[0].index === 1);
  // a list of the wrong length is not trusted: items are measured instead.
  const wrong = normalizeBatch({ batch: items }, meta, { bodyBytes: 50_000, itemBytes: [40_000] });
  assert.ok(wrong.ok && wrong.events.length === 2);
});

test('an unusable envelope rejects the whole batch', () => {
  for (const [body, code] of [
    [{}, 'invalid_event'],
    [{ batch: {} }, 'invalid_event'],
    [{ batch: 'x' }, 'invalid_event'],
    [[], 'invalid_event'],
    [null, 'invalid_event'],
    [{ batch: [], sentAt: 'later' }, 'invalid_timestamp'],
    [{ batch: [], context: 'x' }, 'invalid_event'],
  ] as const) {
    const result = normalizeBatch(body, meta);
    assert.is(result.ok ? null : result.rejection.code, code, JSON.stringify(body));
  }
});

test('an empty batch is fine', () => {
  const result = normalizeBatch({ batch: [] }, meta);
  assert.equal(result, { ok: true, events: [], rejected: [] });
});

test.run();
