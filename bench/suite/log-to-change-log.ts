/**
 * The engine as it runs in production, measured: event log → identity → runtime → checkpoints →
 * change log, from position 1 to the end, beside the same log's raw consume + decode rate; then its
 * memory (resident set, heap and checkpoint bytes per profile).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { decodeChangeRecord, Engine } from '../../engine/engine.ts';
import type { FlockEvent } from '../../engine/event/model.ts';
import type { IdentityResolver } from '../../engine/identity/resolver.ts';
import type { EventLog } from '../../engine/log/event-log.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../engine/log/open-event-log.ts';
import type { Plan } from '../../engine/plan/plan.ts';
import { profileToPlain } from '../../engine/runtime/profile-state.ts';
import { CheckpointStore, type CheckpointSink } from '../../engine/store/checkpoint-store.ts';
import { CheckpointWriter } from '../../engine/store/checkpoint-writer.ts';
import { consumeRate } from '../log.ts';

export interface PipelineOptions {
  readonly kind: 'embedded' | 'jetstream';
  readonly dir: string;
  readonly natsUrl?: string | undefined;
  /** the events to append first, in chunks (a generator is not held in memory). */
  readonly events: Iterable<FlockEvent>;
  readonly space: string;
  readonly plan: Plan;
  readonly resolver: (store: CheckpointStore) => IdentityResolver;
  /** extra passes over the filled log before the engine runs (floors), each given the log and its length. */
  readonly floors?: ReadonlyArray<(log: EventLog, last: number) => Promise<void>>;
  readonly checkpointEvents?: number;
  readonly catchUpCheckpointEvents?: number;
  readonly checkpointMs?: number;
  /** commit checkpoints in the store's writer thread (`--checkpoint-writer thread`); default: FLOCK_CHECKPOINT_WRITER, else in the engine's thread as the service does by default. */
  readonly writerThread?: boolean;
  /** run the V8 CPU profiler in the writer thread (`PipelineRun.writerProfile`). */
  readonly profileWriter?: boolean;
  /** told where the engine is every ~15 s. */
  readonly progress?: (line: string) => void;
  /** `start` right before the engine opens, `stop` once it has caught up and stopped (a profiler brackets the engine's run with these). */
  readonly around?: { readonly start: () => Promise<void>; readonly stop: () => Promise<void> };
}

