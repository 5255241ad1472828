/**
 * The CSV export formats (Segment's, spec §7) and their options, checked: a bad combination is a
 * user mistake returned as data with a stable code, never an exception.
 *
 * Audiences: `columns` (Segment's current format: choose external ids, custom and computed traits;
 * `formatted` = one column each, unformatted = key + JSON objects), and the earlier three —
 * `unformatted` (`key,external_ids`), `indexed` (plus one column per identifier value: `email`,
 * `email_1`, …) and `identifier` (one identifier type, one value per row, SHA-256 by default).
 * Computed traits: `unformatted` (`key,value,external_ids`), `indexed`, and `rows` (one column per
 * identifier type, additional rows for multi-valued identifiers).
 */

export const AUDIENCE_FORMATS = ['columns', 'unformatted', 'indexed', 'identifier'] as const;
export const TRAIT_FORMATS = ['unformatted', 'indexed', 'rows'] as const;
export type ExportFormatName = (typeof AUDIENCE_FORMATS)[number] | (typeof TRAIT_FORMATS)[number];

export interface ExportOptions {
  readonly format: ExportFormatName;
  /** `columns` only: one column per identifier type and trait (true), or key + JSON objects (false). */
  readonly formatted: boolean;
  /** identifier types to include; undefined: every type the exported profiles have. */
  readonly externalIds: readonly string[] | undefined;
  /** `columns` only: custom trait keys and computed trait keys (of the same space) to include. */
  readonly customTraits: readonly string[];
  readonly computedTraits: readonly string[];
  /** `identifier` only: the identifier type of the single column, and whether it is SHA-256 hashed. */
  readonly identifier: string | undefined;
  readonly hashed: boolean;
  /** account-level definitions: a row for each member account before its users (default: users only). */
  readonly accountRows: boolean;
}

/** What a caller asks for (every field optional; `format` unchecked). */
export interface ExportOptionsInput {
  readonly format?: string | undefined;
  readonly formatted?: boolean | undefined;
  readonly externalIds?: readonly string[] | undefined;
  readonly customTraits?: readonly string[] | undefined;
  readonly computedTraits?: readonly string[] | undefined;
  readonly identifier?: string | undefined;
  readonly hashed?: boolean | undefined;
  readonly accountRows?: boolean | undefined;
}

export type ExportProblemCode = 'unknown-format' | 'format-of-other-kind' | 'identifier-required' | 'option-not-applicable' | 'duplicate-column';

export interface ExportProblem {
  readonly code: ExportProblemCode;
  readonly field: string;
  readonly message: string;
}

export type ExportOptionsResult = { readonly ok: true; readonly options: ExportOptions } | { readonly ok: false; readonly problems: readonly ExportProblem[] };

/** Checks and completes export options for a definition of `kind` (default format: `columns` for audiences, `unformatted` for traits). */
export function exportOptions(kind: 'audience' | 'trait', input: ExportOptionsInput): ExportOptionsResult {
  const problems: ExportProblem[] = [];
  const own: readonly string[] = kind === 'audience' ? AUDIENCE_FORMATS : TRAIT_FORMATS;
  const format = input.format ?? (kind === 'audience' ? 'columns' : 'unformatted');
  if (!(AUDIENCE_FORMATS as readonly string[]).includes(format) && !(TRAIT_FORMATS as readonly string[]).includes(format)) {
    problems.push({ code: 'unknown-format', field: 'format', message: `"${format}" is not an export format (${[...new Set([...AUDIENCE_FORMATS, ...TRAIT_FORMATS])].join(', ')})` });
  } else if (!own.includes(format)) {
    problems.push({ code: 'format-of-other-kind', field: 'format', message: `"${format}" is not a format of ${kind === 'audience' ? 'audiences' : 'computed traits'} (${own.join(', ')})` });
  }
  if (format === 'identifier' && (input.identifier === undefined || input.identifier === '')) {
    problems.push({ code: 'identifier-required', field: 'identifier', message: 'the identifier format exports one identifier type: give "identifier" (e.g. "email")' });
  }
  if (format !== 'identifier' && input.identifier !== undefined) problems.push(notApplicable('identifier', format));
  if (format !== 'identifier' && input.hashed !== undefined) problems.push(notApplicable('hashed', format));
  if (format !== 'columns') {
    if (input.formatted !== undefined) problems.push(notApplicable('formatted', format));
    if ((input.customTraits ?? []).length > 0) problems.push(notApplicable('customTraits', format));
    if ((input.computedTraits ?? []).length > 0) problems.push(notApplicable('computedTraits', format));
  }
  if (format === 'identifier' && input.externalIds !== undefined) problems.push(notApplicable('externalIds', format));
  for (const field of ['externalIds', 'customTraits', 'computedTraits'] as const) {
    const list = input[field] ?? [];
    const dup = list.find((x, i) => list.indexOf(x) !== i);
    if (dup !== undefined) problems.push({ code: 'duplicate-column', field, message: `"${dup}" is listed twice` });
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    options: {
      format: format as ExportFormatName,
      formatted: input.formatted ?? true,
      externalIds: input.externalIds,
      customTraits: input.customTraits ?? [],
      computedTraits: input.computedTraits ?? [],
      identifier: input.identifier,
      hashed: input.hashed ?? true,
      accountRows: input.accountRows ?? false,
    },
  };
}

function notApplicable(field: string, format: string): ExportProblem {
  return { code: 'option-not-applicable', field, message: `"${field}" does not apply to the ${format} format` };
}

/** Whether the header needs every identifier type's largest number of values first (a counting pass over the snapshot). */
export function needsIdentifierCounts(o: ExportOptions): boolean {
  return o.format === 'indexed' || o.format === 'rows' || (o.format === 'columns' && o.formatted && o.externalIds === undefined);
}
