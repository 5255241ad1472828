/**
 * The destination store: destinations, their connections, each destination's delivery cursor and
 * status, connection backfills, list-sync state and the dead letters, in an LMDB environment of its
 * own (`<dataDir>/destinations`). The API thread writes destinations and connections; the delivery
 * worker writes cursors, status, dead letters and the identifiers each profile's values went to. Every configuration write bumps a revision the
 * worker polls.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { newId } from '../definitions/definition-id.ts';
import { closeEnv } from '../store/close-env.ts';
import type { ConnectionRecord, DestinationRecord } from './destination-record.ts';

export type DestinationErrorCode = 'not_found' | 'connection_exists' | 'dead_letter_not_found';

/** A user mistake against the store (an unknown id, a second connection of one definition): data with a code. */
export class DestinationError extends Error {
  constructor(
    readonly code: DestinationErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DestinationError';
  }
}

/** Where a destination's delivery stands; written by the delivery worker. */
export interface DestinationStatus {
  /** events acknowledged by the receiver. */
  readonly delivered: number;
  /** events dead-lettered after their last attempt. */
  readonly failed: number;
  /** events in a batch waiting to be retried right now. */
  readonly retrying: number;
  /** requests made (every attempt). */
  readonly requests: number;
  /** why and when delivery paused, and the destination's resume count then. */
  readonly paused: { readonly reason: string; readonly at: number; readonly resumes: number } | null;
  readonly lastError: { readonly message: string; readonly at: number } | null;
  /** wall time the cursor last advanced. */
  readonly advancedAt: number | null;
  /** list destinations: the last completed sync (wall time). */
  readonly lastSyncAt: number | null;
  /**
   * event destinations: when the last complete identifier sweep started (wall time) — every
   * identifier a profile had gained by then has its profile's current values (identifier-ledger.ts).
   */
  readonly identifiersCheckedAt: number | null;
}

export const EMPTY_STATUS: DestinationStatus = { delivered: 0, failed: 0, retrying: 0, requests: 0, paused: null, lastError: null, advancedAt: null, lastSyncAt: null, identifiersCheckedAt: null };

/** A connection's backfill: the change-log position it started at, the last profile sent, done. */
export interface BackfillState {
  readonly fromSeq: number;
  readonly after: string | null;
  readonly done: boolean;
}

/** A batch that failed its last attempt: the messages, why, and how often it was tried. */
export interface DeadLetter {
  readonly id: number;
  readonly destinationId: string;
  readonly messages: readonly unknown[];
  readonly error: string;
  readonly attempts: number;
  readonly at: number;
}

export type NewDestination = Omit<DestinationRecord, 'id' | 'createdAt' | 'updatedAt'>;
export type NewConnection = Omit<ConnectionRecord, 'id' | 'createdAt'>;

export class DestinationStore {
  readonly path: string;
  readonly #env: RootDatabase;
  readonly #destinations: Database<DestinationRecord, string>;
  readonly #connections: Database<ConnectionRecord, string>;
  readonly #cursors: Database<number, string>;
  readonly #status: Database<DestinationStatus, string>;
  readonly #backfills: Database<BackfillState, string>;
  /** [destinationId, id] → dead letter. */
  readonly #dead: Database<DeadLetter, [string, number]>;
  /** [destinationId, profileId] → the identifiers (`type:value`, one per line) the profile's values were sent to. */
  readonly #sent: Database<string, [string, string]>;
  /**
   * [destinationId, profileId] → the identifiers a step about to send may reach before its ledger
   * entries are committed (written ahead of the send, dropped once the ledger covers them): after a
   * crash between the receiver's acknowledgement and the commit, a profile merged away meanwhile
   * still knows where its values went (merged-away.ts). Not the ledger itself: a resend that never
   * went out must still be due after the restart.
   */
  readonly #attempted: Database<string, [string, string]>;
  /** [connectionId, value] → 1: the list a list destination holds after its last sync. */
  readonly #listed: Database<number, [string, string]>;
  readonly #meta: Database<number, string>;
  readonly #clock: () => number;

