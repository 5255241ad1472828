/** The read-only store handle: nothing until the engine created its store, then a read-only store that sees the engine's commits. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOnlyStore } from '../../../engine/profiles/store-handle.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';

const root = mkdtempSync(join(tmpdir(), 'flock-store-handle-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

test('undefined while the engine has not created its store (and none is created), then the store', async () => {
  const path = join(root, 'engine');
  const handle = readOnlyStore(path);
  assert.is(handle.get(), undefined);
  const writer = CheckpointStore.open(path);
  await writer.commit({ position: 7, watermark: 1000, profiles: [], pending: [], changes: [], records: [], publishedThrough: 0 });
  // a missing store is looked for again only after a pause
  await new Promise((r) => setTimeout(r, 300));
  const reader = handle.get();
  assert.ok(reader);
  assert.is(reader.meta().position, 7);
  await writer.commit({ position: 9, watermark: 2000, profiles: [], pending: [], changes: [], records: [], publishedThrough: 0 });
  await new Promise((r) => setImmediate(r));
  assert.is(handle.get()!.meta().position, 9, 'a later commit is visible');
  await handle.close();
  await writer.close();
});

test.run();
