/** Checks membership history against the oracle: the engine's changes go through the history store, and the answers as of instants equal the oracle's. */
import type { Change } from '../../engine/runtime/change.ts';
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { HistoryStore, outputOf } from '../../engine/history/history-store.ts';
import { oracleAt, type HistoryEntry } from './oracle.ts';

function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** A history store in a scratch LMDB environment without fsync (many small commits stay fast); the engine's path is the resume tests'. */
export interface HistoryScratch {
  readonly history: HistoryStore;
  write(changes: readonly Change[]): Promise<void>;
  close(): Promise<void>;
}

export function historyScratch(): HistoryScratch {
  const dir = mkdtempSync(join(tmpdir(), 'flock-history-scratch-'));
  const env = open({ path: dir, compression: false, noSync: true });
  const history = new HistoryStore(env);
  return {
    history,
    write: async (changes) => {
      await env.transaction(() => history.write(changes));
    },
    close: async () => {
      await env.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Writes `changes` (re-spaced into `space`, so runs share one store) into the history through
 * two checkpoints, then at each of `instants` compares every profile's value of every definition, the
 * members listed at that instant, and — at minute-aligned instants — the size series, with
 * `oracleAt`. Throws a readable report on the first difference.
 */
export async function checkHistoryAgainstOracle(
  store: HistoryScratch,
  space: string,
  defs: readonly DefinitionInput[],
  changes: readonly Change[],
  history: readonly HistoryEntry[],
  instants: readonly number[],
): Promise<void> {
  const moved = changes.map((c) => ({ ...c, space }));
  // two checkpoints: history split across commits as the engine writes it
  const half = Math.ceil(moved.length / 2);
  await store.write(moved.slice(0, half));
  await store.write(moved.slice(half));
  const profiles = [
    ...new Set([
      ...history.map((h) => h.profileId),
      ...history.filter((h) => h.event.type === 'group' && h.event.groupId !== null).map((h) => `group_id:${h.event.groupId}`),
    ]),
  ].sort();
  const targetOf = (p: string) => (p.startsWith('group_id:') ? 'ACCOUNTS' : 'USERS');
  for (const t of instants) {
    const expected = oracleAt(defs, history, t);
    for (const d of defs) {
      const members: string[] = [];
      for (const p of profiles) {
        if (d.target !== targetOf(p)) continue;
        const raw = expected.get(p)?.get(d.key);
        const want = d.kind === 'audience' ? raw === true : raw;
        const entry = store.history.entryAt(space, d.id, d.version, p, t);
        const got = entry === undefined ? (d.kind === 'audience' ? false : undefined) : d.kind === 'audience' ? outputOf(entry) === true : outputOf(entry);
        if (!same(want, got)) throw new Error(`history at ${new Date(t).toISOString()}: ${p} ${d.key} is ${JSON.stringify(got)}, the oracle says ${JSON.stringify(want)}`);
        if (want !== undefined && want !== false) members.push(p);
      }
      const listed = store.history.membersAt(space, d.id, d.version, t, { limit: 1000 }).members.map((m) => m.profileId);
      if (!same(listed, members)) throw new Error(`members of ${d.key} at ${new Date(t).toISOString()}: ${JSON.stringify(listed)}, the oracle says ${JSON.stringify(members)}`);
      if (t % 60_000 === 0) {
        const [point] = store.history.sizeSeries(space, d.id, d.version, { from: t, to: t, step: 'minute' });
        if (point?.count !== members.length) throw new Error(`size of ${d.key} at ${new Date(t).toISOString()}: ${point?.count}, the oracle says ${members.length}`);
      }
    }
  }
}
