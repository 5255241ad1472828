/** Starts the engine in a worker thread and talks to it: ready, stats, stop. */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { EngineStats, PauseReason } from '../engine.ts';
import type { IdentityRulesConfig } from '../identity/rules.ts';
import type { StreamLimitsConfig } from '../log/open-event-log.ts';

export interface EngineThreadConfig {
  readonly dataDir: string;
  readonly natsUrl?: string | undefined;
  readonly partitions: number;
  readonly stream?: StreamLimitsConfig | undefined;
  readonly timeoutMs?: number | undefined;
  /** identity rules per space id (as configured in the spaces file); other spaces: Segment's defaults. */
  readonly identity?: Readonly<Record<string, IdentityRulesConfig>> | undefined;
  /** the definition registry (`DefinitionRegistry.pathIn(dataDir)`): what the engine computes. */
  readonly registryPath: string;
  readonly tickMs: number;
  /** engine time (EngineOptions.time); default wall. */
  readonly clock?: 'wall' | 'event' | undefined;
  readonly checkpointMs: number;
  /** how far back membership history answers (ms; 0 = forever); the event index keeps what the log keeps. */
  readonly historyRetentionMs?: number | undefined;
  /** free disk space kept in reserve: below it the engine's writes wait (paused: disk_full). */
  readonly minFreeBytes?: number | undefined;
  /** `inline` (default): checkpoints committed in the engine's thread; `thread`: by a writer thread. */
  readonly checkpointWriter?: 'thread' | 'inline' | undefined;
}

export type EngineThreadMessage =
  | { readonly type: 'ready'; readonly definitions: number }
  | { readonly type: 'stats'; readonly stats: EngineThreadStats }
  | { readonly type: 'invalid-record'; readonly seq: number; readonly message: string }
  /** a sum these definitions read overflowed the double range (once per definition) */
  | { readonly type: 'overflow'; readonly space: string; readonly definitions: readonly string[] }
  | { readonly type: 'skipped-event'; readonly seq: number; readonly space: string; readonly messageId: string; readonly code: string; readonly message: string }
  /** the engine started waiting for an unreachable log or a full disk (`reason`), or resumed (null). */
  | { readonly type: 'paused'; readonly reason: PauseReason | null; readonly message?: string }
  | { readonly type: 'stopped'; readonly stats: EngineThreadStats }
  | { readonly type: 'error'; readonly message: string; readonly stack: string };

/** The engine's stats and the backfills (and previews) in progress. */
export interface EngineThreadStats extends EngineStats {
  readonly backfills: number;
}

export class EngineThreadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineThreadError';
  }
}

export interface EngineThread {
  /** the latest stats the engine reported (once a second). */
  stats(): EngineThreadStats | undefined;
  /**
   * Asks the engine to finish its batch, checkpoint and stop; resolves when the thread ended. After
   * `timeoutMs` the thread is ended anyway: nothing is lost, a restart resumes from the last checkpoint.
   */
  stop(timeoutMs?: number): Promise<void>;
  /** rejects if the engine fails after start. */
  readonly failure: Promise<never>;
}

export function startEngineThread(config: EngineThreadConfig, onMessage: (m: EngineThreadMessage) => void = () => {}): Promise<EngineThread> {
  const worker = new Worker(fileURLToPath(new URL('./ts-worker.mjs', import.meta.url)), {
    workerData: { entry: new URL('./engine-worker.ts', import.meta.url).href, config },
  });
  let latest: EngineThreadStats | undefined;
  let fail: (e: Error) => void = () => {};
  const failure = new Promise<never>((_, reject) => (fail = reject));
  failure.catch(() => {}); // observed through `failure` by whoever cares
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  // The engine reports `stopped` after its last checkpoint and closing its logs; the thread is then
  // ended (a library handle must not keep a finished engine thread alive).
  const stopped = new Promise<void>((resolve) => worker.on('message', (m: EngineThreadMessage) => (m.type === 'stopped' || m.type === 'error') && resolve()));
  return new Promise((resolve, reject) => {
    let started = false;
    worker.on('message', (m: EngineThreadMessage) => {
      onMessage(m);
      if (m.type === 'stats' || m.type === 'stopped') latest = m.stats;
      if (m.type === 'ready') {
        started = true;
        resolve({
          stats: () => latest,
          stop: async (timeoutMs = 30_000) => {
            worker.postMessage({ type: 'stop' });
            let timer: NodeJS.Timeout | undefined;
            await Promise.race([stopped, exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
            clearTimeout(timer);
            await worker.terminate();
          },
          failure,
        });
      }
      if (m.type === 'error') {
        const error = new EngineThreadError(`engine: ${m.message}`);
        if (started) fail(error);
        else reject(error);
      }
    });
    worker.on('error', (error) => {
      const e = new EngineThreadError(`engine thread crashed: ${error.message}`, { cause: error });
      if (started) fail(e);
      else reject(e);
    });
    worker.on('exit', (code) => {
      if (!started) reject(new EngineThreadError(`engine thread exited with code ${code} before it was ready`));
    });
  });
}
