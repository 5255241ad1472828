/**
 * What the tracking API accepts, the engine applies: calls that would identify nobody (over-long ids,
 * values the space's identity rules block, disabled types) are refused at ingest with a code, and
 * the engine logs whatever it still skips (events published straight to the log).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../../engine/engine.ts';
import { eventWith, type FlockEvent } from '../../../engine/event/model.ts';
import { IdentityGraph } from '../../../engine/identity/identity-graph.ts';
import { identityRules, type IdentityRules, type IdentityRulesConfig } from '../../../engine/identity/rules.ts';
import { CHANGE_LOG, openAppendLog } from '../../../engine/log/open-event-log.ts';
import type { SkippedEvent } from '../../../engine/pipeline/resolve-profiles.ts';
import { staticSpaceDirectory } from '../../../engine/space/space-directory.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import { basic, ingestApp, NOW } from '../../support/ingest-app.ts';
import { memoryEventLog } from '../../support/memory-event-log.ts';

/** A space with rules of its own: guests blocked, email promoted from nothing (disabled), a custom id read from traits. */
const CUSTOM: IdentityRulesConfig = {
  blocked: [{ pattern: '^[0-]*$' }, { exact: 'null' }, { exact: 'guest' }],
  identifiers: { email: { enabled: false }, 'ios.id': { enabled: false }, phone: { traitKey: 'phone' } },
};
const SPACES = [
  { id: 'spa_default', name: 'Default rules', writeKeys: [{ key: 'wk_default', sourceId: 'src_d' }] },
  { id: 'spa_custom', name: 'Own rules', writeKeys: [{ key: 'wk_custom', sourceId: 'src_c' }], identity: CUSTOM },
];

function rulesOf(config: IdentityRulesConfig): IdentityRules {
  const r = identityRules(config);
  if (!r.ok) throw new Error('bad test rules');
  return r.rules;
}

/** An engine as the service opens it (identity graph with each space's rules), over a memory log. */
async function openEngine(skips: SkippedEvent[]) {
  const dir = mkdtempSync(join(tmpdir(), 'flock-accepted-'));
  const log = memoryEventLog();
  const store = CheckpointStore.open(join(dir, 'engine'));
  const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
  const resolver = new IdentityGraph({ source: store, rules: new Map([['spa_custom', rulesOf(CUSTOM)]]) });
  const engine = await Engine.open({ eventLog: log, changeLog, store, plans: new Map(), resolver, clock: () => NOW, checkpointEvents: 1e9, onSkipped: (s) => skips.push(s) });
  return {
    engine,
    /** appends `events` to the engine's log and applies them. */
    async apply(events: readonly FlockEvent[]) {
      const from = await log.lastSeq();
      await log.append(events);
      engine.process(await log.read(from + 1, events.length));
    },
    async close() {
      await store.close();
      await changeLog.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Identifier values from harmless to refused: blocked by default or by the custom rules, over-long, numbers, empty. */
const idValue = fc.oneof(
  { arbitrary: fc.string({ minLength: 1, maxLength: 12 }), weight: 3 },
  fc.constantFrom('u1', 'NULL', 'null', '0', '-1', '000-', 'anonymous', 'Anonymous', 'guest', 'Guest', '', 'x'.repeat(500), 'y'.repeat(501), 'z'.repeat(4_200)),
  fc.constantFrom(0, -1, 42, 7.5),
  fc.constant(undefined),
);
const identifierish = fc.oneof(fc.constantFrom('a@b.c', 'null', 'guest', 'e'.repeat(501), '+15550100'), fc.string({ maxLength: 6 }));

const call = fc.record(
  {
    type: fc.constantFrom('track', 'identify', 'page', 'screen', 'group', 'alias'),
    userId: idValue,
    anonymousId: idValue,
    traits: fc.record({ email: identifierish, phone: identifierish }, { requiredKeys: [] }),
    context: fc.record(
      {
        traits: fc.record({ email: identifierish }, { requiredKeys: [] }),
        device: fc.record({ type: fc.constantFrom('ios', 'android'), id: identifierish }),
        externalIds: fc.array(fc.record({ id: identifierish, type: fc.constantFrom('crm_id', 'user_id', 'email'), collection: fc.constantFrom('users', 'accounts'), encoding: fc.constant('none') }), { maxLength: 2 }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['type'] },
).map((c) => ({ ...c, event: 'E', groupId: 'g1', previousId: 'p1' }));

const request = fc.record({
  writeKey: fc.constantFrom('wk_default', 'wk_custom'),
  batch: fc.boolean(),
  calls: fc.array(call, { minLength: 1, maxLength: 6 }),
});

test('every event the tracking API accepts is applied by the engine (none skipped)', async () => {
  const skips: SkippedEvent[] = [];
  const engine = await openEngine(skips);
  const { app, log } = ingestApp({ spaces: staticSpaceDirectory(SPACES) });
  let accepted = 0;
  let refused = 0;
  try {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const before = log.events.length;
        const post = (path: string, body: unknown) =>
          app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic(r.writeKey) }, body: JSON.stringify(body) });
        if (r.batch) {
          const res = await post('/v1/batch', { batch: r.calls });
          assert.is(res.status, 200);
          const answer = (await res.json()) as { rejected?: { code: string }[] };
          refused += answer.rejected?.length ?? 0;
        } else {
          for (const c of r.calls) {
            const res = await post(`/v1/${c.type}`, c);
            assert.ok(res.status === 200 || res.status === 400, `status ${res.status}`);
            if (res.status === 400) refused++;
          }
        }
        const stored = log.events.slice(before);
        accepted += stored.length;
        const skippedBefore = engine.engine.stats.eventsSkipped;
        await engine.apply(stored);
        assert.is(engine.engine.stats.eventsSkipped, skippedBefore, `skipped: ${JSON.stringify(skips.at(-1))}`);
      }),
      { numRuns: 300 },
    );
    assert.is(engine.engine.stats.eventsIn, accepted);
    // the generator reaches both sides
    assert.ok(accepted > 100 && refused > 100, `accepted ${accepted}, refused ${refused}`);
  } finally {
    await engine.close();
  }
});

