/** The per-profile event index: pages by timestamp and message id, filters, merged profiles, applied instants, retention. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import type { IndexedEvent } from '../../../engine/history/event-index.ts';
import { Random } from '../../../bench/workload/random.ts';
import { commitHistory } from '../../support/history.ts';

const root = mkdtempSync(join(tmpdir(), 'flock-event-index-'));
let n = 0;
const open = () => CheckpointStore.open(join(root, `s${++n}`));
test.after(() => rmSync(root, { recursive: true, force: true }));
const T0 = Date.UTC(2026, 0, 1);

const indexed = (profileId: string, timestamp: number, messageId: string, name: string | null, seq: number, applied = timestamp): IndexedEvent => ({ space: 'spa_i', profileId, timestamp, messageId, seq, name, applied });

test('pages of a profile’s events by timestamp then message id, both ways, with include and exclude', async () => {
  const store = open();
  try {
    const r = new Random(1);
    const events: IndexedEvent[] = [];
    for (let i = 0; i < 300; i++) events.push(indexed(r.pick(['a', 'b']), T0 + r.int(0, 50) * 1000, `m${String(i).padStart(3, '0')}`, r.pick(['Viewed', 'Ordered', null]), i + 1));
    for (let i = 0; i < events.length; i += 70) await commitHistory(store, { events: events.slice(i, i + 70) });
    const mine = events.filter((e) => e.profileId === 'a');
    const key = (e: { timestamp: number; messageId: string }) => `${e.timestamp}|${e.messageId}`;
    for (const sort of ['asc', 'desc'] as const) {
      for (const filter of [{}, { include: ['Viewed'] }, { exclude: ['Viewed'] }]) {
        const want = mine
          .filter((e) => ('include' in filter ? e.name === 'Viewed' : 'exclude' in filter ? e.name !== 'Viewed' : true))
          .map(key)
          .sort();
        const got: string[] = [];
        let after: { timestamp: number; messageId: string } | undefined;
        for (;;) {
          const page = store.events.entries('spa_i', ['a'], { sort, limit: 9, ...filter, ...(after === undefined ? {} : { after }) });
          got.push(...page.entries.map(key));
          if (!page.hasMore) break;
          after = page.entries.at(-1)!;
        }
        assert.equal(got, sort === 'asc' ? want : want.reverse(), `${sort} ${JSON.stringify(filter)}`);
      }
    }
    const bounded = store.events.entries('spa_i', ['a'], { sort: 'asc', limit: 1000, start: T0 + 10_000, end: T0 + 20_000 });
    assert.equal(bounded.entries.map(key), mine.filter((e) => e.timestamp >= T0 + 10_000 && e.timestamp <= T0 + 20_000).map(key).sort());
  } finally {
    await store.close();
  }
});

test('a profile’s members: the profiles merged into it, transitively, each joining at the last merge on its way', async () => {
  const store = open();
  try {
    await commitHistory(store, {
      events: [indexed('x', T0, 'mx', 'E', 1), indexed('y', T0 + 1, 'my', 'E', 2), indexed('z', T0 + 2, 'mz', 'E', 3)],
      merges: [
        { space: 'spa_i', from: 'x', into: 'y', at: T0 + 10, seq: 4 },
        { space: 'spa_i', from: 'y', into: 'z', at: T0 + 20, seq: 5 },
      ],
    });
    assert.equal(store.events.members('spa_i', 'z'), [
      { profileId: 'z', mergedAt: Number.NEGATIVE_INFINITY, mergedBySeq: 0, joinedAt: Number.NEGATIVE_INFINITY },
      { profileId: 'y', into: 'z', mergedAt: T0 + 20, mergedBySeq: 5, joinedAt: T0 + 20 },
      { profileId: 'x', into: 'y', mergedAt: T0 + 10, mergedBySeq: 4, joinedAt: T0 + 20 },
    ]);
    const page = store.events.entries('spa_i', ['z', 'y', 'x'], { sort: 'asc', limit: 10 });
    assert.equal(page.entries.map((e) => e.messageId), ['mx', 'my', 'mz']);
  } finally {
    await store.close();
  }
});

test('known by an instant: what the engine had applied (a late event from when it arrived, a future one at once)', async () => {
  const store = open();
  try {
    await commitHistory(store, { events: [indexed('a', T0, 'on-time', 'E', 1), indexed('a', T0 + 5, 'late', 'E', 2, T0 + 100), indexed('a', T0 + 500, 'future', 'E', 3, T0 + 50)] });
    const at = (t: number) => store.events.known('spa_i', 'a', t).map((e) => e.messageId);
    assert.equal(at(T0 + 49), ['on-time']);
    assert.equal(at(T0 + 50), ['on-time', 'future']);
    assert.equal(at(T0 + 100), ['on-time', 'late', 'future']);
    assert.is(store.events.known('spa_i', 'a', T0 + 100)[1]!.applied, T0 + 100);
  } finally {
    await store.close();
  }
});

test('retention: entries before the horizon go, over checkpoints', async () => {
  const store = open();
  try {
    const events = Array.from({ length: 2500 }, (_, i) => indexed(`p${i % 7}`, T0 + i * 1000, `m${i}`, 'E', i + 1));
    await commitHistory(store, { events });
    const horizon = T0 + 2000 * 1000;
    for (let i = 0; i < 4; i++) await commitHistory(store, { eventHorizon: horizon });
    const left = [0, 1, 2, 3, 4, 5, 6].flatMap((p) => store.events.known('spa_i', `p${p}`, Number.POSITIVE_INFINITY));
    assert.is(left.length, 500);
    assert.ok(left.every((e) => e.timestamp >= horizon));
  } finally {
    await store.close();
  }
});

test.run();