export interface PipelineRun {
  readonly events: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** the same log's consume + decode rate, 1 → end. */
  readonly raw: number;
  readonly changes: number;
  readonly checkpoints: number;
  readonly checkpointP50: number;
  readonly checkpointP99: number;
  readonly checkpointMax: number;
  /** of all checkpoints: seconds from hand-over to durable (in the writer thread: overlapping evaluation), and publishing to the change log. */
  readonly commitSeconds: number;
  readonly publishSeconds: number;
  readonly profiles: number;
  readonly rss: number;
  readonly heapUsed: number;
  /** mean msgpack checkpoint record of a sample of profiles (those in the first change-log records). */
  readonly recordBytesPerProfile: number;
  /** the writer thread's V8 CPU profile (`profileWriter`). */
  readonly writerProfile?: unknown;
  /** the engine store's file (profiles, timers, outputs index, identity graph). */
  readonly storeBytes: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** Appends `events` in chunks of 5,000; returns the log's last sequence number. */
export async function fillLog(log: EventLog, events: Iterable<FlockEvent>): Promise<number> {
  let chunk: FlockEvent[] = [];
  for (const e of events) {
    chunk.push(e);
    if (chunk.length === 5000) {
      await log.append(chunk);
      chunk = [];
    }
  }
  if (chunk.length > 0) await log.append(chunk);
  return log.lastSeq();
}

export async function logToChangeLog(o: PipelineOptions): Promise<PipelineRun> {
  const eventLog = await openEventLog({ dataDir: o.dir, natsUrl: o.natsUrl });
  const last = await fillLog(eventLog, o.events);
  const raw = await consumeRate(`${o.kind}: consume + decode`, (f, opts) => eventLog.tail(f, opts), 1, last, 2000);
  for (const floor of o.floors ?? []) await floor(eventLog, last);
  const changeLog = await openAppendLog({ dataDir: o.dir, natsUrl: o.natsUrl, log: CHANGE_LOG });
  await o.around?.start();
  const storePath = join(o.dir, 'engine');
  const store = CheckpointStore.open(storePath);
  const writer = !(o.writerThread ?? process.env.FLOCK_CHECKPOINT_WRITER === 'thread') ? undefined : await CheckpointWriter.start({ path: storePath, ...(o.profileWriter === true ? { profile: true } : {}) });
  const sink: CheckpointSink = writer ?? store;
  // Every checkpoint's commit timed, from its hand-over to the writer until it is durable.
  const checkpointMs: number[] = [];
  const take = sink.take.bind(sink);
  sink.take = (input) => {
    const taken = take(input);
    return {
      commit: async () => {
        const t = performance.now();
        try {
          return await taken.commit();
        } finally {
          checkpointMs.push(performance.now() - t);
        }
      },
    };
  };
  const engine = await Engine.open({
    eventLog,
    changeLog,
    store,
    ...(writer === undefined ? {} : { writer }),
    plans: new Map([[o.space, o.plan]]),
    resolver: o.resolver(store),
    checkpointEvents: o.checkpointEvents ?? 20_000,
    ...(o.catchUpCheckpointEvents === undefined ? {} : { catchUpCheckpointEvents: o.catchUpCheckpointEvents }),
    checkpointMs: o.checkpointMs ?? 200,
  });
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const controller = new AbortController();
  const start = performance.now();
  // … and the change-log publishes.
  const split = { publish: 0 };
  const timed = <A extends unknown[], R>(f: (...a: A) => Promise<R>, key: keyof typeof split) => async (...a: A): Promise<R> => {
    const t = performance.now();
    try {
      return await f(...a);
    } finally {
      split[key] += performance.now() - t;
    }
  };
  changeLog.append = timed(changeLog.append.bind(changeLog), 'publish');
  let stopped = false;
  const running = engine.run(controller.signal).finally(() => (stopped = true));
  let told = start;
  while (engine.position < last && !stopped) {
    await new Promise((r) => setTimeout(r, 20));
    if (o.progress !== undefined && performance.now() - told > 15_000) {
      told = performance.now();
      o.progress(`${o.kind}: ${engine.position.toLocaleString('en-US')} of ${last.toLocaleString('en-US')} events, ${Math.round(engine.position / ((told - start) / 1000)).toLocaleString('en-US')}/s`);
    }
  }
  controller.abort();
  await running;
  await o.around?.stop();
  if (engine.position < last) throw new Error(`the engine stopped at position ${engine.position} of ${last}`);
  const seconds = (performance.now() - start) / 1000;
  checkpointMs.sort((a, b) => a - b);
  global.gc?.();
  const memory = process.memoryUsage();
  // Checkpoint record sizes of the profiles named by the first change-log records.
  const sample = new Set<string>();
  for (const record of await changeLog.read(1, 200)) for (const c of decodeChangeRecord(record.data)) if (c.collection === 'users') sample.add(c.profileId);
  let bytes = 0;
  let sampled = 0;
  for (const id of sample) {
    const st = engine.runtime.profile(o.space, id);
    if (st === undefined) continue;
    bytes += pack(profileToPlain(st)).length;
    sampled++;
  }
  const stats = { ...engine.stats };
  await writer?.close();
  await store.close();
  await changeLog.close();
  await eventLog.close();
  const file = join(storePath, 'data.mdb');
  return {
    events: last,
    seconds,
    perSecond: last / seconds,
    raw: raw.perSecond,
    changes: stats.changesOut,
    checkpoints: stats.checkpoints,
    checkpointP50: quantile(checkpointMs, 0.5),
    checkpointP99: quantile(checkpointMs, 0.99),
    checkpointMax: checkpointMs.at(-1) ?? 0,
    commitSeconds: checkpointMs.reduce((a, b) => a + b, 0) / 1000,
    publishSeconds: split.publish / 1000,
    profiles: stats.profiles,
    rss: memory.rss,
    heapUsed: memory.heapUsed - heapBefore,
    recordBytesPerProfile: bytes / Math.max(1, sampled),
    storeBytes: existsSync(file) ? statSync(file).size : 0,
    ...(writer?.profile() === undefined ? {} : { writerProfile: writer.profile() }),
  };
}
