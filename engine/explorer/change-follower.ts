/** Follows the change log into the explorer store: decode each record, drop republished duplicates, apply in batches. */
import { decodeChangeRecord } from '../engine.ts';
import type { AppendLog } from '../log/append-log.ts';
import { backoffDelay, isTransientLogError, sleep, type BackoffPolicy } from '../log/retry.ts';
import type { Change } from '../runtime/change.ts';
import type { ExplorerStore } from './explorer-store.ts';

export interface ChangeFollowerOptions {
  /** records per read. */
  readonly maxBatch?: number;
  /** record ids remembered to drop a republished record (JetStream keeps duplicates out only inside its window). */
  readonly dedupeWindow?: number;
  /** a record that is not a change-log record (skipped, never fatal). */
  readonly onInvalidRecord?: (seq: number, error: Error) => void;
  /** waits between tails of a log that failed (unreachable): capped exponential backoff with jitter. */
  readonly backoff?: BackoffPolicy;
}

export interface ChangeFollower {
  /** resolves when stopped; rejects if the store fails, or the log with an error that is not transient. */
  readonly done: Promise<void>;
  /** the last change-log position applied. */
  position(): number;
  stop(): Promise<void>;
}

/**
 * Tails the change log from the store's position, applying each batch of records in one store
 * transaction. A record is identified by its first change's id and its length (engine
 * `encodeChangeRecords`): a republished outbox record has the same id and is skipped.
 */
export function followChanges(log: AppendLog, store: ExplorerStore, options: ChangeFollowerOptions = {}): ChangeFollower {
  const controller = new AbortController();
  const window = options.dedupeWindow ?? 100_000;
  const seen = new Set<string>();
  let position = store.position();
  const follow = async () => {
    for await (const batch of log.tail(position + 1, { maxBatch: options.maxBatch ?? 200, signal: controller.signal })) {
      const changes: Change[] = [];
      for (const entry of batch) {
        let decoded: Change[];
        try {
          decoded = decodeChangeRecord(entry.data);
          if (!Array.isArray(decoded)) throw new Error('a change-log record is a JSON array');
        } catch (error) {
          options.onInvalidRecord?.(entry.seq, error as Error);
          continue;
        }
        const first = decoded[0];
        if (first === undefined) continue;
        const recordId = `${first.id}#${decoded.length}`;
        if (seen.has(recordId)) continue;
        seen.add(recordId);
        if (seen.size > window) seen.delete(seen.values().next().value!);
        for (const c of decoded) changes.push(c);
      }
      const last = batch[batch.length - 1]!.seq;
      await store.apply(changes, last);
      position = last;
    }
  };
  // A tail that fails with the log (unreachable, its consumer lost) is tailed again from the last
  // applied position, as the engine does: the follower rides out an outage instead of stopping.
  const run = async () => {
    for (let attempt = 0; !controller.signal.aborted; attempt++) {
      const before = position;
      try {
        await follow();
        return;
      } catch (error) {
        if (!isTransientLogError(error) || controller.signal.aborted) throw error;
        if (position !== before) attempt = 0;
        await sleep(backoffDelay(attempt, Math.random(), options.backoff), controller.signal);
      }
    }
  };
  const done = run();
  done.catch(() => {});
  return {
    done,
    position: () => position,
    async stop() {
      controller.abort();
      await done.catch(() => {});
    },
  };
}
