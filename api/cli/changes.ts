/**
 * `npm run changes`: prints the change log (audience enters/exits, trait changes) as JSON lines;
 * `--follow` keeps tailing. It reads the log of an existing data dir (or a NATS server) and never
 * creates one: a data dir that does not exist, or holds no change log, is an error with a code.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CHANGE_LOG, CONFIG_SETTINGS, decodeChangeRecord, loadConfig, openAppendLog } from '../../engine/index.ts';

/** Exit codes: 0 done, 1 the log failed, 2 usage or configuration (a missing data dir or change log). */
export const CHANGES_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface ChangesIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const PROCESS_IO: ChangesIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** A user mistake the command reports as `error [code]: message` with exit code 2. */
class ChangesUsageError extends Error {
  constructor(
    readonly code: 'data_dir_not_found' | 'change_log_not_found' | 'invalid_configuration',
    message: string,
  ) {
    super(message);
    this.name = 'ChangesUsageError';
  }
}

function positiveInteger(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('a log position (an integer ≥ 1)');
  return n;
}

interface ChangesOptions {
  readonly dataDir?: string;
  readonly natsUrl?: string;
  readonly natsTimeout?: string;
  readonly follow?: boolean;
  readonly from: number;
}

/**
 * Runs the command on `argv` (without node and script) and resolves with its exit code; `signal`
 * ends `--follow` (the script passes one aborted by SIGINT/SIGTERM).
 */
export async function changes(argv: readonly string[], io: ChangesIo = PROCESS_IO, signal?: AbortSignal): Promise<number> {
  const s = CONFIG_SETTINGS;
  const cli = new Command('npm run changes --')
    .description('Print the change log (audience enters and exits, trait changes) as JSON lines.')
    .addOption(new Option(`--${s.dataDir.flag} <dir>`, `${s.dataDir.help} (must exist; default ${s.dataDir.fallback})`).env(s.dataDir.env))
    .addOption(new Option(`--${s.natsUrl.flag} <url>`, s.natsUrl.help).env(s.natsUrl.env))
    .addOption(new Option(`--${s.natsTimeout.flag} <duration>`, s.natsTimeout.help).env(s.natsTimeout.env))
    .option('-f, --follow', 'keep printing changes as they come (until Ctrl-C)')
    .addOption(new Option('--from <seq>', 'first change-log position to print').argParser(positiveInteger).default(1))
    .showHelpAfterError()
    .configureOutput({ writeOut: (t) => io.out(t), writeErr: (t) => io.err(t) })
    .exitOverride();
  try {
    cli.parse([...argv], { from: 'user' });
  } catch (error) {
    const code = (error as { code?: string }).code;
    return code === 'commander.helpDisplayed' || code === 'commander.version' ? CHANGES_EXIT.ok : CHANGES_EXIT.usage;
  }
  const o = cli.opts<ChangesOptions>();
  try {
    return await print(o, io, signal);
  } catch (error) {
    if (error instanceof ChangesUsageError) {
      io.err(`error [${error.code}]: ${error.message}\n`);
      return CHANGES_EXIT.usage;
    }
    throw error;
  }
}

async function print(o: ChangesOptions, io: ChangesIo, signal: AbortSignal | undefined): Promise<number> {
  // The one configuration reads the flags given here (the environment was read by the options above).
  const argv = [
    ...(o.dataDir === undefined ? [] : [`--${CONFIG_SETTINGS.dataDir.flag}`, o.dataDir]),
    ...(o.natsUrl === undefined ? [] : [`--${CONFIG_SETTINGS.natsUrl.flag}`, o.natsUrl]),
    ...(o.natsTimeout === undefined ? [] : [`--${CONFIG_SETTINGS.natsTimeout.flag}`, o.natsTimeout]),
  ];
  const loaded = loadConfig({ argv, env: {} });
  if (!loaded.ok) throw new ChangesUsageError('invalid_configuration', loaded.issues.map((i) => `${i.source}: ${i.message}`).join('; '));
  const { config } = loaded;
  if (config.natsUrl === undefined) {
    // (opening the embedded log would create the directory: a mistyped path must not become an empty log)
    if (!existsSync(config.dataDir) || !statSync(config.dataDir).isDirectory()) {
      throw new ChangesUsageError('data_dir_not_found', `the data directory ${config.dataDir} does not exist: give the one Flock runs with (--data-dir or FLOCK_DATA_DIR)`);
    }
    if (!existsSync(join(config.dataDir, CHANGE_LOG.name))) {
      throw new ChangesUsageError('change_log_not_found', `${config.dataDir} holds no change log (${CHANGE_LOG.name}/): is it the data directory Flock runs with?`);
    }
  }
  const log = await openAppendLog({ dataDir: config.dataDir, natsUrl: config.natsUrl, log: CHANGE_LOG, timeoutMs: config.natsTimeoutMs });
  try {
    const write = (data: Uint8Array) => {
      for (const change of decodeChangeRecord(data)) io.out(`${JSON.stringify(change)}\n`);
    };
    if (o.follow === true) {
      for await (const batch of log.tail(o.from, { signal: signal ?? new AbortController().signal })) for (const e of batch) write(e.data);
    } else {
      for (let next = o.from; ; ) {
        const batch = await log.read(next, 1000);
        if (batch.length === 0) break;
        for (const e of batch) write(e.data);
        next = batch[batch.length - 1]!.seq + 1;
      }
    }
  } finally {
    await log.close();
  }
  return CHANGES_EXIT.ok;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => controller.abort());
  process.exitCode = await changes(process.argv.slice(2), PROCESS_IO, controller.signal);
}
