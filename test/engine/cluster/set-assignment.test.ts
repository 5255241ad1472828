/** set-assignment.ts: fixed sets of consecutive partitions; each set to exactly one live worker, the same in every worker; a join or a leave moves only the sets it must. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { assignSets, nextInLine, partitionSets } from '../../../engine/cluster/set-assignment.ts';

test('sets: consecutive partitions, the last one smaller; bad sizes refused', () => {
  assert.equal(partitionSets(16, 4).map((s) => s.name), ['0-3', '4-7', '8-11', '12-15']);
  assert.equal(partitionSets(10, 4).map((s) => s.name), ['0-3', '4-7', '8-9']);
  assert.equal(partitionSets(3, 1).map((s) => s.name), ['0', '1', '2']);
  assert.throws(() => partitionSets(16, 0), /set size/);
  assert.throws(() => partitionSets(0, 4), /partition count/);
});

test('every set goes to one live worker, whatever order the workers are listed in; none live: none assigned', () => {
  const sets = partitionSets(64, 1);
  assert.is(assignSets(sets, []).size, 0);
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 }), (workers) => {
      const a = assignSets(sets, workers);
      const b = assignSets(sets, [...workers].reverse());
      assert.equal([...a], [...b]);
      assert.is(a.size, sets.length);
      for (const w of a.values()) assert.ok(workers.includes(w));
    }),
  );
});

test('a worker that joins takes sets only for itself; one that leaves gives away only its own', () => {
  const sets = partitionSets(256, 1);
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 2, maxLength: 8 }), (workers) => {
      const [joiner, ...rest] = workers as [string, ...string[]];
      const before = assignSets(sets, rest);
      const after = assignSets(sets, workers);
      for (const [set, w] of after) if (w !== joiner) assert.is(before.get(set), w, `set ${set} moved between two workers that stayed`);
      // and the reverse: the joiner leaving hands back exactly its sets
      for (const [set, w] of before) if (after.get(set) !== w) assert.is(after.get(set), joiner);
    }),
  );
});

test('the sets spread over the workers (256 sets, 4 workers: each between 1/8 and 3/8)', () => {
  const counts = new Map<string, number>();
  for (const w of assignSets(partitionSets(256, 1), ['w1', 'w2', 'w3', 'w4']).values()) counts.set(w, (counts.get(w) ?? 0) + 1);
  assert.is(counts.size, 4);
  for (const n of counts.values()) assert.ok(n >= 32 && n <= 96, `${n} sets`);
});

test('the worker next in line for a set is the one the set goes to when its worker leaves; one live worker: none next', () => {
  const sets = partitionSets(64, 1);
  assert.is(nextInLine(sets, ['only']).size, 0);
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 2, maxLength: 8 }), (workers) => {
      const holders = assignSets(sets, workers);
      const next = nextInLine(sets, [...workers].reverse());
      assert.is(next.size, sets.length);
      for (const set of sets) {
        const holder = holders.get(set.name)!;
        assert.is.not(next.get(set.name), holder);
        assert.is(assignSets([set], workers.filter((w) => w !== holder)).get(set.name), next.get(set.name));
      }
    }),
  );
});

test.run();
