/** The checkpoint writer thread's body: commits the checkpoints it is given, one at a time, in order. */
import { Session } from 'node:inspector/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { CheckpointStore } from './checkpoint-store.ts';
import { fromWire, type CheckpointWriterConfig, type WriterFailure, type WriterReply } from './checkpoint-writer.ts';
import { StorageFullError } from './storage-guard.ts';

const port = parentPort!;
const config = (workerData as { config: CheckpointWriterConfig }).config;
const store = CheckpointStore.open(config.path, { storage: { minFreeBytes: config.minFreeBytes ?? 0 } });
const send = (m: WriterReply) => port.postMessage(m);

function failure(error: unknown): WriterFailure {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof StorageFullError) return { message: (error as Error).message, storageFull: { path: e.path, freeBytes: e.freeBytes, minFreeBytes: e.minFreeBytes } };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

let chain = Promise.resolve();
/** the place of the next checkpoint to commit: a later one arriving first (an earlier one failed) is skipped. */
let expected = 1;
let attempts = 0;
port.on('message', (m: { type: 'commit'; id: number; order: number; input: Uint8Array } | { type: 'close' }) => {
  if (m.type === 'commit') {
    chain = chain.then(async () => {
      if (m.order !== expected) {
        send({ type: 'failed', id: m.id, error: { message: `checkpoint ${m.order} waits for checkpoint ${expected}`, skipped: true } });
        return;
      }
      try {
        attempts++;
        if (config.failAttempts?.includes(attempts) === true) throw new StorageFullError(config.path, 0, 1);
        const { seq, outbox } = await store.commitPlain(fromWire(m.input));
        expected++;
        send({ type: 'committed', id: m.id, seq, outbox });
      } catch (error) {
        send({ type: 'failed', id: m.id, error: failure(error) });
      }
    });
  } else {
    chain = chain.then(async () => {
      await store.close();
      const profile = profiler === undefined ? undefined : (await profiler.post('Profiler.stop')).profile;
      profiler?.disconnect();
      send(profile === undefined ? { type: 'closed' } : { type: 'closed', profile });
    });
  }
});
// (benchmarks: this thread's own CPU profile, from now until close)
const profiler = config.profile === true ? new Session() : undefined;
if (profiler !== undefined) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 500 });
  await profiler.post('Profiler.start');
}
send({ type: 'ready' });
