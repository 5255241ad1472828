/** Tests for normalizeCall: every call type, every rejection code, timestamps and ids. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventTime, normalizeCall, type NormalizeMeta, type NormalizeResult } from '../../../engine/event/normalize.ts';
import type { FlockEvent } from '../../../engine/event/model.ts';
import type { RejectionCode } from '../../../engine/event/rejection.ts';

const RECEIVED = Date.UTC(2024, 4, 1, 12, 0, 0);
const meta: NormalizeMeta = { space: 'spa_1', receivedAt: RECEIVED, sourceId: 'src_1', newMessageId: () => 'flock-generated' };

function ok(result: NormalizeResult): FlockEvent {
  if (!result.ok) throw new Error(`rejected: ${result.rejection.code} ${result.rejection.message}`);
  return result.event;
}
function code(result: NormalizeResult): RejectionCode | null {
  return result.ok ? null : result.rejection.code;
}

test('track becomes a FlockEvent with every field', () => {
  const event = ok(
    normalizeCall(
      'track',
      {
        type: 'track',
        event: 'Order Completed',
        userId: 'u1',
        anonymousId: 'a1',
        messageId: 'm1',
        properties: { total: 10 },
        context: { ip: '1.2.3.4' },
        integrations: { All: true },
        timestamp: '2024-05-01T11:00:00.000Z',
      },
      meta,
    ),
  );
  assert.equal(event, {
    space: 'spa_1',
    type: 'track',
    event: 'Order Completed',
    messageId: 'm1',
    userId: 'u1',
    anonymousId: 'a1',
    groupId: null,
    previousId: null,
    traits: null,
    properties: { total: 10 },
    context: { ip: '1.2.3.4' },
    integrations: { All: true },
    timestamp: Date.UTC(2024, 4, 1, 11),
    receivedAt: RECEIVED,
    sourceId: 'src_1',
  });
});

test('identify, group and alias carry their own fields and no event name', () => {
  const identify = ok(normalizeCall('identify', { userId: 'u1', traits: { email: 'a@b.c' } }, meta));
  assert.is(identify.event, null);
  assert.equal(identify.traits, { email: 'a@b.c' });
  const group = ok(normalizeCall('group', { userId: 'u1', groupId: 'acme', traits: { plan: 'pro' } }, meta));
  assert.is(group.groupId, 'acme');
  assert.is(group.event, null);
  assert.equal(group.traits, { plan: 'pro' });
  const alias = ok(normalizeCall('alias', { userId: 'u2', previousId: 'a1' }, meta));
  assert.is(alias.previousId, 'a1');
  assert.is(alias.userId, 'u2');
});

test('page becomes Page Viewed with page_name and page_category', () => {
  const event = ok(
    normalizeCall('page', { anonymousId: 'a', name: 'Pricing', category: 'Docs', properties: { path: '/pricing' } }, meta),
  );
  assert.is(event.type, 'page');
  assert.is(event.event, 'Page Viewed');
  assert.equal(event.properties, { path: '/pricing', page_name: 'Pricing', page_category: 'Docs' });
  const unnamed = ok(normalizeCall('page', { anonymousId: 'a' }, meta));
  assert.equal(unnamed.properties, {});
});

test('screen becomes Screen Viewed with screen_name', () => {
  const event = ok(normalizeCall('screen', { userId: 'u', name: 'Home', properties: { x: 1 } }, meta));
  assert.is(event.event, 'Screen Viewed');
  assert.equal(event.properties, { x: 1, screen_name: 'Home' });
});

test('a missing messageId is generated; a given one is kept', () => {
  assert.is(ok(normalizeCall('track', { userId: 'u', event: 'E' }, meta)).messageId, 'flock-generated');
  const { newMessageId: _, ...plain } = meta;
  const generated = ok(normalizeCall('track', { userId: 'u', event: 'E' }, plain)).messageId;
  assert.match(generated, /^flock-[0-9a-f-]{36}$/);
  assert.is(ok(normalizeCall('track', { userId: 'u', event: 'E', messageId: 'x'.repeat(99) }, meta)).messageId.length, 99);
});

test('ids: numbers become strings, empty strings and nulls are absent', () => {
  const event = ok(normalizeCall('track', { userId: 42, anonymousId: '', event: 'E', messageId: 7 }, meta));
  assert.is(event.userId, '42');
  assert.is(event.anonymousId, null);
  assert.is(event.messageId, '7');
  assert.is(ok(normalizeCall('track', { userId: null, anonymousId: 'a', event: 'E' }, meta)).userId, null);
});

test('unknown fields (_metadata, writeKey, version, channel) are allowed', () => {
  const event = ok(
    normalizeCall(
      'track',
      { userId: 'u', event: 'E', writeKey: 'k', _metadata: { bundled: [] }, version: 2, channel: 'server', receivedAt: 'whatever' },
      meta,
    ),
  );
  assert.is(event.event, 'E');
});

test('the path type wins over the body type', () => {
  const event = ok(normalizeCall('track', { type: 'identify', userId: 'u', event: 'E' }, meta));
  assert.is(event.type, 'track');
});

test('a batch item type is read from the body, case-insensitively', () => {
  assert.is(ok(normalizeCall(undefined, { type: 'Identify', userId: 'u' }, meta)).type, 'identify');
  assert.is(code(normalizeCall(undefined, { userId: 'u' }, meta)), 'invalid_type');
  assert.is(code(normalizeCall(undefined, { type: 'purchase', userId: 'u' }, meta)), 'invalid_type');
  assert.is(code(normalizeCall(undefined, { type: 5, userId: 'u' }, meta)), 'invalid_type');
  assert.is(code(normalizeCall(undefined, 'track', meta)), 'invalid_event');
  assert.is(code(normalizeCall('track', [1], meta)), 'invalid_event');
});

test('each rejection code', () => {
  const cases: Array<[RejectionCode, Parameters<typeof normalizeCall>[0], unknown]> = [
    ['no_user_anon_id', 'track', { event: 'E' }],
    ['no_user_anon_id', 'identify', { userId: '', anonymousId: null, traits: {} }],
    ['missing_event', 'track', { userId: 'u' }],
    ['missing_event', 'track', { userId: 'u', event: '' }],
    ['missing_event', 'track', { userId: 'u', event: 12 }],
    ['missing_group_id', 'group', { userId: 'u' }],
    ['missing_group_id', 'group', { userId: 'u', groupId: '' }],
    ['group_id_too_long', 'group', { userId: 'u', groupId: 'g'.repeat(501) }],
    ['missing_previous_id', 'alias', { userId: 'u' }],
    ['invalid_timestamp', 'track', { userId: 'u', event: 'E', timestamp: 'yesterday' }],
    ['invalid_timestamp', 'track', { userId: 'u', event: 'E', sentAt: 1714564800000 }],
    ['invalid_timestamp', 'track', { userId: 'u', event: 'E', originalTimestamp: '2024-02-30T00:00:00Z' }],
    ['invalid_message_id', 'track', { userId: 'u', event: 'E', messageId: 'm'.repeat(100) }],
    ['invalid_message_id', 'track', { userId: 'u', event: 'E', messageId: { id: 1 } }],
    ['invalid_id', 'track', { userId: { id: 1 }, anonymousId: 'a', event: 'E' }],
    ['no_user_anon_id', 'track', { userId: { id: 1 }, event: 'E' }],
    ['invalid_id', 'alias', { userId: 'u', previousId: ['a'] }],
    ['invalid_field', 'track', { userId: 'u', event: 'E', properties: 'x' }],
    ['invalid_field', 'track', { userId: 'u', event: 'E', context: [] }],
    ['invalid_field', 'page', { userId: 'u', name: { x: 1 } }],
    ['too_many_traits', 'identify', { userId: 'u', traits: keys(300) }],
    ['too_many_properties', 'track', { userId: 'u', event: 'E', properties: keys(301) }],
  ];
  for (const [expected, type, raw] of cases) {
    const result = normalizeCall(type, raw, meta);
    assert.is(code(result), expected, JSON.stringify(raw).slice(0, 80));
    if (!result.ok) assert.ok(result.rejection.message.length > 0);
  }
  assert.ok(normalizeCall('identify', { userId: 'u', traits: keys(299) }, meta).ok);
  assert.ok(normalizeCall('track', { userId: 'u', event: 'E', properties: keys(300) }, meta).ok);
});

test('with several problems the code does not depend on field order', () => {
  assert.is(code(normalizeCall('track', { messageId: 'm'.repeat(200), timestamp: 'x' }, meta)), 'no_user_anon_id');
  assert.is(code(normalizeCall('track', { timestamp: 'x', event: '', userId: 'u' }, meta)), 'missing_event');
});

test('timestamp correction: receivedAt − (sentAt − originalTimestamp)', () => {
  // the client clock runs 1 h fast; the event was made 10 s before it was sent.
  const event = ok(
    normalizeCall(
      'track',
      { userId: 'u', event: 'E', originalTimestamp: '2024-05-01T12:59:50Z', sentAt: '2024-05-01T13:00:00Z' },
      meta,
    ),
  );
  assert.is(event.timestamp, RECEIVED - 10_000);
  // clients that send `timestamp` (analytics.js, analytics-node): it is the original time.
  const ajs = ok(
    normalizeCall('track', { userId: 'u', event: 'E', timestamp: '2024-05-01T12:59:50Z', sentAt: '2024-05-01T13:00:00Z' }, meta),
  );
  assert.is(ajs.timestamp, RECEIVED - 10_000);
});

test('timestamp without sentAt is taken as is; nothing means receivedAt; Dates work', () => {
  assert.is(ok(normalizeCall('track', { userId: 'u', event: 'E', timestamp: '2020-01-01T00:00:00Z' }, meta)).timestamp, Date.UTC(2020, 0, 1));
  assert.is(ok(normalizeCall('track', { userId: 'u', event: 'E' }, meta)).timestamp, RECEIVED);
  assert.is(ok(normalizeCall('track', { userId: 'u', event: 'E', sentAt: '2020-01-01T00:00:00Z' }, meta)).timestamp, RECEIVED);
  assert.is(ok(normalizeCall('track', { userId: 'u', event: 'E', timestamp: new Date(Date.UTC(2021, 0, 1)) }, meta)).timestamp, Date.UTC(2021, 0, 1));
  assert.is(code(normalizeCall('track', { userId: 'u', event: 'E', timestamp: new Date(Number.NaN) }, meta)), 'invalid_timestamp');
});

test('eventTime covers every combination', () => {
  assert.is(eventTime(null, null, null, 100), 100);
  assert.is(eventTime(50, null, null, 100), 50);
  assert.is(eventTime(null, 40, null, 100), 40);
  assert.is(eventTime(null, 40, 60, 100), 80);
  assert.is(eventTime(50, 40, 60, 100), 80); // originalTimestamp wins over timestamp as the creation time
  assert.is(eventTime(50, null, 60, 100), 90);
});

test('inherited batch fields: item keys win, sentAt falls back to the batch', () => {
  const event = ok(
    normalizeCall(
      undefined,
      { type: 'track', userId: 'u', event: 'E', context: { ip: 'item', locale: 'fr' }, integrations: { Mixpanel: false }, timestamp: '2024-05-01T12:59:50Z' },
      meta,
      { context: { ip: 'batch', library: { name: 'x' } }, integrations: { All: true, Mixpanel: true }, sentAt: Date.UTC(2024, 4, 1, 13) },
    ),
  );
  assert.equal(event.context, { ip: 'item', library: { name: 'x' }, locale: 'fr' });
  assert.equal(event.integrations, { All: true, Mixpanel: false });
  assert.is(event.timestamp, RECEIVED - 10_000);
});

test('a __proto__ key stays plain data', () => {
  const raw = JSON.parse('{"userId":"u","event":"E","context":{"__proto__":{"polluted":true}}}') as unknown;
  const event = ok(normalizeCall('track', raw, meta, { context: { a: 1 }, integrations: null, sentAt: null }));
  assert.is(({} as Record<string, unknown>)['polluted'], undefined);
  assert.is((event.context as Record<string, unknown>)['polluted'], undefined);
});

function keys(n: number): Record<string, number> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
}

test.run();
