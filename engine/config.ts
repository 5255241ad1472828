/** Flock's one configuration: environment variables and CLI flags (flags win), validated by one zod schema. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEVELOPMENT_SPACE, spacesFileSchema, type SpaceWithKeys } from './space/space.ts';

/** Each setting: its flag, its environment variable, and what it means. The single source for `--help` and docs. */
export const CONFIG_SETTINGS = {
  dataDir: { flag: 'data-dir', env: 'FLOCK_DATA_DIR', help: 'directory of the embedded log and engine state', fallback: './data' },
  host: { flag: 'host', env: 'FLOCK_HOST', help: 'address the HTTP server binds', fallback: '127.0.0.1' },
  port: { flag: 'port', env: 'FLOCK_PORT', help: 'HTTP port (0 = any free port)', fallback: '8080' },
  natsUrl: { flag: 'nats-url', env: 'FLOCK_NATS_URL', help: 'NATS server URL, e.g. nats://127.0.0.1:4222; unset = the embedded log in the data dir', fallback: undefined },
  partitions: { flag: 'partitions', env: 'FLOCK_PARTITIONS', help: 'partitions of the event stream, fixed once the stream exists', fallback: '16' },
  streamMaxAge: { flag: 'stream-max-age', env: 'FLOCK_STREAM_MAX_AGE', help: 'JetStream: drop events older than this (e.g. 400d; 0 = keep forever)', fallback: '0' },
  streamMaxBytes: { flag: 'stream-max-bytes', env: 'FLOCK_STREAM_MAX_BYTES', help: 'JetStream: cap on stored bytes (e.g. 50GB; 0 = unlimited)', fallback: '0' },
  streamDuplicateWindow: { flag: 'stream-duplicate-window', env: 'FLOCK_STREAM_DUPLICATE_WINDOW', help: 'JetStream: how long a messageId is remembered for dedupe (the server keeps every id of the window in memory)', fallback: '2m' },
  streamReplicas: { flag: 'stream-replicas', env: 'FLOCK_STREAM_REPLICAS', help: 'JetStream: copies of each stream a NATS cluster keeps (3 on a 3-node cluster; 1 on one server)', fallback: '1' },
  natsTimeout: { flag: 'nats-timeout', env: 'FLOCK_NATS_TIMEOUT', help: 'JetStream: publish and API timeout; a slower append answers 503', fallback: '5s' },
  rateLimit: { flag: 'rate-limit', env: 'FLOCK_RATE_LIMIT', help: 'ingest events per second per space (0 = no limit)', fallback: '50000' },
  rateBurst: { flag: 'rate-burst', env: 'FLOCK_RATE_BURST', help: 'ingest burst per space, in events (default: 2 × rate limit)', fallback: undefined },
  profileRateLimit: { flag: 'profile-rate-limit', env: 'FLOCK_PROFILE_RATE_LIMIT', help: 'Profile API requests per second per space (0 = no limit; a space may set its own in the spaces file); over it: 429', fallback: '10000' },
  spacesFile: { flag: 'spaces-file', env: 'FLOCK_SPACES_FILE', help: 'JSON file of spaces and write keys; unset = the development space', fallback: undefined },
  publicApiHost: { flag: 'public-api-host', env: 'FLOCK_PUBLIC_API_HOST', help: 'host[:port][/path] clients reach the tracking API at, served in /v1/projects/<key>/settings (default: the request Host + /v1)', fallback: undefined },
  headersTimeout: { flag: 'headers-timeout', env: 'FLOCK_HEADERS_TIMEOUT', help: 'how long a client may take to send request headers (a connection that sends nothing included); then 408 and the connection is closed', fallback: '5s' },
  requestTimeout: { flag: 'request-timeout', env: 'FLOCK_REQUEST_TIMEOUT', help: 'how long a client may take to send a whole request, body included; then 408 and the connection is closed', fallback: '15s' },
  keepAliveTimeout: { flag: 'keep-alive-timeout', env: 'FLOCK_KEEP_ALIVE_TIMEOUT', help: 'how long an idle keep-alive connection stays open', fallback: '5s' },
  maxConnections: { flag: 'max-connections', env: 'FLOCK_MAX_CONNECTIONS', help: 'open HTTP connections in all (0 = no cap); more are dropped', fallback: '10000' },
  maxConnectionsPerAddress: { flag: 'max-connections-per-address', env: 'FLOCK_MAX_CONNECTIONS_PER_ADDRESS', help: 'open HTTP connections from one client address (0 = no cap; raise it behind a proxy); more are dropped', fallback: '1000' },
  shutdownTimeout: { flag: 'shutdown-timeout', env: 'FLOCK_SHUTDOWN_TIMEOUT', help: 'how long shutdown waits for open requests before closing them', fallback: '10s' },
  definitionsFile: { flag: 'definitions-file', env: 'FLOCK_DEFINITIONS_FILE', help: 'JSON file of audiences and computed traits (query language) the engine computes', fallback: undefined },
  engine: { flag: 'engine', env: 'FLOCK_ENGINE', help: 'run the engine in this process (on) or only the API (off)', fallback: 'on' },
  tick: { flag: 'tick', env: 'FLOCK_TICK', help: 'longest wait before the engine moves its clock with no events (window exits wake it at their instant regardless)', fallback: '1s' },
  clock: { flag: 'clock', env: 'FLOCK_CLOCK', help: 'engine time: wall (live batches at the wall clock, idle ticks move it) or event (the watermark follows only the log\'s event time: changes are a function of the log order; for replays and the chaos harness)', fallback: 'wall' },
  checkpointInterval: { flag: 'checkpoint-interval', env: 'FLOCK_CHECKPOINT_INTERVAL', help: 'how long changes may wait before a checkpoint publishes them', fallback: '50ms' },
  minFreeSpace: { flag: 'min-free-space', env: 'FLOCK_MIN_FREE_SPACE', help: 'free disk space kept in reserve under the data dir: below it ingest answers 503 storage_full and the engine pauses, both going on once space returns (0 = no check)', fallback: '100MB' },
  checkpointWriter: { flag: 'checkpoint-writer', env: 'FLOCK_CHECKPOINT_WRITER', help: 'where checkpoints are committed: inline (in the engine\'s thread, which waits for each) or thread (a writer thread of their own, while the engine evaluates on; on 2 cores it costs more CPU than it overlaps — see bench/RESULTS.md); role worker too (a large state\'s inline commit can stall the loop that renews the set\'s lease)', fallback: 'inline' },
  role: { flag: 'role', env: 'FLOCK_ROLE', help: 'what this process runs: all (ingest, engine, APIs: one process), ingest (the tracking API only: events into the log), identity (resolves the raw log into the resolved partitions), worker (computes the resolved partitions of --worker-partitions), api (the tracking and Profile APIs, profiles read from the identity stage and the workers); identity, worker and api need --nats-url (docs/scale.md)', fallback: 'all' },
  workerPartitions: { flag: 'worker-partitions', env: 'FLOCK_WORKER_PARTITIONS', help: 'role worker: the resolved partitions it computes, e.g. 0-7 or 0,2,4 (default: all of --partitions), or auto: its share of the partition sets among the live workers, rebalanced as workers join and leave', fallback: undefined },
  standby: { flag: 'standby', env: 'FLOCK_STANDBY', help: 'role worker: cold (a standby waits for a set\'s lease with nothing loaded: a takeover downloads the set\'s snapshot and replays from it) or warm (it keeps the set\'s newest snapshot restored and follows the resolved log muted while it waits: a takeover in seconds, for the memory and CPU of computing the set twice; docs/scale.md §6)', fallback: 'cold' },
  workerSetSize: { flag: 'worker-set-size', env: 'FLOCK_WORKER_SET_SIZE', help: 'role worker with --worker-partitions auto: consecutive partitions per set, the unit that moves between workers (its lease, snapshot and store)', fallback: '4' },
  historyRetention: { flag: 'history-retention', env: 'FLOCK_HISTORY_RETENTION', help: 'how far back membership history answers, in event time (e.g. 400d; 0 = forever; default: --stream-max-age, as long as the log keeps events)', fallback: undefined },
} as const satisfies Record<string, { flag: string; env: string; help: string; fallback: string | undefined }>;

