/** Registry records in the management API's shapes, and registry errors as HTTP errors. */
import { latestVersion, servingVersion, type DefinitionRecord, type PreviewRecord, type RegistryError, type StoreHandle } from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';

/** What differs between the audiences and the computed-traits routes. */
export interface KindSpec {
  readonly kind: 'audience' | 'trait';
  /** path segment */
  readonly path: 'audiences' | 'computed-traits';
  /** the envelope's name for one and for a list */
  readonly one: 'audience' | 'computedTrait';
  readonly many: 'audiences' | 'computedTraits';
  readonly preview: 'audiencePreview' | 'computedTraitPreview';
  readonly noun: string;
}

export const AUDIENCES: KindSpec = { kind: 'audience', path: 'audiences', one: 'audience', many: 'audiences', preview: 'audiencePreview', noun: 'audience' };
export const COMPUTED_TRAITS: KindSpec = { kind: 'trait', path: 'computed-traits', one: 'computedTrait', many: 'computedTraits', preview: 'computedTraitPreview', noun: 'computed trait' };

const SIZE_TTL_MS = 2_000;
const sizes = new Map<string, { count: number; at: number }>();

/**
 * The size of the serving version from the engine's outputs index; null before a version serves or
 * while the engine's state is not readable. Counting is a range scan of the index (linear in the
 * members), so a count is reused for two seconds: a list of large audiences stays fast.
 */
export function sizeOf(record: DefinitionRecord, store: StoreHandle): number | null {
  const version = servingVersion(record);
  if (version === undefined) return null;
  const s = store.get();
  if (s === undefined) return null;
  const key = `${s.path}\u0000${record.space}\u0000${record.id}`;
  const now = performance.now();
  const cached = sizes.get(key);
  if (cached !== undefined && now - cached.at < SIZE_TTL_MS) return cached.count;
  const count = s.outputCount(record.space, record.id);
  if (sizes.size > 10_000) sizes.clear();
  sizes.set(key, { count, at: now });
  return count;
}

export function presentDefinition(record: DefinitionRecord, spec: KindSpec, size: number | null) {
  const latest = latestVersion(record);
  return {
    id: record.id,
    spaceId: record.space,
    key: record.key,
    name: record.name,
    description: record.description,
    enabled: record.enabled,
    definition: record.definition,
    ...(spec.kind === 'audience' ? { audienceType: record.definition.type } : {}),
    options: record.options,
    computeCadence: record.computeCadence,
    status: record.status,
    ...(latest.progress === undefined ? {} : { progress: latest.progress }),
    ...(latest.eta === undefined ? {} : { eta: latest.eta }),
    ...(latest.failureReason === undefined ? {} : { failureReason: latest.failureReason }),
    size: { count: size, type: record.definition.type },
    version: latest.version,
    liveVersion: record.liveVersion,
    versions: record.versions.map((v) => ({
      version: v.version,
      query: v.query,
      status: v.status,
      createdAt: v.createdAt,
      updatedAt: v.updatedAt,
      ...(v.progress === undefined ? {} : { progress: v.progress }),
      ...(v.eta === undefined ? {} : { eta: v.eta }),
      ...(v.failureReason === undefined ? {} : { failureReason: v.failureReason }),
      ...(v.supersededAt === undefined ? {} : { supersededAt: v.supersededAt }),
    })),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export function presentPreview(preview: PreviewRecord) {
  return {
    id: preview.id,
    status: preview.status,
    definition: preview.definition,
    options: preview.options,
    createdAt: preview.createdAt,
    ...(preview.size === undefined ? {} : { size: { count: preview.size } }),
    ...(preview.results === undefined ? {} : { results: preview.results.map((r) => ({ id: r.profileId, ...(r.value === undefined ? {} : { value: r.value }) })) }),
    ...(preview.compareTo === undefined ? {} : { compareTo: preview.compareTo }),
    ...(preview.difference === undefined ? {} : { difference: preview.difference }),
    ...(preview.failureReason === undefined ? {} : { failureReason: preview.failureReason }),
  };
}

/** Registry errors as HTTP: 404 unknown, 409 conflicts (keys, fixed fields, consumers), 422 query diagnostics. */
export function registryHttpError(error: RegistryError): HttpError {
  const field = error.details.field;
  switch (error.code) {
    case 'not_found':
      return new HttpError(404, 'not-found', error.message);
    case 'invalid_definition':
      return new HttpError(422, 'input-validation', error.message, {}, {
        cause: error,
        issues: (error.details.diagnostics ?? []).map((d) => ({ message: d.message, field: 'definition.query', code: d.code, line: d.line, column: d.column })),
      });
    case 'reserved_word':
      return new HttpError(422, 'input-validation', error.message, {}, { cause: error, issues: [{ message: error.message, code: error.code, ...(field === undefined ? {} : { field }) }] });
    default:
      return new HttpError(409, 'conflict', error.message, {}, { cause: error, issues: [{ message: error.message, code: error.code, ...(field === undefined ? {} : { field }) }] });
  }
}

/** `My Audience (2024)!` → `my_audience_2024`. */
export function keyFromName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 120);
}
