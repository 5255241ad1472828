/**
 * Statuses for the definitions the engine thread computes from FLOCK_DEFINITIONS_FILE, while the
 * engine still reads that file rather than the registry: each is `Computing` once the engine is
 * ready, `Live` once it has caught up with the log, `Failed` with the compiler's reason. Delete this
 * when the engine reports statuses itself (`DefinitionRegistry.reportStatus`).
 */
import { latestVersion, type DefinitionRegistry, type SeedEntry } from '../engine/index.ts';
import type { Logger } from './logger.ts';

export interface FileDefinitionStatuses {
  /** the engine could not compile a definition of the file. */
  failed(space: string, id: string, reason: string): void;
  /** the engine thread is ready (computing) or has caught up (live). */
  engineState(state: 'computing' | 'live'): Promise<void>;
}

export function fileDefinitionStatuses(registry: DefinitionRegistry, entries: readonly SeedEntry[], logger: Logger): FileDefinitionStatuses {
  const failures = new Map<string, string>();
  const report = async (space: string, key: string, status: 'Computing' | 'Live' | 'Failed', reason?: string) => {
    const record = registry.byKey(space, key);
    if (record === undefined) return;
    try {
      await registry.reportStatus(record.id, latestVersion(record).version, { status, ...(reason === undefined ? {} : { failureReason: reason }) });
    } catch (error) {
      logger.warn('could not record a definition status', { space, key, error });
    }
  };
  const keyOf = (space: string, id: string) => entries.find((e) => e.space === space && (e.id ?? `${e.kind === 'audience' ? 'aud' : 'tra'}_${e.key}`) === id)?.key;
  return {
    failed(space, id, reason) {
      const key = keyOf(space, id);
      if (key === undefined) return;
      failures.set(`${space}\u0000${key}`, reason);
      void report(space, key, 'Failed', reason);
    },
    async engineState(state) {
      for (const e of entries) {
        if (failures.has(`${e.space}\u0000${e.key}`)) continue;
        await report(e.space, e.key, state === 'live' ? 'Live' : 'Computing');
      }
    },
  };
}