type SettingName = keyof typeof CONFIG_SETTINGS;

const UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const UNITS_BYTES: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  tb: 1_000_000_000_000,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** `250ms`, `30s`, `15m`, `24h`, `400d`; a bare number is seconds. */
const duration = z.string().transform((text, ctx) => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (m === null) {
    ctx.addIssue({ code: 'custom', input: text, message: `"${text}" is not a duration (e.g. 500ms, 30s, 15m, 24h, 7d)` });
    return z.NEVER;
  }
  return Math.round(Number(m[1]) * (UNITS_MS[(m[2] ?? 's').toLowerCase()] ?? 1_000));
});

/** `1048576`, `512MB`, `50GiB`; a bare number is bytes. */
const byteSize = z.string().transform((text, ctx) => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(text);
  if (m === null) {
    ctx.addIssue({ code: 'custom', input: text, message: `"${text}" is not a size (e.g. 500MB, 50GiB)` });
    return z.NEVER;
  }
  return Math.round(Number(m[1]) * (UNITS_BYTES[(m[2] ?? 'b').toLowerCase()] ?? 1));
});

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** `0-7`, `0,2,4`, `0-3,8-11`: partition numbers, sorted, each once; or `auto` (worker-group.ts). */
const partitionList = z.string().transform((text, ctx): number[] | 'auto' => {
  if (text.trim() === 'auto') return 'auto';
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const from = Number(m?.[1]);
    const to = m?.[2] === undefined ? from : Number(m[2]);
    if (m === null || to < from || to - from > 4096) {
      ctx.addIssue({ code: 'custom', input: text, message: `"${text}" is not a list of partitions (e.g. 0-7 or 0,2,4)` });
      return z.NEVER;
    }
    for (let p = from; p <= to; p++) out.add(p);
  }
  return [...out].sort((a, b) => a - b);
});

