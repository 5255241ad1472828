/** Everything the engine keeps per profile: one record per profile, so a checkpoint writes clustered keys. */
import {
  aggregateFromPlain,
  aggregateToPlain,
  type AggregateState,
} from '../../operators/kernels/window-aggregate.ts';
import { instancesFromPlain, instancesToPlain, type InstanceState } from '../../operators/kernels/instance-store.ts';
import type { FlockEvent } from '../event/model.ts';

/** A node's per-profile state: a windowed aggregate, or the instances of a funnel / reference node. */
export type NodeState = AggregateState | InstanceState;

function isInstances(st: NodeState): st is InstanceState {
  return 'streams' in st;
}

function nodeToPlain(st: NodeState): unknown {
  return isInstances(st) ? ['i', instancesToPlain(st)] : aggregateToPlain(st);
}

function nodeFromPlain(plain: unknown): NodeState {
  return Array.isArray(plain) && plain[0] === 'i' ? instancesFromPlain(plain[1]) : aggregateFromPlain(plain);
}
import type { Plan } from '../plan/plan.ts';

export const PROFILE_STATE_VERSION = 3;

/**
 * One definition's state on one profile. `v` is `true` for a member (undefined otherwise) or a
 * computed trait's value (undefined when it has none); `at` is when it took that value; `flip` the
 * next instant its result may change with no new input (Infinity: never).
 */
export interface DefinitionCell {
  v: unknown;
  at: number;
  flip: number;
}

/**
 * In memory, aggregate states and definition cells live in dense arrays indexed by the plan the
 * profile is bound to (`bound`): an index is one array load, where a Map keyed by fingerprint cost a
 * hash probe and a cache miss per access. The persisted form keys them by fingerprint, so it survives
 * plan changes; `bindProfile` re-indexes a profile when the plan changes (states of nodes no longer in
 * the plan are dropped).
 */
export interface ProfileState {
  v: number;
  space: string;
  id: string;
  /** a person (`users`) or a company from group calls (`accounts`, id `group_id:<groupId>`). */
  collection: 'users' | 'accounts';
  /** user ↔ account links: a user's accounts, an account's users (profile ids). */
  links: string[];
  /** custom traits (identify `traits`, `context.traits`), last write by event timestamp wins. */
  traits: Record<string, unknown>;
  /** timestamp of the write that set (or removed, with null) each top-level trait. */
  traitAt: Record<string, number>;
  /** node states by aggregate index of `bound`. */
  aggs: Array<NodeState | undefined>;
  /** definition cells by definition index of `bound`. */
  cells: Array<DefinitionCell | undefined>;
  /** the plan the indices refer to; null for a state just loaded (its entries wait in `unbound`). */
  bound: Plan | null;
  unbound: { aggs: Array<[string, NodeState]>; cells: Array<[string, DefinitionCell]> } | null;
  /**
   * `firstSeen`: the timestamp of the profile's earliest event (Segment's `created_at`; +Infinity
   * until its first event is applied); `lastSeen`: the instant the engine last applied one of its
   * events (the watermark then).
   */
  firstSeen: number;
  lastSeen: number;
  /** the earliest instant one of its definitions may flip (the checkpoint's timer index). */
  wake: number;
  /** (not persisted) fingerprints of node states dropped by a rebinding: the checkpoint deletes their keys. */
  droppedNodes?: string[];
}

/** The profile id of the account a group call names. */
export function accountProfileId(groupId: string): string {
  return `group_id:${groupId}`;
}

/**
 * The account a call links its user to: a group call's `group_id:<groupId>` (as sent: the engine's
 * accounts are keyed by the spelling of the call), null for any other call. The runtime links by it,
 * and so does the identity stage that decides which workers apply a linked user's events.
 */
export function groupAccountOf(event: Pick<FlockEvent, 'type' | 'groupId'>): string | null {
  return event.type === 'group' && event.groupId !== null && event.groupId !== '' ? accountProfileId(event.groupId) : null;
}

export function collectionOf(id: string): 'users' | 'accounts' {
  return id.startsWith('group_id:') ? 'accounts' : 'users';
}

export function createProfileState(space: string, id: string, now: number, plan: Plan | null = null): ProfileState {
  return {
    v: PROFILE_STATE_VERSION,
    space,
    id,
    collection: collectionOf(id),
    links: [],
    traits: {},
    traitAt: {},
    aggs: [],
    cells: [],
    bound: plan,
    unbound: null,
    firstSeen: now,
    lastSeen: now,
    wake: Number.POSITIVE_INFINITY,
  };
}

