/** The history store: records at their instants, members and values as of an instant, timelines, sizes, compaction and retention. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import type { Change } from '../../../engine/runtime/change.ts';
import { Random } from '../../../bench/workload/random.ts';
import { commitHistory, membership, traitValue } from '../../support/history.ts';

const root = mkdtempSync(join(tmpdir(), 'flock-history-'));
let n = 0;
const open = () => CheckpointStore.open(join(root, `s${++n}`));
test.after(() => rmSync(root, { recursive: true, force: true }));

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

test('members and values as of an instant, with the change that made them', async () => {
  const store = open();
  try {
    await commitHistory(store, {
      changes: [
        membership('enter', 'a', T0 + 10, { cause: { type: 'event', messageId: 'm1' } }),
        membership('exit', 'a', T0 + 30),
        membership('enter', 'b', T0 + 20, { cause: { type: 'merge', messageId: 'm2' } }),
        membership('enter', 'c', T0 + 5, { cause: { type: 'merge' } }),
        membership('exit', 'c', T0 + 6, { cause: { type: 'version', from: 1 } }),
        traitValue('a', T0 + 1, 5, undefined),
        traitValue('a', T0 + 8, undefined, 5),
        traitValue('b', T0 + 3, 'x', undefined),
      ],
    });
    const members = (t: number) => store.history.membersAt('spa_h', 'aud_a', 1, t, { limit: 100 }).members.map((m) => m.profileId);
    assert.equal(members(T0 + 4), []);
    assert.equal(members(T0 + 5), ['c']);
    assert.equal(members(T0 + 6), []);
    assert.equal(members(T0 + 25), ['a', 'b']);
    assert.equal(members(T0 + 30), ['b']);
    const b = store.history.membersAt('spa_h', 'aud_a', 1, T0 + 25, { limit: 100 }).members[1]!;
    assert.equal(b, { profileId: 'b', value: true, since: T0 + 20, cause: { type: 'merge', messageId: 'm2' } });
    assert.equal(store.history.entryAt('spa_h', 'aud_a', 1, 'c', T0 + 7)?.cause, { type: 'version', from: 1 });
    assert.equal(store.history.entryAt('spa_h', 'aud_a', 1, 'c', T0 + 5)?.cause, { type: 'merge' });
    assert.equal(store.history.entryAt('spa_h', 'aud_a', 1, 'a', T0 + 10)?.cause, { type: 'event', messageId: 'm1' });
    assert.is(store.history.entryAt('spa_h', 'aud_a', 1, 'a', T0 + 9), undefined);
    // traits: a valued profile until its value goes
    const valued = (t: number) => store.history.membersAt('spa_h', 'tra_t', 1, t, { limit: 100 }).members.map((m) => [m.profileId, m.value]);
    assert.equal(valued(T0 + 3), [['a', 5], ['b', 'x']]);
    assert.equal(valued(T0 + 8), [['b', 'x']]);
    // pages by profile id
    const first = store.history.membersAt('spa_h', 'aud_a', 1, T0 + 25, { limit: 1 });
    assert.equal([first.members.map((m) => m.profileId), first.hasMore], [['a'], true]);
    const second = store.history.membersAt('spa_h', 'aud_a', 1, T0 + 25, { limit: 1, after: 'a' });
    assert.equal([second.members.map((m) => m.profileId), second.hasMore], [['b'], false]);
    assert.equal(
      store.history.versions('spa_h').map((v) => [v.definitionId, v.version, v.kind, v.key]),
      [
        ['aud_a', 1, 'audience', 'a'],
        ['tra_t', 1, 'trait', 't'],
      ],
    );
  } finally {
    await store.close();
  }
});

test('the same change twice in a checkpoint is one record and counts once in the size', async () => {
  const store = open();
  try {
    const c = membership('enter', 'a', T0 + MIN);
    await commitHistory(store, { changes: [c, c] });
    assert.is(store.history.entries('spa_h', 'aud_a', 1, 'a').length, 1);
    assert.equal(store.history.sizeSeries('spa_h', 'aud_a', 1, { from: T0, to: T0 + 2 * MIN, step: 'minute' }).map((p) => p.count), [0, 1, 1]);
  } finally {
    await store.close();
  }
});

/** Random enters/exits and trait values over 20 profiles, 3 days, in several checkpoints. */
function randomHistory(seed: number, count: number): Change[] {
  const r = new Random(seed);
  const state = new Map<string, boolean>();
  const values = new Map<string, number | undefined>();
  const out: Change[] = [];
  let t = T0;
  for (let i = 0; i < count; i++) {
    t += r.int(1, 3 * 60) * 1000 * (r.chance(0.05) ? 60 : 1);
    const p = `p${r.int(0, 19)}`;
    if (r.chance(0.5)) {
      const isIn = !(state.get(p) ?? false);
      state.set(p, isIn);
      out.push(membership(isIn ? 'enter' : 'exit', p, t));
    } else {
      const previous = values.get(p);
      const value = r.chance(0.3) ? undefined : r.int(0, 5);
      if (value === previous) continue;
      values.set(p, value);
      out.push(traitValue(p, t, value, previous));
    }
  }
  return out;
}

