/**
 * Every export format over a store written directly (bench/csv-store.ts), parsed back with csv-parse
 * and compared with the members, values, identifiers and traits; the hash column checked against
 * node:crypto; account audiences; as-of exports from the history; and a snapshot taken while
 * checkpoints are committed has no torn rows.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { writeSynthetic, type SyntheticProfile } from '../../../bench/csv-store.ts';
import { csvChunks } from '../../../engine/export/csv-chunks.ts';
import { exportOptions, type ExportOptionsInput } from '../../../engine/export/export-format.ts';
import type { ExportSource } from '../../../engine/export/export-profiles.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';

const SPACE = 'spa_a';
const T0 = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;

const A = 'use_AAAAAAAAAAAAAAAAAAAAAAAAAAA';
const B = 'use_BBBBBBBBBBBBBBBBBBBBBBBBBBB';
const C = 'use_CCCCCCCCCCCCCCCCCCCCCCCCCCC';
const D = 'use_DDDDDDDDDDDDDDDDDDDDDDDDDDD';

const PROFILES: SyntheticProfile[] = [
  { id: A, ids: [['email', 'a1@x.com', 'A1@x.com'], ['anonymous_id', 'anon_a'], ['email', 'a2@x.com'], ['user_id', 'u_a']], traits: { name: '=HYPERLINK("http://evil","x")', plan: 'pro', n: -5, nested: { a: 1 } } },
  { id: B, ids: [['anonymous_id', 'anon_b']], traits: { name: 'Bob, "the" builder\nline 2', plan: '+1' } },
  { id: C, ids: [['email', 'c@x.com']], traits: { name: '@SUM(A1)', plan: '\tTAB' } },
  { id: D, ids: [['email', 'd@x.com']], traits: { name: 'not a member' } },
  { id: 'group_id:acme', links: [A, B], traits: { tier: 'gold' } },
  { id: 'group_id:beta', links: [C, B], traits: { tier: '-x' } },
];

let dir = '';
let store: CheckpointStore;
test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flock-csv-'));
  store = CheckpointStore.open(dir);
  await writeSynthetic(store, { space: SPACE, position: 1, at: T0, history: true }, PROFILES, [
    ...[A, B, C].map((p) => ({ definitionId: 'aud_1', kind: 'audience' as const, profileId: p, value: true })),
    { definitionId: 'ct_1', kind: 'trait', profileId: A, value: 34 },
    { definitionId: 'ct_1', kind: 'trait', profileId: C, value: '-7x' },
    { definitionId: 'ct_2', kind: 'trait', profileId: A, value: ['x', 'y'] },
    { definitionId: 'acc_1', kind: 'audience', profileId: 'group_id:acme', value: true },
    { definitionId: 'acc_1', kind: 'audience', profileId: 'group_id:beta', value: true },
  ]);
});
test.after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const source = (over: Partial<ExportSource> = {}): ExportSource => ({ space: SPACE, definitionId: 'aud_1', target: 'USERS', computed: [], customTraits: false, accountRows: false, ...over });

function exportText(kind: 'audience' | 'trait', input: ExportOptionsInput, over: Partial<ExportSource> = {}, s: CheckpointStore = store): string {
  const checked = exportOptions(kind, input);
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  const snap = s.snapshot();
  try {
    let text = '';
    for (const chunk of csvChunks(snap, kind, checked.options, source({ customTraits: checked.options.customTraits.length > 0, accountRows: checked.options.accountRows, ...over }), 64)) text += chunk.bytes.toString('utf8');
    return text;
  } finally {
    snap.release();
  }
}
const rowsOf = (text: string): string[][] => parse(text) as string[][];
const sha = (s: string) => createHash('sha256').update(s).digest('hex').toUpperCase();

test('audiences, current format, formatted: one column per identifier type, custom and computed trait; injection-prone text neutralised', () => {
  const text = exportText('audience', { format: 'columns', externalIds: ['email', 'anonymous_id'], customTraits: ['name', 'plan', 'n', 'nested'], computedTraits: ['ltv', 'tags'] }, { computed: [{ id: 'ct_1', version: 1 }, { id: 'ct_2', version: 1 }] });
  assert.ok(text.endsWith('\r\n'));
  assert.equal(rowsOf(text), [
    ['key', 'email', 'anonymous_id', 'name', 'plan', 'n', 'nested', 'ltv', 'tags'],
    [A, 'A1@x.com, a2@x.com', 'anon_a', `'=HYPERLINK("http://evil","x")`, 'pro', '-5', '{"a":1}', '34', '["x","y"]'],
    [B, '', 'anon_b', 'Bob, "the" builder\nline 2', "'+1", '', '', '', ''],
    [C, 'c@x.com', '', "'@SUM(A1)", "'\tTAB", '', '', "'-7x", ''],
  ]);
});

test('audiences, current format, unformatted: key + a JSON object of external ids + a JSON object of traits', () => {
  const rows = rowsOf(exportText('audience', { format: 'columns', formatted: false, customTraits: ['name', 'n'], computedTraits: ['ltv'] }, { computed: [{ id: 'ct_1', version: 1 }] }));
  assert.equal(rows[0], ['key', 'external_ids', 'traits']);
  assert.equal(rows.slice(1).map((r) => [r[0], JSON.parse(r[1]!), JSON.parse(r[2]!)]), [
    [A, { anonymous_id: ['anon_a'], email: ['A1@x.com', 'a2@x.com'], user_id: ['u_a'] }, { name: '=HYPERLINK("http://evil","x")', n: -5, ltv: 34 }],
    [B, { anonymous_id: ['anon_b'] }, { name: 'Bob, "the" builder\nline 2' }],
    [C, { email: ['c@x.com'] }, { name: '@SUM(A1)', ltv: '-7x' }],
  ]);
});

test('audiences, earlier formats: key,external_ids; indexed columns email, email_1; a single identifier column hashed (upper-case SHA-256) or raw', () => {
  const a = rowsOf(exportText('audience', { format: 'unformatted' }));
  assert.equal(a.map((r) => r[0]), ['key', A, B, C]);
  assert.equal(a[0], ['key', 'external_ids']);
  assert.equal(JSON.parse(a[1]![1]!), { anonymous_id: ['anon_a'], email: ['A1@x.com', 'a2@x.com'], user_id: ['u_a'] });

  const b = rowsOf(exportText('audience', { format: 'indexed' }));
  assert.equal(b[0], ['key', 'external_ids', 'anonymous_id', 'email', 'email_1', 'user_id']);
  assert.equal(b.slice(1).map((r) => [r[0], ...r.slice(2)]), [
    [A, 'anon_a', 'A1@x.com', 'a2@x.com', 'u_a'],
    [B, 'anon_b', '', '', ''],
    [C, '', 'c@x.com', '', ''],
  ]);

  const c = rowsOf(exportText('audience', { format: 'identifier', identifier: 'email' }));
  assert.equal(c, [['email'], [sha('a1@x.com')], [sha('a2@x.com')], [sha('c@x.com')]]);
  // Segment's documented example row
  assert.is(sha('luke@force.com'), 'A111F4879EC86CA6DE45B23732CB9CC5DA7EB381196377BC4933E4E1F50C7275');
  const raw = rowsOf(exportText('audience', { format: 'identifier', identifier: 'email', hashed: false }));
  assert.equal(raw, [['email'], ['A1@x.com'], ['a2@x.com'], ['c@x.com']]);
});

test('computed traits: key,value,external_ids; indexed columns; additional rows for multi-valued identifiers', () => {
  const over = { definitionId: 'ct_1' };
  const a = rowsOf(exportText('trait', { format: 'unformatted' }, over));
  assert.equal(a.map((r) => [r[0], r[1], JSON.parse(r[2]!.startsWith('{') ? r[2]! : '"h"')]), [
    ['key', 'value', 'h'],
    [A, '34', { anonymous_id: ['anon_a'], email: ['A1@x.com', 'a2@x.com'], user_id: ['u_a'] }],
    [C, "'-7x", { email: ['c@x.com'] }],
  ]);
  const b = rowsOf(exportText('trait', { format: 'indexed', externalIds: ['email'] }, over));
  assert.equal(b.map((r) => [r[0], r[1], ...r.slice(3)]), [
    ['key', 'value', 'email', 'email_1'],
    [A, '34', 'A1@x.com', 'a2@x.com'],
    [C, "'-7x", 'c@x.com', ''],
  ]);
  assert.equal(JSON.parse(b[1]![2]!), { email: ['A1@x.com', 'a2@x.com'] });
  const c = rowsOf(exportText('trait', { format: 'rows' }, over));
  assert.equal(c[0], ['key', 'value', 'external_ids', 'anonymous_id', 'email', 'user_id']);
  assert.equal(c.slice(1).map((r) => [r[0], r[1], ...r.slice(3)]), [
    [A, '34', 'anon_a', 'A1@x.com', 'u_a'],
    [A, '34', '', 'a2@x.com', ''],
    [C, "'-7x", '', 'c@x.com', ''],
  ]);
  assert.is(c[1]![2], c[2]![2]);
});

test("account audiences: rows are the accounts' users, each once; account rows as an option", () => {
  const users = rowsOf(exportText('audience', { format: 'unformatted' }, { definitionId: 'acc_1', target: 'ACCOUNTS' }));
  assert.equal(users.map((r) => r[0]), ['key', A, B, C]);
  const withAccounts = rowsOf(exportText('audience', { format: 'columns', accountRows: true, externalIds: ['group_id', 'email'], customTraits: ['tier'] }, { definitionId: 'acc_1', target: 'ACCOUNTS' }));
  assert.equal(withAccounts, [
    ['key', 'group_id', 'email', 'tier'],
    ['group_id:acme', 'acme', '', 'gold'],
    [A, '', 'A1@x.com, a2@x.com', ''],
    [B, '', '', ''],
    ['group_id:beta', 'beta', '', "'-x"],
    [C, '', 'c@x.com', ''],
  ]);
});

test('option mistakes are data with stable codes', () => {
  const codes = (kind: 'audience' | 'trait', input: ExportOptionsInput) => {
    const r = exportOptions(kind, input);
    return r.ok ? [] : r.problems.map((p) => `${p.field}:${p.code}`);
  };
  assert.equal(codes('audience', { format: 'rows' }), ['format:format-of-other-kind']);
  assert.equal(codes('trait', { format: 'columns' }), ['format:format-of-other-kind']);
  assert.equal(codes('audience', { format: 'csv' }), ['format:unknown-format']);
  assert.equal(codes('audience', { format: 'identifier' }), ['identifier:identifier-required']);
  assert.equal(codes('audience', { format: 'indexed', hashed: false, customTraits: ['a'] }), ['hashed:option-not-applicable', 'customTraits:option-not-applicable']);
  assert.equal(codes('audience', { externalIds: ['email', 'email'] }), ['externalIds:duplicate-column']);
  assert.equal(codes('audience', {}), []);
});

test('as of an instant: the members and computed-trait values the history held then; current identifiers', async () => {
  const d = mkdtempSync(join(tmpdir(), 'flock-csv-asof-'));
  const s = CheckpointStore.open(d);
  try {
    const profiles = PROFILES.slice(0, 4);
    await writeSynthetic(s, { space: SPACE, position: 1, at: T0, history: true }, profiles, [
      { definitionId: 'aud_1', kind: 'audience', profileId: A, value: true },
      { definitionId: 'aud_1', kind: 'audience', profileId: B, value: true },
      { definitionId: 'ct_1', kind: 'trait', profileId: A, value: 1 },
    ]);
    await writeSynthetic(s, { space: SPACE, position: 2, at: T0 + HOUR, history: true }, [], [
      { definitionId: 'aud_1', kind: 'audience', profileId: A, value: undefined },
      { definitionId: 'aud_1', kind: 'audience', profileId: C, value: true },
      { definitionId: 'ct_1', kind: 'trait', profileId: A, value: 2 },
      { definitionId: 'ct_1', kind: 'trait', profileId: C, value: 3 },
    ]);
    const options = { format: 'columns', externalIds: ['anonymous_id'], computedTraits: ['ltv'] };
    const computed = [{ id: 'ct_1', version: 1 }];
    const then = rowsOf(exportText('audience', options, { computed, at: { t: T0 + HOUR / 2, version: 1 } }, s));
    assert.equal(then, [['key', 'anonymous_id', 'ltv'], [A, 'anon_a', '1'], [B, 'anon_b', '']]);
    const now = rowsOf(exportText('audience', options, { computed }, s));
    assert.equal(now, [['key', 'anonymous_id', 'ltv'], [B, 'anon_b', ''], [C, '', '3']]);
    assert.equal(rowsOf(exportText('audience', options, { computed, at: { t: T0 + HOUR, version: 1 } }, s)), now);
  } finally {
    await s.close();
    rmSync(d, { recursive: true, force: true });
  }
});

test('a sparse audience (point reads) and a dense one (merge joins over the ranges) give the same rows', async () => {
  const d = mkdtempSync(join(tmpdir(), 'flock-csv-sparse-'));
  const s = CheckpointStore.open(d);
  try {
    const ids = Array.from({ length: 40 }, (_, i) => `use_${String(i).padStart(27, '0')}`);
    const few = [ids[3]!, ids[17]!, ids[39]!];
    await writeSynthetic(
      s,
      { space: SPACE, position: 1, at: T0 },
      ids.map((id, i) => ({ id, ids: i % 5 === 0 ? [] : [['email', `p${i}@x.com`]], traits: { n: i } })),
      ids.flatMap((id, i) => [
        { definitionId: 'dense', kind: 'audience' as const, profileId: id, value: true },
        ...(few.includes(id) ? [{ definitionId: 'sparse', kind: 'audience' as const, profileId: id, value: true }] : []),
        ...(i % 3 === 0 ? [] : [{ definitionId: 'ct_n', kind: 'trait' as const, profileId: id, value: i * 2 }]),
      ]),
    );
    const options = { format: 'columns', externalIds: ['email'], customTraits: ['n'], computedTraits: ['n2'] };
    const over = { customTraits: true, computed: [{ id: 'ct_n', version: 1 }] };
    const dense = rowsOf(exportText('audience', options, { ...over, definitionId: 'dense' }, s));
    const sparse = rowsOf(exportText('audience', options, { ...over, definitionId: 'sparse' }, s));
    assert.is(dense.length, 41);
    assert.equal(sparse, dense.filter((r, i) => i === 0 || few.includes(r[0]!)));
    assert.equal(sparse.slice(1, 3), [[ids[3], 'p3@x.com', '3', ''], [ids[17], 'p17@x.com', '17', '34']]);
  } finally {
    await s.close();
    rmSync(d, { recursive: true, force: true });
  }
});

test('a snapshot taken while checkpoints commit has no torn rows: every row and the row set come from one checkpoint', async () => {
  const d = mkdtempSync(join(tmpdir(), 'flock-csv-torn-'));
  const s = CheckpointStore.open(d);
  const N = 600;
  const ids = Array.from({ length: N }, (_, i) => `use_${String(i).padStart(27, '0')}`);
  // generation g: every profile's trait `gen` and anonymous id carry g, computed trait ct_g = g, and the
  // audience holds the even profiles in even generations and the odd ones in odd generations
  const generation = (g: number, position: number) =>
    writeSynthetic(
      s,
      { space: SPACE, position, at: T0 + g },
      ids.map((id) => ({ id, ids: [['anonymous_id', `anon-${g}-${id}`]], traits: { gen: g } })),
      ids.flatMap((id, i) => [
        { definitionId: 'aud_t', kind: 'audience' as const, profileId: id, value: i % 2 === g % 2 ? true : undefined },
        { definitionId: 'ct_g', kind: 'trait' as const, profileId: id, value: g },
      ]),
    );
  let writing = true;
  try {
    await generation(0, 1);
    const checked = exportOptions('audience', { format: 'columns', externalIds: ['anonymous_id'], customTraits: ['gen'], computedTraits: ['g'] });
    assert.ok(checked.ok);
    let g = 0;
    const writer = (async () => {
      while (writing) await generation(++g, g + 1);
    })();
    const results: string[][][] = [];
    for (let round = 0; round < 3; round++) {
      const snap = s.snapshot();
      let text = '';
      try {
        // tiny chunks, and a turn of the event loop (a commit) between them
        for (const chunk of csvChunks(snap, 'audience', checked.options, source({ definitionId: 'aud_t', customTraits: true, computed: [{ id: 'ct_g', version: 1 }] }), 512)) {
          text += chunk.bytes.toString('utf8');
          await new Promise((r) => setTimeout(r, 1));
        }
      } finally {
        snap.release();
      }
      results.push(rowsOf(text).slice(1));
    }
    writing = false;
    await writer;
    assert.ok(g >= 3, `only ${g} checkpoints were committed during the exports`);
    for (const rows of results) {
      const gens = new Set(rows.map((r) => r[2]));
      assert.is(gens.size, 1, `rows from generations ${[...gens].join(', ')}`);
      const gen = Number(rows[0]![2]);
      assert.equal(rows.map((r) => r[0]), ids.filter((_, i) => i % 2 === gen % 2));
      for (const r of rows) assert.equal(r, [r[0], `anon-${gen}-${r[0]}`, String(gen), String(gen)]);
    }
  } finally {
    writing = false;
    await s.close();
    rmSync(d, { recursive: true, force: true });
  }
});

test.run();
