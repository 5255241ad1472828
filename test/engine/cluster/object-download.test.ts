/**
 * engine/cluster/object-download.ts against a private nats-server: an object of many chunks comes
 * down whole over several fetches, an empty one as an empty file; an object whose data are not what
 * its metadata says (digest, size) or whose chunks are gone is refused with `object_download_failed`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Base64UrlPaddedCodec, type ObjectInfo } from '@nats-io/obj';
import { downloadObject, ObjectDownloadError } from '../../../engine/cluster/object-download.ts';
import { openSnapshotBucket, type SnapshotBucket } from '../../../engine/cluster/snapshot.ts';
import { natsServerAvailable, startNatsServer } from '../../support/nats-server.ts';

/** The fields of an object's metadata entry (ObjectInfo is a class with getters). */
const pick = (i: ObjectInfo) => ({ name: i.name, bucket: i.bucket, nuid: i.nuid, size: i.size, chunks: i.chunks, digest: i.digest, mtime: i.mtime, deleted: i.deleted, options: i.options });

/** Rewrites an object's metadata entry (what `info` and a download read) with `change` applied. */
async function rewriteInfo(bucket: SnapshotBucket, info: ObjectInfo, change: Partial<ObjectInfo>): Promise<ObjectInfo> {
  const { name, bucket: of, nuid, size, chunks, digest, mtime, deleted, options } = { ...pick(info), ...change };
  await bucket.js.publish(`$O.${of}.M.${Base64UrlPaddedCodec.encode(name)}`, JSON.stringify({ name, bucket: of, nuid, size, chunks, digest, mtime, deleted, options }));
  return (await bucket.objects.info(info.name))!;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(error, ObjectDownloadError);
  assert.is((error as ObjectDownloadError).code, 'object_download_failed');
  return error as Error;
}

if (natsServerAvailable('the object download tests')) {
  test('an object comes down whole over several fetches; an empty one as an empty file; wrong data and lost chunks are refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flock-object-download-'));
    const nats = await startNatsServer();
    let nc: NatsConnection | undefined;
    try {
      nc = await connect({ servers: nats.url });
      const bucket = await openSnapshotBucket(nc);
      const data = randomBytes(3 * 65_536 * 4 + 123);
      const put = await bucket.objects.putBlob({ name: 'a', options: { max_chunk_size: 65_536 } }, data);
      assert.is(put.chunks, 13);
      const file = join(dir, 'a');
      // 13 chunks, 3 a fetch: five fetches
      await downloadObject(bucket.js, put, file, { batchChunks: 3 });
      assert.ok(readFileSync(file).equals(data));

      const empty = await bucket.objects.putBlob({ name: 'empty' }, new Uint8Array(0));
      await downloadObject(bucket.js, empty, join(dir, 'empty'));
      assert.is(readFileSync(join(dir, 'empty')).length, 0);

      // the metadata name other data than the chunks hold
      const wrongDigest = await rewriteInfo(bucket, put, { digest: `SHA-256=${Buffer.alloc(32, 7).toString('base64url')}=` });
      assert.match((await failure(downloadObject(bucket.js, wrongDigest, file))).message, /digest/);
      const wrongSize = await rewriteInfo(bucket, put, { size: put.size + 1 });
      assert.match((await failure(downloadObject(bucket.js, wrongSize, file))).message, /bytes came, not/);

      // the chunks purged (the object replaced meanwhile): no chunk comes, and the download says so in time
      await (await jetstreamManager(nc)).streams.purge(`OBJ_${put.bucket}`, { filter: `$O.${put.bucket}.C.${put.nuid}` });
      assert.match((await failure(downloadObject(bucket.js, put, file, { fetchTimeoutMs: 1000 }))).message, /no chunk came within 1000 ms \(0 of 13 read\)/);
    } finally {
      await nc?.close();
      await nats.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
