/** The engine's LMDB checkpoint: profile state, timers, outputs index, outbox, input position and watermark, committed in one transaction. */
import { closeEnv } from './close-env.ts';
import { storageGuard, type StorageGuardConfig } from './storage-guard.ts';
import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { LogRecord } from '../log/append-log.ts';
import {
  identityProfileFromPlain,
  type AccountRecord,
  type AccountUserRecord,
  type AccountUsersReader,
  type IdentifierTuple,
  type IdentityProfileRecord,
  type IdentityReader,
  type IdentityWrites,
  type MergeRecord,
} from '../identity/records.ts';
import type { Change } from '../runtime/change.ts';
import { encodeChangeRecords } from '../runtime/change-records.ts';
import { aggregatesByFingerprint, collectionOf, nodeStateToPlain, profileCoreToPlain, profileFromParts, profileFromPlain, type NodeState, type ProfileState } from '../runtime/profile-state.ts';
import type { PendingEntry } from '../runtime/runtime.ts';
import { byKey, sortGrouped } from './keys.ts';
import { EventIndex } from '../history/event-index.ts';
import { HistoryStore } from '../history/history-store.ts';
import { writeHistory, type HistoryWrites } from '../history/history-writes.ts';
import { StoreSnapshot } from './store-snapshot.ts';
import { backfillProfileViews, VIEWS_META_KEY, viewFromPlain, viewToPlain, writeProfileViews, type ProfileViewRecord } from './profile-views.ts';

/**
 * Layout (keys sort by profile, so a checkpoint writes clustered keys — DESIGN §4):
 * - `profiles` [space, profileId] → the profile's core: traits, definition outputs and flips;
 * - `nodes`    [space, profileId, node fingerprint] → one node state (window aggregate, funnel
 *   instances): keys sort by profile, and a checkpoint writes only the nodes that changed;
 * - `timers`   [wake, space, profileId] → null: profiles with a pending timer, read at restart so a
 *   profile on disk still wakes on time;
 * - `published` [space, definitionId, profileId] → {v, at, version}: what the change log has been
 *   told — each definition's current members and trait values, written in the transaction that
 *   commits the changes to the outbox. The API lists an audience's members with a range read and
 *   reads a profile's memberships with point reads; a version switch applies only its difference
 *   over the rows of the previous version; a disabled definition's rows stay as they were;
 * - `held`     [space, definitionId, profileId] → {v, at, version} (v null: out / no value): the latest
 *   change of a BATCH definition per profile since its last run, published (as the difference to
 *   `published`) and cleared by the next run;
 * - `outbox`   seq → the change-log records of one checkpoint, until confirmed on the change log;
 * - `meta`     position, watermark, the open instant's pending profiles, outbox counters;
 * - `profile_views` [space, profileId] → the profile as served (store/profile-views.ts): custom traits,
 *   first/last seen, links, its `published` row of every definition, its identifiers — rewritten in
 *   the transaction that changes any of them, removed with the profile; built once at open for a store
 *   written before it existed (recorded in `meta`);
 * - the identity graph (engine/identity/README.md), written in the same transaction:
 *   `id_profiles` [space, profileId] → the profile's identifiers, account links, merge count, creation number;
 *   `id_owners` [space, type, value] → the canonical profile owning the identifier;
 *   `id_merges` [space, oldProfileId] → {into, at, messageId, eventType} (chains followed on lookup);
 *   `id_accounts` [space, groupId] → first seen; `id_account_users` [space, groupId, profileId] → linked at;
 *   `id_meta` [space] → the next profile creation number.
 * - membership history (`history`, `history_versions`, `history_sizes`, `history_meta`) and the
 *   per-profile event index (`profile_events`, `profile_merges`), also in the same transaction:
 *   engine/history/README.md.
 * Writes go in key order: LMDB appends sorted keys far faster than scattered ones.
 */

export type { PendingEntry } from '../runtime/runtime.ts';

export interface CheckpointMeta {
  /** the last event-log position applied. */
  readonly position: number;
  readonly watermark: number;
  readonly pending: readonly PendingEntry[];
  /** outbox records (one per checkpoint) up to this seq are on the change log. */
  readonly publishedThrough: number;
  readonly outboxNext: number;
  /** the log id (`<space>/<messageId>`) of the event at `position`: a restart checks the log still holds it. */
  readonly positionId?: string;
  /** a partitioned worker: per resolved partition, the order of the last record applied (records at or before it are duplicates). */
  readonly sources?: Readonly<Record<string, number>>;
}

