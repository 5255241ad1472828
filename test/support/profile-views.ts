/** Test support: every stored profile's view (engine/store/profile-views.ts) checked against the records it serves. */
import * as assert from 'uvu/assert';
import type { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import { viewOutputs } from '../../engine/store/profile-views.ts';

/** Every stored profile of `space` has a view (and no other profile has one) equal to its core, identity record and published row of each of `definitionIds`; returns how many were checked. */
export function assertProfileViews(space: string, store: CheckpointStore, definitionIds: readonly string[], stage: string): number {
  const ids = [...store.profileIds(space)];
  const snap = store.snapshot();
  try {
    const viewed = [...snap.viewRange(space, '')].map((e) => e.key[1]);
    assert.equal(viewed, ids, `${stage}: a view for every stored profile and no other`);
  } finally {
    snap.release();
  }
  for (const id of ids) {
    const view = store.profileView(space, id)!;
    const core = store.loadProfileCore(space, id)!;
    const at = `${stage}, ${id}`;
    assert.equal(view.traits, core.traits, `${at}: traits`);
    assert.equal(view.traitAt, core.traitAt, `${at}: traitAt`);
    assert.equal([view.firstSeen, view.lastSeen], [core.firstSeen, core.lastSeen], `${at}: first/last seen`);
    assert.equal(view.links, core.links, `${at}: links`);
    assert.equal(view.ids, store.identityProfile(space, id)?.ids ?? null, `${at}: identifiers`);
    const outputs = viewOutputs(view);
    for (const d of definitionIds) {
      const row = store.output(space, d, id);
      assert.equal(outputs.get(d), row === undefined ? undefined : { v: row.value, at: row.at, version: row.version }, `${at}: output of ${d}`);
      outputs.delete(d);
    }
    assert.equal([...outputs.keys()], [], `${at}: no output of another definition`);
  }
  return ids.length;
}

