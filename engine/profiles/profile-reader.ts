/** Reads one profile for the Profile API: custom traits from its checkpointed state, computed traits and audiences through the registry's fingerprints. */
import type { DefinitionRegistry } from '../definitions/registry.ts';
import { cellsByFingerprint } from '../runtime/profile-state.ts';
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
  readonly firstSeen: number;
  readonly lastSeen: number;
}

/** The engine's state is not readable (not created yet, or the engine never ran on this data dir). */
export class ProfileStoreUnavailableError extends Error {
  constructor() {
    super('the engine state is not available yet');
    this.name = 'ProfileStoreUnavailableError';
  }
}

export class ProfileReader {
  constructor(
    private readonly store: StoreHandle,
    private readonly registry: DefinitionRegistry,
  ) {}

  /**
   * The profile, or undefined when the engine has no state for it. Every audience of the space with
   * a serving version is present: true for a member, false otherwise.
   */
  read(space: string, profileId: string): ProfileView | undefined {
    const store = this.store.get();
    if (store === undefined) throw new ProfileStoreUnavailableError();
    const state = store.loadProfile(space, profileId);
    if (state === undefined) return undefined;
    const traits = new Map<string, ProfileTrait>();
    for (const [key, value] of Object.entries(state.traits)) {
      if (value === null || value === undefined) continue;
      traits.set(key, { key, value, class: 'custom', updatedAt: state.traitAt[key] });
    }
    const cells = cellsByFingerprint(state);
    for (const d of this.registry.served(space)) {
      const cell = cells.get(d.fingerprint);
      if (d.kind === 'audience') {
        const member = cell?.v === true;
        traits.set(d.key, { key: d.key, value: member, class: 'audience', updatedAt: cell?.at, definitionId: d.id, member });
      } else if (cell !== undefined && cell.v !== undefined) {
        traits.set(d.key, { key: d.key, value: cell.v, class: 'computed_trait', updatedAt: cell.at, definitionId: d.id });
      }
    }
    return {
      space,
      id: profileId,
      traits: [...traits.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
      firstSeen: state.firstSeen,
      lastSeen: state.lastSeen,
    };
  }
}
