/** What the definition registry stores per audience or computed trait: the record, its versions and their statuses. */

/** Definition statuses (spec §3.4), set by the registry (Preparing, Disabled) or reported by the engine. */
export const DEFINITION_STATUSES = ['Preparing', 'Backfilling', 'Computing', 'Live', 'Disabled', 'Failed', 'Not Computing'] as const;
export type DefinitionStatus = (typeof DEFINITION_STATUSES)[number];

export type DefinitionKind = 'audience' | 'trait';
export type DefinitionTargetType = 'USERS' | 'ACCOUNTS';

/** BATCH intervals Segment offers for scheduled computation. */
export const BATCH_INTERVALS = ['15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d'] as const;
export type BatchInterval = (typeof BATCH_INTERVALS)[number];

export interface DefinitionOptions {
  /** replay the event log on creation and on every new version (a backfill). */
  readonly includeHistoricalData: boolean;
  /** how far back the backfill counts events (days before the version's creation); unset: the whole log. Trait data is always included. */
  readonly backfillEventDataDays?: number;
  /** profiles known only by anonymous ids are eligible. Fixed at creation. */
  readonly includeAnonymousUsers: boolean;
}

export interface ComputeCadence {
  readonly type: 'REALTIME' | 'BATCH';
  /** BATCH only: how often the definition is recomputed (default 8h). */
  readonly interval?: BatchInterval;
}

export interface DefinitionVersion {
  /** 1, 2, …: a new query is a new version; the old one serves until the new one is Live. */
  readonly version: number;
  readonly query: string;
  /** the first path segment of each `trait('k')` of the query: what the catalog and the consumers list read. */
  readonly references: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly status: DefinitionStatus;
  /** 0…1 while Backfilling (or Computing a batch). */
  readonly progress?: number;
  /** estimated end of the backfill (ISO). */
  readonly eta?: string;
  readonly failureReason?: string;
  /** when a newer version went Live (or a newer edit replaced this one before it did). */
  readonly supersededAt?: string;
}

export interface DefinitionRecord {
  /** `aud_…` or `tra_…`: unique in the registry, never reused. */
  readonly id: string;
  readonly space: string;
  readonly kind: DefinitionKind;
  /** the trait the definition sets on profiles; reserved in its space forever, even after deletion. */
  readonly key: string;
  readonly name: string;
  readonly description: string;
  readonly enabled: boolean;
  /** the newest version's query and the target. */
  readonly definition: { readonly query: string; readonly type: DefinitionTargetType };
  readonly options: DefinitionOptions;
  readonly computeCadence: ComputeCadence;
  /** oldest first. */
  readonly versions: readonly DefinitionVersion[];
  /** the version serving reads (sizes, members, profile traits); null until one is Live. */
  readonly liveVersion: number | null;
  /** `Disabled` when disabled, else the newest version's status. */
  readonly status: DefinitionStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  /**
   * when the definition was last enabled again after being disabled: it is recomputed from then (a
   * backfill, or — without historical data — counting events from this instant).
   */
  readonly enabledAt?: string;
  readonly deletedAt?: string;
  /** creation order in the registry: the list order and the pagination key. */
  readonly seq: number;
}

export function latestVersion(record: DefinitionRecord): DefinitionVersion {
  const last = record.versions[record.versions.length - 1];
  if (last === undefined) throw new Error(`invariant: definition ${record.id} has no version`);
  return last;
}

export function versionOf(record: DefinitionRecord, version: number): DefinitionVersion | undefined {
  return record.versions.find((v) => v.version === version);
}

/**
 * The version reads are served from: the Live one; before any version is Live, the newest unless it
 * is Backfilling or Failed (a first version computed only from new events has no backfill to wait
 * for, and partial backfill results are not shown); none for a deleted definition.
 */
export function servingVersion(record: DefinitionRecord): number | undefined {
  if (record.deletedAt !== undefined) return undefined;
  if (record.liveVersion !== null) return record.liveVersion;
  const latest = latestVersion(record);
  return latest.status === 'Backfilling' || latest.status === 'Failed' ? undefined : latest.version;
}

export function statusOf(record: Pick<DefinitionRecord, 'enabled' | 'versions' | 'id'>): DefinitionStatus {
  if (!record.enabled) return 'Disabled';
  return latestVersion(record as DefinitionRecord).status;
}

/** A preview: one definition computed once over the log, not saved (spec §3.3). The engine computes it. */
export interface PreviewRecord {
  /** `prv_…` */
  readonly id: string;
  readonly space: string;
  readonly kind: DefinitionKind;
  readonly definition: { readonly query: string; readonly type: DefinitionTargetType };
  readonly options: DefinitionOptions;
  /** an edit's preview: the id of the definition it would change (the difference is against its members). */
  readonly compareTo?: string;
  readonly status: 'RUNNING' | 'COMPLETED' | 'FAILED';
  readonly createdAt: string;
  readonly updatedAt: string;
  /** members (audience) or valued profiles (trait). */
  readonly size?: number;
  /** a sample of profiles, with their value for a computed trait. */
  readonly results?: readonly PreviewResult[];
  /** an edit's preview: profiles that would enter and exit (a computed trait: whose value would change). */
  readonly difference?: PreviewDifference;
  readonly failureReason?: string;
}

export interface PreviewDifference {
  readonly enter: number;
  readonly exit: number;
  /** computed traits: profiles whose value would change (enter: gains a value, exit: loses it). */
  readonly changed: number;
}

export interface PreviewResult {
  readonly profileId: string;
  readonly value?: unknown;
}
