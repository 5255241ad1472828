/**
 * `CheckpointStore.cloneProfiles` (bench:scale's and bench:takeover's state): a clone behaves as its
 * original — the same events sent under its renamed identifiers give the same changes, timers
 * included; in the identity stage's store (identity records only) the clones' identifiers resolve to
 * the ids a worker's store gives the clones' states.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloneIdentifier, cloneProfileId, toCopy } from '../../../bench/suite/stages/scale-state.ts';
import { compileQueryDefinitions, realisticDefinitions } from '../../../bench/workload/definitions.ts';
import { generateEvents } from '../../../bench/workload/generator.ts';
import { decodeChangeRecord, Engine } from '../../../engine/engine.ts';
import { IdentityGraph } from '../../../engine/identity/identity-graph.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../../engine/log/open-event-log.ts';
import { compilePlan } from '../../../engine/plan/compile.ts';
import type { Change } from '../../../engine/runtime/change.ts';
import { collectionOf } from '../../../engine/runtime/profile-state.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import { IdentityStage } from '../../../engine/cluster/identity-stage.ts';
import { RESOLVED_LOG } from '../../../engine/cluster/resolved-records.ts';
import { catchUp } from '../../support/catch-up.ts';
import { assertProfileViews } from '../../support/profile-views.ts';

const SPACE = 'spa_bench';
const DAY = 86_400_000;
const END = Date.parse('2026-06-01T00:00:00Z');
const { plan } = compilePlan(compileQueryDefinitions(realisticDefinitions()));

/** The engine from its checkpoint to the end of the log, the clock at `clock`; returns the changes it published. */
async function runToEnd(dir: string, clock: number): Promise<Change[]> {
  const eventLog = await openEventLog({ dataDir: dir });
  const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
  const store = CheckpointStore.open(join(dir, 'engine'));
  const from = (await changeLog.lastSeq()) + 1;
  const engine = await Engine.open({ eventLog, changeLog, store, plans: new Map([[SPACE, plan]]), resolver: new IdentityGraph({ source: store }), clock: () => clock });
  await catchUp(engine, eventLog);
  const changes = (await changeLog.read(from, 1_000_000)).flatMap((r) => decodeChangeRecord(r.data));
  await store.close();
  await changeLog.close();
  await eventLog.close();
  return changes;
}

test('clones own renamed identifiers, and the same events give them the same changes as their originals', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-clone-'));
  try {
    const first = END - 5 * DAY;
    const log = await openEventLog({ dataDir: dir });
    await log.append([...generateEvents({ seed: 7, events: 3000, profiles: 40, spanMs: 20 * DAY, end: first, identity: {} })]);
    await log.close();
    await runToEnd(dir, first);

    const store = CheckpointStore.open(join(dir, 'engine'));
    const originals = [...store.profileIds(SPACE)].filter((id) => collectionOf(id) === 'users');
    const before = store.profileCount(SPACE);
    await store.cloneProfiles({ space: SPACE, copies: 2, profileId: cloneProfileId, identifier: cloneIdentifier });
    assert.is(store.profileCount(SPACE), before + 2 * originals.length);
    const owner = store.identifierOwner(SPACE, 'user_id', 'user_0')!;
    assert.is(store.identifierOwner(SPACE, 'user_id', cloneIdentifier('user_0', 2)), cloneProfileId(owner, 2));
    // each clone's profile view serves its own core, identifiers and published rows
    assertProfileViews(SPACE, store, plan.definitions.map((d) => d.input.id), 'cloned');
    await store.close();

    // The tail: each event by the original user, then by each copy, at the same instants; the clock then passes every timer.
    const tail = [...generateEvents({ seed: 8, events: 400, profiles: 40, spanMs: DAY, end: first + DAY, identity: {} })];
    const again = await openEventLog({ dataDir: dir });
    await again.append(tail.flatMap((e) => [e, toCopy(e, 1), toCopy(e, 2)]));
    await again.close();
    const changes = await runToEnd(dir, END + 60 * DAY);

    const of = (copy: number) => {
      const ids = new Map(originals.map((id) => [copy === 0 ? id : cloneProfileId(id, copy), id]));
      return changes
        .filter((c) => ids.has(c.profileId))
        .map((c) => `${ids.get(c.profileId)} ${c.kind} ${c.definitionId} ${c.at} ${c.kind === 'trait' ? JSON.stringify(c.value) : ''}`)
        .sort();
    };
    const originalChanges = of(0);
    assert.ok(originalChanges.length > 100, `only ${originalChanges.length} changes of the original profiles`);
    assert.equal(of(1), originalChanges);
    assert.equal(of(2), originalChanges);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the identity stage’s store (no profile state): its graph’s users are cloned, their identifiers resolving to the clones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-clone-stage-'));
  try {
    const events = [...generateEvents({ seed: 9, events: 2000, profiles: 30, spanMs: 10 * DAY, end: END, identity: { maxDevices: 2 } })];
    const eventLog = await openEventLog({ dataDir: dir });
    await eventLog.append(events);
    const resolvedLog = await openAppendLog({ dataDir: dir, log: RESOLVED_LOG });
    const store = CheckpointStore.open(join(dir, 'identity'));
    const stage = new IdentityStage({ eventLog, resolvedLog, store, resolver: new IdentityGraph({ source: store }), time: 'event' });
    await stage.process(await eventLog.read(1, events.length));
    assert.is(store.profileCount(SPACE), 0, 'the stage keeps no profile state');
    const written = await store.cloneProfiles({ space: SPACE, copies: 2, profileId: cloneProfileId, identifier: cloneIdentifier });
    assert.ok(written >= 30, `${written} clones`);
    // the last events again, by the original and by copy 2, each on the graph as committed: copy 2's resolve to the clones of the originals' profiles
    let compared = 0;
    for (const e of events.slice(-300)) {
      const original = new IdentityGraph({ source: store }).resolve(e);
      const copy = new IdentityGraph({ source: store }).resolve(toCopy(e, 2));
      if (original.profileId === null) continue;
      assert.is(copy.profileId, cloneProfileId(original.profileId, 2), e.messageId);
      assert.ok(store.identityProfile(SPACE, copy.profileId!) !== undefined, `${e.messageId}: a clone in the graph, not a new profile`);
      assert.equal(copy.merges.map((m) => [m.from, m.into]), original.merges.map((m) => [cloneProfileId(m.from, 2), cloneProfileId(m.into, 2)]));
      compared++;
    }
    assert.ok(compared > 250);
    await store.close();
    await resolvedLog.close();
    await eventLog.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
