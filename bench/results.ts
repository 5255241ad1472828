/** Writes benchmark figures into bench/RESULTS.md: one section per benchmark, replaced on each run, with the machine it ran on. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ResultRow {
  readonly measurement: string;
  readonly value: string;
  readonly note?: string;
}

const FILE = join(dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');
const HEADER = '# Benchmark results\n\nWritten by the benchmarks themselves; each section is replaced when its benchmark runs again. Ratios are measured in the same run.\n';

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

export interface SectionMeta {
  readonly command: string;
  readonly seconds: number;
  /** lines under the heading (sizes, versions). */
  readonly details?: readonly string[];
  /** another file than bench/RESULTS.md (tests). */
  readonly file?: string;
}

/** Replaces (or appends) the section `id` of RESULTS.md (or of `meta.file`): a measurement | value | notes table. */
export function writeResults(id: string, title: string, rows: readonly ResultRow[], meta: SectionMeta): void {
  writeSection(id, title, ['| measurement | value | notes |', '|---|---:|---|', ...rows.map((r) => `| ${r.measurement} | ${r.value} | ${r.note ?? ''} |`)], meta);
}

/** Replaces (or appends) the section `id`: its heading, the command line with date, machine and duration, the details, then `body` (markdown lines). */
export function writeSection(id: string, title: string, body: readonly string[], meta: SectionMeta): void {
  const begin = `<!-- ${id}:begin -->`;
  const end = `<!-- ${id}:end -->`;
  const table = [
    `## ${title}`,
    '',
    `\`${meta.command}\` — ${new Date().toISOString().slice(0, 10)}, ${machine()}, ${meta.seconds.toFixed(0)} s.`,
    '',
    ...(meta.details === undefined ? [] : [...meta.details, '']),
    ...body,
  ].join('\n');
  const block = `${begin}\n${table}\n${end}`;
  const file = meta.file ?? FILE;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : HEADER;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) text = text.slice(0, i) + block + text.slice(j + end.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
}
