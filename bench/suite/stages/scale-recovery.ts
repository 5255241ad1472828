/**
 * Stage `scale-recovery` of `npm run bench:scale`: the restart of `recovery` over the ~1M profiles of
 * state `scale-state` left (real profiles and their clones) with its tail of events behind the last
 * checkpoint: `Engine.open` → caught up with the end of the log.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SuiteConfig } from '../config.ts';
import { fmt, type Figure } from '../figures.ts';
import { restart } from './recovery.ts';
import { SCALE_STATE, type ScaleState } from './scale-state.ts';

export async function scaleRecovery(config: SuiteConfig, progress: (line: string) => void): Promise<Figure[]> {
  const dir = join(config.dir, SCALE_STATE);
  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as ScaleState;
  const r = await restart(dir);
  progress(`restart to caught up: ${fmt(r.seconds, 2)} s over ${fmt(state.profiles)} profiles (open + restore ${fmt(r.openSeconds, 2)} s), ${fmt(r.behind)} events behind`);
  const cloned = `state cloned from ${fmt(state.realUsers)} real user profiles (${fmt(state.events)} events of the realistic workload through the engine, ${fmt(state.realProfiles)} profiles with accounts), ${state.copies}× each`;
  return [
    {
      id: 'scale.recovery.seconds',
      measurement: `recovery: restart to caught up with the log, ${fmt(state.profiles)} profiles of state`,
      value: r.seconds,
      unit: 's',
      note: `open logs and store + restore, then ${fmt(r.behind)} events behind the checkpoint replayed (${fmt(r.replayPerSecond)} events/s, ${fmt(r.changes)} changes; the tail spread over the real profiles and their clones, profiles loaded lazily from LMDB; page cache warm); ${cloned}`,
    },
    { id: 'scale.recovery.open', measurement: 'recovery: open logs and store + restore (timers of every profile), before the replay', value: r.openSeconds, unit: 's' },
    { id: 'scale.recovery.profiles', measurement: 'recovery: profiles in the store at the restart (counted)', value: state.profiles, unit: 'profiles', note: cloned },
    { id: 'scale.recovery.store', measurement: 'recovery: engine store file at the restart', value: state.storeBytes / 2 ** 20, unit: 'MiB', note: `LMDB data.mdb, free pages included; ${fmt(state.storeBytes / Math.max(1, state.profiles))} bytes per profile (clones carry no history, event index or merge records)` },
  ];
}
