/** The delivery worker thread: runs every destination's delivery over the change log and the engine's published state. */
import { parentPort, workerData } from 'node:worker_threads';
import { DefinitionRegistry } from '../definitions/registry.ts';
import { DeliveryService } from '../destinations/delivery-service.ts';
import { DestinationStore } from '../destinations/destination-store.ts';
import { CHANGE_LOG, openAppendLog } from '../log/open-event-log.ts';
import { engineStorePath, readOnlyStore } from '../profiles/store-handle.ts';
import { faultProbe, parseFault } from './fault.ts';
import type { DeliveryThreadConfig, DeliveryThreadMessage } from './delivery-thread.ts';

const port = parentPort!;
const config = (workerData as { config: DeliveryThreadConfig }).config;
const send = (m: DeliveryThreadMessage) => port.postMessage(m);

async function main(): Promise<void> {
  const changeLog = await openAppendLog({ dataDir: config.dataDir, natsUrl: config.natsUrl, log: CHANGE_LOG, stream: config.stream, timeoutMs: config.timeoutMs });
  const store = DestinationStore.open(DestinationStore.pathIn(config.dataDir));
  const registry = DefinitionRegistry.open(config.registryPath);
  const engine = readOnlyStore(engineStorePath(config.dataDir));
  const service = new DeliveryService({
    store,
    changeLog,
    engine: () => engine.get(),
    registry,
    onError: (destinationId, error) => send({ type: 'destination-error', destinationId, message: (error as Error).message ?? String(error) }),
    onInvalidRecord: (seq, error) => send({ type: 'invalid-record', seq, message: error.message }),
    // (test-only: FLOCK_FAULT=delivered:n kills the whole process, engine included, like kill -9)
    probe: faultProbe(parseFault(process.env['FLOCK_FAULT'])),
  });
  service.start();
  port.on('message', (m: { type: string }) => {
    if (m.type !== 'stop') return;
    void (async () => {
      await service.stop();
      await engine.close();
      await registry.close();
      await store.close();
      await changeLog.close();
      send({ type: 'stopped' });
    })().catch((error: unknown) => send({ type: 'error', message: (error as Error).message, stack: (error as Error).stack ?? '' }));
  });
  send({ type: 'ready' });
}

main().catch((error: unknown) => send({ type: 'error', message: (error as Error).message, stack: (error as Error).stack ?? '' }));