export interface ProfileWrite {
  readonly state: ProfileState;
  /** the wake written by the previous checkpoint (its timer key is replaced). */
  readonly savedWake: number;
  /** absorbed by a merge: delete the record. */
  readonly removed?: boolean;
  /** the node states that changed since the last checkpoint (all of them when undefined). */
  readonly nodes?: ReadonlyArray<readonly [fingerprint: string, state: NodeState]>;
}

export interface CheckpointInput {
  readonly position: number;
  /** the log id of the event at `position` (undefined: unknown, the stored one is kept). */
  readonly positionId?: string | undefined;
  /** a partitioned worker's applied order per resolved partition (undefined: the stored ones are kept). */
  readonly sources?: Readonly<Record<string, number>> | undefined;
  readonly watermark: number;
  readonly profiles: readonly ProfileWrite[];
  readonly pending: readonly PendingEntry[];
  /** the changes (for the outputs index) … */
  readonly changes: readonly Change[];
  /**
   * … and the same changes encoded as change-log records: the outbox keeps these bytes. When left
   * out, the commit encodes them (`encodeChangeRecords` with `partitions`) and returns them.
   */
  readonly records?: readonly LogRecord[];
  /** the change log's partitions per space (for `records` left out; default 1). */
  readonly partitions?: number;
  /** outbox entries confirmed on the change log since the last checkpoint. */
  readonly publishedThrough: number;
  /** the identity graph's changes since the last checkpoint. */
  readonly identity?: IdentityWrites | undefined;
  /** membership history and the per-profile event index (engine/history). */
  readonly history?: HistoryWrites | undefined;
  /** BATCH definitions whose held changes a run published: their `held` rows are cleared first … */
  readonly releasedHeld?: ReadonlyArray<readonly [space: string, definitionId: string]>;
  /** … then the changes held since (last per profile wins). */
  readonly held?: readonly Change[];
}

/** One profile of a checkpoint as plain data (what a checkpoint writer thread receives). */
export interface PlainProfileWrite {
  readonly space: string;
  readonly id: string;
  /** the profile's core record (null when removed). */
  readonly core: unknown;
  /** the node states to write, as [fingerprint, plain state]. */
  readonly nodes: ReadonlyArray<readonly [string, unknown]>;
  /** fingerprints of node states to delete. */
  readonly dropped: readonly string[];
  readonly wake: number;
  readonly savedWake: number;
  readonly removed: boolean;
}

/**
 * A checkpoint as plain data: the profiles' states already turned into their stored records, so it
 * can be handed to another thread (a structured clone) and committed there while the engine goes on.
 */
export interface PlainCheckpoint extends Omit<CheckpointInput, 'profiles'> {
  readonly profiles: readonly PlainProfileWrite[];
}

/** What a commit did: the outbox seq of its changes (0: none) and their change-log records. */
export interface CommitResult {
  readonly seq: number;
  readonly records: readonly LogRecord[];
  /** the outbox value: the records packed (`packRecords`), as stored; empty when seq is 0. */
  readonly outbox: Uint8Array;
}

/**
 * Where the engine's checkpoints go: the store itself (in the engine's thread), or a writer thread
 * that owns the store's writes (`CheckpointWriter`) — then `pipelined`: the engine hands over a
 * checkpoint and goes on evaluating while it commits.
 */
export interface CheckpointSink {
  readonly pipelined: boolean;
  /**
   * Takes the checkpoint now (a pipelined sink copies it at once: the engine changes its states right
   * after); `commit()` commits it — called in checkpoint order, each after the one before is
   * committed, and again after a failure.
   */
  take(input: PlainCheckpoint): TakenCheckpoint;
}

export interface TakenCheckpoint {
  commit(): Promise<CommitResult>;
}

/**
 * A checkpoint's profiles as plain records, taken now (later evaluation may change the states):
 * the core, the changed node states (every node when `nodes` is undefined), the nodes a rebinding dropped.
 */
export function plainCheckpoint(input: CheckpointInput): PlainCheckpoint {
  return { ...input, profiles: input.profiles.map(plainProfileWrite) };
}

export function plainProfileWrite({ state, savedWake, removed, nodes }: ProfileWrite): PlainProfileWrite {
  const dropped = state.droppedNodes ?? [];
  delete state.droppedNodes;
  if (removed === true) return { space: state.space, id: state.id, core: null, nodes: [], dropped: [], wake: state.wake, savedWake, removed: true };
  return {
    space: state.space,
    id: state.id,
    core: profileCoreToPlain(state),
    nodes: [...(nodes ?? aggregatesByFingerprint(state))].map(([fp, node]) => [fp, nodeStateToPlain(node)] as const),
    dropped,
    wake: state.wake,
    savedWake,
    removed: false,
  };
}

