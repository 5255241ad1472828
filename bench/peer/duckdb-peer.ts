/**
 * The batch peer: the same events in DuckDB (one flat, typed table; each event carries the profile
 * identity resolution gave it, merges applied), and one full recomputation of the translated
 * audiences in SQL at an instant — what a warehouse-style audience job does on every run.
 */
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import type { FlockEvent } from '../../engine/event/model.ts';
import { ACCOUNT_TRAIT_COLUMNS, PROPERTY_COLUMNS, TRAIT_COLUMNS } from './sql-translate.ts';

const property = Object.entries(PROPERTY_COLUMNS);
const trait = Object.entries(TRAIT_COLUMNS);
const accountTrait = Object.entries(ACCOUNT_TRAIT_COLUMNS);

export interface Recomputation {
  readonly seconds: number;
  /** members per audience key. */
  readonly members: Map<string, Set<string>>;
  readonly profiles: number;
}

export class DuckDbPeer {
  #appender: DuckDBAppender | undefined;
  #seq = 0;
  readonly #merged = new Map<string, string>();

  private constructor(
    readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  static async open(): Promise<DuckDbPeer> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const columns = [
      'seq BIGINT',
      'profile_id VARCHAR',
      'ts BIGINT',
      'type VARCHAR',
      'event VARCHAR',
      'group_id VARCHAR',
      ...property.map(([name, type]) => `p_${name} ${type}`),
      ...trait.map(([name, type]) => `t_${name} ${type}`),
      ...accountTrait.map(([name, type]) => `g_${name} ${type}`),
    ];
    await connection.run(`CREATE TABLE events (${columns.join(', ')})`);
    return new DuckDbPeer(instance, connection);
  }

  /** Appends one event as identity resolution placed it (its profile at that moment). */
  async append(event: FlockEvent, profileId: string): Promise<void> {
    const a = (this.#appender ??= await this.connection.createAppender('events'));
    a.appendBigInt(BigInt(++this.#seq));
    a.appendVarchar(profileId);
    a.appendBigInt(BigInt(event.timestamp));
    a.appendVarchar(event.type);
    for (const v of [event.event, event.type === 'group' ? event.groupId : null]) {
      if (v === null || v === '') a.appendNull();
      else a.appendVarchar(v);
    }
    for (const [name, type] of property) appendValue(a, type, event.properties?.[name]);
    for (const [name, type] of trait) appendValue(a, type, event.type === 'identify' ? event.traits?.[name] : undefined);
    for (const [name, type] of accountTrait) appendValue(a, type, event.type === 'group' ? event.traits?.[name] : undefined);
    a.endRow();
  }

  /** A merge identity resolution performed: the absorbed profile's events belong to the survivor. */
  merge(from: string, into: string): void {
    this.#merged.set(from, into);
  }

  /** Ends loading: every event moves to its final profile (merges followed to the end). */
  async seal(): Promise<number> {
    this.#appender?.closeSync();
    this.#appender = undefined;
    const final = (id: string): string => {
      let at = id;
      for (let next = this.#merged.get(at); next !== undefined; next = this.#merged.get(at)) at = next;
      return at;
    };
    if (this.#merged.size > 0) {
      await this.connection.run('CREATE TABLE merged (from_id VARCHAR, into_id VARCHAR)');
      const a = await this.connection.createAppender('merged');
      for (const from of this.#merged.keys()) {
        a.appendVarchar(from);
        a.appendVarchar(final(from));
        a.endRow();
      }
      a.closeSync();
      await this.connection.run('UPDATE events SET profile_id = m.into_id FROM merged m WHERE events.profile_id = m.from_id');
    }
    return this.#seq;
  }

  /**
   * One full recomputation: the profiles and their newest custom traits (newest timestamp, then the
   * later arrival, as the engine does), the accounts (group calls) with theirs and their users, and each
   * audience's members materialised in a table — timed; the member sets are read back afterwards, untimed.
   */
  async recompute(audiences: ReadonlyMap<string, string>): Promise<Recomputation> {
    const keys = [...audiences.keys()];
    const start = performance.now();
    await this.connection.run('CREATE OR REPLACE TEMP TABLE profiles AS SELECT DISTINCT profile_id FROM events');
    const latest = trait.map(([name]) => `arg_max(t_${name}, (ts, seq)) FILTER (WHERE t_${name} IS NOT NULL) AS t_${name}`);
    await this.connection.run(`CREATE OR REPLACE TEMP TABLE traits AS SELECT profile_id, ${latest.join(', ')} FROM events WHERE type = 'identify' GROUP BY profile_id`);
    const groups = "(SELECT 'group_id:' || group_id AS account_id, * FROM events WHERE type = 'group' AND group_id IS NOT NULL)";
    await this.connection.run(`CREATE OR REPLACE TEMP TABLE links AS SELECT DISTINCT account_id, profile_id FROM ${groups}`);
    const account = accountTrait.map(([name]) => `arg_max(g_${name}, (ts, seq)) FILTER (WHERE g_${name} IS NOT NULL) AS t_${name}`);
    await this.connection.run(`CREATE OR REPLACE TEMP TABLE accounts AS SELECT account_id AS profile_id, ${account.join(', ')} FROM ${groups} GROUP BY account_id`);
    for (const [i, key] of keys.entries()) await this.connection.run(`CREATE OR REPLACE TEMP TABLE result_${i} AS ${audiences.get(key)!}`);
    const seconds = (performance.now() - start) / 1000;
    const members = new Map<string, Set<string>>();
    for (const [i, key] of keys.entries()) {
      const rows = (await this.connection.runAndReadAll(`SELECT profile_id FROM result_${i}`)).getRows();
      members.set(key, new Set(rows.map((r) => String(r[0]))));
    }
    const profiles = Number((await this.connection.runAndReadAll('SELECT count(*) FROM profiles')).getRows()[0]![0]);
    return { seconds, members, profiles };
  }

  close(): void {
    this.#appender?.closeSync();
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** A value in its column's type, or NULL when the event lacks it or it has another type (the engine ignores those too). */
function appendValue(a: DuckDBAppender, type: string, v: unknown): void {
  if (type === 'VARCHAR' && typeof v === 'string') a.appendVarchar(v);
  else if (type !== 'VARCHAR' && typeof v === 'number' && Number.isFinite(v)) {
    if (type === 'DOUBLE') a.appendDouble(v);
    else a.appendVarchar(v.toFixed(2)); // DECIMAL(18,2): exact, like the engine's sums
  } else a.appendNull();
}
