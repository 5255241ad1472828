/** The explorer store and its change-log follower: recent changes, size over time from deltas, duplicates dropped. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExplorerStore, sizeDelta, MINUTE_MS, DAY_MS } from '../../../engine/explorer/explorer-store.ts';
import { followChanges } from '../../../engine/explorer/change-follower.ts';
import { encodeChangeRecords } from '../../../engine/engine.ts';
import { openEmbeddedLog } from '../../../engine/log/embedded-log.ts';
import type { AppendLog } from '../../../engine/log/append-log.ts';
import { LogReadError } from '../../../engine/log/log-errors.ts';
import type { Change } from '../../../engine/runtime/change.ts';

const root = mkdtempSync(join(tmpdir(), 'flock-explorer-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const T0 = Date.UTC(2025, 0, 10, 12, 0, 0);

const member = (kind: 'enter' | 'exit', profile: string, at: number, def = 'aud_a', version = 1): Change => ({
  id: `${def}.${version}.${profile}.${at}.${kind === 'enter' ? 'e' : 'x'}`,
  space: 'spa_a',
  collection: 'users',
  definitionId: def,
  version,
  profileId: profile,
  at,
  kind,
  audienceKey: 'a',
});
const trait = (profile: string, at: number, value: unknown, previous: unknown): Change => ({
  id: `tra_t.1.${profile}.${at}.t`,
  space: 'spa_a',
  collection: 'users',
  definitionId: 'tra_t',
  version: 1,
  profileId: profile,
  at,
  kind: 'trait',
  traitKey: 't',
  value,
  previous,
});

test('sizeDelta: enters and first values count up, exits and lost values down, new values not at all', () => {
  assert.is(sizeDelta(member('enter', 'p', 0)), 1);
  assert.is(sizeDelta(member('exit', 'p', 0)), -1);
  assert.is(sizeDelta(trait('p', 0, 3, null)), 1);
  assert.is(sizeDelta(trait('p', 0, 4, 3)), 0);
  assert.is(sizeDelta(trait('p', 0, null, 4)), -1);
});

test('size over time: per minute, hour and day, across days, per version', async () => {
  const store = ExplorerStore.open(join(root, `e${++n}`));
  await store.apply(
    [
      member('enter', 'p1', T0 - 2 * DAY_MS),
      member('enter', 'p2', T0 + 10),
      member('enter', 'p3', T0 + MINUTE_MS + 5),
      member('exit', 'p1', T0 + 2 * MINUTE_MS),
      member('enter', 'q1', T0, 'aud_a', 2),
    ],
    3,
  );
  assert.is(store.position(), 3);
  assert.equal(store.sizeSeries('spa_a', 'aud_a', 1, { from: T0 - MINUTE_MS, to: T0 + 3 * MINUTE_MS, step: 'minute' }), [
    { at: T0, count: 1 },
    { at: T0 + MINUTE_MS, count: 2 },
    { at: T0 + 2 * MINUTE_MS, count: 3 },
    { at: T0 + 3 * MINUTE_MS, count: 2 },
    { at: T0 + 4 * MINUTE_MS, count: 2 },
  ]);
  const days = store.sizeSeries('spa_a', 'aud_a', 1, { from: T0 - 3 * DAY_MS, to: T0, step: 'day' });
  assert.equal(days.map((p) => p.count), [0, 1, 1, 2]);
  assert.equal(store.sizeSeries('spa_a', 'aud_a', 1, { from: T0, to: T0, step: 'hour' }), [{ at: Math.floor(T0 / 3_600_000) * 3_600_000 + 3_600_000, count: 2 }]);
  assert.equal(store.sizeSeries('spa_a', 'aud_a', 2, { from: T0, to: T0, step: 'minute' }), [{ at: T0 + MINUTE_MS, count: 1 }]);
  assert.equal(store.sizeSeries('spa_b', 'aud_a', 1, { from: T0, to: T0, step: 'minute' }), [{ at: T0 + MINUTE_MS, count: 0 }]);
  await store.close();
});

test('recent changes: newest first, pages, kinds, a bounded number kept per definition', async () => {
  const store = ExplorerStore.open(join(root, `e${++n}`), { recentPerDefinition: 20 });
  const changes: Change[] = [];
  for (let i = 0; i < 50; i++) changes.push(member(i % 3 === 2 ? 'exit' : 'enter', `p${i}`, T0 + i * 1000));
  await store.apply(changes.slice(0, 25), 1);
  await store.apply(changes.slice(25), 2);
  await store.apply([trait('p1', T0, 5, null)], 3);
  const page = store.recent('spa_a', 'aud_a', { limit: 5 });
  assert.equal(page.changes.map((c) => c.profileId), ['p49', 'p48', 'p47', 'p46', 'p45']);
  assert.ok(page.hasMore);
  const last = page.changes.at(-1)!;
  const next = store.recent('spa_a', 'aud_a', { limit: 5, before: { at: last.at, id: last.id } });
  assert.equal(next.changes.map((c) => c.profileId), ['p44', 'p43', 'p42', 'p41', 'p40']);
  const all = store.recent('spa_a', 'aud_a', { limit: 1000 });
  assert.ok(all.changes.length >= 20 && all.changes.length <= 32, String(all.changes.length));
  assert.not.ok(all.hasMore);
  const exits = store.recent('spa_a', 'aud_a', { limit: 3, kinds: new Set(['exit']) });
  assert.equal(exits.changes.map((c) => c.profileId), ['p47', 'p44', 'p41']);
  assert.equal(store.recent('spa_a', 'tra_t', { limit: 5 }).changes, [{ id: `tra_t.1.p1.${T0}.t`, kind: 'trait', profileId: 'p1', version: 1, at: T0, value: 5, previous: null }]);
  await store.close();
});

test('follower: tails the change log, skips republished records and invalid ones, resumes from its position', async () => {
  const dir = join(root, `f${++n}`);
  const log = await openEmbeddedLog({ path: join(dir, 'changes') });
  const batch1 = encodeChangeRecords([member('enter', 'p1', T0), member('enter', 'p2', T0)], 4);
  await log.append(batch1);
  // a republished record under a different log id (as JetStream stores it past its duplicate window)
  await log.append(batch1.map((r) => ({ ...r, id: `${r.id}-again` })));
  await log.append([{ id: 'junk', key: 'spa_a.0', data: Buffer.from('not json') }]);
  await log.append(encodeChangeRecords([member('exit', 'p1', T0 + MINUTE_MS)], 4));
  const store = ExplorerStore.open(join(dir, 'explorer'));
  const invalid: number[] = [];
  const follower = followChanges(log, store, { onInvalidRecord: (seq) => invalid.push(seq) });
  const last = await log.lastSeq();
  for (let i = 0; i < 200 && follower.position() < last; i++) await new Promise((r) => setTimeout(r, 10));
  assert.is(follower.position(), last);
  assert.is(invalid.length, 1);
  assert.equal(store.sizeSeries('spa_a', 'aud_a', 1, { from: T0, to: T0 + MINUTE_MS, step: 'minute' }).map((p) => p.count), [2, 1]);
  await follower.stop();
  // a new follower resumes after the applied position
  await log.append(encodeChangeRecords([member('enter', 'p3', T0 + MINUTE_MS)], 4));
  const again = followChanges(log, store);
  const end = await log.lastSeq();
  for (let i = 0; i < 200 && again.position() < end; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(store.sizeSeries('spa_a', 'aud_a', 1, { from: T0 + MINUTE_MS, to: T0 + MINUTE_MS, step: 'minute' }).map((p) => p.count), [2]);
  await again.stop();
  await store.close();
  await log.close();
});

test('follower: a tail that fails with the log is tailed again from the applied position', async () => {
  const dir = join(root, `f${++n}`);
  const log = await openEmbeddedLog({ path: join(dir, 'changes') });
  await log.append(encodeChangeRecords([member('enter', 'p1', T0)], 4));
  await log.append(encodeChangeRecords([member('enter', 'p2', T0)], 4));
  await log.append(encodeChangeRecords([member('exit', 'p1', T0 + MINUTE_MS)], 4));
  // the first tail gives one record, then fails as a JetStream tail does when its consumer cannot be replaced
  const froms: number[] = [];
  const flaky = new Proxy(log, {
    get(target, prop) {
      if (prop === 'tail') {
        return (from: number, options: Parameters<AppendLog['tail']>[1]) =>
          (async function* () {
            froms.push(from);
            for await (const batch of target.tail(from, options)) {
              yield batch;
              if (froms.length === 1) throw new LogReadError('tail of stream FLOCK_CHANGES failed', { cause: new Error('its consumer could not be replaced') });
            }
          })();
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const store = ExplorerStore.open(join(dir, 'explorer'));
  const follower = followChanges(flaky, store, { maxBatch: 1, backoff: { baseMs: 1, maxMs: 1 } });
  const last = await log.lastSeq();
  for (let i = 0; i < 200 && follower.position() < last; i++) await new Promise((r) => setTimeout(r, 10));
  assert.is(follower.position(), last);
  assert.equal(froms, [1, 2]);
  assert.equal(store.sizeSeries('spa_a', 'aud_a', 1, { from: T0, to: T0 + MINUTE_MS, step: 'minute' }).map((p) => p.count), [2, 1]);
  await follower.stop();
  await follower.done;
  await store.close();
  await log.close();
});

test.run();