  private constructor(path: string, clock: () => number) {
    this.path = resolve(path);
    mkdirSync(this.path, { recursive: true });
    this.#env = open({ path: this.path, compression: false, maxDbs: 16 });
    this.#destinations = this.#env.openDB({ name: 'destinations', encoding: 'msgpack' });
    this.#connections = this.#env.openDB({ name: 'connections', encoding: 'msgpack' });
    this.#cursors = this.#env.openDB({ name: 'cursors', encoding: 'msgpack' });
    this.#status = this.#env.openDB({ name: 'status', encoding: 'msgpack' });
    this.#backfills = this.#env.openDB({ name: 'backfills', encoding: 'msgpack' });
    this.#dead = this.#env.openDB({ name: 'dead_letters', encoding: 'msgpack' });
    this.#listed = this.#env.openDB({ name: 'listed', encoding: 'msgpack' });
    this.#sent = this.#env.openDB({ name: 'sent_identifiers', encoding: 'string' });
    this.#attempted = this.#env.openDB({ name: 'attempted_identifiers', encoding: 'string' });
    this.#meta = this.#env.openDB({ name: 'meta', encoding: 'msgpack' });
    this.#clock = clock;
  }

  /** Opens (creating) the store at `path`; the API thread and the delivery worker each open it. */
  static open(path: string, options: { clock?: () => number } = {}): DestinationStore {
    return new DestinationStore(path, options.clock ?? Date.now);
  }

  static pathIn(dataDir: string): string {
    return join(dataDir, 'destinations');
  }

  /** Grows with every destination or connection write (the worker reloads when it moves). */
  revision(): number {
    return this.#meta.get('revision') ?? 0;
  }

  // destinations ---------------------------------------------------------------------------------

