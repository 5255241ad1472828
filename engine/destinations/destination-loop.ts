/**
 * The loop every destination kind runs in: reloads its destination, waits while it is disabled,
 * paused (until the API resumes it) or the engine's state is absent, keeps its transport and pacer
 * in step with its settings, persists its status, and calls the kind's step until stopped or deleted.
 */
import type { DefinitionRegistry } from '../definitions/registry.ts';
import type { AppendLog } from '../log/append-log.ts';
import type { CheckpointStore } from '../store/checkpoint-store.ts';
import { DeliveryPaused, DeliveryStopped, type DeliveryCounters, type LaneDeps } from './delivery-lanes.ts';
import type { DestinationRecord } from './destination-record.ts';
import type { BackfillState, DestinationStatus, DestinationStore } from './destination-store.ts';
import { RequestPacer } from './request-pacer.ts';
import type { Transport } from './transport.ts';

export interface RunnerDeps {
  readonly store: DestinationStore;
  readonly changeLog: AppendLog;
  /** the engine's checkpoint store (read-only), or undefined while it does not exist yet. */
  readonly engine: () => CheckpointStore | undefined;
  readonly registry: DefinitionRegistry;
  readonly transportFor: (d: DestinationRecord) => Transport | undefined;
  readonly clock: () => number;
  readonly random: () => number;
  /** wait between polls of a caught-up change log (ms). */
  readonly pollMs: number;
  /** change-log records per step. */
  readonly maxRecords: number;
  /** how often the identifier ledger is compared with the identity graph (ms; new identifiers get their profile's values). */
  readonly identifierSweepMs: number;
  /** backfill (and identifier sweep): members per step. */
  readonly backfillPage: number;
  readonly onInvalidRecord?: ((seq: number, error: Error) => void) | undefined;
  /** test-only fault injection (FLOCK_FAULT, service/fault.ts): `delivered` after a slice of changes was acknowledged, before its cursor is committed. */
  readonly probe?: ((point: 'delivered') => void) | undefined;
}

/** What a kind's step gets from the loop. */
export interface LoopContext {
  /** the lanes' dependencies with the current transport and pacer. */
  lanes(): LaneDeps;
  /** commits progress with the current status. */
  persist(p?: { cursor?: number; backfills?: ReadonlyArray<readonly [string, BackfillState]>; synced?: boolean; sent?: ReadonlyMap<string, string[]>; identifiersCheckedAt?: number }): Promise<void>;
}

/** One unit of work; false when there was nothing to do (the loop then waits `pollMs`). */
export type Step = (d: DestinationRecord, engine: CheckpointStore) => Promise<boolean>;

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function destinationLoop(space: string, id: string, deps: RunnerDeps, signal: AbortSignal, makeStep: (loop: LoopContext) => Step): Promise<void> {
  const saved = deps.store.status(id);
  const counters: DeliveryCounters = { delivered: saved.delivered, failed: saved.failed, retrying: 0, requests: saved.requests, deadInARow: 0, lastError: saved.lastError };
  let paused = saved.paused;
  let advancedAt = saved.advancedAt;
  let lastSyncAt = saved.lastSyncAt;
  let identifiersCheckedAt = saved.identifiersCheckedAt;
  let transport: Transport | undefined;
  let transportStamp = -1;
  let pacer = new RequestPacer(0);
  let lastStatusWrite = 0;
  const status = (): DestinationStatus => ({
    delivered: counters.delivered,
    failed: counters.failed,
    retrying: counters.retrying,
    requests: counters.requests,
    lastError: counters.lastError,
    paused,
    advancedAt,
    lastSyncAt,
    identifiersCheckedAt,
  });
  const loop: LoopContext = {
    persist(p = {}) {
      lastStatusWrite = deps.clock();
      if (p.cursor !== undefined) advancedAt = deps.clock();
      if (p.synced === true) lastSyncAt = deps.clock();
      if (p.identifiersCheckedAt !== undefined) identifiersCheckedAt = p.identifiersCheckedAt;
      return deps.store.saveProgress(id, { ...p, status: status() });
    },
    lanes: () => ({
      transport: transport!,
      pacer,
      counters,
      signal,
      clock: deps.clock,
      random: deps.random,
      sleep,
      deadLetter: (letter) => deps.store.addDeadLetter(letter),
      onProgress: () => {
        // the status shows retries within a second
        if (deps.clock() - lastStatusWrite > 1000) void loop.persist().catch(() => {});
      },
    }),
  };
  const step = makeStep(loop);
  try {
    while (!signal.aborted) {
      const destination = deps.store.destination(space, id);
      if (destination === undefined) return;
      if (paused !== null && (destination.resumes ?? 0) > paused.resumes) {
        paused = null;
        counters.deadInARow = 0;
        await loop.persist();
      }
      const engine = deps.engine();
      if (!destination.enabled || paused !== null || engine === undefined) {
        await sleep(deps.pollMs * 5, signal);
        continue;
      }
      if (destination.updatedAt !== transportStamp) {
        await transport?.close();
        transport = deps.transportFor(destination);
        pacer = new RequestPacer(destination.limits.requestsPerSecond);
        transportStamp = destination.updatedAt;
      }
      try {
        if (!(await step(destination, engine))) await sleep(deps.pollMs, signal);
      } catch (error) {
        if (!(error instanceof DeliveryPaused)) throw error;
        paused = { reason: error.reason, at: deps.clock(), resumes: destination.resumes ?? 0 };
        await loop.persist();
      }
    }
  } catch (error) {
    if (!(error instanceof DeliveryStopped)) throw error;
  } finally {
    await loop.persist().catch(() => {});
    await transport?.close();
  }
}
