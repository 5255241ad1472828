/**
 * Reads one profile for the Profile API from its view (one point read, engine/store/profile-views.ts):
 * custom traits as checkpointed; audiences and computed traits as published — so a disabled
 * definition shows its frozen values and a BATCH one its last run's.
 */
import type { DefinitionRegistry } from '../definitions/registry.ts';
import { unescapeKey, unescapeKeys } from '../event/safe-keys.ts';
import { viewOutputs } from '../store/profile-views.ts';
import type { StoreHandle } from './store-handle.ts';

export type TraitClass = 'custom' | 'audience' | 'computed_trait';

export interface ProfileTrait {
  readonly key: string;
  readonly value: unknown;
  readonly class: TraitClass;
  /** when the value was set (epoch ms); undefined for a non-member audience with no state. */
  readonly updatedAt: number | undefined;
  /** computed traits and audiences: the definition. */
  readonly definitionId?: string;
  /** audiences only: false when the profile is not a member (value false). */
  readonly member?: boolean;
}

export interface ProfileView {
  readonly space: string;
  readonly id: string;
  /** sorted by key; a definition's output wins over a custom trait of the same key. */
  readonly traits: readonly ProfileTrait[];
  /** the timestamp of its earliest event (Segment's `created_at`). */
  readonly firstSeen: number;
  /** when the engine last applied one of its events. */
  readonly lastSeen: number;
}

/** The engine's state is not readable (not created yet, or the engine never ran on this data dir). */
export class ProfileStoreUnavailableError extends Error {
  constructor() {
    super('the engine state is not available yet');
    this.name = 'ProfileStoreUnavailableError';
  }
}

/**
 * What the Profile API reads profiles with: a `ProfileReader` (this process's store), or one whose
 * answers come from the worker owning the profile's partition (the API role, engine/cluster/remote-profiles.ts).
 */
export interface ProfileViewReader {
  read(space: string, profileId: string): ProfileView | undefined | Promise<ProfileView | undefined>;
}

export class ProfileReader implements ProfileViewReader {
  constructor(
    private readonly store: StoreHandle,
    /** the definitions served (a worker: those it computes). */
    private readonly registry: Pick<DefinitionRegistry, 'served'>,
  ) {}

  /**
   * The profile, or undefined when the engine has no state for it. Every audience of the space with
   * a serving version is present: true for a member, false otherwise. One point read of the profile's
   * view (engine/store/profile-views.ts); a read-only handle on a store the engine has not opened
   * with this build yet (no views) reads the profile's core and one published row per definition.
   */
  read(space: string, profileId: string): ProfileView | undefined {
    const store = this.store.get();
    if (store === undefined) throw new ProfileStoreUnavailableError();
    if (!store.hasProfileViews()) {
      const state = store.loadProfileCore(space, profileId);
      return state === undefined ? undefined : this.#assemble(space, profileId, state, (id) => {
        const row = store.output(space, id, profileId);
        return row === undefined ? undefined : { v: row.value, at: row.at };
      });
    }
    const view = store.profileView(space, profileId);
    if (view === undefined) return undefined;
    const outputs = viewOutputs(view);
    return this.#assemble(space, profileId, view, (id) => outputs.get(id));
  }

  /** Custom traits, then the served definitions' published values over them. */
  #assemble(space: string, profileId: string, core: ServedCore, output: (definitionId: string) => { readonly v: unknown; readonly at: number } | undefined): ProfileView {
    const traits = new Map<string, ProfileTrait>();
    for (const [stored, value] of Object.entries(core.traits)) {
      if (value === null || value === undefined) continue;
      // keys and values as they were sent (safe-keys.ts)
      const key = unescapeKey(stored);
      traits.set(key, { key, value: unescapeKeys(value), class: 'custom', updatedAt: core.traitAt[stored] });
    }
    for (const d of this.registry.served(space)) {
      const row = output(d.id);
      if (d.kind === 'audience') {
        const member = row?.v === true;
        traits.set(d.key, { key: d.key, value: member, class: 'audience', updatedAt: row?.at, definitionId: d.id, member });
      } else if (row !== undefined) {
        traits.set(d.key, { key: d.key, value: unescapeKeys(row.v), class: 'computed_trait', updatedAt: row.at, definitionId: d.id });
      }
    }
    return {
      space,
      id: profileId,
      traits: [...traits.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
      // (a profile with no event of its own yet — only a merge could make one — was created when first seen)
      firstSeen: Number.isFinite(core.firstSeen) ? core.firstSeen : core.lastSeen,
      lastSeen: core.lastSeen,
    };
  }
}

/** What a read serves of a profile's core: its custom traits and when it was first and last seen. */
interface ServedCore {
  readonly traits: Readonly<Record<string, unknown>>;
  readonly traitAt: Readonly<Record<string, number>>;
  readonly firstSeen: number;
  readonly lastSeen: number;
}
