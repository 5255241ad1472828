/**
 * Keeps a reserve of free disk space under the LMDB environments Flock writes (the embedded logs, the
 * checkpoint store): a write that would start with less free space than the reserve is refused with
 * StorageFullError before it touches the environment, so LMDB never runs into a full disk halfway
 * through a commit; writes go on by themselves once space returns.
 *
 * Why a reserve and not LMDB's map size: lmdb-js grows the map by itself (its `mapSize` is only the
 * initial size), so MDB_MAP_FULL does not happen, and a write failing on a really full disk leaves
 * lmdb-js with rejections nobody can catch. Refusing before the transaction keeps every store whole.
 */
import { statfsSync } from 'node:fs';

export interface StorageGuardConfig {
  /** free bytes the filesystem must keep; 0 turns the check off. */
  readonly minFreeBytes: number;
  /** free bytes available to this process on the filesystem holding `path` (default: statfs). */
  readonly freeBytes?: (path: string) => number;
}

/** A write was refused: the filesystem holding `path` has less free space than the reserve. Nothing was written. */
export class StorageFullError extends Error {
  constructor(
    readonly path: string,
    readonly freeBytes: number,
    readonly minFreeBytes: number,
  ) {
    super(`no space to write ${path}: ${freeBytes} bytes free, ${minFreeBytes} kept in reserve`);
    this.name = 'StorageFullError';
  }
}

export function diskFreeBytes(path: string): number {
  const s = statfsSync(path);
  return s.bavail * s.bsize;
}

/** A check to run before each write transaction on `path`: throws StorageFullError while below the reserve. */
export function storageGuard(path: string, config: StorageGuardConfig | undefined): () => void {
  if (config === undefined || config.minFreeBytes <= 0) return () => {};
  const free = config.freeBytes ?? diskFreeBytes;
  const reserve = config.minFreeBytes;
  return () => {
    const bytes = free(path);
    if (bytes < reserve) throw new StorageFullError(path, bytes, reserve);
  };
}

/** Whether `error` or one of its causes is a StorageFullError. */
export function isStorageFull(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof StorageFullError) return true;
  }
  return false;
}
