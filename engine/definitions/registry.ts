/**
 * The definition registry: every space's audiences, computed traits and previews, in an LMDB
 * environment of its own (`<dataDir>/registry`) that the API thread writes and the engine thread
 * reads and reports statuses into. Writers announce each change on a BroadcastChannel named after
 * the registry's path, so a watcher in another thread sees an edit within milliseconds; watchers
 * also poll a revision counter, which covers other processes.
 */
import { closeEnv } from '../store/close-env.ts';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { Definition } from '../lang/ast.ts';
import type { Diagnostic } from '../lang/diagnostic.ts';
import { parseDefinition, referencedKeys } from '../lang/index.ts';
import type { CatalogEntry, DefinitionCatalog } from '../lang/options.ts';
import { definitionFingerprint } from '../plan/compile.ts';
import type { DefinitionInput } from '../plan/plan.ts';
import { idPrefixOf, newId } from './definition-id.ts';
import {
  latestVersion,
  servingVersion,
  statusOf,
  versionOf,
  type ComputeCadence,
  type DefinitionKind,
  type DefinitionOptions,
  type DefinitionRecord,
  type DefinitionStatus,
  type DefinitionTargetType,
  type DefinitionVersion,
  type PreviewRecord,
  type PreviewDifference,
  type PreviewResult,
} from './registry-record.ts';

export type RegistryErrorCode =
  /** no such definition or preview in this space (or it was deleted). */
  | 'not_found'
  /** a live definition of the space has this key. */
  | 'key_taken'
  /** a deleted definition had this key: keys are never reused. */
  | 'key_reserved'
  /** the query has diagnostics (`details.diagnostics`). */
  | 'invalid_definition'
  /** an edit may not switch REALTIME ↔ BATCH (recreate the definition instead). */
  | 'cadence_change'
  /** an edit may not change the target type or includeAnonymousUsers. */
  | 'immutable_field'
  /** other definitions use this one (`details.referencedBy`). */
  | 'referenced'
  /** an explicit id that exists already (seeding). */
  | 'id_taken'
  /** the key is `__proto__` or `constructor` (RESERVED_KEYS): refused at creation. */
  | 'reserved_word';

/**
 * Keys a definition may not have: as a key of a plain object (the Profile API's traits, values by
 * key, every msgpackr store) they are the object's prototype or constructor, not data.
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor']);

export class RegistryError extends Error {
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    readonly details: { readonly diagnostics?: readonly Diagnostic[]; readonly field?: string; readonly referencedBy?: readonly string[] } = {},
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** Options as an input: absent or undefined fields keep their default (or current) value. */
export type OptionsInput = { readonly [K in keyof DefinitionOptions]?: DefinitionOptions[K] | undefined };

export interface CreateDefinitionInput {
  readonly space: string;
  readonly kind: DefinitionKind;
  readonly key: string;
  readonly name: string;
  readonly description?: string;
  readonly enabled?: boolean;
  readonly definition: { readonly query: string; readonly type: DefinitionTargetType };
  readonly options?: OptionsInput;
  readonly computeCadence?: { readonly type: ComputeCadence['type']; readonly interval?: ComputeCadence['interval'] | undefined };
  /** seeding from a definitions file keeps the file's id and version. */
  readonly id?: string;
  readonly version?: number;
}

export interface UpdateDefinitionInput {
  readonly name?: string;
  readonly description?: string;
  readonly enabled?: boolean;
  /** a different query makes a new version. */
  readonly query?: string;
  /** must equal the current type (a change is refused). */
  readonly type?: DefinitionTargetType;
  readonly options?: OptionsInput;
  readonly computeCadence?: { readonly type?: ComputeCadence['type'] | undefined; readonly interval?: ComputeCadence['interval'] | undefined };
}

/** What the engine reports for one version. */
export interface StatusReport {
  readonly status: DefinitionStatus;
  /** 0…1 */
  readonly progress?: number;
  /** estimated end (epoch ms). */
  readonly eta?: number;
  readonly failureReason?: string;
}

export interface PreviewReport {
  readonly status: 'COMPLETED' | 'FAILED';
  readonly size?: number;
  readonly results?: readonly PreviewResult[];
  readonly difference?: PreviewDifference;
  readonly failureReason?: string;
}