export interface OutputRow {
  readonly profileId: string;
  readonly value: unknown;
  /** the instant of the change that set it. */
  readonly at: number;
  /** the definition version that published it. */
  readonly version: number;
}

/** A published value: membership `true` or a trait value, its instant and version. */
interface PublishedValue {
  readonly v: unknown;
  readonly at: number;
  readonly version: number;
}

export class CheckpointError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'CheckpointError';
  }
}

/** `profile_views`: msgpack with shared structures (trait objects decode as known records — a third faster than inline ones). */
const VIEWS_DB = { name: 'profile_views', sharedStructuresKey: Symbol.for('flock.structures') } as const;

const INITIAL_META: CheckpointMeta = {
  position: 0,
  watermark: Number.NEGATIVE_INFINITY,
  pending: [],
  publishedThrough: 0,
  outboxNext: 1,
};

/**
 * The outbox value: the change-log records of a checkpoint in one buffer — per record
 * `[id length u16][key length u16][data length u32][id][key][data]` — one copy instead of an encoder
 * walking every record.
 */
export function packRecords(records: readonly LogRecord[]): Buffer {
  let size = 0;
  const ids = records.map((r) => Buffer.from(r.id));
  const keys = records.map((r) => Buffer.from(r.key));
  for (let i = 0; i < records.length; i++) size += 8 + ids[i]!.length + keys[i]!.length + records[i]!.data.length;
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (let i = 0; i < records.length; i++) {
    const id = ids[i]!;
    const key = keys[i]!;
    const data = records[i]!.data;
    out.writeUInt16LE(id.length, o);
    out.writeUInt16LE(key.length, o + 2);
    out.writeUInt32LE(data.length, o + 4);
    o += 8;
    out.set(id, o);
    o += id.length;
    out.set(key, o);
    o += key.length;
    out.set(data, o);
    o += data.length;
  }
  return out;
}

/** `copy`: the data are copied out of `buffer` (an LMDB read may reuse its memory); false: views into it. */
export function unpackRecords(buffer: Uint8Array, copy = true): LogRecord[] {
  const b = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const out: LogRecord[] = [];
  for (let o = 0; o < b.length; ) {
    const idLength = b.readUInt16LE(o);
    const keyLength = b.readUInt16LE(o + 2);
    const dataLength = b.readUInt32LE(o + 4);
    o += 8;
    const id = b.toString('utf8', o, o + idLength);
    o += idLength;
    const key = b.toString('utf8', o, o + keyLength);
    o += keyLength;
    const data = b.subarray(o, o + dataLength);
    out.push({ id, key, data: copy ? Buffer.from(data) : data });
    o += dataLength;
  }
  return out;
}

export class CheckpointStore implements IdentityReader, AccountUsersReader, CheckpointSink {
  /** commits in the caller's thread: the caller waits for each. */
  readonly pipelined = false;
  readonly #env: RootDatabase;
  readonly #profiles: Database<unknown, [string, string]>;
  readonly #nodes: Database<unknown, [string, string, string]>;
  readonly #timers: Database<null, [number, string, string]>;
  readonly #published: Database<PublishedValue, [string, string, string]>;
  readonly #held: Database<PublishedValue, [string, string, string]>;
  readonly #outbox: Database<Buffer, number>;
  readonly #meta: Database<unknown, string>;
  readonly #idProfiles: Database<unknown, [string, string]>;
  readonly #idOwners: Database<string, [string, string, string]>;
  readonly #idMerges: Database<MergeRecord, [string, string]>;
  readonly #idAccounts: Database<AccountRecord, [string, string]>;
  readonly #idAccountUsers: Database<AccountUserRecord, [string, string, string]>;
  readonly #idMeta: Database<{ next: number }, [string]>;
  /** `profile_views`: opened at once by a writable store; by a read-only one once the engine has built them. */
  #views: Database<unknown, [string, string]> | undefined;
  #closed = false;
  readonly #checkSpace: () => void;
  /** membership history (engine/history/history-store.ts), in this environment. */
  readonly history: HistoryStore;
  /** the per-profile event index (engine/history/event-index.ts), in this environment. */
  readonly events: EventIndex;

