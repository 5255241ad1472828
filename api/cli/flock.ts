/**
 * `flock`: start the service, and manage the audiences and computed traits of a running one through
 * its management API — create, list, inspect, preview, wait for a backfill with a progress bar, and
 * export as CSV — and its destinations (destinations-command.ts).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import { readFileSync } from 'node:fs';
import { destinationCommands } from './destinations-command.ts';

type Json = Record<string, any>;

/** Exit codes: 0 done, 1 the API refused or the definition failed, 2 usage, 3 still running at the timeout. */
export const EXIT = { ok: 0, failed: 1, usage: 2, timeout: 3 } as const;

class CliError extends Error {
  constructor(
    message: string,
    readonly code: number = EXIT.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

interface Connection {
  readonly url: string;
  readonly space: string;
  readonly token: string;
}

interface Kind {
  readonly path: 'audiences' | 'computed-traits';
  readonly one: 'audience' | 'computedTrait';
  readonly many: 'audiences' | 'computedTraits';
  readonly preview: 'audiencePreview' | 'computedTraitPreview';
}

const KINDS: Record<'audiences' | 'traits', Kind> = {
  audiences: { path: 'audiences', one: 'audience', many: 'audiences', preview: 'audiencePreview' },
  traits: { path: 'computed-traits', one: 'computedTrait', many: 'computedTraits', preview: 'computedTraitPreview' },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where the CLI writes (tests capture it). */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** draw a progress bar (a terminal); otherwise one line per status change. */
  readonly tty: boolean;
  /** raw bytes to stdout (a CSV download), resolved when the sink takes more; default: `out` as UTF-8 text. */
  readonly outBytes?: (chunk: Uint8Array) => Promise<void>;
}

const PROCESS_IO: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  tty: process.stderr.isTTY === true,
  outBytes: (chunk) => (process.stdout.write(chunk) ? Promise.resolve() : new Promise((r) => process.stdout.once('drain', r))),
};
type Print = (line?: string) => void;

async function call(conn: Connection, method: string, path: string, body?: unknown): Promise<Json> {
  let res: Response;
  try {
    res = await fetch(`${conn.url.replace(/\/+$/, '')}/spaces/${encodeURIComponent(conn.space)}/${path}`, {
      method,
      headers: { authorization: `Bearer ${conn.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new CliError(`cannot reach Flock at ${conn.url}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`);
  }
  const json = (await res.json().catch(() => ({}))) as Json;
  if (!res.ok) throw new CliError(describeErrors(res.status, json, body));
  return json['data'] as Json;
}

/** The API's errors, with a caret under the column of each query diagnostic. */
function describeErrors(status: number, json: Json, body: unknown): string {
  const errors: Json[] = Array.isArray(json['errors']) ? json['errors'] : [{ type: 'error', message: JSON.stringify(json) }];
  const query = (body as Json | undefined)?.['definition']?.query as string | undefined;
  const lines = [`HTTP ${status}`];
  for (const e of errors) {
    if (typeof e['line'] === 'number' && typeof e['column'] === 'number' && query !== undefined) {
      const source = query.split('\n')[e['line'] - 1] ?? '';
      lines.push(`query:${e['line']}:${e['column']}: ${e['code'] ?? e['type']}: ${e['message']}`, `  ${source}`, `  ${' '.repeat(Math.max(0, e['column'] - 1))}^`);
    } else {
      lines.push(`${e['type']}${e['field'] === undefined ? '' : ` (${e['field']})`}: ${e['message']}`);
    }
  }
  return lines.join('\n');
}

function summary(d: Json): string {
  const size = d['size']?.count === null || d['size'] === undefined ? '-' : String(d['size'].count);
  const progress = typeof d['progress'] === 'number' ? ` ${Math.round(d['progress'] * 100)}%` : '';
  return `${d['id']}  ${d['key']}  ${d['status']}${progress}  v${d['version']}${d['liveVersion'] === null ? '' : ` (live v${d['liveVersion']})`}  size ${size}`;
}

function inspect(out: Print, d: Json): void {
  out(summary(d));
  out(`  name: ${d['name']}`);
  if (d['description'] !== '') out(`  description: ${d['description']}`);
  out(`  type: ${d['definition'].type}  cadence: ${d['computeCadence'].type}${d['computeCadence'].interval === undefined ? '' : ` every ${d['computeCadence'].interval}`}  enabled: ${d['enabled']}`);
  out(`  options: ${JSON.stringify(d['options'])}`);
  for (const v of d['versions'] as Json[]) {
    const extra = [v['progress'] === undefined ? '' : `${Math.round(v['progress'] * 100)}%`, v['failureReason'] ?? ''].filter((x) => x !== '').join(' ');
    out(`  v${v['version']} ${v['status']}${extra === '' ? '' : ` (${extra})`}: ${v['query']}`);
  }
}

/** Polls a definition until it is Live (0), Failed or Disabled (1), or the timeout (3); a bar shows the backfill. */
async function waitFor(io: CliIo, out: Print, conn: Connection, kind: Kind, id: string, options: { intervalMs: number; timeoutMs: number }): Promise<number> {
  // a bar on a terminal; in a pipe or a log, a line whenever the status or the percentage moves
  const bar = io.tty ? new SingleBar({ format: '{key} {status} [{bar}] {percentage}% | eta {eta_formatted}', hideCursor: true }) : undefined;
  const deadline = Date.now() + options.timeoutMs;
  let started = false;
  let last = '';
  try {
    for (;;) {
      const d = (await call(conn, 'GET', `${kind.path}/${encodeURIComponent(id)}`))[kind.one] as Json;
      const status = d['status'] as string;
      const progress = typeof d['progress'] === 'number' ? d['progress'] : status === 'Live' ? 1 : 0;
      const percent = Math.round(progress * 100);
      if (bar !== undefined) {
        if (!started) bar.start(100, 0, { key: d['key'], status });
        started = true;
        bar.update(percent, { key: d['key'], status });
      } else if (`${status} ${percent}` !== last) {
        last = `${status} ${percent}`;
        out(`${d['key']} ${status} ${percent}%${typeof d['eta'] === 'string' ? ` eta ${d['eta']}` : ''}`);
      }
      if (status === 'Live' || status === 'Failed' || status === 'Disabled') {
        bar?.stop();
        started = false;
        inspect(out, d);
        return status === 'Live' ? EXIT.ok : EXIT.failed;
      }
      if (Date.now() >= deadline) {
        bar?.stop();
        started = false;
        out(`still ${status} after ${Math.round(options.timeoutMs / 1000)} s: ${summary(d)}`);
        return EXIT.timeout;
      }
      await sleep(options.intervalMs);
    }
  } finally {
    if (started) bar?.stop();
  }
}

const list = (text: string) => text.split(',').map((x) => x.trim()).filter((x) => x !== '');

/**
 * Starts an export, shows its progress on stderr (a bar on a terminal, else a line per 10 %), then
 * streams the file to stdout. Exit 0 done, 1 refused or failed, 3 still running at the timeout.
 */
async function exportCsv(io: CliIo, conn: Connection, kind: Kind, id: string, body: Json, timeoutMs: number): Promise<number> {
  const path = `${kind.path}/${encodeURIComponent(id)}/exports`;
  let e = (await call(conn, 'POST', path, body))['export'] as Json;
  const bar = io.tty ? new SingleBar({ format: 'export {id} [{bar}] {percentage}% | {members} members | eta {eta_formatted}', hideCursor: true, stream: process.stderr }) : undefined;
  bar?.start(100, 0, { id: e['exportId'], members: 0 });
  const deadline = Date.now() + timeoutMs;
  let shown = -1;
  try {
    while (e['status'] === 'IN_PROGRESS') {
      if (Date.now() >= deadline) {
        io.err(`export ${e['exportId']} still running after ${Math.round(timeoutMs / 1000)} s\n`);
        return EXIT.timeout;
      }
      await sleep(200);
      e = (await call(conn, 'GET', `${path}/${e['exportId']}`))['export'] as Json;
      const percent = typeof e['progress'] === 'number' ? Math.round(e['progress'] * 100) : 0;
      if (bar !== undefined) bar.update(percent, { id: e['exportId'], members: e['members'] });
      else if (Math.floor(percent / 10) !== shown) {
        shown = Math.floor(percent / 10);
        io.err(`export ${e['exportId']} ${percent}% (${e['members']} members)${typeof e['eta'] === 'string' ? ` eta ${e['eta']}` : ''}\n`);
      }
    }
  } finally {
    bar?.stop();
  }
  if (e['status'] !== 'SUCCESS') {
    io.err(`export ${e['exportId']} failed: ${e['error'] ?? 'no reason given'}\n`);
    return EXIT.failed;
  }
  let res: Response;
  try {
    res = await fetch(`${conn.url.replace(/\/+$/, '')}${e['urls'][0]}`, { headers: { authorization: `Bearer ${conn.token}`, 'accept-encoding': 'gzip' } });
  } catch (error) {
    throw new CliError(`cannot download the export from ${conn.url}: ${(error as Error).message}`);
  }
  if (!res.ok || res.body === null) throw new CliError(describeErrors(res.status, (await res.json().catch(() => ({}))) as Json, undefined));
  // (fetch undoes the gzip encoding)
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    if (io.outBytes !== undefined) await io.outBytes(chunk);
    else io.out(decoder.decode(chunk, { stream: true }));
  }
  if (io.outBytes === undefined) io.out(decoder.decode());
  io.err(`exported ${e['members']} members (${e['bytes']} bytes) of ${id}\n`);
  return EXIT.ok;
}

const positive = (name: string) => (text: string) => {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};

function queryOf(options: { query?: string; queryFile?: string }): string {
  if (options.query !== undefined) return options.query;
  if (options.queryFile !== undefined) return readFileSync(options.queryFile, 'utf8').trim();
  throw new CliError('give --query or --query-file', EXIT.usage);
}

export function program(io: CliIo = PROCESS_IO): Command & { result: { code: number } } {
  const out: Print = (line = '') => io.out(`${line}\n`);
  const cli = new Command('flock')
    .description('Flock: real-time audiences and computed traits. `flock start` runs the service; the other commands talk to a running one.')
    .addOption(new Option('--url <url>', 'the service').env('FLOCK_URL').default('http://127.0.0.1:8080'))
    .addOption(new Option('--space <id>', 'the space').env('FLOCK_SPACE').default('spa_default'))
    .addOption(new Option('--token <token>', 'a management token of the space').env('FLOCK_MANAGEMENT_TOKEN').default('dev_management_token'))
    .option('--json', 'print the API response as JSON')
    .showHelpAfterError()
    .configureOutput({ writeOut: (t) => io.out(t), writeErr: (t) => io.err(t) })
    .exitOverride();
  cli.command('start').description('run the service (ingest, engine, APIs); every option of `flock start --help` applies').allowUnknownOption().helpOption(false);

  const conn = (): Connection => {
    const o = cli.opts<{ url: string; space: string; token: string }>();
    return { url: o.url, space: o.space, token: o.token };
  };
  const json = () => cli.opts<{ json?: boolean }>().json === true;
  let exitCode: number = EXIT.ok;

  for (const [name, kind] of Object.entries(KINDS)) {
    const noun = name === 'audiences' ? 'audience' : 'computed trait';
    const group = cli.command(name).description(`${noun}s of the space`);

    group
      .command('list')
      .description(`list the ${noun}s`)
      .option('--count <n>', 'per page', positive('count'), 200)
      .action(async (o: { count: number }) => {
        let cursor: string | null = null;
        const all: Json[] = [];
        do {
          const page: Json = await call(conn(), 'GET', `${kind.path}?pagination.count=${o.count}${cursor === null ? '' : `&pagination.cursor=${cursor}`}`);
          all.push(...(page[kind.many] as Json[]));
          cursor = page['pagination'].next as string | null;
        } while (cursor !== null);
        if (json()) out(JSON.stringify(all, null, 2));
        else if (all.length === 0) out(`no ${noun}s in ${conn().space}`);
        else for (const d of all) out(summary(d));
      });

    group
      .command('get')
      .alias('inspect')
      .description(`inspect one ${noun}: status, progress, size, versions`)
      .argument('<id>')
      .action(async (id: string) => {
        const d = (await call(conn(), 'GET', `${kind.path}/${encodeURIComponent(id)}`))[kind.one] as Json;
        if (json()) out(JSON.stringify(d, null, 2));
        else inspect(out, d);
      });

    group
      .command('create')
      .description(`create ${noun === 'audience' ? 'an audience' : 'a computed trait'}`)
      .requiredOption('--name <name>', 'display name')
      .option('--key <key>', 'the trait key on profiles (default: the name in snake_case)')
      .option('--query <query>', 'the definition in Segment query language')
      .option('--query-file <path>', 'read the query from a file')
      .option('--description <text>')
      .addOption(new Option('--type <type>', 'per user or per account').choices(['USERS', 'ACCOUNTS']).default('USERS'))
      .option('--historical', 'include historical data (backfill from the event log)')
      .option('--backfill-days <days>', 'how far back the backfill reads', positive('backfill-days'))
      .option('--anonymous', 'include anonymous users')
      .option('--batch [interval]', 'compute on a schedule (15m … 1d, default 8h) instead of in real time')
      .option('--disabled', 'create it disabled')
      .option('--wait', 'wait until it is Live, with a progress bar while it backfills')
      .option('--timeout <seconds>', 'with --wait: give up after', positive('timeout'), 3600)
      .action(async (o: Json) => {
        const body = {
          name: o['name'],
          ...(o['key'] === undefined ? {} : { key: o['key'] }),
          ...(o['description'] === undefined ? {} : { description: o['description'] }),
          ...(o['disabled'] === true ? { enabled: false } : {}),
          definition: { query: queryOf(o), type: o['type'] },
          options: {
            includeHistoricalData: o['historical'] === true || o['backfillDays'] !== undefined,
            ...(o['backfillDays'] === undefined ? {} : { backfillEventDataDays: o['backfillDays'] }),
            ...(o['anonymous'] === true ? { includeAnonymousUsers: true } : {}),
          },
          ...(o['batch'] === undefined ? {} : { computeCadence: o['batch'] === true ? { type: 'BATCH' } : { type: 'BATCH', interval: o['batch'] } }),
        };
        const d = (await call(conn(), 'POST', kind.path, body))[kind.one] as Json;
        if (json()) out(JSON.stringify(d, null, 2));
        else out(`created ${summary(d)}`);
        if (o['wait'] === true) exitCode = await waitFor(io, out, conn(), kind, d['id'], { intervalMs: 1000, timeoutMs: o['timeout'] * 1000 });
      });

    group
      .command('wait')
      .description('wait until it is Live (exit 0), Failed or Disabled (exit 1); a progress bar shows the backfill')
      .argument('<id>')
      .option('--interval <seconds>', 'poll every', positive('interval'), 1)
      .option('--timeout <seconds>', 'give up after (exit 3)', positive('timeout'), 3600)
      .action(async (id: string, o: { interval: number; timeout: number }) => {
        exitCode = await waitFor(io, out, conn(), kind, id, { intervalMs: o.interval * 1000, timeoutMs: o.timeout * 1000 });
      });

    group
      .command('preview')
      .description('preview a definition: its diagnostics at once, then the size and a sample once the engine computed it')
      .option('--query <query>')
      .option('--query-file <path>')
      .addOption(new Option('--type <type>').choices(['USERS', 'ACCOUNTS']).default('USERS'))
      .option('--compare-to <id>', 'preview an edit of this definition: who would enter and exit')
      .option('--timeout <seconds>', 'wait this long for the result (exit 3 if still running)', positive('timeout'), 60)
      .action(async (o: Json) => {
        const body = { definition: { query: queryOf(o), type: o['type'] }, ...(o['compareTo'] === undefined ? {} : { compareTo: o['compareTo'] }) };
        const created = (await call(conn(), 'POST', `${kind.path}/previews`, body))[kind.preview] as Json;
        const deadline = Date.now() + o['timeout'] * 1000;
        let preview = created;
        while (preview['status'] === 'RUNNING' && Date.now() < deadline) {
          await sleep(500);
          preview = (await call(conn(), 'GET', `${kind.path}/previews/${preview['id']}`))[kind.preview] as Json;
        }
        if (json()) out(JSON.stringify(preview, null, 2));
        else if (preview['status'] === 'RUNNING') out(`preview ${preview['id']} is still running (the engine computes previews)`);
        else if (preview['status'] === 'FAILED') out(`preview ${preview['id']} failed: ${preview['failureReason'] ?? 'no reason given'}`);
        else {
          out(`preview ${preview['id']}: ${preview['size']?.count ?? 0} profiles`);
          const d = preview['difference'] as Json | undefined;
          if (d !== undefined) out(`  against ${preview['compareTo']}: ${d['enter']} would enter, ${d['exit']} would exit${d['changed'] > 0 ? `, ${d['changed']} would change value` : ''}`);
          for (const r of (preview['results'] as Json[] | undefined) ?? []) out(`  ${r['id']}${r['value'] === undefined ? '' : `  ${JSON.stringify(r['value'])}`}`);
        }
        exitCode = preview['status'] === 'RUNNING' ? EXIT.timeout : preview['status'] === 'FAILED' ? EXIT.failed : EXIT.ok;
      });
  }

  for (const [name, kind] of Object.entries(KINDS)) {
    const group = cli.commands.find((c) => c.name() === name)!;
    group
      .command('export')
      .description('export as CSV to stdout (`> file.csv`); a progress bar on stderr while the export is written')
      .argument('<id>')
      .addOption(new Option('--format <format>', 'the CSV format').choices(name === 'audiences' ? ['columns', 'unformatted', 'indexed', 'identifier'] : ['unformatted', 'indexed', 'rows']))
      .option('--unformatted', 'columns format: key + JSON objects instead of a column each')
      .option('--external-ids <types>', 'identifier types, comma-separated (default: all)', list)
      .option('--custom-traits <keys>', 'columns format: custom traits, comma-separated', list)
      .option('--computed-traits <keys>', 'columns format: computed traits, comma-separated', list)
      .option('--identifier <type>', 'identifier format: the identifier type of the single column')
      .option('--raw', 'identifier format: the values as sent instead of SHA-256')
      .option('--account-rows', 'account-level: a row per account before its users')
      .option('--at <instant>', 'the members as of this ISO-8601 instant (from the history)')
      .option('--timeout <seconds>', 'give up waiting for the export after (exit 3)', positive('timeout'), 3600)
      .action(async (id: string, o: Json) => {
        const body = {
          ...(o['format'] === undefined ? {} : { format: o['format'] }),
          ...(o['unformatted'] === true ? { formatted: false } : {}),
          ...(o['externalIds'] === undefined ? {} : { externalIds: o['externalIds'] }),
          ...(o['customTraits'] === undefined ? {} : { customTraits: o['customTraits'] }),
          ...(o['computedTraits'] === undefined ? {} : { computedTraits: o['computedTraits'] }),
          ...(o['identifier'] === undefined ? {} : { identifier: o['identifier'] }),
          ...(o['raw'] === true ? { hashed: false } : {}),
          ...(o['accountRows'] === true ? { accountRows: true } : {}),
          ...(o['at'] === undefined ? {} : { at: o['at'] }),
        };
        exitCode = await exportCsv(io, conn(), kind, id, body, o['timeout'] * 1000);
      });
  }

  destinationCommands(cli, { call: (method, path, body) => call(conn(), method, path, body), out, json });

  cli.hook('postAction', () => {
    result.code = exitCode;
  });
  const result = { code: EXIT.ok as number };
  return Object.assign(cli, { result });
}

/**
 * Runs the CLI on `argv` (without node and script) and resolves with its exit code. `start` hands
 * the process to the service (`api/main.ts`), which reads its flags from `process.argv`.
 */
export async function run(argv: readonly string[], cliIo: CliIo = PROCESS_IO): Promise<number> {
  if (argv[0] === 'start') {
    process.argv.splice(2, 1);
    await import('../main.ts');
    return EXIT.ok;
  }
  try {
    const cli = program(cliIo);
    await cli.parseAsync([...argv], { from: 'user' });
    return cli.result.code;
  } catch (error) {
    const e = error as { code?: string; message: string };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    cliIo.err(`${e.message}\n`);
    return error instanceof CliError ? error.code : EXIT.failed;
  }
}