export interface ValidationResult {
  readonly definition: Definition | null;
  readonly diagnostics: readonly Diagnostic[];
  readonly references: readonly string[];
}

/** A version the engine should compute, parsed, with the fingerprint its profile state is keyed by. */
export interface ComputeVersion {
  readonly version: number;
  readonly query: string;
  readonly definition: Definition;
  readonly fingerprint: string;
  readonly status: DefinitionStatus;
  readonly createdAt: string;
}

/** An enabled definition as the engine sees it: the live version and every newer one still pending. */
export interface ComputeDefinition {
  readonly id: string;
  readonly space: string;
  readonly kind: DefinitionKind;
  readonly key: string;
  readonly target: DefinitionTargetType;
  readonly options: DefinitionOptions;
  readonly computeCadence: ComputeCadence;
  readonly liveVersion: number | null;
  /** when it was last enabled again after being disabled (ISO). */
  readonly enabledAt?: string;
  /** oldest first: the live version (if any), then versions not yet Live, not Failed and not superseded. */
  readonly versions: readonly ComputeVersion[];
}

/** A definition as reads see it: its serving version and that version's fingerprint (the key of its cells in profile state). */
export interface ServedDefinition {
  readonly id: string;
  readonly key: string;
  readonly kind: DefinitionKind;
  readonly type: DefinitionTargetType;
  readonly version: number;
  readonly fingerprint: string;
}

export interface ListPage {
  readonly records: readonly DefinitionRecord[];
  readonly totalEntries: number;
  readonly hasPrevious: boolean;
  readonly hasNext: boolean;
}

export interface SeedEntry {
  readonly space: string;
  readonly key: string;
  readonly kind: DefinitionKind;
  readonly query: string;
  readonly target: DefinitionTargetType;
  readonly id?: string | undefined;
  readonly version: number;
}

export interface SeedResult {
  readonly created: readonly string[];
  readonly versioned: readonly string[];
  readonly unchanged: readonly string[];
  /** entries not applied, with why (`<space>/<key>: …`). */
  readonly problems: readonly string[];
}

export interface RegistryOptions {
  /** epoch ms; tests pass a virtual clock. */
  readonly clock?: () => number;
}

const DEFAULT_OPTIONS: DefinitionOptions = { includeHistoricalData: false, includeAnonymousUsers: false };
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

export class DefinitionRegistry {
  readonly path: string;
  readonly #env: RootDatabase;
  readonly #definitions: Database<DefinitionRecord, string>;
  /** [space, key] → id; entries are never removed: a deleted key stays reserved. */
  readonly #keys: Database<string, [string, string]>;
  /** [space, kind, seq] → id of the definitions not deleted, in creation order. */
  readonly #order: Database<string, [string, string, number]>;
  readonly #previews: Database<PreviewRecord, string>;
  readonly #meta: Database<number, string>;
  readonly #channel: BroadcastChannel;
  readonly #clock: () => number;
  readonly #parsed = new Map<string, { definition: Definition; fingerprint: string } | null>();
  readonly #served = new Map<string, { stamp: string; list: readonly ServedDefinition[] }>();
  #closed = false;

  private constructor(path: string, options: RegistryOptions) {
    this.path = resolve(path);
    mkdirSync(this.path, { recursive: true });
    this.#env = open({ path: this.path, compression: false });
    this.#definitions = this.#env.openDB({ name: 'definitions', encoding: 'msgpack' });
    this.#keys = this.#env.openDB({ name: 'keys', encoding: 'msgpack' });
    this.#order = this.#env.openDB({ name: 'order', encoding: 'msgpack' });
    this.#previews = this.#env.openDB({ name: 'previews', encoding: 'msgpack' });
    this.#meta = this.#env.openDB({ name: 'meta', encoding: 'msgpack' });
    this.#channel = new BroadcastChannel(channelName(this.path));
    this.#channel.unref();
    this.#clock = options.clock ?? Date.now;
  }

  /** Opens (creating) the registry at `path`; many threads and processes may open the same path. */
  static open(path: string, options: RegistryOptions = {}): DefinitionRegistry {
    return new DefinitionRegistry(path, options);
  }

  /** Where the registry of a data dir lives. */
  static pathIn(dataDir: string): string {
    return join(dataDir, 'registry');
  }

  // ---------------------------------------------------------------------------------------------
  // reads