  private constructor(readonly path: string, readOnly: boolean, storage: StorageGuardConfig | undefined) {
    mkdirSync(path, { recursive: true });
    this.#checkSpace = storageGuard(path, storage);
    this.#env = open({ path, compression: false, readOnly, maxDbs: 64 });
    const structures = { sharedStructuresKey: Symbol.for('flock.structures') };
    this.#profiles = this.#env.openDB({ name: 'profiles', ...structures });
    this.#nodes = this.#env.openDB({ name: 'nodes', ...structures });
    this.#timers = this.#env.openDB({ name: 'timers', encoding: 'msgpack' });
    this.#published = this.#env.openDB({ name: 'published', ...structures });
    this.#held = this.#env.openDB({ name: 'held', ...structures });
    this.#outbox = this.#env.openDB({ name: 'outbox', encoding: 'binary' });
    this.#meta = this.#env.openDB({ name: 'meta', encoding: 'msgpack' });
    this.#idProfiles = this.#env.openDB({ name: 'id_profiles', encoding: 'msgpack' });
    this.#idOwners = this.#env.openDB({ name: 'id_owners', encoding: 'msgpack' });
    this.#idMerges = this.#env.openDB({ name: 'id_merges', encoding: 'msgpack' });
    this.#idAccounts = this.#env.openDB({ name: 'id_accounts', encoding: 'msgpack' });
    this.#idAccountUsers = this.#env.openDB({ name: 'id_account_users', encoding: 'msgpack' });
    this.#idMeta = this.#env.openDB({ name: 'id_meta', encoding: 'msgpack' });
    this.history = new HistoryStore(this.#env);
    this.events = new EventIndex(this.#env);
    if (!readOnly) this.#openViews();
  }

  // Profile views (store/profile-views.ts) ------------------------------------------------------

  /** Opens `profile_views`; a writable store builds them once for a store written before they existed. */
  #openViews(): void {
    const views = this.#env.openDB<unknown, [string, string]>(VIEWS_DB);
    if (this.#meta.get(VIEWS_META_KEY) === undefined) {
      this.#env.transactionSync(() => {
        const profiles = backfillProfileViews({ views, idProfiles: this.#idProfiles, profiles: this.#profiles, published: this.#published });
        this.#meta.put(VIEWS_META_KEY, { v: 1, backfilled: profiles });
      });
    }
    this.#views = views;
  }

  /** `profile_views`, or undefined while a read-only store sees a store whose engine has not built them yet. */
  #viewDb(): Database<unknown, [string, string]> | undefined {
    if (this.#views === undefined && this.#meta.get(VIEWS_META_KEY) !== undefined) this.#views = this.#env.openDB(VIEWS_DB);
    return this.#views;
  }

  /** Whether every profile has its view (false only for a read-only handle on a store not yet opened by this build's engine). */
  hasProfileViews(): boolean {
    return this.#viewDb() !== undefined;
  }

  /** The profile as served (one point read), or undefined when it has no state (or views are not built: `hasProfileViews`). */
  profileView(space: string, id: string): ProfileViewRecord | undefined {
    const plain = this.#viewDb()?.get([space, id]);
    return plain === undefined ? undefined : viewFromPlain(plain);
  }

  /**
   * Opens (creating) the store at `path`. `readOnly` handles serve the API beside a running engine;
   * `storage`: the free-space reserve below which a commit is refused (CheckpointError caused by StorageFullError).
   */
  static open(path: string, options: { readOnly?: boolean; storage?: StorageGuardConfig | undefined } = {}): CheckpointStore {
    return new CheckpointStore(path, options.readOnly ?? false, options.storage);
  }

  meta(): CheckpointMeta {
    // (read-only, an environment whose process was killed while creating it has no databases: lmdb
    // opens none, and there is no checkpoint)
    const meta = this.#meta as Database<unknown, string> | undefined;
    return (meta?.get('checkpoint') as CheckpointMeta | undefined) ?? INITIAL_META;
  }

  loadProfile(space: string, id: string): ProfileState | undefined {
    const plain = this.#profiles.get([space, id]);
    if (plain === undefined) return undefined;
    return profileFromParts(plain, this.#nodeRange(space, id));
  }

  /**
   * A profile without its node states — traits, definition outputs, first and last seen: what the
   * Profile API reads. One point read; the node records (window and funnel state) are neither read
   * nor decoded.
   */
  loadProfileCore(space: string, id: string): ProfileState | undefined {
    const plain = this.#profiles.get([space, id]);
    return plain === undefined ? undefined : profileFromPlain(plain);
  }

  /** The node records of one profile (`[space, id, *]`: the key after every node of `id` is `id + "\0"`). */
  *#nodeRange(space: string, id: string): Iterable<[string, unknown]> {
    for (const { key, value } of this.#nodes.getRange({ start: [space, id], end: [space, `${id}\u0000`] })) yield [key[2], value];
  }

  /** Every profile with a timer, earliest first. */
  *timers(): Iterable<{ wake: number; space: string; id: string }> {
    for (const { key } of this.#timers.getRange({})) yield { wake: key[0], space: key[1], id: key[2] };
  }

  /** Outbox entries (the change-log records of one checkpoint each) not yet confirmed on the change log, in order. */
  unpublished(): Array<{ seq: number; records: LogRecord[] }> {
    const from = this.meta().publishedThrough + 1;
    return [...this.#outbox.getRange({ start: from })].map(({ key, value }) => ({ seq: key, records: unpackRecords(value) }));
  }

  /** Current members / values of one definition (as published), ordered by profile id, after `after`. */
  outputs(space: string, definitionId: string, options: { after?: string; limit?: number; prefix?: string } = {}): OutputRow[] {
    const limit = options.limit ?? 100;
    const rows: OutputRow[] = [];
    const prefix = options.prefix ?? '';
    const from = options.after !== undefined && options.after > prefix ? options.after : prefix;
    // (a prefix ends before the first id that does not start with it: prefix + U+FFFF, near enough for ids)
    const end: [string, string, string] = prefix === '' ? [space, `${definitionId}\u0000`, ''] : [space, definitionId, `${prefix}\uffff`];
    for (const { key, value } of this.#published.getRange({ start: [space, definitionId, from], end })) {
      if (options.after !== undefined && key[2] === options.after) continue;
      rows.push({ profileId: key[2], value: value.v, at: value.at, version: value.version });
      if (rows.length >= limit) break;
    }
    return rows;
  }

  /** Every member / value of one definition as published (for a version switch's difference). */
  *allOutputs(space: string, definitionId: string): Iterable<{ profileId: string; value: unknown }> {
    for (const { key, value } of this.#published.getRange({ start: [space, definitionId, ''], end: [space, `${definitionId}\u0000`, ''] })) {
      yield { profileId: key[2], value: value.v };
    }
  }

  /** One profile's published value of one definition (membership: true), or undefined. */
  output(space: string, definitionId: string, profileId: string): OutputRow | undefined {
    const value = this.#published.get([space, definitionId, profileId]);
    return value === undefined ? undefined : { profileId, value: value.v, at: value.at, version: value.version };
  }

  /** The changes held for a BATCH definition's next run: profile id → value (null: out / no value). */
  *heldOutputs(space: string, definitionId: string): Iterable<{ profileId: string; value: unknown; at: number; version: number }> {
    for (const { key, value } of this.#held.getRange({ start: [space, definitionId, ''], end: [space, `${definitionId}\u0000`, ''] })) {
      yield { profileId: key[2], value: value.v, at: value.at, version: value.version };
    }
  }

  /** Number of members / valued profiles of one definition. */
  outputCount(space: string, definitionId: string): number {
    return this.#published.getKeysCount({ start: [space, definitionId, ''], end: [space, `${definitionId}\u0000`, ''] });
  }

  // The identity graph (IdentityReader): what the last checkpoint committed. ------------------

  identifierOwner(space: string, type: string, value: string): string | undefined {
    return this.#idOwners.get([space, type, value]);
  }

  identityProfile(space: string, id: string): IdentityProfileRecord | undefined {
    const plain = this.#idProfiles.get([space, id]);
    return plain === undefined ? undefined : identityProfileFromPlain(plain);
  }

  identityMerge(space: string, id: string): MergeRecord | undefined {
    return this.#idMerges.get([space, id]);
  }

  identityCounter(space: string): number {
    return this.#idMeta.get([space])?.next ?? 0;
  }

  account(space: string, groupId: string): AccountRecord | undefined {
    return this.#idAccounts.get([space, groupId]);
  }

  accountUsers(space: string, groupId: string): Array<{ profileId: string; record: AccountUserRecord }> {
    return [...this.#idAccountUsers.getRange({ start: [space, groupId, ''], end: [space, `${groupId}\u0000`, ''] })]
      .filter(({ key }) => key[1] === groupId)
      .map(({ key, value }) => ({ profileId: key[2], record: value }));
  }

  #writeIdentity(w: IdentityWrites): void {
    for (const { key, record } of byKey(w.profiles.map((p) => ({ key: [p.space, p.id] as [string, string], record: p.record })))) {
      if (record === null) this.#idProfiles.remove(key);
      else this.#idProfiles.put(key, record);
    }
    for (const { key, profileId } of byKey(w.identifiers.map((i) => ({ key: [i.space, i.type, i.value] as [string, string, string], profileId: i.profileId })))) {
      this.#idOwners.put(key, profileId);
    }
    for (const { key, record } of byKey(w.merges.map((m) => ({ key: [m.space, m.from] as [string, string], record: m.record })))) this.#idMerges.put(key, record);
    for (const { key, record } of byKey(w.accounts.map((a) => ({ key: [a.space, a.groupId] as [string, string], record: a.record })))) this.#idAccounts.put(key, record);
    for (const { key, record } of byKey(w.accountUsers.map((u) => ({ key: [u.space, u.groupId, u.profileId] as [string, string, string], record: u.record })))) {
      if (record === null) this.#idAccountUsers.remove(key);
      else this.#idAccountUsers.put(key, record);
    }
    for (const { space, next } of w.counters) this.#idMeta.put([space], { next });
  }

  /**
   * Commits one checkpoint in a single LMDB transaction and resolves when it is durable. The
   * checkpoint's changes become one outbox record; returns its seq (0 when there were none).
   */
  async commit(input: CheckpointInput): Promise<number> {
    return (await this.commitPlain(plainCheckpoint(input))).seq;
  }

  /** In this thread: nothing to copy, the caller waits for each commit before it changes anything. */
  take(input: PlainCheckpoint): TakenCheckpoint {
    return { commit: () => this.commitPlain(input) };
  }

  /** `commit` of a checkpoint already in plain form; also returns its change-log records. */
  async commitPlain(input: PlainCheckpoint): Promise<CommitResult> {
    if (this.#closed) throw new CheckpointError('checkpoint store is closed', { cause: undefined });
    // before anything is written or taken from `input`: a refused commit can be retried with the same input
    try {
      this.#checkSpace();
    } catch (cause) {
      throw new CheckpointError(`checkpoint commit refused: ${(cause as Error).message}`, { cause });
    }
    // The outbox seq and the meta this commit builds on are read inside its transaction: a read
    // before it may see a snapshot from before the previous commit (a writer thread commits one
    // checkpoint right after another).
    let seq = 0;
    let outbox: Uint8Array = new Uint8Array(0);
    // The outputs index after this checkpoint: last change per key wins, written in key order.
    const outputs = new Map<string, { key: [string, string, string]; value: PublishedValue | null }>();
    for (const c of input.changes) {
      const key: [string, string, string] = [c.space, c.definitionId, c.profileId];
      const value = c.kind === 'trait' ? (c.value === undefined ? null : { v: c.value, at: c.at, version: c.version }) : c.kind === 'enter' ? { v: true, at: c.at, version: c.version } : null;
      outputs.set(`${c.space}\u0000${c.definitionId}\u0000${c.profileId}`, { key, value });
    }
    const outputWrites = sortGrouped([...outputs.values()], (w) => `${w.key[0]}\u0000${w.key[1]}`, (w) => w.key[2]);
    const held = new Map<string, { key: [string, string, string]; value: PublishedValue }>();
    for (const c of input.held ?? []) {
      const value = c.kind === 'trait' ? (c.value === undefined ? null : c.value) : c.kind === 'enter' ? true : null;
      held.set(`${c.space}\u0000${c.definitionId}\u0000${c.profileId}`, { key: [c.space, c.definitionId, c.profileId], value: { v: value, at: c.at, version: c.version } });
    }
    const heldWrites = byKey([...held.values()]);
    const profileWrites = [...input.profiles].sort((a, b) => (a.space < b.space ? -1 : a.space > b.space ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const records = input.records ?? (input.changes.length === 0 ? [] : encodeChangeRecords(input.changes, input.partitions ?? 1));
    try {
      await this.#env.transaction(() => {
        const before = this.meta();
        seq = input.changes.length === 0 ? 0 : before.outboxNext;
        for (const { space, id, core, nodes, dropped, wake, savedWake, removed } of profileWrites) {
          if (removed) {
            this.#profiles.remove([space, id]);
            for (const [fp] of this.#nodeRange(space, id)) this.#nodes.remove([space, id, fp]);
            if (Number.isFinite(savedWake)) this.#timers.remove([savedWake, space, id]);
            continue;
          }
          this.#profiles.put([space, id], core);
          for (const [fp, node] of nodes) this.#nodes.put([space, id, fp], node);
          for (const fp of dropped) this.#nodes.remove([space, id, fp]);
          if (savedWake !== wake) {
            if (Number.isFinite(savedWake)) this.#timers.remove([savedWake, space, id]);
            if (Number.isFinite(wake)) this.#timers.put([wake, space, id], null);
          }
        }
        if (input.identity !== undefined) this.#writeIdentity(input.identity);
        if (input.history !== undefined) writeHistory(this.history, this.events, input.history);
        for (const { key, value } of outputWrites) {
          if (value === null) this.#published.remove(key);
          else this.#published.put(key, value);
        }
        for (const [space, definitionId] of input.releasedHeld ?? []) {
          for (const key of [...this.#held.getKeys({ start: [space, definitionId, ''], end: [space, `${definitionId}\u0000`, ''] })]) this.#held.remove(key);
        }
        for (const { key, value } of heldWrites) this.#held.put(key, value);
        if (this.#views !== undefined) writeProfileViews({ views: this.#views, idProfiles: this.#idProfiles }, { profiles: profileWrites, outputs: outputWrites, identity: input.identity?.profiles });
        if (seq !== 0) this.#outbox.put(seq, (outbox = packRecords(records)));
        for (let s = before.publishedThrough + 1; s <= input.publishedThrough; s++) this.#outbox.remove(s);
        const positionId = input.positionId ?? (input.position === before.position ? before.positionId : undefined);
        const sources = input.sources ?? before.sources;
        const meta: CheckpointMeta = {
          ...(positionId === undefined ? {} : { positionId }),
          ...(sources === undefined ? {} : { sources }),
          position: input.position,
          watermark: input.watermark,
          pending: input.pending,
          publishedThrough: Math.max(before.publishedThrough, input.publishedThrough),
          outboxNext: seq === 0 ? before.outboxNext : seq + 1,
        };
        this.#meta.put('checkpoint', meta);
      });
    } catch (cause) {
      throw new CheckpointError(`checkpoint commit failed: ${(cause as Error).message}`, { cause });
    }
    return { seq, records, outbox };
  }

  /**
   * A consistent read view: one pinned read transaction (one checkpoint) for a reader that spans
   * many event-loop turns, e.g. a CSV export. The caller must `release()` it.
   */
  snapshot(): StoreSnapshot {
    if (this.#closed) throw new CheckpointError('checkpoint store is closed', { cause: undefined });
    // (views first: opening their db on a read-only handle resets the thread's read transaction, which
    // would end a transaction pinned before it — "No transaction to renew")
    const views = this.#viewDb();
    return new StoreSnapshot(this.#env.useReadTransaction(), { published: this.#published, profiles: this.#profiles, idProfiles: this.#idProfiles, meta: this.#meta, history: this.history, views });
  }

  /**
   * Copies the whole environment into directory `dir` (as its `data.mdb`): LMDB copies it in one read
   * transaction — one checkpoint, state and position together — while commits go on: a worker's
   * snapshot (engine/cluster/snapshot.ts). Not compacted: lmdb-js's compacting copy gave an environment
   * whose next write failed an assertion in mdb_page_alloc here (kriszyp/lmdb-js#198).
   */
  async backup(dir: string): Promise<void> {
    if (this.#closed) throw new CheckpointError('checkpoint store is closed', { cause: undefined });
    mkdirSync(dir, { recursive: true });
    await this.#env.backup(dir, false);
  }

  /** Number of profiles (users and accounts) stored in `space`. */
  profileCount(space: string): number {
    return this.#profiles.getKeysCount({ start: [space, ''], end: [`${space}\u0000`, ''] });
  }

  /** The ids of the profiles stored in `space`, in key order. */
  *profileIds(space: string): Iterable<string> {
    for (const key of this.#profiles.getKeys({ start: [space, ''], end: [`${space}\u0000`, ''] })) yield key[1];
  }

  /**
   * Bench only (`npm run bench:scale`): grows the store by cloning every user profile of `space`
   * `copies` times, so a restart can be measured over far more profiles than the engine could build in
   * the time. Each clone gets its core (id renamed, account links dropped), node states, timer,
   * published outputs, identity record and profile view, and owns a renamed copy of each identifier its original
   * owns (`identifier(value, copy)`), so events can reach it; records are decoded and re-encoded
   * through this store's handles (shared msgpack structures stay valid), in sorted batches. Not cloned:
   * account profiles, merge records, membership history, the event index. A store with identity
   * records and no profile state (the identity stage's, `npm run bench:takeover`) has the user
   * profiles of its graph cloned — identity records and identifiers only — under the same ids a
   * worker's store gives their states, so events the clones send resolve to them. Returns the clones written.
   */
  async cloneProfiles(o: {
    readonly space: string;
    readonly copies: number;
    readonly profileId: (id: string, copy: number) => string;
    readonly identifier: (value: string, copy: number) => string;
    readonly progress?: (written: number) => void;
  }): Promise<number> {
    const { space } = o;
    const originals: Array<{ id: string; core: Record<string, unknown> | undefined; nodes: Array<[string, unknown]>; identity: unknown; view: unknown }> = [];
    for (const { key, value } of this.#profiles.getRange({ start: [space, ''], end: [`${space}\u0000`, ''] })) {
      if (collectionOf(key[1]) !== 'users') continue;
      originals.push({ id: key[1], core: value as Record<string, unknown>, nodes: [...this.#nodeRange(space, key[1])], identity: this.#idProfiles.get([space, key[1]]), view: this.#views?.get([space, key[1]]) });
    }
    // (no profile state: the identity stage's store — its graph's user profiles)
    if (originals.length === 0) {
      for (const { key, value } of this.#idProfiles.getRange({ start: [space, ''], end: [`${space}\u0000`, ''] })) {
        if (collectionOf(key[1]) === 'users') originals.push({ id: key[1], core: undefined, nodes: [], identity: value, view: undefined });
      }
    }
    const cloned = new Set(originals.map((p) => p.id));
    const owners = [...this.#idOwners.getRange({ start: [space, '', ''], end: [`${space}\u0000`, '', ''] })].filter(({ value }) => cloned.has(value));
    const published = [...this.#published.getRange({ start: [space, '', ''], end: [`${space}\u0000`, '', ''] })].filter(({ key }) => cloned.has(key[2]));
    // Creation numbers (a merge keeps the earliest-created profile): copy k of a profile is numbered
    // its original's number + k × the space's counter, so clones keep their originals' order.
    const counter = this.identityCounter(space);
    let written = 0;
    const BATCH = 20_000; // records per transaction
    const write = (batch: () => void) => this.#env.transaction(batch);
    for (let copy = 1; copy <= o.copies; copy++) {
      const ids = new Map(originals.map((p) => [p.id, o.profileId(p.id, copy)]));
      const profiles = originals.map((p) => ({ p, id: ids.get(p.id)! })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      for (let from = 0; from < profiles.length; ) {
        let to = from;
        for (let n = 0; n < BATCH && to < profiles.length; to++) n += 2 + profiles[to]!.p.nodes.length;
        const chunk = profiles.slice(from, to);
        await write(() => {
          for (const { p, id } of chunk) {
            if (p.core !== undefined) {
              this.#profiles.put([space, id], { ...p.core, id, links: [] });
              for (const [fp, node] of p.nodes) this.#nodes.put([space, id, fp], node);
              const wake = p.core['wake'] as number;
              if (Number.isFinite(wake)) this.#timers.put([wake, space, id], null);
            }
            const record = p.identity as IdentityProfileRecord | undefined;
            if (record !== undefined) {
              this.#idProfiles.put([space, id], { ...record, c: record.c + copy * counter, ids: cloneIds(record.ids, copy, o.identifier), groups: [] });
            }
            if (p.view !== undefined) this.#views?.put([space, id], cloneView(p.view, copy, o.identifier));
          }
          this.#idMeta.put([space], { next: (copy + 1) * counter });
        });
        from = to;
        written += chunk.length;
        o.progress?.(written);
      }
      const ownerRows = byKey(owners.map(({ key, value }) => ({ key: [space, key[1], o.identifier(key[2], copy)] as [string, string, string], value: ids.get(value)! })));
      const publishedRows = byKey(published.map(({ key, value }) => ({ key: [space, key[1], ids.get(key[2])!] as [string, string, string], value })));
      for (let i = 0; i < ownerRows.length; i += BATCH) {
        const rows = ownerRows.slice(i, i + BATCH);
        await write(() => rows.forEach((r) => this.#idOwners.put(r.key, r.value)));
      }
      for (let i = 0; i < publishedRows.length; i += BATCH) {
        const rows = publishedRows.slice(i, i + BATCH);
        await write(() => rows.forEach((r) => this.#published.put(r.key, r.value)));
      }
    }
    return written;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await closeEnv(this.#env);
  }
}

/** A clone's view (cloneProfiles): its original's, with the clone's identifiers and no account links (as its core). */
function cloneView(plain: unknown, copy: number, identifier: (value: string, copy: number) => string): unknown[] {
  const view = viewFromPlain(plain);
  return viewToPlain({ ...view, links: [], ids: view.ids === null ? null : cloneIds(view.ids, copy, identifier) });
}

/** A clone's identifiers: each value (and spelling) renamed for copy `copy`. */
function cloneIds(ids: readonly IdentifierTuple[], copy: number, identifier: (value: string, copy: number) => string): IdentifierTuple[] {
  return ids.map(([type, value, at, messageId, sourceId, raw]): IdentifierTuple => [type, identifier(value, copy), at, messageId, sourceId, raw === null ? null : identifier(raw, copy)]);
}