/** Entries keyed by fingerprint, whatever the profile's binding. */
function entries(p: ProfileState): { aggs: Array<[string, NodeState]>; cells: Array<[string, DefinitionCell]> } {
  const aggs: Array<[string, NodeState]> = p.unbound === null ? [] : [...p.unbound.aggs];
  const cells: Array<[string, DefinitionCell]> = p.unbound === null ? [] : [...p.unbound.cells];
  const plan = p.bound;
  if (plan !== null) {
    p.aggs.forEach((st, i) => st !== undefined && aggs.push([plan.aggregates[i]!.fp, st]));
    p.cells.forEach((c, i) => c !== undefined && cells.push([plan.definitions[i]!.fp, c]));
  }
  return { aggs, cells };
}

/** Re-indexes a profile's states for `plan` (no-op when already bound to it). */
export function bindProfile(p: ProfileState, plan: Plan): void {
  if (p.bound === plan) return;
  const { aggs, cells } = entries(p);
  p.aggs = [];
  p.cells = [];
  for (const [fp, st] of aggs) {
    const i = plan.aggregateByFp.get(fp);
    if (i !== undefined) p.aggs[i] = st;
    else (p.droppedNodes ??= []).push(fp);
  }
  for (const [fp, c] of cells) {
    const i = plan.definitionByFp.get(fp);
    if (i !== undefined) p.cells[i] = c;
  }
  p.bound = plan;
  p.unbound = null;
}

/** The aggregate states of a profile by node fingerprint (for tests and inspection). */
export function aggregatesByFingerprint(p: ProfileState): Map<string, NodeState> {
  return new Map(entries(p).aggs);
}

/** The definition cells of a profile by definition fingerprint. */
export function cellsByFingerprint(p: ProfileState): Map<string, DefinitionCell> {
  return new Map(entries(p).cells);
}

/** Plain record for msgpack: states keyed by fingerprint, cells as compact tuples (the whole profile in one value). */
export function profileToPlain(p: ProfileState): unknown {
  return { ...(profileCoreToPlain(p) as Record<string, unknown>), aggs: entries(p).aggs.map(([fp, st]) => [fp, nodeToPlain(st)]) };
}

/**
 * The profile without its node states (traits, definition cells, timers): the checkpoint keeps node
 * states under keys of their own (`[space, profile, node]`) and writes only those that changed.
 */
export function profileCoreToPlain(p: ProfileState): unknown {
  const { cells } = entries(p);
  return {
    v: p.v,
    space: p.space,
    id: p.id,
    links: p.links,
    traits: p.traits,
    traitAt: p.traitAt,
    aggs: [],
    defs: cells.map(([fp, c]) => [fp, c.v === undefined ? null : c.v, c.at, c.flip, c.v === undefined ? 0 : 1]),
    firstSeen: p.firstSeen,
    lastSeen: p.lastSeen,
    wake: p.wake,
  };
}

/** The checkpoint form of one node state. */
export function nodeStateToPlain(st: NodeState): unknown {
  return nodeToPlain(st);
}

export class StateVersionError extends Error {
  constructor(readonly found: unknown) {
    super(`profile state version ${String(found)} is not readable by this build (expects ${PROFILE_STATE_VERSION})`);
    this.name = 'StateVersionError';
  }
}

/** A profile from its core record and its node records (`[fingerprint, plain]`). */
export function profileFromParts(core: unknown, nodes: Iterable<[string, unknown]>): ProfileState {
  const p = profileFromPlain(core);
  for (const [fp, plain] of nodes) p.unbound!.aggs.push([fp, nodeFromPlain(plain)]);
  return p;
}

export function profileFromPlain(plain: unknown): ProfileState {
  const p = plain as {
    v: number;
    space: string;
    id: string;
    links?: string[];
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
    collection: collectionOf(p.id),
    links: p.links ?? [],
    traits: p.traits,
    traitAt: p.traitAt,
    aggs: [],
    cells: [],
    bound: null,
    unbound: {
      aggs: p.aggs.map(([fp, st]) => [fp, nodeFromPlain(st)]),
      cells: p.defs.map(([fp, v, at, flip, has]) => [fp, { v: has === 1 ? v : undefined, at, flip }]),
    },
    firstSeen: p.firstSeen,
    lastSeen: p.lastSeen,
    wake: p.wake,
  };
}