/** The raw strings (from flags or environment) → typed config. */
export const configSchema = z
  .object({
    dataDir: z.string().min(1),
    host: z.string().min(1),
    port: integer(0, 65_535),
    natsUrl: z.string().min(1).optional(),
    partitions: integer(1, 4_096),
    streamMaxAge: duration,
    streamMaxBytes: byteSize,
    streamDuplicateWindow: duration.pipe(z.number().min(1_000, { error: 'the duplicate window must be at least 1s' })),
    streamReplicas: integer(1, 5),
    natsTimeout: duration.pipe(z.number().min(1, { error: 'the NATS timeout must be positive' })),
    rateLimit: z.coerce.number().min(0),
    rateBurst: z.coerce.number().min(1).optional(),
    profileRateLimit: z.coerce.number().min(0),
    spacesFile: z.string().min(1).optional(),
    publicApiHost: z.string().min(1).optional(),
    headersTimeout: duration.pipe(z.number().min(1, { error: 'the headers timeout must be positive' })),
    requestTimeout: duration.pipe(z.number().min(1, { error: 'the request timeout must be positive' })),
    keepAliveTimeout: duration.pipe(z.number().min(1, { error: 'the keep-alive timeout must be positive' })),
    maxConnections: integer(0, 10_000_000),
    maxConnectionsPerAddress: integer(0, 10_000_000),
    shutdownTimeout: duration,
    definitionsFile: z.string().min(1).optional(),
    engine: z.enum(['on', 'off'], { error: 'engine is "on" or "off"' }),
    tick: duration.pipe(z.number().min(10, { error: 'the tick must be at least 10ms' })),
    clock: z.enum(['wall', 'event'], { error: 'clock is "wall" or "event"' }),
    checkpointInterval: duration.pipe(z.number().min(1, { error: 'the checkpoint interval must be positive' })),
    historyRetention: duration.optional(),
    minFreeSpace: byteSize,
    checkpointWriter: z.enum(['thread', 'inline'], { error: 'the checkpoint writer is "thread" or "inline"' }),
    role: z.enum(['all', 'ingest', 'identity', 'worker', 'api'], { error: 'role is "all", "ingest", "identity", "worker" or "api"' }),
    workerPartitions: partitionList.optional(),
    workerSetSize: integer(1, 4_096),
    standby: z.enum(['cold', 'warm'], { error: 'standby is "cold" or "warm"' }),
  })
  .refine((raw) => raw.role === 'all' || raw.role === 'ingest' || raw.natsUrl !== undefined, { error: 'roles identity, worker and api share the log through NATS: set --nats-url', path: ['role'] })
  .refine((raw) => raw.workerPartitions === undefined || raw.workerPartitions === 'auto' || raw.workerPartitions.every((p) => p < raw.partitions), { error: 'a worker partition is beyond --partitions', path: ['workerPartitions'] })
  .refine((raw) => raw.headersTimeout <= raw.requestTimeout, { error: 'the headers timeout must not exceed the request timeout', path: ['headersTimeout'] })
  .transform((raw) => ({
    dataDir: raw.dataDir,
    host: raw.host,
    port: raw.port,
    natsUrl: raw.natsUrl,
    natsTimeoutMs: raw.natsTimeout,
    partitions: raw.partitions,
    /** JetStream limits; 0 = none. */
    stream: {
      maxAgeMs: raw.streamMaxAge,
      maxBytes: raw.streamMaxBytes,
      duplicateWindowMs: raw.streamDuplicateWindow,
      /** copies of each stream in a NATS cluster. */
      replicas: raw.streamReplicas,
    },
    rateLimit: {
      /** events per second per space; 0 = no limit. */
      eventsPerSecond: raw.rateLimit,
      burst: raw.rateBurst ?? Math.max(1, raw.rateLimit * 2),
    },
    /** Profile API requests per second per space; 0 = no limit. */
    profileRateLimit: raw.profileRateLimit,
    spacesFile: raw.spacesFile,
    publicApiHost: raw.publicApiHost,
    /** the HTTP server's time and connection limits (api/serve.ts `ServerLimits`; caps: 0 = none). */
    http: {
      headersTimeoutMs: raw.headersTimeout,
      requestTimeoutMs: raw.requestTimeout,
      keepAliveTimeoutMs: raw.keepAliveTimeout,
      maxConnections: raw.maxConnections,
      maxConnectionsPerAddress: raw.maxConnectionsPerAddress,
    },
    shutdownTimeoutMs: raw.shutdownTimeout,
    definitionsFile: raw.definitionsFile,
    engine: raw.engine === 'on',
    tickMs: raw.tick,
    /** engine time: the wall clock, or the log's event time only. */
    clock: raw.clock,
    checkpointMs: raw.checkpointInterval,
    /** how far back history answers (ms of event time); 0 = forever. */
    historyRetentionMs: raw.historyRetention ?? raw.streamMaxAge,
    /** free bytes kept on the data dir's filesystem (embedded logs, engine state); 0 = no check. */
    minFreeBytes: raw.minFreeSpace,
    /** checkpoints committed by a writer thread (pipelined) or in the engine's thread. */
    checkpointWriter: raw.checkpointWriter,
    /** which part of the pipeline this process runs (docs/scale.md). */
    role: raw.role,
    /** role worker: the resolved partitions it computes, or `auto` (its share of the sets, engine/cluster/worker-group.ts). */
    workerPartitions: raw.workerPartitions ?? Array.from({ length: raw.partitions }, (_, p) => p),
    /** role worker, `auto`: partitions per set. */
    workerSetSize: raw.workerSetSize,
    /** role worker: standbys keep their sets warm (engine/cluster/warm-standby.ts). */
    warmStandby: raw.standby === 'warm',
  }));