  /** A definition of a space; deleted ones only with `includeDeleted`. */
  get(space: string, id: string, options: { includeDeleted?: boolean } = {}): DefinitionRecord | undefined {
    const record = this.#definitions.get(id);
    if (record === undefined || record.space !== space) return undefined;
    if (record.deletedAt !== undefined && options.includeDeleted !== true) return undefined;
    return record;
  }

  /** The definition that holds `key` in `space` (deleted ones only with `includeDeleted`). */
  byKey(space: string, key: string, options: { includeDeleted?: boolean } = {}): DefinitionRecord | undefined {
    const id = this.#keys.get([space, key]);
    return id === undefined ? undefined : this.get(space, id, options);
  }

  /** Definitions of one kind in creation order: after `after` (a seq) or, reading back, before `before`. */
  list(space: string, kind: DefinitionKind, page: { after?: number; before?: number; limit: number }): ListPage {
    const ids: Array<{ seq: number; id: string }> = [];
    if (page.before !== undefined) {
      for (const { key, value } of this.#order.getRange({ start: [space, kind, page.before], end: [space, kind, -1], reverse: true })) {
        if (key[2] >= page.before) continue;
        ids.push({ seq: key[2], id: value });
        if (ids.length > page.limit) break;
      }
      const hasPrevious = ids.length > page.limit;
      const kept = ids.slice(0, page.limit).reverse();
      return {
        records: this.#records(kept),
        totalEntries: this.count(space, kind),
        hasPrevious,
        hasNext: this.#order.getKeysCount({ start: [space, kind, page.before], end: [space, kind, MAX_SEQ] }) > 0,
      };
    }
    const from = page.after === undefined ? 0 : page.after + 1;
    for (const { key, value } of this.#order.getRange({ start: [space, kind, from], end: [space, kind, MAX_SEQ] })) {
      ids.push({ seq: key[2], id: value });
      if (ids.length > page.limit) break;
    }
    return {
      records: this.#records(ids.slice(0, page.limit)),
      totalEntries: this.count(space, kind),
      hasPrevious: from > 0 && this.#order.getKeysCount({ start: [space, kind, 0], end: [space, kind, from] }) > 0,
      hasNext: ids.length > page.limit,
    };
  }

  /** Definitions of one kind in a space (not deleted). */
  count(space: string, kind: DefinitionKind): number {
    return this.#order.getKeysCount({ start: [space, kind, 0], end: [space, kind, MAX_SEQ] });
  }

  /** Every definition of a space that is not deleted, audiences first, each in creation order. */
  all(space: string): DefinitionRecord[] {
    const out: DefinitionRecord[] = [];
    for (const kind of ['audience', 'trait'] as const) {
      for (const { value } of this.#order.getRange({ start: [space, kind, 0], end: [space, kind, MAX_SEQ] })) {
        const record = this.#definitions.get(value);
        if (record !== undefined) out.push(record);
      }
    }
    return out;
  }

  /** The definitions (not deleted) whose newest query reads `key` through `trait('key…')`: its consumers. */
  consumers(space: string, key: string): DefinitionRecord[] {
    return this.all(space).filter((r) => r.key !== key && latestVersion(r).references.includes(key));
  }

  /**
   * Parses a query as the definition `key` of `space` would be: the catalog holds the space's other
   * definitions, so reference cycles (`reference_cycle`) are diagnostics with line and column; a
   * `trait('k')` naming no definition is a custom trait.
   */
  validate(space: string, input: { kind: DefinitionKind; type: DefinitionTargetType; query: string; key?: string }): ValidationResult {
    const catalog: DefinitionCatalog = {
      lookup: (key): CatalogEntry | undefined => {
        const record = this.byKey(space, key);
        return record === undefined ? undefined : { kind: record.kind, target: record.definition.type, references: latestVersion(record).references };
      },
    };
    const result = parseDefinition(input.query, {
      kind: input.kind,
      target: input.type,
      catalog,
      ...(input.key === undefined ? {} : { selfKey: input.key }),
    });
    return { definition: result.definition, diagnostics: result.diagnostics, references: result.definition === null ? [] : referencedKeys(result.definition) };
  }