  async createDestination(input: NewDestination): Promise<DestinationRecord> {
    const now = this.#clock();
    const record: DestinationRecord = { ...input, id: newId('dst', now), createdAt: now, updatedAt: now };
    await this.#env.transaction(() => {
      this.#destinations.putSync(record.id, record);
      this.#bump();
    });
    return record;
  }

  destination(space: string, id: string): DestinationRecord | undefined {
    const record = this.#destinations.get(id);
    return record?.space === space ? record : undefined;
  }

  /** Every destination (of one space, or all), in creation order. */
  destinations(space?: string): DestinationRecord[] {
    const out: DestinationRecord[] = [];
    for (const { value } of this.#destinations.getRange({})) if (space === undefined || value.space === space) out.push(value);
    return out;
  }

  async updateDestination(space: string, id: string, change: (current: DestinationRecord) => DestinationRecord): Promise<DestinationRecord> {
    let updated: DestinationRecord | undefined;
    await this.#env.transaction(() => {
      const current = this.destination(space, id);
      if (current === undefined) return;
      updated = { ...change(current), id, space, createdAt: current.createdAt, updatedAt: this.#clock() };
      this.#destinations.putSync(id, updated);
      this.#bump();
    });
    if (updated === undefined) throw new DestinationError('not_found', `no destination ${id} in space ${space}`);
    return updated;
  }

  /** Deletes a destination with its connections, cursor, status and dead letters. */
  async deleteDestination(space: string, id: string): Promise<void> {
    let found = false;
    await this.#env.transaction(() => {
      if (this.destination(space, id) === undefined) return;
      found = true;
      for (const c of this.connections(id)) this.#removeConnection(c.id);
      this.#destinations.removeSync(id);
      this.#cursors.removeSync(id);
      this.#status.removeSync(id);
      for (const db of [this.#sent, this.#attempted]) for (const { key } of db.getRange({ start: [id, ''], end: [`${id}\u0000`, ''] })) db.removeSync(key);
      for (const owner of [id, `${id}#replay`]) {
        for (const { key } of this.#dead.getRange({ start: [owner, 0], end: [owner, Number.MAX_SAFE_INTEGER] })) this.#dead.removeSync(key);
      }
      this.#bump();
    });
    if (!found) throw new DestinationError('not_found', `no destination ${id} in space ${space}`);
  }

  // connections ----------------------------------------------------------------------------------

  async createConnection(input: NewConnection): Promise<ConnectionRecord> {
    const now = this.#clock();
    const record: ConnectionRecord = { ...input, id: newId('dcn', now), createdAt: now };
    let problem: DestinationError | undefined;
    await this.#env.transaction(() => {
      if (this.destination(input.space, input.destinationId) === undefined) {
        problem = new DestinationError('not_found', `no destination ${input.destinationId} in space ${input.space}`);
        return;
      }
      const twin = this.connections(input.destinationId).find((c) => c.definitionId === input.definitionId);
      if (twin !== undefined) {
        problem = new DestinationError('connection_exists', `${input.definitionId} is already connected to ${input.destinationId} (connection ${twin.id})`);
        return;
      }
      this.#connections.putSync(record.id, record);
      this.#bump();
    });
    if (problem !== undefined) throw problem;
    return record;
  }

  connection(destinationId: string, id: string): ConnectionRecord | undefined {
    const record = this.#connections.get(id);
    return record?.destinationId === destinationId ? record : undefined;
  }

  /** A destination's connections, in creation order. */
  connections(destinationId: string): ConnectionRecord[] {
    const out: ConnectionRecord[] = [];
    for (const { value } of this.#connections.getRange({})) if (value.destinationId === destinationId) out.push(value);
    return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  async deleteConnection(destinationId: string, id: string): Promise<void> {
    let found = false;
    await this.#env.transaction(() => {
      if (this.connection(destinationId, id) === undefined) return;
      found = true;
      this.#removeConnection(id);
      this.#bump();
    });
    if (!found) throw new DestinationError('not_found', `no connection ${id} of destination ${destinationId}`);
  }

  #removeConnection(id: string): void {
    this.#connections.removeSync(id);
    this.#backfills.removeSync(id);
    for (const { key } of this.#listed.getRange({ start: [id, ''], end: [`${id}\u0000`, ''] })) this.#listed.removeSync(key);
  }

  // delivery state (the worker's) ---------------------------------------------------------------

  /** The last change-log position delivered (undefined before the destination first ran). */
  cursor(destinationId: string): number | undefined {
    return this.#cursors.get(destinationId);
  }

  backfill(connectionId: string): BackfillState | undefined {
    return this.#backfills.get(connectionId);
  }

  status(destinationId: string): DestinationStatus {
    // (a status stored before a field existed reads it as empty)
    return { ...EMPTY_STATUS, ...this.#status.get(destinationId) };
  }

  /**
   * Commits delivery progress in one transaction: the cursor, the identifier ledger, backfill states and the status. A
   * destination deleted meanwhile is left deleted (nothing is written for it).
   */
  async saveProgress(
    destinationId: string,
    p: { cursor?: number; backfills?: ReadonlyArray<readonly [string, BackfillState]>; status?: DestinationStatus; sent?: ReadonlyMap<string, string[]> },
  ): Promise<void> {
    await this.#env.transaction(() => {
      if (this.#destinations.get(destinationId) === undefined) return;
      if (p.cursor !== undefined) this.#cursors.putSync(destinationId, p.cursor);
      // the identifier ledger with the cursor: a merged-away profile's last changes go to the
      // identifiers it records (merged-away.ts), so it must never be behind what was delivered
      for (const [profileId, identifiers] of p.sent ?? []) {
        this.#sent.putSync([destinationId, profileId], identifiers.join('\n'));
        const attempted = this.#attempted.get([destinationId, profileId]);
        if (attempted !== undefined && (attempted === '' || attempted.split('\n').every((k) => identifiers.includes(k)))) this.#attempted.removeSync([destinationId, profileId]);
      }
      for (const [id, state] of p.backfills ?? []) if (this.#connections.get(id) !== undefined) this.#backfills.putSync(id, state);
      if (p.status !== undefined) this.#status.putSync(destinationId, p.status);
    });
  }

  /** The identifiers (`type:value`) a profile's values were last sent to by this destination. */
  sentIdentifiers(destinationId: string, profileId: string): string[] | undefined {
    const text = this.#sent.get([destinationId, profileId]);
    return text === undefined ? undefined : text === '' ? [] : text.split('\n');
  }

  /** Written ahead of a send: the identifiers it may reach for each profile (added to what is noted; saveProgress drops what its ledger covers). */
  async noteAttempted(destinationId: string, entries: ReadonlyMap<string, readonly string[]>): Promise<void> {
    if (entries.size === 0) return;
    await this.#env.transaction(() => {
      for (const [profileId, identifiers] of entries) {
        const before = this.#attempted.get([destinationId, profileId]);
        const all = before === undefined || before === '' ? identifiers : [...new Set([...before.split('\n'), ...identifiers])].sort();
        this.#attempted.putSync([destinationId, profileId], all.join('\n'));
      }
    });
  }

  /** The identifiers a send not yet committed may have reached (noteAttempted), or undefined. */
  attemptedIdentifiers(destinationId: string, profileId: string): string[] | undefined {
    const text = this.#attempted.get([destinationId, profileId]);
    return text === undefined ? undefined : text === '' ? [] : text.split('\n');
  }

  /** A page of the identifier ledger, by profile id after `after` (null: from the start): the profiles this destination sent values to, with their identifiers. */
  sentPage(destinationId: string, after: string | null, limit: number): Array<readonly [profileId: string, identifiers: string[]]> {
    const out: Array<readonly [string, string[]]> = [];
    for (const { key, value } of this.#sent.getRange({ start: [destinationId, after ?? ''], end: [`${destinationId}\u0000`, ''] })) {
      const profileId = String((key as unknown[])[1]);
      if (after !== null && profileId === after) continue;
      out.push([profileId, value === '' ? [] : String(value).split('\n')]);
      if (out.length >= limit) break;
    }
    return out;
  }

  async addDeadLetter(letter: Omit<DeadLetter, 'id'>): Promise<DeadLetter> {
    let stored: DeadLetter | undefined;
    await this.#env.transaction(() => {
      const id = (this.#meta.get('deadLetterSeq') ?? 0) + 1;
      this.#meta.putSync('deadLetterSeq', id);
      stored = { ...letter, id };
      this.#dead.putSync([letter.destinationId, id], stored);
    });
    return stored!;
  }

  /** A destination's dead letters, oldest first, after `after`. */
  deadLetters(destinationId: string, page: { after?: number; limit: number }): DeadLetter[] {
    const out: DeadLetter[] = [];
    for (const { value } of this.#dead.getRange({ start: [destinationId, (page.after ?? 0) + 1], end: [destinationId, Number.MAX_SAFE_INTEGER] })) {
      out.push(value);
      if (out.length >= page.limit) break;
    }
    return out;
  }

  deadLetterCount(destinationId: string): number {
    return this.#dead.getKeysCount({ start: [destinationId, 0], end: [destinationId, Number.MAX_SAFE_INTEGER] });
  }

  /**
   * Marks dead letters for replay (all of the destination's, or the ids given): they move to the
   * replay queue the worker sends before its next changes. Answers how many were queued.
   */
  async replayDeadLetters(destinationId: string, ids?: readonly number[]): Promise<number> {
    let queued = 0;
    let missing: number | undefined;
    await this.#env.transaction(() => {
      const letters = ids === undefined ? this.deadLetters(destinationId, { limit: Number.MAX_SAFE_INTEGER }) : ids.map((id) => this.#dead.get([destinationId, id]));
      for (const [i, letter] of letters.entries()) {
        if (letter === undefined) {
          missing = ids?.[i];
          return;
        }
      }
      for (const letter of letters as DeadLetter[]) {
        this.#dead.removeSync([destinationId, letter.id]);
        this.#dead.putSync([`${destinationId}#replay`, letter.id], letter);
        queued++;
      }
      this.#bump();
    });
    if (missing !== undefined) throw new DestinationError('dead_letter_not_found', `no dead letter ${missing} of destination ${destinationId}`);
    return queued;
  }

  /** Dead letters queued for replay, oldest first. */
  replays(destinationId: string): DeadLetter[] {
    return this.deadLetters(`${destinationId}#replay`, { limit: Number.MAX_SAFE_INTEGER });
  }

  /** A replayed dead letter was delivered (or dead-lettered again under a new id): off the queue. */
  async replayDone(destinationId: string, id: number): Promise<void> {
    await this.#dead.remove([`${destinationId}#replay`, id]);
  }

  // list destinations -----------------------------------------------------------------------------

  /** The values a list destination holds for a connection after its last sync. */
  *listed(connectionId: string): Iterable<string> {
    for (const { key } of this.#listed.getRange({ start: [connectionId, ''], end: [`${connectionId}\u0000`, ''] })) yield key[1];
  }

  /** Applies one acknowledged list request (values added and removed). */
  async applyListed(connectionId: string, added: readonly string[], removed: readonly string[]): Promise<void> {
    await this.#env.transaction(() => {
      for (const v of removed) this.#listed.removeSync([connectionId, v]);
      for (const v of added) this.#listed.putSync([connectionId, v], 1);
    });
  }

  #bump(): void {
    this.#meta.putSync('revision', this.revision() + 1);
  }

  async close(): Promise<void> {
    await closeEnv(this.#env);
  }
}
