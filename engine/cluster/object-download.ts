/**
 * Reading one object of the JetStream object store into a file with bounded memory: it decides how a
 * snapshot (gigabytes for a million profiles) comes down from the bucket without being held whole.
 *
 * nats.js's `ObjectStore.get` returns a ReadableStream fed by a push consumer that takes no
 * backpressure: whatever the file write falls behind by piles up in the stream's queue — measured
 * here, a 1.4 GiB object held ~1.2 GiB resident while written to a file. Instead the object's chunks
 * (subject `$O.<bucket>.C.<nuid>` of stream `OBJ_<bucket>`, the object store's layout, ADR-20) are
 * read by an ordered consumer in fetches of at most `batchChunks` chunks, each written before the
 * next is asked for, so at most one fetch of chunks is in memory. The file is synced before it is
 * handed on (a restore renames it in place: it must be whole on disk first). The data are checked against the
 * object's size and SHA-256 digest, as `get` does.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { ObjectInfo } from '@nats-io/obj';

export class ObjectDownloadError extends Error {
  readonly code = 'object_download_failed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ObjectDownloadError';
  }
}

export interface DownloadOptions {
  /**
   * chunks asked for per fetch (default 32: 32 MiB of 1 MiB chunks in memory at most). Keep a fetch
   * well under nats-server's `max_pending` (64 MiB per connection): a 128-chunk fetch fell to 3 MiB/s
   * here (the server cuts a connection whose outbound data pile up past it); 32 chunks gave 264 MiB/s,
   * 64 about 290, 16 about 240.
   */
  readonly batchChunks?: number;
  /** how long one fetch waits for its chunks before the download fails (at least 1 s; default 10 s — a replaced object's chunks are purged: none comes). */
  readonly fetchTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** The object's digest as stored (`SHA-256=` + base64url, padded or not) → its bytes in base64url without padding. */
function digestOf(info: ObjectInfo): string {
  const m = /^SHA-256=(.+)$/i.exec(info.digest);
  if (m === null) throw new ObjectDownloadError(`object ${info.name}: unknown digest ${JSON.stringify(info.digest)}`);
  return m[1]!.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * Writes the data of object `info` (of bucket `info.bucket`) to `file` (created or truncated) and
 * syncs it. Throws ObjectDownloadError when the data are not the object's (size, digest) or do not come.
 */
export async function downloadObject(js: JetStreamClient, info: ObjectInfo, file: string, options: DownloadOptions = {}): Promise<void> {
  const expected = digestOf(info);
  const batch = Math.max(1, options.batchChunks ?? 32);
  const fd = openSync(file, 'w');
  const hash = createHash('sha256');
  let bytes = 0;
  let chunks = 0;
  try {
    if (info.chunks > 0) {
      const consumer = await js.consumers.get(`OBJ_${info.bucket}`, { filter_subjects: `$O.${info.bucket}.C.${info.nuid}` });
      try {
        while (chunks < info.chunks) {
          if (options.signal?.aborted === true) throw new ObjectDownloadError(`download of object ${info.name} aborted`, { cause: options.signal.reason });
          const before = chunks;
          const messages = await consumer.fetch({ max_messages: Math.min(batch, info.chunks - chunks), expires: options.fetchTimeoutMs ?? 10_000 });
          for await (const m of messages) {
            hash.update(m.data);
            for (let o = 0; o < m.data.length; ) o += writeSync(fd, m.data, o);
            bytes += m.data.length;
            chunks++;
          }
          if (chunks === before) throw new ObjectDownloadError(`object ${info.name}: no chunk came within ${options.fetchTimeoutMs ?? 10_000} ms (${chunks} of ${info.chunks} read)`);
        }
      } finally {
        await consumer.delete().catch(() => false);
      }
    }
    if (bytes !== info.size) throw new ObjectDownloadError(`object ${info.name}: ${bytes} bytes came, not ${info.size}`);
    const digest = hash.digest('base64url');
    if (digest !== expected) throw new ObjectDownloadError(`object ${info.name}: the data's digest ${digest} is not the object's ${expected}`);
    fsyncSync(fd);
  } catch (error) {
    if (error instanceof ObjectDownloadError) throw error;
    throw new ObjectDownloadError(`download of object ${info.name} failed (${chunks} of ${info.chunks} chunks read)`, { cause: error });
  } finally {
    closeSync(fd);
  }
}