  /** The parsed definition and fingerprint of one version (cached: versions never change). */
  compiled(record: DefinitionRecord, version: number): { definition: Definition; fingerprint: string } | undefined {
    const cacheKey = `${record.id}@${version}`;
    let entry = this.#parsed.get(cacheKey);
    if (entry === undefined) {
      const v = versionOf(record, version);
      const parsed = v === undefined ? null : parseDefinition(v.query, { kind: record.kind, target: record.definition.type }).definition;
      entry =
        parsed === null
          ? null
          : { definition: parsed, fingerprint: definitionFingerprint({ kind: record.kind, target: record.definition.type, key: record.key, definition: parsed }) };
      this.#parsed.set(cacheKey, entry);
    }
    return entry ?? undefined;
  }

  /** Bumped by every change the engine must see (definitions and previews, not status reports). */
  revision(): number {
    return this.#meta.get('revision') ?? 0;
  }

  /**
   * The definitions of a space that have a serving version (see `servingVersion`), with its
   * fingerprint: what the Profile API maps a profile's cells through. Cached until the next
   * definition change or status report.
   */
  served(space: string): readonly ServedDefinition[] {
    const stamp = `${this.revision()}/${this.#meta.get('statusRevision') ?? 0}`;
    const cached = this.#served.get(space);
    if (cached?.stamp === stamp) return cached.list;
    const list: ServedDefinition[] = [];
    for (const record of this.all(space)) {
      const version = servingVersion(record);
      const compiled = version === undefined ? undefined : this.compiled(record, version);
      if (version === undefined || compiled === undefined) continue;
      list.push({ id: record.id, key: record.key, kind: record.kind, type: record.definition.type, version, fingerprint: compiled.fingerprint });
    }
    this.#served.set(space, { stamp, list });
    return list;
  }

  // ---------------------------------------------------------------------------------------------
  // writes (the management API)

  async create(input: CreateDefinitionInput): Promise<DefinitionRecord> {
    const record = await this.#write(() => this.#createIn(input));
    return record;
  }

