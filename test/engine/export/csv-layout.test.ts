/**
 * Every layout on random profiles (identifier values and traits full of quotes, commas, line breaks,
 * backslashes, control characters, lone surrogates and formula starts), parsed back with csv-parse:
 * the cells are the values (text neutralised by one leading `'`), JSON cells parse to the values.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { isFormulaLike } from '../../../engine/export/csv-cell.ts';
import { csvLayout, hashIdentifier, type ExportProfile } from '../../../engine/export/csv-layout.ts';
import { exportOptions, type ExportOptionsInput } from '../../../engine/export/export-format.ts';
import type { IdentifierTuple } from '../../../engine/identity/records.ts';

const nasty = fc.string({ unit: fc.constantFrom('a', 'Z', '1', ',', '"', '\r', '\n', '\\', '\u0001', '\ud800', '😀', '=', '+', '-', '@', '\t', ' ', '{'), minLength: 1, maxLength: 6 });
const TYPES = ['email', 'user_id', 'x"type'];
const profileArb = fc.record({
  key: nasty,
  ids: fc.array(fc.tuple(fc.constantFrom(...TYPES), nasty), { maxLength: 5 }),
  custom: fc.dictionary(fc.constantFrom('name', 'n', 'o'), fc.oneof(nasty, fc.integer(), fc.constant(null), fc.dictionary(nasty, nasty, { maxKeys: 2, noNullPrototype: true })), { noNullPrototype: true }),
  computed: fc.array(fc.oneof(nasty, fc.integer(), fc.constant(undefined)), { minLength: 1, maxLength: 1 }),
});

const toProfile = (p: { key: string; ids: Array<[string, string]>; custom: Record<string, unknown>; computed: unknown[] }): ExportProfile => ({
  key: p.key,
  value: p.computed[0],
  ids: p.ids.map(([type, value]): IdentifierTuple => [type, value, 0, '', null, null]),
  custom: p.custom,
  computed: p.computed,
});
/** A text cell as the file holds it: neutralised, and UTF-8 (a lone surrogate becomes U+FFFD; JSON cells escape it instead). */
const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('utf8');
const text = (s: string) => utf8(isFormulaLike(s) ? `'${s}` : s);
const idsJson = (p: ExportProfile, only?: readonly string[]) => {
  const out: Record<string, string[]> = {};
  for (const [type, value] of p.ids) if (only === undefined || only.includes(type)) (out[type] ??= []).push(value);
  return out;
};
const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'string' ? text(v) : typeof v === 'number' ? String(v) : JSON.stringify(v));

function roundTrip(kind: 'audience' | 'trait', input: ExportOptionsInput, profiles: ExportProfile[]) {
  const checked = exportOptions(kind, input);
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  const counts = new Map<string, number>();
  for (const p of profiles) {
    const mine = new Map<string, number>();
    for (const t of p.ids) mine.set(t[0], (mine.get(t[0]) ?? 0) + 1);
    for (const [t, n] of mine) counts.set(t, Math.max(n, counts.get(t) ?? 0));
  }
  const layout = csvLayout(kind, checked.options, counts);
  const csv = layout.header + profiles.map((p) => layout.lines(p)).join('');
  // through UTF-8 bytes, as the file is written
  return { rows: parse(Buffer.from(csv, 'utf8')) as string[][], types: [...counts.keys()].sort() };
}

test('columns, formatted and not: cells and JSON cells equal the values', () => {
  fc.assert(
    fc.property(fc.array(profileArb, { maxLength: 4 }), (raw) => {
      const profiles = raw.map(toProfile);
      const formatted = roundTrip('audience', { format: 'columns', externalIds: TYPES, customTraits: ['name', 'n', 'o'], computedTraits: ['c'] }, profiles);
      assert.equal(formatted.rows[0], ['key', 'email', 'user_id', "x\"type", 'name', 'n', 'o', 'c']);
      formatted.rows.slice(1).forEach((r, i) => {
        const p = profiles[i]!;
        assert.equal(r, [text(p.key), ...TYPES.map((t) => text(p.ids.filter((x) => x[0] === t).map((x) => x[1]).join(', '))), ...['name', 'n', 'o'].map((k) => cell(p.custom[k])), cell(p.computed[0])]);
      });
      const json = roundTrip('audience', { format: 'columns', formatted: false, customTraits: ['name', 'n', 'o'], computedTraits: ['c'] }, profiles);
      json.rows.slice(1).forEach((r, i) => {
        const p = profiles[i]!;
        assert.equal(JSON.parse(r[1]!), idsJson(p));
        const traits: Record<string, unknown> = {};
        for (const k of ['name', 'n', 'o']) if (p.custom[k] !== undefined && p.custom[k] !== null) traits[k] = p.custom[k];
        if (p.computed[0] !== undefined) traits['c'] = p.computed[0];
        assert.equal(JSON.parse(r[2]!), traits);
      });
    }),
    { numRuns: 300 },
  );
});

test('indexed, rows and identifier: one value per cell, as many columns or rows as needed, the hash of each value', () => {
  fc.assert(
    fc.property(fc.array(profileArb, { maxLength: 4 }), (raw) => {
      const profiles = raw.map(toProfile);
      const indexed = roundTrip('trait', { format: 'indexed' }, profiles);
      indexed.rows.slice(1).forEach((r, i) => {
        const p = profiles[i]!;
        assert.equal([r[0], r[1], JSON.parse(r[2]!)], [text(p.key), cell(p.value), idsJson(p)]);
        const header = indexed.rows[0]!;
        for (const type of indexed.types) {
          const values = p.ids.filter((x) => x[0] === type).map((x) => text(x[1]));
          const at = header.indexOf(type);
          const n = Math.max(...profiles.map((q) => q.ids.filter((x) => x[0] === type).length));
          assert.equal(r.slice(at, at + n), [...values, ...Array(n - values.length).fill('')]);
        }
      });
      const rows = roundTrip('trait', { format: 'rows' }, profiles);
      const expected: string[][] = [];
      for (const p of profiles) {
        const n = Math.max(1, ...rows.types.map((t) => p.ids.filter((x) => x[0] === t).length));
        for (let k = 0; k < n; k++) expected.push([text(p.key), cell(p.value), ...rows.types.map((t) => text(p.ids.filter((x) => x[0] === t)[k]?.[1] ?? ''))]);
      }
      assert.equal(rows.rows.slice(1).map((r) => [r[0]!, r[1]!, ...r.slice(3)]), expected);
      const hashed = roundTrip('audience', { format: 'identifier', identifier: 'email' }, profiles);
      assert.equal(hashed.rows.slice(1).map((r) => r[0]), profiles.flatMap((p) => p.ids.filter((x) => x[0] === 'email').map((x) => hashIdentifier(x[1]))));
    }),
    { numRuns: 300 },
  );
});

test.run();
