/**
 * The header and the lines of one export: a pure function of the format's options, the identifier
 * types (and their largest value counts) of the exported profiles, and one profile at a time.
 */
import { createHash } from 'node:crypto';
import type { IdentifierTuple } from '../identity/records.ts';
import { CRLF, quoted, textCell, valueCell } from './csv-cell.ts';
import type { ExportOptions } from './export-format.ts';

/** One exported profile: a user, or an account when account rows are asked for. */
export interface ExportProfile {
  /** the profile id (`use_…`, or `group_id:<id>` for an account). */
  readonly key: string;
  /** a computed trait's value (trait exports). */
  readonly value: unknown;
  /** its identifiers, in the order they were added. */
  readonly ids: readonly IdentifierTuple[];
  readonly custom: Readonly<Record<string, unknown>>;
  /** the values of `options.computedTraits`, in that order (undefined: no value). */
  readonly computed: readonly unknown[];
}

/** Identifier types of the exported profiles, each with the most values one profile has. */
export type IdentifierCounts = ReadonlyMap<string, number>;

export interface CsvLayout {
  /** the header line (CRLF-terminated). */
  readonly header: string;
  /** the profile's lines (CRLF-terminated; '' when the format has no row for it). */
  lines(p: ExportProfile): string;
}

/** SHA-256 of an identifier, upper-case hex (Segment's single-column export). */
export function hashIdentifier(value: string): string {
  return createHash('sha256').update(value).digest('hex').toUpperCase();
}

/** The spelling an export shows: as first sent (the Profile API's `id`). */
const spelling = (t: IdentifierTuple): string => t[5] ?? t[1];

/** `types` with `counts` columns each: `email`, `email_1`, `email_2`, … */
function indexedNames(types: readonly string[], counts: IdentifierCounts): string[] {
  const names: string[] = [];
  for (const type of types) {
    const n = Math.max(1, counts.get(type) ?? 0);
    for (let i = 0; i < n; i++) names.push(i === 0 ? type : `${type}_${i}`);
  }
  return names;
}

/** The profile's values grouped by type, in the order added; only `types` when given. */
function grouped(ids: readonly IdentifierTuple[], only: ReadonlySet<string> | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of ids) {
    if (only !== undefined && !only.has(t[0])) continue;
    const list = out.get(t[0]);
    if (list === undefined) out.set(t[0], [spelling(t)]);
    else list.push(spelling(t));
  }
  return out;
}

/** Strings JSON.stringify writes as `"` + the string + `"` (nothing to escape). */
const JSON_PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** A JSON string as it appears inside a quoted CSV cell (every `"` doubled). */
function jsonStringInCell(v: string): string {
  return JSON_PLAIN.test(v) ? `""${v}""` : JSON.stringify(v).replaceAll('"', '""');
}

/**
 * The `external_ids` cell, `{"anonymous_id":["anon_1"],"email":["a@x.com","b@x.com"]}` (types sorted),
 * written straight into its quoted CSV form — JSON always holds `"`, so the cell is always quoted.
 */
function externalIdsCell(ids: readonly IdentifierTuple[], only: ReadonlySet<string> | undefined): string {
  // types in sorted order, each type's values in the order added
  const types: string[] = [];
  for (const t of ids) if ((only === undefined || only.has(t[0])) && !types.includes(t[0])) types.push(t[0]);
  types.sort();
  let cell = '"{';
  for (let i = 0; i < types.length; i++) {
    const type = types[i]!;
    cell += `${i === 0 ? '' : ','}${jsonStringInCell(type)}:[`;
    let first = true;
    for (const t of ids) {
      if (t[0] !== type) continue;
      cell += (first ? '' : ',') + jsonStringInCell(spelling(t));
      first = false;
    }
    cell += ']';
  }
  return `${cell}}"`;
}

/** The values of one identifier type joined by ", " (the formatted current format's cell). */
function joinedValues(ids: readonly IdentifierTuple[], type: string): string {
  let out = '';
  for (const t of ids) if (t[0] === type) out += out === '' ? spelling(t) : `, ${spelling(t)}`;
  return out;
}

/**
 * The layout of an export. `kind` decides whether a `value` column follows the key; `counts` holds
 * the identifier types of the exported profiles (needed by every format that has a column per type
 * when `options.externalIds` does not name them).
 */