/** The naive answer: replay the changes up to t. */
function naiveMembers(changes: readonly Change[], def: string, t: number): Array<[string, unknown]> {
  const current = new Map<string, unknown>();
  for (const c of changes) {
    if (c.definitionId !== def || c.at > t) continue;
    const v = c.kind === 'trait' ? c.value : c.kind === 'enter' ? true : undefined;
    if (v === undefined) current.delete(c.profileId);
    else current.set(c.profileId, v);
  }
  return [...current].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

test('members at any instant and sizes at aligned instants equal a replay of the changes', async () => {
  const store = open();
  try {
    const changes = randomHistory(3, 1500);
    for (let i = 0; i < changes.length; i += 200) await commitHistory(store, { changes: changes.slice(i, i + 200) });
    const end = changes.at(-1)!.at;
    const r = new Random(9);
    for (let k = 0; k < 60; k++) {
      const t = r.int(T0 - MIN, end + MIN);
      for (const def of ['aud_a', 'tra_t']) {
        const got = store.history.membersAt('spa_h', def, 1, t, { limit: 1000 }).members.map((m) => [m.profileId, m.value]);
        assert.equal(got, naiveMembers(changes, def, t), `${def} at ${t - T0}`);
      }
    }
    for (const step of ['minute', 'hour', 'day'] as const) {
      const series = store.history.sizeSeries('spa_h', 'aud_a', 1, { from: T0 - DAY, to: end + DAY, step });
      for (const p of series) assert.is(p.count, naiveMembers(changes, 'aud_a', p.at).length, `${step} size at ${p.at - T0}`);
    }
  } finally {
    await store.close();
  }
});

test('a timeline merges every version of the space by instant, in pages either way', async () => {
  const store = open();
  try {
    const changes = randomHistory(5, 600);
    const v2 = changes.filter((_, i) => i % 7 === 0).map((c) => ({ ...c, version: 2, id: `${c.id}.v2` }));
    await commitHistory(store, { changes: [...changes, ...v2] });
    const expected = [...changes, ...v2].filter((c) => c.profileId === 'p1').map((c) => `${c.at}|${c.definitionId}|${c.version}`);
    const sorted = [...expected].sort();
    for (const sort of ['asc', 'desc'] as const) {
      const seen: string[] = [];
      let after: { at: number; definitionId: string; version: number } | undefined;
      for (let page = 0; page < 100; page++) {
        const r = store.history.timeline('spa_h', 'p1', { sort, limit: 7, ...(after === undefined ? {} : { after }) });
        seen.push(...r.entries.map((e) => `${e.at}|${e.definitionId}|${e.version}`));
        const last = r.entries.at(-1);
        if (!r.hasMore || last === undefined) break;
        after = { at: last.at, definitionId: last.definitionId, version: last.version };
      }
      assert.equal(seen, sort === 'asc' ? sorted : [...sorted].reverse(), sort);
    }
    const mid = changes[300]!.at;
    const bounded = store.history.timeline('spa_h', 'p1', { sort: 'asc', limit: 1000, start: mid, end: mid + DAY });
    assert.ok(bounded.entries.every((e) => e.at >= mid && e.at <= mid + DAY));
    assert.is(bounded.entries.length, sorted.filter((k) => Number(k.split('|')[0]) >= mid && Number(k.split('|')[0]) <= mid + DAY).length);
  } finally {
    await store.close();
  }
});

test('a superseded version leaves the catalog at once and its records go over several checkpoints', async () => {
  const store = open();
  try {
    const many: Change[] = [];
    for (let i = 0; i < 25_000; i++) many.push(membership(i % 2 === 0 ? 'enter' : 'exit', `p${Math.floor(i / 2) % 5000}`, T0 + i * 1000));
    await commitHistory(store, { changes: [...many, membership('enter', 'a', T0, { version: 2 })] });
    await commitHistory(store, { compact: [{ space: 'spa_h', definitionId: 'aud_a', version: 1 }] });
    assert.equal(store.history.versions('spa_h').map((v) => v.version), [2]);
    assert.equal(store.history.compacting(), [{ space: 'spa_h', definitionId: 'aud_a', version: 1 }]);
    assert.ok(store.history.entries('spa_h', 'aud_a', 1, 'p4999').length > 0, 'not all in one checkpoint');
    await commitHistory(store, {});
    assert.equal(store.history.compacting(), []);
    assert.is(store.history.entries('spa_h', 'aud_a', 1, 'p4999').length, 0);
    assert.is(store.history.membersAt('spa_h', 'aud_a', 1, T0 + 1e9, { limit: 10 }).members.length, 0);
    assert.equal(store.history.sizeSeries('spa_h', 'aud_a', 1, { from: T0, to: T0 + DAY, step: 'day' }).map((p) => p.count), [0, 0]);
    assert.is(store.history.entries('spa_h', 'aud_a', 2, 'a').length, 1, 'the new version stays');
  } finally {
    await store.close();
  }
});

test('retention: records before the horizon go, every answer at or after it stays', async () => {
  const store = open();
  try {
    const changes = randomHistory(11, 3000);
    await commitHistory(store, { changes });
    const end = changes.at(-1)!.at;
    const horizon = Math.floor((T0 + end) / 2 / MIN) * MIN;
    const r = new Random(4);
    const probes = Array.from({ length: 40 }, () => r.int(horizon, end + MIN));
    const before = probes.map((t) => store.history.membersAt('spa_h', 'aud_a', 1, t, { limit: 1000 }).members);
    const sizes = store.history.sizeSeries('spa_h', 'aud_a', 1, { from: horizon, to: end, step: 'minute' });
    const count = () => store.history.timeline('spa_h', 'p3', { sort: 'asc', limit: 10_000 }).entries.length;
    const full = count();
    // sweeps run with the checkpoints, a bounded number of records each, until a full pass
    for (let i = 0; i < 10; i++) await commitHistory(store, { horizon }, end);
    assert.is(store.history.retainedFrom(), horizon);
    assert.ok(count() < full, 'old records went');
    assert.equal(
      probes.map((t) => store.history.membersAt('spa_h', 'aud_a', 1, t, { limit: 1000 }).members),
      before,
    );
    assert.equal(store.history.sizeSeries('spa_h', 'aud_a', 1, { from: horizon, to: end, step: 'minute' }), sizes);
    const old = store.history.timeline('spa_h', 'p3', { sort: 'asc', limit: 10_000, end: horizon - 1 }).entries;
    assert.ok(old.length <= 2, `at most the last record of each version before the horizon stays (${old.length})`);
    assert.ok(old.every((e) => e.kind === 'enter' || (e.kind === 'trait' && e.value !== undefined)), 'and only if it still holds');
  } finally {
    await store.close();
  }
});

test.run();
