/**
 * A consistent read view of the checkpoint store: every read goes through ONE pinned LMDB read
 * transaction, so a reader that spans many event-loop turns (a CSV export) sees one checkpoint —
 * never a member from one commit and its identifiers or traits from the next.
 */
import type { Database, Transaction } from 'lmdb';
import type { HistoryStore } from '../history/history-store.ts';
import { identityProfileFromPlain, type IdentityProfileRecord } from '../identity/records.ts';
import type { CheckpointMeta, OutputRow } from './checkpoint-store.ts';
import { viewFromPlain, type ProfileViewRecord } from './profile-views.ts';

/** What a snapshot reads of a profile's core record (engine/runtime/profile-state.ts `profileCoreToPlain`). */
export interface ProfileCore {
  readonly traits: Readonly<Record<string, unknown>>;
  /** user ↔ account links: an account's users, a user's accounts. */
  readonly links: readonly string[];
}

/** The store's databases a snapshot reads (handed over by `CheckpointStore.snapshot()`). */
export interface SnapshotSources {
  readonly published: Database<{ v: unknown; at: number; version: number }, [string, string, string]>;
  readonly profiles: Database<unknown, [string, string]>;
  readonly idProfiles: Database<unknown, [string, string]>;
  readonly meta: Database<unknown, string>;
  readonly history: HistoryStore;
  /** `profile_views` (undefined: a read-only handle on a store whose views are not built yet). */
  readonly views: Database<unknown, [string, string]> | undefined;
}

export class SnapshotClosedError extends Error {
  constructor() {
    super('the store snapshot was released');
    this.name = 'SnapshotClosedError';
  }
}

export class StoreSnapshot {
  #released = false;

  constructor(
    private readonly txn: Transaction,
    private readonly db: SnapshotSources,
  ) {}

  get #options(): { transaction: Transaction } {
    if (this.#released) throw new SnapshotClosedError();
    return { transaction: this.txn };
  }

  /** The checkpoint this snapshot sees: position and watermark. */
  meta(): CheckpointMeta | undefined {
    return this.db.meta.get('checkpoint', this.#options) as CheckpointMeta | undefined;
  }

  /** Every published row of one definition (members / valued profiles), by profile id, after `after`. */
  *outputs(space: string, definitionId: string, after = ''): Iterable<OutputRow> {
    for (const { key, value } of this.db.published.getRange({ start: [space, definitionId, after], end: [space, `${definitionId}\u0000`, ''], ...this.#options })) {
      if (after !== '' && key[2] === after) continue;
      yield { profileId: key[2], value: value.v, at: value.at, version: value.version };
    }
  }

  outputCount(space: string, definitionId: string): number {
    return this.db.published.getKeysCount({ start: [space, definitionId, ''], end: [space, `${definitionId}\u0000`, ''], ...this.#options });
  }

  /** One profile's published value of one definition, or undefined. */
  output(space: string, definitionId: string, profileId: string): unknown {
    return this.db.published.get([space, definitionId, profileId], this.#options)?.v;
  }

  /** The profile's custom traits and links (undefined: no such profile in this checkpoint). */
  profileCore(space: string, profileId: string): ProfileCore | undefined {
    const plain = this.db.profiles.get([space, profileId], this.#options) as { traits?: Record<string, unknown>; links?: string[] } | undefined;
    return plain === undefined ? undefined : { traits: plain.traits ?? {}, links: plain.links ?? [] };
  }

  /**
   * Raw ranges from profile id `from` on, in id order, for merge joins with a sorted member list (no
   * generator per entry: lmdb-js's own iterables). `key[last]` is the profile id.
   */
  coreRange(space: string, from: string): Iterable<{ key: [string, string]; value: unknown }> {
    return this.db.profiles.getRange({ start: [space, from], end: [`${space}\u0000`, ''], ...this.#options });
  }

  identityRange(space: string, from: string): Iterable<{ key: [string, string]; value: unknown }> {
    return this.db.idProfiles.getRange({ start: [space, from], end: [`${space}\u0000`, ''], ...this.#options });
  }

  outputRange(space: string, definitionId: string, from: string): Iterable<{ key: [string, string, string]; value: { v: unknown } }> {
    return this.db.published.getRange({ start: [space, definitionId, from], end: [space, `${definitionId}\u0000`, ''], ...this.#options });
  }

  /** Number of profiles (users and accounts) of `space`. */
  profileCount(space: string): number {
    return this.db.profiles.getKeysCount({ start: [space, ''], end: [`${space}\u0000`, ''], ...this.#options });
  }

  /** Whether this snapshot can read profile views (`profileView`, `viewRange`). */
  get hasViews(): boolean {
    return this.db.views !== undefined;
  }

  /** The profile as served (store/profile-views.ts), or undefined: no such profile (or no views: `hasViews`). */
  profileView(space: string, profileId: string): ProfileViewRecord | undefined {
    const plain = this.db.views?.get([space, profileId], this.#options);
    return plain === undefined ? undefined : viewFromPlain(plain);
  }

  /** The views from profile id `from` on, in id order (a merge join with a sorted member list); needs `hasViews`. */
  viewRange(space: string, from: string): Iterable<{ key: [string, string]; value: unknown }> {
    return this.db.views?.getRange({ start: [space, from], end: [`${space}\u0000`, ''], ...this.#options }) ?? [];
  }

  identityProfile(space: string, profileId: string): IdentityProfileRecord | undefined {
    const plain = this.db.idProfiles.get([space, profileId], this.#options);
    return plain === undefined ? undefined : identityProfileFromPlain(plain);
  }

  /** A definition version's members at instant `t` from the membership history, in pages by profile id. */
  *membersAt(space: string, definitionId: string, version: number, t: number): Iterable<{ profileId: string; value: unknown }> {
    let after: string | undefined;
    for (;;) {
      const page = this.db.history.membersAt(space, definitionId, version, t, { limit: 1000, ...(after === undefined ? {} : { after }) }, this.#options);
      for (const m of page.members) yield { profileId: m.profileId, value: m.value };
      if (!page.hasMore || page.members.length === 0) return;
      after = page.members.at(-1)!.profileId;
    }
  }

  /** A profile's value of a definition version at instant `t` (undefined: none; audiences: true when a member). */
  valueAt(space: string, definitionId: string, version: number, profileId: string, t: number): unknown {
    return this.db.history.valueAt(space, definitionId, version, profileId, t, this.#options);
  }

  /** Ends the read transaction (LMDB can then reuse the pages it pinned). Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.txn.done();
  }
}