export function csvLayout(kind: 'audience' | 'trait', o: ExportOptions, counts: IdentifierCounts): CsvLayout {
  const only = o.externalIds === undefined ? undefined : new Set(o.externalIds);
  const types = o.externalIds ?? [...counts.keys()].sort();
  const lead = (p: ExportProfile): string => (kind === 'trait' ? `${textCell(p.key)},${valueCell(p.value)}` : textCell(p.key));
  const leadHeader = kind === 'trait' ? ['key', 'value'] : ['key'];
  const headerOf = (names: readonly string[]) => names.map(textCell).join(',') + CRLF;

  switch (o.format) {
    case 'columns': {
      if (o.formatted) {
        // one column per identifier type (several values: one cell, joined by ", "), custom trait and computed trait
        const header = headerOf([...leadHeader, ...types, ...o.customTraits, ...o.computedTraits]);
        return {
          header,
          lines(p) {
            let line = lead(p);
            for (const type of types) line += `,${textCell(joinedValues(p.ids, type))}`;
            for (const key of o.customTraits) line += `,${valueCell(p.custom[key])}`;
            for (const v of p.computed) line += `,${valueCell(v)}`;
            return line + CRLF;
          },
        };
      }
      const withIds = o.externalIds === undefined || o.externalIds.length > 0;
      const withTraits = o.customTraits.length + o.computedTraits.length > 0;
      // `"key":` of each trait, JSON-escaped once
      const customKeys = o.customTraits.map((k) => `${JSON.stringify(k)}:`);
      const computedKeys = o.computedTraits.map((k) => `${JSON.stringify(k)}:`);
      const header = headerOf([...leadHeader, ...(withIds ? ['external_ids'] : []), ...(withTraits ? ['traits'] : [])]);
      return {
        header,
        lines(p) {
          let line = lead(p);
          if (withIds) line += `,${externalIdsCell(p.ids, only)}`;
          if (withTraits) {
            // the JSON object as text: custom traits with a value, then computed traits with a value
            let json = '';
            for (let i = 0; i < customKeys.length; i++) {
              const v = p.custom[o.customTraits[i]!];
              if (v !== undefined && v !== null) json += `${json === '' ? '' : ','}${customKeys[i]}${JSON.stringify(v)}`;
            }
            for (let i = 0; i < computedKeys.length; i++) {
              const v = p.computed[i];
              if (v !== undefined) json += `${json === '' ? '' : ','}${computedKeys[i]}${JSON.stringify(v)}`;
            }
            line += `,"{${json.replaceAll('"', '""')}}"`;
          }
          return line + CRLF;
        },
      };
    }
    case 'unformatted':
      return { header: headerOf([...leadHeader, 'external_ids']), lines: (p) => `${lead(p)},${externalIdsCell(p.ids, only)}${CRLF}` };
    case 'indexed': {
      const header = headerOf([...leadHeader, 'external_ids', ...indexedNames(types, counts)]);
      return {
        header,
        lines(p) {
          const groups = grouped(p.ids, only);
          let line = `${lead(p)},${externalIdsCell(p.ids, only)}`;
          for (const type of types) {
            const values = groups.get(type) ?? [];
            const n = Math.max(1, counts.get(type) ?? 0);
            for (let i = 0; i < n; i++) line += `,${values[i] === undefined ? '' : textCell(values[i]!)}`;
          }
          return line + CRLF;
        },
      };
    }
    case 'rows': {
      const header = headerOf([...leadHeader, 'external_ids', ...types]);
      return {
        header,
        lines(p) {
          const groups = grouped(p.ids, only);
          const first = `${lead(p)},${externalIdsCell(p.ids, only)}`;
          let rows = 1;
          for (const type of types) rows = Math.max(rows, groups.get(type)?.length ?? 0);
          let out = '';
          for (let r = 0; r < rows; r++) {
            out += first;
            for (const type of types) {
              const v = groups.get(type)?.[r];
              out += `,${v === undefined ? '' : textCell(v)}`;
            }
            out += CRLF;
          }
          return out;
        },
      };
    }
    case 'identifier': {
      const type = o.identifier!;
      return {
        header: headerOf([type]),
        lines(p) {
          let out = '';
          // hashed: of the value as stored (lower-cased), so one address always hashes the same
          for (const t of p.ids) if (t[0] === type) out += (o.hashed ? quoted(hashIdentifier(t[1])) : textCell(spelling(t))) + CRLF;
          return out;
        },
      };
    }
  }
}
