/**
 * Stage `scale-state` of `npm run bench:scale`: engine state of the realistic workload at a modest
 * size (the engine from log to change log with checkpoints, as the throughput stage runs it), grown
 * to ~1M profiles by cloning its real user profiles in the store (`CheckpointStore.cloneProfiles`);
 * then a tail of events after the last checkpoint (the lag a crash leaves), spread over the real
 * profiles and their clones. Leaves the log and store for `scale-recovery`.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlockEvent, JsonObject } from '../../../engine/event/model.ts';
import { IdentityGraph } from '../../../engine/identity/identity-graph.ts';
import { profileIdFor } from '../../../engine/identity/profile-id.ts';
import { openEventLog } from '../../../engine/log/open-event-log.ts';
import { compilePlan } from '../../../engine/plan/compile.ts';
import { collectionOf } from '../../../engine/runtime/profile-state.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import { compileQueryDefinitions, realisticDefinitions } from '../../workload/definitions.ts';
import { generateEvents } from '../../workload/generator.ts';
import { SPACE, workload, type SuiteConfig } from '../config.ts';
import { fmt, type Figure } from '../figures.ts';
import { fillLog, logToChangeLog } from '../log-to-change-log.ts';

export const SCALE_STATE = 'scale-state';

/** What `scale-recovery` reports about the state it restarts over. */
export interface ScaleState {
  readonly events: number;
  /** user profiles the engine built (the originals of the clones), and every profile it built. */
  readonly realUsers: number;
  readonly realProfiles: number;
  readonly copies: number;
  /** profiles in the store after cloning, counted. */
  readonly profiles: number;
  readonly storeBytes: number;
  readonly tail: number;
}

/** The id of copy `copy` of profile `id`: the shape of a real profile id (hashed, so keys spread over the store as real ids do). */
export function cloneProfileId(id: string, copy: number): string {
  return profileIdFor(SPACE, `clone_${copy}`, 'profile_id', id);
}

/** Copy `copy` of an identifier value (what the clone owns instead of its original's identifier). */
export function cloneIdentifier(value: string, copy: number): string {
  return `${value}~c${copy}`;
}

// The generator's identifier values (not its blocked placeholders, which identify nobody).
const GENERATED = /^(user|anon|kiosk|dev)_|@example\.com$/;
const renamed = (v: unknown, copy: number): unknown => (typeof v === 'string' && GENERATED.test(v) ? cloneIdentifier(v, copy) : v);
const withEmail = (o: JsonObject | null, copy: number): JsonObject | null => (o === null || !('email' in o) ? o : { ...o, email: renamed(o['email'], copy) });

/** The event as copy `copy` of its user would send it: every identifier renamed as the clones' are (copy 0: unchanged). */
export function toCopy(e: FlockEvent, copy: number): FlockEvent {
  if (copy === 0) return e;
  let context = e.context;
  if (context !== null) {
    const device = context['device'] as JsonObject | undefined;
    context = withEmail({ ...context, ...(device === undefined ? {} : { device: { ...device, id: renamed(device['id'], copy) } }) }, copy);
    if (context !== null && typeof context['traits'] === 'object' && context['traits'] !== null) context = { ...context, traits: withEmail(context['traits'] as JsonObject, copy) };
  }
  return {
    ...e,
    messageId: `${e.messageId}~c${copy}`,
    userId: renamed(e.userId, copy) as string | null,
    anonymousId: renamed(e.anonymousId, copy) as string | null,
    traits: e.type === 'group' ? e.traits : withEmail(e.traits, copy),
    context,
  };
}

export async function scaleState(config: SuiteConfig, progress: (line: string) => void): Promise<Figure[]> {
  const scale = config.scale;
  if (scale === undefined) throw new Error('scale-state runs under npm run bench:scale (no scale sizes given)');
  const dir = join(config.dir, SCALE_STATE);
  const { plan } = compilePlan(compileQueryDefinitions(realisticDefinitions()));
  const run = await logToChangeLog({
    kind: 'embedded',
    dir,
    events: generateEvents(workload(config, config.events)),
    space: SPACE,
    plan,
    resolver: (store) => new IdentityGraph({ source: store }),
    progress,
  });
  progress(`real state: ${fmt(run.events)} events → ${fmt(run.profiles)} profiles in ${fmt(run.seconds)} s (${fmt(run.perSecond)} events/s)`);

  const store = CheckpointStore.open(join(dir, 'engine'));
  let realUsers = 0;
  const realProfiles = store.profileCount(SPACE);
  // (the real user profiles: what cloneProfiles copies)
  for (const id of store.profileIds(SPACE)) if (collectionOf(id) === 'users') realUsers++;
  const copies = Math.max(0, Math.ceil((scale.stateProfiles - realProfiles) / Math.max(1, realUsers)));
  const cloneStart = performance.now();
  let told = cloneStart;
  await store.cloneProfiles({
    space: SPACE,
    copies,
    profileId: cloneProfileId,
    identifier: cloneIdentifier,
    progress: (written) => {
      if (performance.now() - told < 15_000) return;
      told = performance.now();
      progress(`cloning: ${fmt(written)} of ${fmt(copies * realUsers)} profiles`);
    },
  });
  const cloneSeconds = (performance.now() - cloneStart) / 1000;
  const profiles = store.profileCount(SPACE);
  await store.close();
  const file = join(dir, 'engine', 'data.mdb');
  const storeBytes = existsSync(file) ? statSync(file).size : 0;
  progress(`cloned ${fmt(realUsers)} user profiles ${copies}× in ${fmt(cloneSeconds)} s: ${fmt(profiles)} profiles, store ${fmt(storeBytes / 2 ** 20)} MiB`);

  // The tail after the last checkpoint: the workload's users in the minute after it, each event sent
  // by the real user or one of its copies (spread evenly), so the restart meets cold profiles across the store.
  const log = await openEventLog({ dataDir: dir });
  let i = 0;
  const tail = function* () {
    for (const e of generateEvents({ ...workload(config, config.recoveryTail, 43), spanMs: 60_000, end: config.end + 60_000 })) yield toCopy(e, (Math.imul(i++, 2654435761) >>> 0) % (copies + 1));
  };
  await fillLog(log, tail());
  await log.close();
  const state: ScaleState = { events: run.events, realUsers, realProfiles, copies, profiles, storeBytes, tail: config.recoveryTail };
  writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
  return [
    {
      id: 'scale.state.build',
      measurement: 'state: real engine state cloned to the restart size (bench setup, not a figure of Flock)',
      value: cloneSeconds,
      unit: 's',
      note: `${fmt(run.events)} events of the realistic workload through the engine (${fmt(run.seconds)} s) → ${fmt(realProfiles)} profiles; its ${fmt(realUsers)} user profiles cloned ${copies}× in ${fmt(cloneSeconds)} s`,
    },
  ];
}

