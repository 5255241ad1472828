/** Opens the event log (and any other AppendLog, e.g. the change log): embedded LMDB without a NATS URL, JetStream with one. */
import { join } from 'node:path';
import { createEventCodec } from '../event/codec.ts';
import type { AppendLog } from './append-log.ts';
import { openEmbeddedLog } from './embedded-log.ts';
import { EncodedEventLog } from './encoded-event-log.ts';
import type { EventLog } from './event-log.ts';
import { openJetStreamLog } from './jetstream-log.ts';
import { DEFAULT_PARTITIONS } from './partition.ts';
import type { StorageGuardConfig } from '../store/storage-guard.ts';

/** Where a log lives: its directory under the data dir (embedded) or its stream and subjects (JetStream). */
export interface LogLocation {
  /** directory under `dataDir` for the embedded log. */
  readonly name: string;
  readonly stream: string;
  readonly subjectPrefix: string;
}

export const EVENT_LOG: LogLocation = { name: 'events', stream: 'FLOCK_EVENTS', subjectPrefix: 'flock.events' };
export const CHANGE_LOG: LogLocation = { name: 'changes', stream: 'FLOCK_CHANGES', subjectPrefix: 'flock.changes' };

/** JetStream stream limits (see StreamLimits); ignored by the embedded log, which keeps everything. */
export interface StreamLimitsConfig {
  readonly maxAgeMs?: number | undefined;
  readonly maxBytes?: number | undefined;
  readonly duplicateWindowMs?: number | undefined;
  /** copies kept by a NATS cluster (R3 = 3); default 1. */
  readonly replicas?: number | undefined;
}

export interface AppendLogConfig {
  readonly dataDir: string;
  readonly natsUrl?: string | undefined;
  readonly log: LogLocation;
  readonly stream?: StreamLimitsConfig | undefined;
  /** JetStream publish and API timeout (ms). */
  readonly timeoutMs?: number | undefined;
  /** embedded log: the free-space reserve below which appends are refused (engine/store/storage-guard.ts). */
  readonly storage?: StorageGuardConfig | undefined;
}

export interface EventLogConfig {
  readonly dataDir: string;
  readonly natsUrl?: string | undefined;
  readonly partitions?: number | undefined;
  readonly stream?: StreamLimitsConfig | undefined;
  readonly timeoutMs?: number | undefined;
  readonly storage?: StorageGuardConfig | undefined;
}

export function openAppendLog(config: AppendLogConfig): Promise<AppendLog> {
  if (config.natsUrl === undefined || config.natsUrl === '') {
    return openEmbeddedLog({ path: join(config.dataDir, config.log.name), storage: config.storage });
  }
  const limits = config.stream ?? {};
  return openJetStreamLog({
    // a comma-separated list names several servers of one cluster (the client also learns the rest from it)
    servers: config.natsUrl.split(',').map((url) => url.trim()).filter((url) => url !== ''),
    stream: config.log.stream,
    subjectPrefix: config.log.subjectPrefix,
    limits: {
      ...(limits.maxAgeMs === undefined ? {} : { maxAgeMs: limits.maxAgeMs }),
      ...(limits.maxBytes === undefined ? {} : { maxBytes: limits.maxBytes }),
      ...(limits.duplicateWindowMs === undefined ? {} : { duplicateWindowMs: limits.duplicateWindowMs }),
      ...(limits.replicas === undefined ? {} : { replicas: limits.replicas }),
    },
    ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
  });
}

/**
 * The event log: `<dataDir>/events` in LMDB when no `natsUrl` is given, else stream `FLOCK_EVENTS`
 * with subjects `flock.events.<space>.<partition>`. Resolves once the structure registry is loaded.
 */
export async function openEventLog(config: EventLogConfig): Promise<EventLog> {
  const log = await openAppendLog({
    dataDir: config.dataDir,
    natsUrl: config.natsUrl,
    log: EVENT_LOG,
    stream: config.stream,
    timeoutMs: config.timeoutMs,
    storage: config.storage,
  });
  try {
    const codec = createEventCodec(log);
    await codec.prepare();
    return new EncodedEventLog(log, codec, config.partitions ?? DEFAULT_PARTITIONS);
  } catch (error) {
    await log.close();
    throw error;
  }
}