test('a userId over 500 characters is refused: 400 id_too_long alone, a rejected item in a batch', async () => {
  const { post, log } = ingestApp();
  const long = 'u'.repeat(501);
  let res = await post('/v1/track', { userId: long, event: 'E' });
  assert.is(res.status, 400);
  assert.is(((await res.json()) as { error: { code: string } }).error.code, 'id_too_long');
  // even with a good anonymousId: the userId would be dropped silently
  res = await post('/v1/identify', { userId: long, anonymousId: 'a1' });
  assert.is(((await res.json()) as { error: { code: string } }).error.code, 'id_too_long');
  res = await post('/v1/batch', { batch: [{ type: 'track', anonymousId: 'x'.repeat(501), event: 'E' }, { type: 'track', userId: 'u'.repeat(500), event: 'E' }] });
  assert.is(res.status, 200);
  assert.equal(((await res.json()) as { rejected: { index: number; code: string }[] }).rejected.map((r) => [r.index, r.code]), [[0, 'id_too_long']]);
  assert.equal(log.events.map((e) => e.userId?.length), [500]);
});

test("a call whose every identifier is blocked by the space's rules is refused: blocked_identifier", async () => {
  const { post, log } = ingestApp({ spaces: staticSpaceDirectory(SPACES) });
  const as = (key: string) => ({ auth: basic(key) });
  let res = await post('/v1/track', { userId: 'null', event: 'E' }, as('wk_default'));
  assert.is(res.status, 400);
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.is(body.error.code, 'blocked_identifier');
  assert.match(body.error.message, /userId/);
  // the space's own blocked values: "guest" is only blocked in spa_custom
  assert.is((await post('/v1/track', { userId: 'guest', event: 'E' }, as('wk_default'))).status, 200);
  assert.is((await post('/v1/track', { userId: 'Guest', event: 'E' }, as('wk_custom'))).status, 400);
  // another identifier that survives the rules is enough
  assert.is((await post('/v1/track', { userId: '0', anonymousId: 'a1', event: 'E' }, as('wk_default'))).status, 200);
  assert.is((await post('/v1/identify', { userId: 'null', traits: { email: 'a@b.c' } }, as('wk_default'))).status, 200);
  // … unless the space disables its type
  assert.is((await post('/v1/identify', { userId: 'null', traits: { email: 'a@b.c' } }, as('wk_custom'))).status, 400);
  assert.is((await post('/v1/identify', { userId: 'null', traits: { phone: '555' } }, as('wk_custom'))).status, 200);
  assert.equal(log.events.map((e) => e.userId), ['guest', '0', 'null', 'null']);
});

test('the engine logs each event it still skips, with the reason (JSON producers bypass ingest)', async () => {
  const skips: SkippedEvent[] = [];
  const engine = await openEngine(skips);
  try {
    await engine.apply([
      eventWith({ space: 'spa_default', messageId: 'ok', timestamp: NOW, userId: 'u1', event: 'E' }),
      eventWith({ space: 'spa_default', messageId: 'blocked', timestamp: NOW, userId: 'anonymous', event: 'E' }),
      eventWith({ space: 'spa_default', messageId: 'long', timestamp: NOW, anonymousId: 'a'.repeat(501), event: 'E' }),
    ]);
    assert.is(engine.engine.stats.eventsSkipped, 2);
    assert.equal(
      skips.map((s) => [s.messageId, s.space, s.reason.code]),
      [
        ['blocked', 'spa_default', 'blocked_identifier'],
        ['long', 'spa_default', 'id_too_long'],
      ],
    );
  } finally {
    await engine.close();
  }
});

test.run();