export type FlockConfig = z.output<typeof configSchema> & {
  readonly spaces: readonly SpaceWithKeys[];
  /** true when no spaces file was given and the development space is in use. */
  readonly developmentSpace: boolean;
};

export interface ConfigIssue {
  /** the flag or variable at fault, or the spaces file path. */
  readonly source: string;
  readonly message: string;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: FlockConfig; readonly help: boolean }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

export interface ConfigSources {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly argv?: readonly string[];
}

/**
 * Reads flags and environment (flags win, then variables, then defaults), validates them and loads
 * the spaces file. Problems come back as data, one per setting, so the caller can print them all.
 */
export function loadConfig({ env = process.env, argv = process.argv.slice(2) }: ConfigSources = {}): ConfigResult {
  const names = Object.keys(CONFIG_SETTINGS) as SettingName[];
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({
      args: [...argv],
      options: {
        ...Object.fromEntries(names.map((name) => [CONFIG_SETTINGS[name].flag, { type: 'string' as const }])),
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    return { ok: false, issues: [{ source: 'arguments', message: (error as Error).message }] };
  }

  const raw: Record<string, string | undefined> = {};
  const sourceOf: Record<string, string> = {};
  for (const name of names) {
    const setting = CONFIG_SETTINGS[name];
    const flag = flags[setting.flag];
    const fromEnv = env[setting.env];
    if (typeof flag === 'string') {
      raw[name] = flag;
      sourceOf[name] = `--${setting.flag}`;
    } else if (fromEnv !== undefined && fromEnv !== '') {
      raw[name] = fromEnv;
      sourceOf[name] = setting.env;
    } else {
      raw[name] = setting.fallback;
      sourceOf[name] = `default of ${setting.env}`;
    }
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '');
        return { source: sourceOf[name] ?? name, message: issue.message };
      }),
    };
  }

  const spaces = loadSpaces(parsed.data.spacesFile);
  if (!spaces.ok) return spaces;
  return {
    ok: true,
    help: flags['help'] === true,
    config: { ...parsed.data, spaces: spaces.spaces, developmentSpace: parsed.data.spacesFile === undefined },
  };
}

function loadSpaces(
  file: string | undefined,
): { readonly ok: true; readonly spaces: readonly SpaceWithKeys[] } | { readonly ok: false; readonly issues: ConfigIssue[] } {
  if (file === undefined) return { ok: true, spaces: [DEVELOPMENT_SPACE] };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return { ok: false, issues: [{ source: file, message: `cannot read the spaces file: ${(error as Error).message}` }] };
  }
  const parsed = spacesFileSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((issue) => ({
        source: file,
        message: `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
      })),
    };
  }
  if (parsed.data.length === 0) return { ok: false, issues: [{ source: file, message: 'the spaces file defines no space' }] };
  return { ok: true, spaces: parsed.data };
}

/** `--help` text, generated from CONFIG_SETTINGS. */
export function configHelp(): string {
  const lines = ['Usage: flock [options]   (every option can also be set by its environment variable)', ''];
  for (const setting of Object.values(CONFIG_SETTINGS)) {
    const fallback = setting.fallback === undefined ? '' : ` (default ${setting.fallback})`;
    lines.push(`  --${setting.flag.padEnd(25)} ${setting.env.padEnd(30)} ${setting.help}${fallback}`);
  }
  return lines.join('\n');
}
