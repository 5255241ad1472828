/** A worker thread that appends to an embedded log when told to, like the HTTP API appending while the engine tails. */
import { parentPort, workerData } from 'node:worker_threads';
import { openEmbeddedLog } from '../../engine/log/embedded-log.ts';

const { path, count } = workerData as { path: string; count: number };
const log = await openEmbeddedLog({ path });
parentPort?.on('message', async (message: { tag: string }) => {
  const records = Array.from({ length: count }, (_, i) => ({
    id: `${message.tag}-${i}`,
    key: 'worker.0',
    data: Buffer.from(`${message.tag}:${i}`),
  }));
  const result = await log.append(records);
  // the appending thread's clock: performance.timeOrigin differs per thread, so send epoch-based time
  parentPort?.postMessage({ seqs: result.seqs, committedAt: performance.timeOrigin + performance.now() });
  await log.close();
  parentPort?.close();
});
parentPort?.postMessage('ready');