  /** Applies an edit; a different query becomes a new version (status Preparing) beside the live one. */
  async update(space: string, id: string, patch: UpdateDefinitionInput): Promise<DefinitionRecord> {
    return this.#write(() => {
      const record = this.#found(space, id);
      if (patch.type !== undefined && patch.type !== record.definition.type) {
        throw new RegistryError('immutable_field', `the type of ${record.key} is ${record.definition.type}; create a new definition to change it`, { field: 'definition.type' });
      }
      if (patch.computeCadence?.type !== undefined && patch.computeCadence.type !== record.computeCadence.type) {
        throw new RegistryError(
          'cadence_change',
          `${record.key} is computed ${record.computeCadence.type}; an edit cannot switch it to ${patch.computeCadence.type} (create a new definition)`,
          { field: 'computeCadence.type' },
        );
      }
      if (patch.options?.includeAnonymousUsers !== undefined && patch.options.includeAnonymousUsers !== record.options.includeAnonymousUsers) {
        throw new RegistryError('immutable_field', 'includeAnonymousUsers cannot be changed by an edit (create a new definition)', { field: 'options.includeAnonymousUsers' });
      }
      const now = this.#now();
      let versions = record.versions;
      const latest = latestVersion(record);
      if (patch.query !== undefined && patch.query !== latest.query) {
        const checked = this.validate(space, { kind: record.kind, type: record.definition.type, query: patch.query, key: record.key });
        if (checked.definition === null) throw invalid(checked.diagnostics);
        // a pending version an edit replaces before it went Live is superseded: the engine drops it.
        versions = versions.map((v) =>
          v.version !== record.liveVersion && v.supersededAt === undefined && v.status !== 'Failed' ? { ...v, status: 'Not Computing', supersededAt: now, updatedAt: now } : v,
        );
        versions = [...versions, { version: latest.version + 1, query: patch.query, references: checked.references, createdAt: now, updatedAt: now, status: 'Preparing' }];
      }
      // Enabled again: the live version is recomputed (Preparing) while its frozen outputs keep serving.
      const reenabled = patch.enabled === true && !record.enabled;
      if (reenabled) {
        versions = versions.map((v) => (v.version === record.liveVersion ? { ...v, status: 'Preparing', updatedAt: now } : v));
      }
      const options: DefinitionOptions = { ...record.options, ...definedOnly(patch.options ?? {}) };
      const cadence: ComputeCadence = cadenceOf(record.computeCadence.type, patch.computeCadence?.interval ?? record.computeCadence.interval);
      const next = finish({
        ...record,
        name: patch.name ?? record.name,
        description: patch.description ?? record.description,
        enabled: patch.enabled ?? record.enabled,
        options,
        computeCadence: cadence,
        versions,
        updatedAt: now,
        ...(reenabled ? { enabledAt: now } : {}),
      });
      this.#definitions.put(id, next);
      this.#bump();
      return next;
    });
  }

  /** Deletes a definition no other definition uses; its key stays reserved. */
  async remove(space: string, id: string): Promise<DefinitionRecord> {
    return this.#write(() => {
      const record = this.#found(space, id);
      const users = this.consumers(space, record.key);
      if (users.length > 0) {
        throw new RegistryError('referenced', `${record.key} is used by ${users.map((u) => u.key).join(', ')}; change or delete those first`, {
          referencedBy: users.map((u) => u.id),
        });
      }
      const now = this.#now();
      const next: DefinitionRecord = { ...record, enabled: false, status: 'Disabled', deletedAt: now, updatedAt: now };
      this.#definitions.put(id, next);
      this.#order.remove([space, record.kind, record.seq]);
      this.#bump();
      return next;
    });
  }

  /**
   * Seeds definitions from a definitions file, idempotently: a new key is created with the file's id
   * and version; a key whose newest query equals the file's is left alone; a changed query becomes
   * the file's version when the file raised it. Everything else is a problem, never a partial entry.
   */
  async seed(entries: readonly SeedEntry[]): Promise<SeedResult> {
    const created: string[] = [];
    const versioned: string[] = [];
    const unchanged: string[] = [];
    const problems: string[] = [];
    await this.#write(() => {
      for (const entry of seedOrder(entries)) {
        const name = `${entry.space}/${entry.key}`;
        const existing = this.byKey(entry.space, entry.key, { includeDeleted: true });
        try {
          if (existing === undefined) {
            this.#createIn({
              space: entry.space,
              kind: entry.kind,
              key: entry.key,
              name: entry.key,
              definition: { query: entry.query, type: entry.target },
              // the engine reads the whole log for file definitions: their history is included.
              options: { includeHistoricalData: true },
              id: entry.id ?? `${idPrefixOf(entry.kind)}_${entry.key}`,
              version: entry.version,
            });
            created.push(name);
            continue;
          }
          if (existing.deletedAt !== undefined) throw new RegistryError('key_reserved', `the key was deleted at ${existing.deletedAt} and cannot be reused`);
          if (existing.kind !== entry.kind) throw new RegistryError('key_taken', `the key is a${existing.kind === 'audience' ? 'n audience' : ' computed trait'} already`);
          const latest = latestVersion(existing);
          if (latest.query === entry.query) {
            unchanged.push(name);
            continue;
          }
          if (entry.version <= latest.version) {
            throw new RegistryError('immutable_field', `the query differs from version ${latest.version}: raise "version" in the file above ${latest.version}`);
          }
          const checked = this.validate(entry.space, { kind: entry.kind, type: existing.definition.type, query: entry.query, key: entry.key });
          if (checked.definition === null) throw invalid(checked.diagnostics);
          const now = this.#now();
          const next = finish({
            ...existing,
            versions: [
              ...existing.versions.map((v) => (v.version !== existing.liveVersion && v.supersededAt === undefined && v.status !== 'Failed' ? { ...v, status: 'Not Computing' as const, supersededAt: now } : v)),
              { version: entry.version, query: entry.query, references: checked.references, createdAt: now, updatedAt: now, status: 'Preparing' },
            ],
            updatedAt: now,
          });
          this.#definitions.put(existing.id, next);
          versioned.push(name);
        } catch (error) {
          if (!(error instanceof RegistryError)) throw error;
          const detail = error.details.diagnostics?.map((d) => `${d.code} at ${d.line}:${d.column}: ${d.message}`).join('; ');
          problems.push(`${name}: ${detail ?? error.message}`);
        }
      }
      if (created.length + versioned.length > 0) this.#bump();
    });
    return { created, versioned, unchanged, problems };
  }

  // ---------------------------------------------------------------------------------------------
  // previews

  async createPreview(input: {
    space: string;
    kind: DefinitionKind;
    definition: { query: string; type: DefinitionTargetType };
    options?: OptionsInput;
    /** an edit's preview: the definition it would change. */
    compareTo?: string | undefined;
  }): Promise<PreviewRecord> {
    return this.#write(() => {
      const existing = input.compareTo === undefined ? undefined : this.#found(input.space, input.compareTo);
      if (existing !== undefined && (existing.kind !== input.kind || existing.definition.type !== input.definition.type)) {
        throw new RegistryError('immutable_field', `${existing.key} is ${existing.kind === 'audience' ? 'an audience' : 'a computed trait'} of type ${existing.definition.type}: a preview of its edit must be too`, { field: 'compareTo' });
      }
      const checked = this.validate(input.space, { kind: input.kind, type: input.definition.type, query: input.definition.query, ...(existing === undefined ? {} : { key: existing.key }) });
      if (checked.definition === null) throw invalid(checked.diagnostics);
      const now = this.#now();
      let id = newId('prv', this.#clock());
      while (this.#previews.get(id) !== undefined) id = newId('prv', this.#clock());
      const preview: PreviewRecord = {
        id,
        space: input.space,
        kind: input.kind,
        definition: input.definition,
        options: { ...DEFAULT_OPTIONS, includeHistoricalData: true, ...definedOnly(input.options ?? {}) },
        ...(existing === undefined ? {} : { compareTo: existing.id }),
        status: 'RUNNING',
        createdAt: now,
        updatedAt: now,
      };
      this.#previews.put(id, preview);
      this.#bump();
      return preview;
    });
  }

  getPreview(space: string, id: string): PreviewRecord | undefined {
    const preview = this.#previews.get(id);
    return preview?.space === space ? preview : undefined;
  }

  /** Previews waiting for the engine, oldest first, parsed. */
  pendingPreviews(): Array<PreviewRecord & { readonly parsed: Definition }> {
    const out: Array<PreviewRecord & { parsed: Definition }> = [];
    for (const { value } of this.#previews.getRange({})) {
      if (value.status !== 'RUNNING') continue;
      const parsed = parseDefinition(value.definition.query, { kind: value.kind, target: value.definition.type }).definition;
      if (parsed !== null) out.push({ ...value, parsed });
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }

  async reportPreview(id: string, report: PreviewReport): Promise<PreviewRecord> {
    return this.#write(
      () => {
        const preview = this.#previews.get(id);
        if (preview === undefined) throw new RegistryError('not_found', `no preview ${id}`);
        const next: PreviewRecord = {
          id: preview.id,
          space: preview.space,
          kind: preview.kind,
          definition: preview.definition,
          options: preview.options,
          ...(preview.compareTo === undefined ? {} : { compareTo: preview.compareTo }),
          createdAt: preview.createdAt,
          status: report.status,
          updatedAt: this.#now(),
          ...(report.size === undefined ? {} : { size: report.size }),
          ...(report.results === undefined ? {} : { results: report.results }),
          ...(report.difference === undefined ? {} : { difference: report.difference }),
          ...(report.failureReason === undefined ? {} : { failureReason: report.failureReason }),
        };
        this.#previews.put(id, next);
        return next;
      },
      { notify: false },
    );
  }

  // ---------------------------------------------------------------------------------------------
  // the engine's side

  /** Every enabled definition with the versions to compute, per space: what the engine's plans are built from. */
  computeSet(): Map<string, ComputeDefinition[]> {
    const bySpace = new Map<string, ComputeDefinition[]>();
    for (const { value: record } of this.#definitions.getRange({})) {
      if (record.deletedAt !== undefined || !record.enabled) continue;
      const versions: ComputeVersion[] = [];
      for (const v of record.versions) {
        const wanted = v.version === record.liveVersion || (v.supersededAt === undefined && v.status !== 'Failed' && (record.liveVersion === null || v.version > record.liveVersion));
        if (!wanted) continue;
        const compiled = this.compiled(record, v.version);
        if (compiled === undefined) continue;
        versions.push({ version: v.version, query: v.query, definition: compiled.definition, fingerprint: compiled.fingerprint, status: v.status, createdAt: v.createdAt });
      }
      if (versions.length === 0) continue;
      const list = bySpace.get(record.space) ?? [];
      list.push({
        id: record.id,
        space: record.space,
        kind: record.kind,
        key: record.key,
        target: record.definition.type,
        options: record.options,
        computeCadence: record.computeCadence,
        liveVersion: record.liveVersion,
        ...(record.enabledAt === undefined ? {} : { enabledAt: record.enabledAt }),
        versions,
      });
      bySpace.set(record.space, list);
    }
    for (const list of bySpace.values()) list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return bySpace;
  }

  /**
   * One version per enabled definition, per space, in the form `compilePlan` takes: the newest
   * version still pending, else the live one. The drop-in for `loadDefinitionsFile(...).bySpace`.
   */
  planInputs(): Map<string, DefinitionInput[]> {
    const bySpace = new Map<string, DefinitionInput[]>();
    for (const [space, defs] of this.computeSet()) {
      bySpace.set(
        space,
        defs.map((d) => {
          const v = d.versions[d.versions.length - 1]!;
          return { id: d.id, key: d.key, kind: d.kind, target: d.target, version: v.version, definition: v.definition };
        }),
      );
    }
    return bySpace;
  }

  /**
   * The engine reports a version's progress. `Live` makes the version the live one (the version
   * switch): the previously live version and any older pending one become `Not Computing`.
   */
  async reportStatus(id: string, version: number, report: StatusReport): Promise<DefinitionRecord> {
    return this.#write(
      () => {
        const record = this.#definitions.get(id);
        const current = record === undefined ? undefined : versionOf(record, version);
        if (record === undefined || current === undefined) throw new RegistryError('not_found', `no version ${version} of definition ${id}`);
        const now = this.#now();
        const reported: DefinitionVersion = {
          version: current.version,
          query: current.query,
          references: current.references,
          createdAt: current.createdAt,
          updatedAt: now,
          status: report.status,
          ...(report.progress === undefined ? {} : { progress: Math.min(1, Math.max(0, report.progress)) }),
          ...(report.eta === undefined ? {} : { eta: new Date(report.eta).toISOString() }),
          ...(report.status === 'Failed' && report.failureReason !== undefined ? { failureReason: report.failureReason } : {}),
          ...(current.supersededAt === undefined ? {} : { supersededAt: current.supersededAt }),
        };
        const switching = report.status === 'Live' && (record.liveVersion === null || version > record.liveVersion);
        const versions = record.versions.map((v) => {
          if (v.version === version) return reported;
          if (switching && v.version < version && v.supersededAt === undefined && v.status !== 'Failed') return { ...v, status: 'Not Computing' as const, supersededAt: now, updatedAt: now };
          return v;
        });
        const next = finish({ ...record, versions, liveVersion: switching ? version : record.liveVersion });
        this.#definitions.put(id, next);
        this.#meta.put('statusRevision', (this.#meta.get('statusRevision') ?? 0) + 1);
        return next;
      },
      { notify: false },
    );
  }

  /**
   * Calls `listener` with the new revision after each change to definitions or previews: at once
   * for writers in this process (BroadcastChannel), within `pollMs` for writers in other processes.
   * Returns the unsubscribe function. Neither the channel nor the timer keeps the process alive.
   */
  watch(listener: (revision: number) => void, options: { pollMs?: number } = {}): () => void {
    const channel = new BroadcastChannel(channelName(this.path));
    channel.unref();
    let last = this.revision();
    const check = () => {
      if (this.#closed) return;
      // another thread's commit is visible to a fresh read transaction.
      this.#env.resetReadTxn();
      const revision = this.revision();
      if (revision === last) return;
      last = revision;
      listener(revision);
    };
    channel.onmessage = check;
    const timer = setInterval(check, options.pollMs ?? 1000);
    timer.unref();
    return () => {
      clearInterval(timer);
      channel.close();
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#channel.close();
    await closeEnv(this.#env);
  }

  // ---------------------------------------------------------------------------------------------

  #now(): string {
    return new Date(this.#clock()).toISOString();
  }

  #records(ids: ReadonlyArray<{ id: string }>): DefinitionRecord[] {
    return ids.map(({ id }) => this.#definitions.get(id)).filter((r): r is DefinitionRecord => r !== undefined);
  }

  #found(space: string, id: string): DefinitionRecord {
    const record = this.get(space, id);
    if (record === undefined) throw new RegistryError('not_found', `no definition ${id} in space ${space}`);
    return record;
  }

  /** Runs `body` in one write transaction (reads inside see its writes), then tells watchers. */
  async #write<T>(body: () => T, options: { notify?: boolean } = {}): Promise<T> {
    const result = (await this.#env.transaction(body)) as T;
    if (options.notify !== false) this.#channel.postMessage({ revision: this.revision() });
    return result;
  }

  #bump(): void {
    this.#meta.put('revision', (this.#meta.get('revision') ?? 0) + 1);
  }

  /** Creates a definition inside a write transaction. */
  #createIn(input: CreateDefinitionInput): DefinitionRecord {
    if (RESERVED_KEYS.has(input.key)) throw new RegistryError('reserved_word', `the key ${input.key} is reserved: choose another`, { field: 'key' });
    const holder = this.#keys.get([input.space, input.key]);
    if (holder !== undefined) {
      const existing = this.#definitions.get(holder);
      if (existing?.deletedAt !== undefined) throw new RegistryError('key_reserved', `the key ${input.key} belonged to a deleted definition and cannot be reused`, { field: 'key' });
      throw new RegistryError('key_taken', `the key ${input.key} is taken by ${holder}`, { field: 'key' });
    }
    const checked = this.validate(input.space, { kind: input.kind, type: input.definition.type, query: input.definition.query, key: input.key });
    if (checked.definition === null) throw invalid(checked.diagnostics);
    let id = input.id ?? newId(idPrefixOf(input.kind), this.#clock());
    if (input.id !== undefined && this.#definitions.get(id) !== undefined) throw new RegistryError('id_taken', `the id ${id} exists already`, { field: 'id' });
    while (this.#definitions.get(id) !== undefined) id = newId(idPrefixOf(input.kind), this.#clock());
    const seq = (this.#meta.get('seq') ?? 0) + 1;
    const now = this.#now();
    const record = finish({
      id,
      space: input.space,
      kind: input.kind,
      key: input.key,
      name: input.name,
      description: input.description ?? '',
      enabled: input.enabled ?? true,
      definition: input.definition,
      options: { ...DEFAULT_OPTIONS, ...definedOnly(input.options ?? {}) },
      computeCadence: cadenceOf(input.computeCadence?.type ?? 'REALTIME', input.computeCadence?.interval),
      versions: [{ version: input.version ?? 1, query: input.definition.query, references: checked.references, createdAt: now, updatedAt: now, status: 'Preparing' }],
      liveVersion: null,
      status: 'Preparing',
      createdAt: now,
      updatedAt: now,
      seq,
    });
    this.#definitions.put(id, record);
    this.#keys.put([input.space, input.key], id);
    this.#order.put([input.space, input.kind, seq], id);
    this.#meta.put('seq', seq);
    this.#bump();
    return record;
  }
}

function channelName(path: string): string {
  return `flock.registry:${path}`;
}

function invalid(diagnostics: readonly Diagnostic[]): RegistryError {
  const first = diagnostics[0];
  const summary = first === undefined ? 'the definition is not valid' : `${first.code} at ${first.line}:${first.column}: ${first.message}`;
  return new RegistryError('invalid_definition', summary, { diagnostics, field: 'definition.query' });
}

/** The record with its derived fields (definition = newest query, status) recomputed. */
function finish(record: DefinitionRecord): DefinitionRecord {
  const latest = latestVersion(record);
  return { ...record, definition: { query: latest.query, type: record.definition.type }, status: statusOf(record) };
}

function cadenceOf(type: ComputeCadence['type'], interval: ComputeCadence['interval'] | undefined): ComputeCadence {
  return type === 'BATCH' ? { type, interval: interval ?? '8h' } : { type };
}

function definedOnly<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** Seed entries with every referenced key of the file before the entries that reference it. */
function seedOrder(entries: readonly SeedEntry[]): SeedEntry[] {
  const byKey = new Map(entries.map((e) => [`${e.space}\u0000${e.key}`, e]));
  const out: SeedEntry[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (e: SeedEntry) => {
    const id = `${e.space}\u0000${e.key}`;
    if (state.get(id) !== undefined) return; // done, or a cycle the validation reports
    state.set(id, 'visiting');
    const parsed = parseDefinition(e.query, { kind: e.kind, target: e.target }).definition;
    for (const key of parsed === null ? [] : referencedKeys(parsed)) {
      const dep = byKey.get(`${e.space}\u0000${key}`);
      if (dep !== undefined) visit(dep);
    }
    state.set(id, 'done');
    out.push(e);
  };
  entries.forEach(visit);
  return out;
}
