/** Loads audience and computed-trait definitions from a JSON file (query language), with every problem reported as data. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseDefinition } from '../lang/index.ts';
import type { DefinitionInput } from '../plan/plan.ts';

const entrySchema = z.object({
  space: z.string().min(1),
  key: z.string().regex(/^[a-z0-9_]{1,120}$/, { error: 'a key is 1–120 lowercase letters, digits or "_"' }),
  kind: z.enum(['audience', 'trait']),
  query: z.string().min(1),
  target: z.enum(['USERS', 'ACCOUNTS']).default('USERS'),
  id: z.string().min(1).optional(),
  version: z.number().int().min(1).default(1),
});

export const definitionsFileSchema = z.union([z.object({ definitions: z.array(entrySchema) }).transform((f) => f.definitions), z.array(entrySchema)]);

export interface DefinitionProblem {
  readonly where: string;
  readonly message: string;
}

export type DefinitionsResult =
  | { readonly ok: true; readonly bySpace: ReadonlyMap<string, DefinitionInput[]> }
  | { readonly ok: false; readonly problems: readonly DefinitionProblem[] };

/** Parses every entry's query; collects every diagnostic (with line and column) instead of stopping at the first. */
export function definitionsFromJson(json: unknown, source: string): DefinitionsResult {
  const parsed = definitionsFileSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => ({ where: `${source}: ${i.path.map(String).join('.') || '(root)'}`, message: i.message })) };
  }
  const problems: DefinitionProblem[] = [];
  const bySpace = new Map<string, DefinitionInput[]>();
  const seen = new Set<string>();
  for (const e of parsed.data) {
    const where = `${source}: ${e.space}/${e.key}`;
    if (seen.has(`${e.space}\u0000${e.key}`)) problems.push({ where, message: 'the key is defined twice in this space' });
    seen.add(`${e.space}\u0000${e.key}`);
    const r = parseDefinition(e.query, { kind: e.kind, target: e.target });
    for (const d of r.diagnostics) problems.push({ where, message: `${d.code} at ${d.line}:${d.column}: ${d.message}` });
    if (r.definition === null) continue;
    const list = bySpace.get(e.space) ?? [];
    list.push({ id: e.id ?? `${e.kind === 'audience' ? 'aud' : 'tra'}_${e.key}`, key: e.key, kind: e.kind, target: e.target, version: e.version, definition: r.definition });
    bySpace.set(e.space, list);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, bySpace };
}

export function loadDefinitionsFile(path: string): DefinitionsResult {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return { ok: false, problems: [{ where: path, message: `cannot read the definitions file: ${(error as Error).message}` }] };
  }
  return definitionsFromJson(json, path);
}

/** The entries of a definitions file as written (queries unparsed): what the registry seeds from. */
export function readDefinitionEntries(path: string): { readonly ok: true; readonly entries: z.output<typeof definitionsFileSchema> } | { readonly ok: false; readonly problems: readonly DefinitionProblem[] } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return { ok: false, problems: [{ where: path, message: `cannot read the definitions file: ${(error as Error).message}` }] };
  }
  const parsed = definitionsFileSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => ({ where: `${path}: ${i.path.map(String).join('.') || '(root)'}`, message: i.message })) };
  }
  return { ok: true, entries: parsed.data };
}
