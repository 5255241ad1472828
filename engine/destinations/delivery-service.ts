/**
 * The delivery side: one loop per destination (destination-runner.ts for event kinds,
 * list-sync.ts for lists), started as destinations appear and ended when they are deleted. A loop
 * that fails (its log or store unreachable) is reported and started again 5 s later:
 * one destination never holds up another, and none holds up the engine (this runs in its own thread).
 */
import { randomInt } from 'node:crypto';
import type { DefinitionRegistry } from '../definitions/registry.ts';
import type { AppendLog } from '../log/append-log.ts';
import type { CheckpointStore } from '../store/checkpoint-store.ts';
import type { DestinationRecord } from './destination-record.ts';
import { sleep, type RunnerDeps } from './destination-loop.ts';
import { runDestination } from './destination-runner.ts';
import type { DestinationStore } from './destination-store.ts';
import { runListDestination } from './list-sync.ts';
import { transportFor } from './transport-for.ts';
import type { Transport } from './transport.ts';

export interface DeliveryServiceConfig {
  readonly store: DestinationStore;
  readonly changeLog: AppendLog;
  readonly engine: () => CheckpointStore | undefined;
  readonly registry: DefinitionRegistry;
  readonly transportFor?: (d: DestinationRecord) => Transport | undefined;
  readonly clock?: () => number;
  readonly random?: () => number;
  readonly pollMs?: number;
  readonly maxRecords?: number;
  readonly backfillPage?: number;
  /** RunnerDeps.identifierSweepMs (default 10 s). */
  readonly identifierSweepMs?: number;
  /** how often the destination list is read again (ms). */
  readonly reconcileMs?: number;
  readonly onError?: (destinationId: string, error: unknown) => void;
  readonly onInvalidRecord?: (seq: number, error: Error) => void;
  /** test-only fault injection (RunnerDeps.probe). */
  readonly probe?: ((point: 'delivered') => void) | undefined;
}

export class DeliveryService {
  readonly #deps: RunnerDeps;
  readonly #running = new Map<string, Promise<void>>();
  /** a loop that failed starts again no sooner than this (wall ms). */
  readonly #retryAt = new Map<string, number>();
  readonly #controller = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(private readonly config: DeliveryServiceConfig) {
    this.#deps = {
      store: config.store,
      changeLog: config.changeLog,
      engine: config.engine,
      registry: config.registry,
      transportFor: config.transportFor ?? transportFor,
      clock: config.clock ?? Date.now,
      random: config.random ?? (() => randomInt(0, 2 ** 32) / 2 ** 32),
      pollMs: config.pollMs ?? 20,
      maxRecords: config.maxRecords ?? 500,
      backfillPage: config.backfillPage ?? 1000,
      identifierSweepMs: config.identifierSweepMs ?? 10_000,
      onInvalidRecord: config.onInvalidRecord,
      probe: config.probe,
    };
  }

  start(): void {
    this.#loop ??= this.#reconcileLoop();
  }

  /** Destinations with a running loop. */
  running(): string[] {
    return [...this.#running.keys()];
  }

  async #reconcileLoop(): Promise<void> {
    const signal = this.#controller.signal;
    while (!signal.aborted) {
      for (const d of this.config.store.destinations()) {
        if (this.#running.has(d.id) || (this.#retryAt.get(d.id) ?? 0) > Date.now()) continue;
        const run = d.settings.kind === 'list' ? runListDestination(d.space, d.id, this.#deps, signal) : runDestination(d.space, d.id, this.#deps, signal);
        const tracked = run
          .catch((error: unknown) => {
            this.#retryAt.set(d.id, Date.now() + 5000);
            this.config.onError?.(d.id, error);
          })
          .finally(() => this.#running.delete(d.id));
        this.#running.set(d.id, tracked);
      }
      await sleep(this.config.reconcileMs ?? 250, signal);
    }
  }

  /** Stops every loop between attempts; their cursors stay at what was acknowledged. */
  async stop(): Promise<void> {
    this.#controller.abort();
    await this.#loop;
    await Promise.all(this.#running.values());
  }
}
