/** Test support for history: change builders and a checkpoint that writes only history (through the real commit). */
import type { Change, ChangeCause } from '../../engine/runtime/change.ts';
import type { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import type { HistoryWrites } from '../../engine/history/history-writes.ts';

const NONE = { changes: [], events: [], merges: [], compact: [], horizon: Number.NEGATIVE_INFINITY, eventHorizon: Number.NEGATIVE_INFINITY };

/** Commits one checkpoint carrying only `history` (the rest empty), in one transaction like the engine's. */
export async function commitHistory(store: CheckpointStore, history: Partial<HistoryWrites>, watermark = 0): Promise<void> {
  const meta = store.meta();
  await store.commit({ position: meta.position, watermark, profiles: [], pending: [], changes: [], records: [], publishedThrough: meta.publishedThrough, history: { ...NONE, ...history } });
}

type ChangeOptions = { def?: string; version?: number; space?: string; cause?: ChangeCause };

/** The fields every change has; the key is the definition id without its `aud_`/`tra_` prefix. */
function changeBase(profileId: string, at: number, dir: 'e' | 'x' | 't', o: ChangeOptions, fallbackDef: string, cause: ChangeCause) {
  const def = o.def ?? fallbackDef;
  const version = o.version ?? 1;
  const base = { id: `${def}.${version}.${profileId}.${at}.${dir}`, space: o.space ?? 'spa_h', collection: 'users' as const, definitionId: def, version, profileId, at, cause: o.cause ?? cause };
  return { base, key: def.replace(/^(aud|tra)_/, '') };
}

export function membership(kind: 'enter' | 'exit', profileId: string, at: number, options: ChangeOptions = {}): Change {
  const { base, key } = changeBase(profileId, at, kind === 'enter' ? 'e' : 'x', options, 'aud_a', { type: 'time' });
  return { ...base, kind, audienceKey: key };
}

export function traitValue(profileId: string, at: number, value: unknown, previous: unknown, options: ChangeOptions = {}): Change {
  const { base, key } = changeBase(profileId, at, 't', options, 'tra_t', { type: 'event', messageId: `m-${profileId}-${at}` });
  return { ...base, kind: 'trait', traitKey: key, value, previous };
}

/**
 * Everything a store holds of one space's history and event index, as sorted lines: the records of
 * every version for `profiles`, each version's size by hour over `range`, the indexed events and merges.
 */
export function dumpHistory(store: CheckpointStore, space: string, profiles: readonly string[], range: { from: number; to: number }): string[] {
  const out: string[] = [];
  for (const v of store.history.versions(space)) {
    for (const p of profiles) {
      for (const e of store.history.entries(space, v.definitionId, v.version, p)) out.push(`h ${JSON.stringify(e)}`);
    }
    const sizes = store.history.sizeSeries(space, v.definitionId, v.version, { ...range, step: 'hour' });
    out.push(`s ${v.definitionId}@${v.version} ${sizes.map((s) => s.count).join(',')}`);
  }
  for (const p of profiles) {
    for (const e of store.events.known(space, p, Number.POSITIVE_INFINITY)) out.push(`e ${JSON.stringify(e)}`);
    for (const m of store.events.members(space, p)) if (m.into !== undefined) out.push(`m ${p} ${JSON.stringify(m)}`);
  }
  return out.sort();
}

/** The history lines a list of changes should leave (the records only). */
export function historyLines(changes: readonly Change[]): string[] {
  const lines = new Set<string>();
  for (const c of changes) {
    const entry = {
      space: c.space,
      definitionId: c.definitionId,
      version: c.version,
      profileId: c.profileId,
      at: c.at,
      kind: c.kind,
      ...(c.kind === 'trait' && c.value !== undefined ? { value: c.value } : {}),
      ...(c.cause === undefined ? {} : { cause: c.cause }),
    };
    lines.add(`h ${JSON.stringify(entry)}`);
  }
  return [...lines].sort();
}
