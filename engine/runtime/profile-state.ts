/** Everything the engine keeps per profile, as plain data: one record per profile, so a checkpoint writes clustered keys. */
import {
  aggregateFromPlain,
  aggregateToPlain,
  type AggregateState,
} from '../../operators/kernels/window-aggregate.ts';

export const PROFILE_STATE_VERSION = 1;

export interface ProfileState {
  v: number;
  space: string;
  id: string;
  /** custom traits (identify `traits`, `context.traits`), last write by event timestamp wins. */
  traits: Record<string, unknown>;
  /** timestamp of the write that set (or removed, with null) each top-level trait. */
  traitAt: Record<string, number>;
  /** aggregate states by aggregate node fingerprint. */
  aggs: Map<string, AggregateState>;
  /** definition outputs by definition fingerprint: `true` for a member, a computed trait's value. */
  outputs: Map<string, unknown>;
  /** when each output got its current value (membership since, trait updated at). */
  outputAt: Map<string, number>;
  /** next instant a time-relative comparator of a definition may flip, by definition fingerprint. */
  flips: Map<string, number>;
  /** first and last instant the profile was seen (event arrival). */
  firstSeen: number;
  lastSeen: number;
  /** the earliest instant at which any aggregate or flip may change (the profile's timer). */
  wake: number;
}

export function createProfileState(space: string, id: string, now: number): ProfileState {
  return {
    v: PROFILE_STATE_VERSION,
    space,
    id,
    traits: {},
    traitAt: {},
    aggs: new Map(),
    outputs: new Map(),
    outputAt: new Map(),
    flips: new Map(),
    firstSeen: now,
    lastSeen: now,
    wake: Number.POSITIVE_INFINITY,
  };
}

/** Plain record for msgpack: Maps become entry lists. */
export function profileToPlain(p: ProfileState): unknown {
  return {
    v: p.v,
    space: p.space,
    id: p.id,
    traits: p.traits,
    traitAt: p.traitAt,
    aggs: [...p.aggs].map(([k, st]) => [k, aggregateToPlain(st)]),
    outputs: [...p.outputs],
    outputAt: [...p.outputAt],
    flips: [...p.flips],
    firstSeen: p.firstSeen,
    lastSeen: p.lastSeen,
    wake: p.wake,
  };
}

export class StateVersionError extends Error {
  constructor(readonly found: unknown) {
    super(`profile state version ${String(found)} is not readable by this build (expects ${PROFILE_STATE_VERSION})`);
    this.name = 'StateVersionError';
  }
}

export function profileFromPlain(plain: unknown): ProfileState {
  const p = plain as {
    v: number;
    space: string;
    id: string;
    traits: Record<string, unknown>;
    traitAt: Record<string, number>;
    aggs: Array<[string, unknown]>;
    outputs: Array<[string, unknown]>;
    outputAt: Array<[string, number]>;
    flips: Array<[string, number]>;
    firstSeen: number;
    lastSeen: number;
    wake: number;
  };
  if (p.v !== PROFILE_STATE_VERSION) throw new StateVersionError(p.v);
  return {
    v: p.v,
    space: p.space,
    id: p.id,
    traits: p.traits,
    traitAt: p.traitAt,
    aggs: new Map(p.aggs.map(([k, st]) => [k, aggregateFromPlain(st)])),
    outputs: new Map(p.outputs),
    outputAt: new Map(p.outputAt),
    flips: new Map(p.flips),
    firstSeen: p.firstSeen,
    lastSeen: p.lastSeen,
    wake: p.wake,
  };
}
