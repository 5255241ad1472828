/**
 * Which accounts each profile is linked to, as the engine's runtime links them — what the identity
 * stage needs to decide which workers apply an event: a user's worker, and every worker holding one
 * of its accounts (there the user is shadowed, so the account is evaluated as in one process).
 *
 * The runtime's links, not the identity graph's: the runtime keys an account by the `groupId` of the
 * group call as sent (`groupAccountOf`), where the graph lower-cases it and leaves blocked values out
 * (`group_id:Acme` and `group_id:acme` are two accounts to the runtime, one to the graph). So the
 * stage follows the runtime's two rules: a group call links its user, a merge moves the absorbed
 * profile's links to the survivor.
 *
 * Kept in the stage's own store, written with its checkpoint (the graph and the position in the
 * same transaction): per linked profile, a profile record holding only its links.
 */
import type { FlockEvent } from '../event/model.ts';
import type { ProfileMerge } from '../identity/resolver.ts';
import { createProfileState, groupAccountOf, type ProfileState } from '../runtime/profile-state.ts';
import type { CheckpointStore, ProfileWrite } from '../store/checkpoint-store.ts';

const NONE: readonly string[] = Object.freeze([]);

export class AccountLinks {
  /** (space, profile) → its accounts (empty: none, or absorbed), read lazily from the store. */
  readonly #links = new Map<string, readonly string[]>();
  /** changed since the last `takeWrites`: (space, profile) → its accounts, null: absorbed. */
  readonly #dirty = new Map<string, { space: string; id: string; links: readonly string[] | null }>();

  constructor(readonly store: CheckpointStore) {}

  /** The accounts profile `id` is linked to. */
  of(space: string, id: string): readonly string[] {
    const key = `${space}\u0000${id}`;
    let links = this.#links.get(key);
    if (links === undefined) {
      links = this.store.loadProfileCore(space, id)?.links ?? NONE;
      this.#links.set(key, links);
    }
    return links;
  }

  /** The runtime's rules for one event: the merges move the absorbed profiles' links, then a group call links the profile. */
  apply(event: FlockEvent, profileId: string, merges: readonly ProfileMerge[]): void {
    const space = event.space;
    let links = this.of(space, profileId);
    let changed = false;
    for (const m of merges) {
      const absorbed = this.of(space, m.from);
      if (absorbed.length > 0) {
        const moved = links.slice();
        for (const account of absorbed) if (!moved.includes(account)) moved.push(account);
        links = moved;
        changed = true;
        this.#set(space, m.from, null);
      }
    }
    const account = groupAccountOf(event);
    if (account !== null && !links.includes(account)) {
      links = [...links, account];
      changed = true;
    }
    if (changed) this.#set(space, profileId, links);
  }

  #set(space: string, id: string, links: readonly string[] | null): void {
    const key = `${space}\u0000${id}`;
    this.#links.set(key, links ?? NONE);
    this.#dirty.set(key, { space, id, links });
  }

  /** The profile records changed since the last call, for the stage's checkpoint. */
  takeWrites(): ProfileWrite[] {
    const writes: ProfileWrite[] = [];
    for (const { space, id, links } of this.#dirty.values()) {
      const state: ProfileState = createProfileState(space, id, 0);
      if (links === null) writes.push({ state, savedWake: Number.POSITIVE_INFINITY, removed: true });
      else {
        state.links = [...links];
        writes.push({ state, savedWake: Number.POSITIVE_INFINITY });
      }
    }
    this.#dirty.clear();
    return writes;
  }
}
