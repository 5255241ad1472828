/** Property tests: random bodies, encodings and auth never crash the handler, never give a 5xx, and only store well-formed events. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { ingestApp, WRITE_KEY, basic } from '../../support/ingest-app.ts';
import { TRACKING_PATHS } from '../../../api/ingest/tracking-router.ts';
import { EVENT_TYPES } from '../../../engine/event/model.ts';
import type { FlockEvent } from '../../../engine/event/model.ts';
import { DEFAULT_IDENTITY_RULES } from '../../../engine/identity/rules.ts';

const paths = Object.keys(TRACKING_PATHS).map((p) => `/v1/${p}`);

/** values a Segment field might plausibly (or implausibly) hold. */
const fieldValue = fc.oneof(
  fc.string(),
  fc.constantFrom('', 'u1', 'Order Completed', '2024-05-01T12:00:00Z', '2024-02-30T00:00:00Z', 'x'.repeat(120)),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 5 }),
  fc.array(fc.jsonValue(), { maxLength: 3 }),
);

const call = fc.record(
  {
    type: fc.oneof(fc.constantFrom(...EVENT_TYPES, 'Track', 'bogus'), fieldValue),
    userId: fieldValue,
    anonymousId: fieldValue,
    event: fieldValue,
    messageId: fieldValue,
    groupId: fieldValue,
    previousId: fieldValue,
    name: fieldValue,
    category: fieldValue,
    timestamp: fieldValue,
    originalTimestamp: fieldValue,
    sentAt: fieldValue,
    properties: fieldValue,
    traits: fieldValue,
    context: fieldValue,
    integrations: fieldValue,
    __proto__: fieldValue,
    constructor: fieldValue,
  },
  { requiredKeys: [] },
);

/** a valid call of every type with a few fields replaced at random: reaches the success path often. */
const nearlyValid = fc
  .tuple(
    fc.constantFrom(...EVENT_TYPES),
    fc.option(fc.tuple(fc.constantFrom('messageId', 'timestamp', 'properties', 'context', 'name', 'userId', 'event'), fieldValue)),
  )
  .map(([type, change]) => ({ type, userId: 'u1', event: 'E', groupId: 'g1', previousId: 'a1', ...(change === null ? {} : { [change[0]]: change[1] }) }));

const body = fc.oneof(
  call.map((c) => JSON.stringify(c)),
  { arbitrary: nearlyValid.map((c) => JSON.stringify(c)), weight: 4 },
  fc.array(nearlyValid, { maxLength: 5 }).map((batch) => JSON.stringify({ batch })),
  fc.record({ batch: fc.oneof(fc.array(call, { maxLength: 8 }), fieldValue), context: fieldValue, integrations: fieldValue, sentAt: fieldValue, writeKey: fc.constantFrom(WRITE_KEY, 'nope', 5) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  // nesting from harmless to stack-breaking.
  fc.integer({ min: 1, max: 20_000 }).map((depth) => `{"userId":"u","event":"E","properties":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`),
  fc.string(),
  fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
);

const request = fc.record({
  path: fc.constantFrom(...paths),
  body,
  gzip: fc.boolean(),
  // undefined: the header matches `gzip`; otherwise this value is sent whatever the body is.
  encodingHeader: fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, fc.constantFrom('gzip', 'identity', 'deflate', '')),
  auth: fc.oneof({ arbitrary: fc.constant(basic(WRITE_KEY)), weight: 4 }, fc.constantFrom(basic('nope'), 'Bearer x', 'Basic ???', undefined)),
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', undefined),
});

function wellFormed(event: FlockEvent): boolean {
  return (
    (EVENT_TYPES as readonly string[]).includes(event.type) &&
    event.space === 'spa_test' &&
    typeof event.messageId === 'string' &&
    event.messageId.length > 0 &&
    event.messageId.length < 100 &&
    (event.userId !== null || event.anonymousId !== null) &&
    Number.isFinite(event.timestamp) &&
    (event.type !== 'track' || (typeof event.event === 'string' && event.event.length > 0)) &&
    (event.type !== 'group' || typeof event.groupId === 'string') &&
    (event.type !== 'alias' || typeof event.previousId === 'string')
  );
}

test('random requests: no crash, no 5xx, a JSON answer, only well-formed events stored', async () => {
  const { app, log } = ingestApp();
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const headers: Record<string, string> = {};
      if (r.auth !== undefined) headers['authorization'] = r.auth;
      if (r.contentType !== undefined) headers['content-type'] = r.contentType;
      let payload: string | Buffer = r.body;
      if (r.gzip) payload = gzipSync(payload);
      if (r.encodingHeader !== undefined) headers['content-encoding'] = r.encodingHeader;
      else if (r.gzip) headers['content-encoding'] = 'gzip';
      const before = log.events.length;
      const res = await app.request(r.path, { method: 'POST', headers, body: payload });
      assert.ok(res.status < 500, `status ${res.status} for ${JSON.stringify(r).slice(0, 300)}`);
      const answer = (await res.json()) as { success?: boolean; error?: { code?: unknown } };
      if (res.status === 200) assert.is(answer.success, true);
      else assert.type(answer.error?.code, 'string');
      if (res.status !== 200) assert.is(log.events.length, before);
      for (const event of log.events.slice(before)) assert.ok(wellFormed(event), JSON.stringify(event));
    }),
    { numRuns: 600 },
  );
  // the generators do reach the success path.
  assert.ok(log.events.length > 20, `only ${log.events.length} events stored`);
});

test('random but valid calls are always accepted', async () => {
  const { post, log } = ingestApp();
  const validTrack = fc.record({
    // (not a value Segment's default identity rules block: such a call identifies nobody and is refused)
    userId: fc.string({ minLength: 1, maxLength: 40 }).filter((id) => !DEFAULT_IDENTITY_RULES.isBlocked('user_id', id.toLowerCase())),
    event: fc.string({ minLength: 1, maxLength: 40 }),
    properties: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 10 }),
    timestamp: fc.date({ min: new Date('1990-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  });
  await fc.assert(
    fc.asyncProperty(validTrack, async (c) => {
      const res = await post('/v1/track', c);
      assert.is(res.status, 200, JSON.stringify(c));
    }),
    { numRuns: 200 },
  );
  assert.is(log.events.length, 200);
});

test.run();
