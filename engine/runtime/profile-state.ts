/** Everything the engine keeps per profile, as plain data: one record per profile, so a checkpoint writes clustered keys. */
import {
  aggregateFromPlain,
  aggregateToPlain,
  type AggregateState,
} from '../../operators/kernels/window-aggregate.ts';

export const PROFILE_STATE_VERSION = 2;

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
  /** per definition (by fingerprint): its output, since when, and when it may next flip. */
  defs: Map<string, DefinitionCell>;
  /** first and last instant the profile was seen (event arrival). */
  firstSeen: number;
  lastSeen: number;
  /** the earliest instant at which any aggregate or flip may change (the profile's timer). */
  wake: number;
}

/**
 * One definition's state on one profile. `v` is `true` for a member (undefined otherwise) or a
 * computed trait's value (undefined when it has none); `at` is when it took that value; `flip` the
 * next instant its result may change with no new input (Infinity: never). A cell with no value and
 * no flip is dropped.
 */
export interface DefinitionCell {
  v: unknown;
  at: number;
  flip: number;
}

export function createProfileState(space: string, id: string, now: number): ProfileState {
  return {
    v: PROFILE_STATE_VERSION,
    space,
    id,
    traits: {},
    traitAt: {},
    aggs: new Map(),
    defs: new Map(),
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
    defs: [...p.defs].map(([fp, c]) => [fp, c.v === undefined ? null : c.v, c.at, c.flip, c.v === undefined ? 0 : 1]),
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
    defs: Array<[string, unknown, number, number, number]>;
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
    defs: new Map(p.defs.map(([fp, v, at, flip, has]) => [fp, { v: has === 1 ? v : undefined, at, flip }])),
    firstSeen: p.firstSeen,
    lastSeen: p.lastSeen,
    wake: p.wake,
  };
}
