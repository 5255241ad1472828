/** A read-only handle on the engine's checkpoint store for API readers, opened on first use (the engine may not have created it yet). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointStore } from '../store/checkpoint-store.ts';

/** The engine's state lives in `<dataDir>/engine` (engine/service/engine-worker.ts). */
export function engineStorePath(dataDir: string): string {
  return join(dataDir, 'engine');
}

export interface StoreHandle {
  /** the store, or undefined while it does not exist yet. */
  get(): CheckpointStore | undefined;
  close(): Promise<void>;
}

/**
 * Opens `CheckpointStore.open(path, {readOnly: true})` once the engine has created it: before that
 * (or with the engine off and no state) reads answer "unavailable" instead of creating an empty store.
 */
export function readOnlyStore(path: string): StoreHandle {
  let store: CheckpointStore | undefined;
  let lastTry = Number.NEGATIVE_INFINITY;
  return {
    get() {
      if (store !== undefined) return store;
      const now = Date.now();
      // an absent store is checked at most every 250 ms, not on every request
      if (now - lastTry < 250) return undefined;
      lastTry = now;
      if (!existsSync(join(path, 'data.mdb'))) return undefined;
      try {
        store = CheckpointStore.open(path, { readOnly: true });
      } catch {
        return undefined; // created but not yet initialised by the engine: next time
      }
      return store;
    },
    async close() {
      await store?.close();
      store = undefined;
    },
  };
}
