/** The identity graph in the checkpoint: a graph restarted from LMDB resolves exactly as one that never stopped; lookups work from a read-only store in another thread. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { IdentityGraph } from '../../../engine/identity/identity-graph.ts';
import { profileExternalIds, lookupProfile } from '../../../engine/identity/lookup.ts';
import { IdentityVersionError } from '../../../engine/identity/records.ts';
import type { Resolution } from '../../../engine/identity/resolver.ts';
import { base } from '../../support/events.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import { generateEvents } from '../../../bench/workload/generator.ts';
import { Random } from '../../../bench/workload/random.ts';

const END = Date.parse('2026-06-01T00:00:00Z');
const EVENTS = [...generateEvents({ seed: 3, events: 6000, profiles: 300, spanMs: 10 * 86_400_000, end: END, space: 'spa_id', identity: { sharedDeviceShare: 0.01, blockedShare: 0.01 } })];
const root = mkdtempSync(join(tmpdir(), 'flock-identity-store-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const reference = new IdentityGraph();
const expected: Resolution[] = EVENTS.map((e) => reference.resolve(e));

async function commit(store: CheckpointStore, graph: IdentityGraph, position: number): Promise<void> {
  await store.commit({ position, watermark: 0, profiles: [], pending: [], changes: [], records: [], publishedThrough: 0, identity: graph.checkpointWrites() });
}

test('the workload exercises the graph: merges, demotions, blocked ids', () => {
  assert.ok(reference.stats.merges > 20, `${reference.stats.merges} merges`);
  assert.ok((reference.stats.demotions['limit:user_id'] ?? 0) > 5, JSON.stringify(reference.stats.demotions));
  assert.ok(reference.stats.created > 300);
});

for (const seed of [1, 2, 3]) {
  test(`restarts from the checkpoint at random points (seed ${seed}) resolve every event as an uninterrupted graph`, async () => {
    const dir = join(root, `restart-${seed}`);
    const random = new Random(seed);
    let store = CheckpointStore.open(dir);
    let graph = new IdentityGraph({ source: store });
    let committed = 0;
    const got: Resolution[] = [];
    let restarts = 0;
    for (let i = 0; i < EVENTS.length; i++) {
      got.push(graph.resolve(EVENTS[i]!));
      if (random.chance(0.004)) {
        await commit(store, graph, i + 1);
        committed = i + 1;
      }
      if (random.chance(0.002)) {
        // A crash: what was not committed is lost; the log replays from the committed position.
        await store.close();
        store = CheckpointStore.open(dir);
        graph = new IdentityGraph({ source: store });
        got.length = committed;
        i = committed - 1;
        restarts++;
      }
    }
    await commit(store, graph, EVENTS.length);
    await store.close();
    assert.ok(restarts >= 2, `only ${restarts} restarts`);
    assert.equal(got, expected);
  });
}

test('read-only store in another thread: type:value and old segment ids resolve, external ids list, unknowns are errors', async () => {
  const dir = join(root, 'lookup');
  const store = CheckpointStore.open(dir);
  const graph = new IdentityGraph({ source: store });
  for (const e of EVENTS) graph.resolve(e);
  await commit(store, graph, EVENTS.length);
  await store.close();
  const allMerges = [...new Set(expected.flatMap((r) => r.merges.map((m) => m.from)))];
  const identifiers = [
    'user_id:user_0',
    'USER_ID:user_0',
    'email:user_1%40example.com',
    'anonymous_id:anon_2_0',
    'anonymous_id:kiosk_0',
    'email:nobody@example.com',
    'nonsense',
    'user_id:null',
    ...allMerges.slice(0, 5),
    `use_${'x'.repeat(27)}`,
  ];
  const profiles = [...new Set(expected.map((r) => r.profileId).filter((p): p is string => p !== null))].slice(0, 50);
  const worker = new Worker(fileURLToPath(new URL('../../../engine/service/ts-worker.mjs', import.meta.url)), {
    workerData: { entry: new URL('../../support/identity-lookup-worker.ts', import.meta.url).href, path: dir, space: 'spa_id', identifiers, profiles },
  });
  const answer = await new Promise<{ lookups: unknown[]; externalIds: unknown[] }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.equal(answer.lookups, identifiers.map((i) => lookupProfile(reference, 'spa_id', i)));
  assert.equal(answer.externalIds, profiles.map((p) => profileExternalIds(reference, 'spa_id', p) ?? null));
  const found = answer.lookups.filter((l) => (l as { ok: boolean }).ok).length;
  assert.ok(found >= 8, `${found} lookups found`);
  assert.ok(answer.lookups.some((l) => (l as { mergedFrom?: string }).mergedFrom !== undefined), 'an absorbed id resolves to its survivor');
});

test('accounts: group calls persist the account and its users; a merge moves the link to the survivor', async () => {
  const dir = join(root, 'accounts');
  const store = CheckpointStore.open(dir);
  const graph = new IdentityGraph({ source: store });
  const at = END;
  const call = (e: Parameters<typeof base>[0]) => graph.resolve(base({ space: 'spa_id', ...e }));
  const a = call({ type: 'group', anonymousId: 'x1', groupId: 'ACME', timestamp: at }).profileId!;
  const b = call({ type: 'group', userId: 'boss', groupId: 'acme', timestamp: at + 1 }).profileId!;
  await commit(store, graph, 2);
  assert.equal([store.account('spa_id', 'acme')?.at, store.account('spa_id', 'acme')?.raw], [at, 'ACME'], 'first seen, with the spelling sent');
  assert.is(store.account('spa_id', 'globex'), undefined);
  assert.equal(store.accountUsers('spa_id', 'acme').map((u) => u.profileId).sort(), [a, b].sort());
  assert.equal(store.accountUsers('spa_id', 'acm'), [], 'a prefix of a group id is another account');
  // boss signs in on x1's device: b merges into a, the earlier profile
  const merged = call({ type: 'identify', userId: 'boss', anonymousId: 'x1', timestamp: at + 2 });
  assert.equal(merged.merges.map((m) => [m.from, m.into]), [[b, a]]);
  await commit(store, graph, 3);
  assert.equal(store.accountUsers('spa_id', 'acme').map((u) => u.profileId), [a]);
  assert.equal(store.identityProfile('spa_id', a)!.groups.map((g) => g[0]), ['acme']);
  assert.is(store.identityProfile('spa_id', b), undefined);
  assert.equal(store.identityMerge('spa_id', b)?.into, a);
  await store.close();
});

test('a stored identity record of another version is refused with a named error', async () => {
  const dir = join(root, 'version');
  const store = CheckpointStore.open(dir);
  const identity = { profiles: [{ space: 'spa_id', id: 'use_x', record: { v: 99, c: 0, t: 0, m: 'm', n: 0, ids: [], groups: [] } }], identifiers: [], merges: [], accounts: [], accountUsers: [], counters: [] };
  await store.commit({ position: 1, watermark: 0, profiles: [], pending: [], changes: [], records: [], publishedThrough: 0, identity });
  assert.throws(() => store.identityProfile('spa_id', 'use_x'), (e: unknown) => e instanceof IdentityVersionError);
  await store.close();
});

test.run();
