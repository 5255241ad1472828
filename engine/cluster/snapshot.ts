/**
 * A worker's state snapshot in the JetStream object store (`flock_snapshots`): it decides what a
 * worker that takes a partition set over starts from, on any machine — no shared disk.
 *
 * A snapshot is the worker's whole checkpoint store (its LMDB environment: profile and operator
 * state, timers, outbox, history, the identity of what was published) copied in one read transaction,
 * so it is one checkpoint — state and the log position it applied through, which the store commits
 * together. It is stored under the partition set's name, one object per set, with that position in
 * the object's metadata (a worker reads it without downloading), and replaced only by a snapshot of
 * a later position, on the revision it read (compare-and-set): two holders of a set for a moment
 * (a lease is not instantaneous) never move it backwards. Any snapshot is a valid start: a worker's
 * state at a position is a function of the log up to it.
 *
 * Restoring downloads the object (its size and digest checked) with bounded memory (object-download.ts:
 * the client's own `get` would hold whatever the file write falls behind by), checks that the copy
 * holds the position its metadata names, and puts it in place of the worker's store directory, which
 * must not be open. The upload streams the copy's file (the client publishes one chunk at a time).
 * SHA-256 is Node's (the client's default is a pure-JS one: ~4× slower here, 42 vs 175 MiB/s up).
 */
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { Objm, setSha256Backend, StorageType, type ObjectInfo, type ObjectStore } from '@nats-io/obj';
import { CheckpointStore, type CheckpointMeta } from '../store/checkpoint-store.ts';
import { downloadObject } from './object-download.ts';

// (process-wide; Flock runs on Node only)
setSha256Backend('native');

export const SNAPSHOT_BUCKET = 'flock_snapshots';

/** the environment's file inside a store directory (LMDB's name for it). */
const DATA_FILE = 'data.mdb';
/** object chunks of 1 MiB (the client caps them at the server's max payload). */
const CHUNK_BYTES = 1 << 20;

export interface SnapshotInfo {
  readonly name: string;
  /** the log position the snapshot's checkpoint applied through. */
  readonly position: number;
  readonly watermark: number;
  readonly bytes: number;
  /** the object's revision in the bucket. */
  readonly revision: number;
}

export class SnapshotError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SnapshotError';
  }
}

/** The snapshot bucket: the object store, and the JetStream client a download reads its chunks with. */
export interface SnapshotBucket {
  readonly objects: ObjectStore;
  readonly js: JetStreamClient;
}

/** Opens (creating) the snapshot bucket: file storage, `replicas` copies on a cluster. */
export async function openSnapshotBucket(nc: NatsConnection, options: { readonly bucket?: string; readonly replicas?: number; readonly timeoutMs?: number } = {}): Promise<SnapshotBucket> {
  const js = jetstream(nc, { timeout: options.timeoutMs ?? 5000 });
  const objects = await new Objm(js).create(options.bucket ?? SNAPSHOT_BUCKET, {
    storage: StorageType.File,
    ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
  });
  return { objects, js };
}

function infoOf(info: ObjectInfo): SnapshotInfo | undefined {
  if (info.deleted) return undefined;
  const position = Number(info.metadata?.['position']);
  if (!Number.isInteger(position)) return undefined;
  return { name: info.name, position, watermark: Number(info.metadata?.['watermark']), bytes: info.size, revision: info.revision };
}

/** The stored snapshot of `name`, without its data; undefined when there is none. */
export async function snapshotInfo(bucket: SnapshotBucket, name: string): Promise<SnapshotInfo | undefined> {
  const info = await bucket.objects.info(name);
  return info === null ? undefined : infoOf(info);
}

/** The checkpoint a store directory holds (opened read-only and closed again); undefined without one. */
export async function storedCheckpoint(dir: string): Promise<CheckpointMeta | undefined> {
  if (!existsSync(join(dir, DATA_FILE))) return undefined;
  const store = CheckpointStore.open(dir, { readOnly: true });
  try {
    return store.meta();
  } finally {
    await store.close();
  }
}

/** Where copies of the store at `path` are made: beside it, on its file system (a restore renames one in place). */
const copyPrefix = (path: string): string => join(dirname(path), `.${basename(path)}-copy-`);

/** Removes copies a process killed while taking or restoring a snapshot of the store at `path` left behind. */
export function removeSnapshotLeftovers(path: string): void {
  const prefix = basename(copyPrefix(path));
  if (!existsSync(dirname(path))) return;
  for (const entry of readdirSync(dirname(path))) if (entry.startsWith(prefix)) rmSync(join(dirname(path), entry), { recursive: true, force: true });
}

/**
 * Copies `store` (one checkpoint) and uploads it as `name` — unless the stored snapshot is already at
 * that position or later, or another upload replaced it meanwhile: then undefined.
 */
export async function takeSnapshot(store: CheckpointStore, bucket: SnapshotBucket, name: string): Promise<SnapshotInfo | undefined> {
  const dir = mkdtempSync(copyPrefix(store.path));
  try {
    await store.backup(dir);
    const meta = await storedCheckpoint(dir);
    if (meta === undefined) throw new SnapshotError(`the copy of ${store.path} holds no environment`);
    const stored = await bucket.objects.info(name);
    const current = stored === null ? undefined : infoOf(stored);
    if (current !== undefined && current.position >= meta.position) return undefined;
    const data = Readable.toWeb(createReadStream(join(dir, DATA_FILE))) as unknown as ReadableStream<Uint8Array>;
    try {
      const info = await bucket.objects.put(
        { name, metadata: { position: String(meta.position), watermark: String(meta.watermark) }, options: { max_chunk_size: CHUNK_BYTES } },
        data,
        // (0: only if there is none)
        { previousRevision: stored?.revision ?? 0 },
      );
      return infoOf(info);
    } catch (error) {
      if (error instanceof JetStreamApiError && (error.code === JetStreamApiCodes.StreamWrongLastSequence || error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)) return undefined;
      throw new SnapshotError(`upload of snapshot ${name} (position ${meta.position}) failed`, { cause: error });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Downloads snapshot `name` and puts it in place of the store directory `path` (not open; replaced
 * whole, or created). Returns what it restored, or undefined when there is no snapshot.
 */
export async function restoreSnapshot(bucket: SnapshotBucket, name: string, path: string, signal?: AbortSignal): Promise<SnapshotInfo | undefined> {
  const object = await bucket.objects.info(name);
  const info = object === null ? undefined : infoOf(object);
  if (object === null || info === undefined) return undefined;
  mkdirSync(dirname(path), { recursive: true });
  const dir = mkdtempSync(copyPrefix(path));
  try {
    try {
      await downloadObject(bucket.js, object, join(dir, DATA_FILE), signal === undefined ? {} : { signal });
    } catch (cause) {
      throw new SnapshotError(`download of snapshot ${name} failed`, { cause });
    }
    const meta = await storedCheckpoint(dir);
    if (meta?.position !== info.position) throw new SnapshotError(`snapshot ${name} holds position ${meta?.position}, not ${info.position} as its metadata says`);
    const old = `${dir}.old`;
    if (existsSync(path)) renameSync(path, old);
    renameSync(dir, path);
    rmSync(old, { recursive: true, force: true });
    return info;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
