/** Starts the destinations' delivery in a worker thread (off the engine's and the API's threads) and stops it. */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { StreamLimitsConfig } from '../log/open-event-log.ts';

export interface DeliveryThreadConfig {
  readonly dataDir: string;
  readonly natsUrl?: string | undefined;
  readonly stream?: StreamLimitsConfig | undefined;
  readonly timeoutMs?: number | undefined;
  readonly registryPath: string;
}

export type DeliveryThreadMessage =
  | { readonly type: 'ready' }
  /** a destination's loop failed (it is started again). */
  | { readonly type: 'destination-error'; readonly destinationId: string; readonly message: string }
  | { readonly type: 'invalid-record'; readonly seq: number; readonly message: string }
  | { readonly type: 'stopped' }
  | { readonly type: 'error'; readonly message: string; readonly stack: string };

export interface DeliveryThread {
  /** stops every destination between attempts (cursors stay at what was acknowledged), then ends the thread. */
  stop(timeoutMs?: number): Promise<void>;
  /** rejects if the thread fails after start. */
  readonly failure: Promise<never>;
}

export function startDeliveryThread(config: DeliveryThreadConfig, onMessage: (m: DeliveryThreadMessage) => void = () => {}): Promise<DeliveryThread> {
  const worker = new Worker(fileURLToPath(new URL('./ts-worker.mjs', import.meta.url)), {
    workerData: { entry: new URL('./delivery-worker.ts', import.meta.url).href, config },
  });
  let fail: (e: Error) => void = () => {};
  const failure = new Promise<never>((_, reject) => (fail = reject));
  failure.catch(() => {});
  const ended = new Promise<void>((resolve) => {
    worker.on('message', (m: DeliveryThreadMessage) => (m.type === 'stopped' || m.type === 'error') && resolve());
    worker.once('exit', () => resolve());
  });
  return new Promise((resolve, reject) => {
    let started = false;
    worker.on('message', (m: DeliveryThreadMessage) => {
      onMessage(m);
      if (m.type === 'ready') {
        started = true;
        resolve({
          async stop(timeoutMs = 10_000) {
            worker.postMessage({ type: 'stop' });
            let timer: NodeJS.Timeout | undefined;
            await Promise.race([ended, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
            clearTimeout(timer);
            await worker.terminate();
          },
          failure,
        });
      }
      if (m.type === 'error') (started ? fail : reject)(new Error(`delivery: ${m.message}`));
    });
    worker.on('error', (error) => (started ? fail : reject)(new Error(`delivery thread crashed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => {
      if (!started) reject(new Error(`delivery thread exited with code ${code} before it was ready`));
    });
  });
}
