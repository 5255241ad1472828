/** Test support: the delivery service run in-process over a ServiceApp's data dir, and a wait until a destination has delivered everything. */
import { DeliveryService, type DeliveryServiceConfig } from '../../engine/destinations/delivery-service.ts';
import type { DestinationStore } from '../../engine/destinations/destination-store.ts';
import type { AppendLog } from '../../engine/log/append-log.ts';
import { CHANGE_LOG, openAppendLog } from '../../engine/log/open-event-log.ts';
import type { ServiceApp } from './service-app.ts';

export interface Delivery {
  readonly store: DestinationStore;
  readonly changeLog: AppendLog;
  readonly service: DeliveryService;
  /** resolves once `destinationId`'s backfills are done, its replays sent and its cursor at the change log's end. */
  caughtUp(destinationId: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Delivery over the app's destination store (a ServiceApp made with `withDestinations: true`). */
export async function deliveryOver(s: ServiceApp, config: Partial<DeliveryServiceConfig> = {}): Promise<Delivery> {
  const store = s.destinations!;
  const changeLog = await openAppendLog({ dataDir: s.dir, log: CHANGE_LOG });
  const service = new DeliveryService({ store, changeLog, engine: () => s.store(), registry: s.registry, pollMs: 5, reconcileMs: 20, ...config });
  service.start();
  return {
    store,
    changeLog,
    service,
    async caughtUp(destinationId, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const cursor = store.cursor(destinationId);
        const done = store.connections(destinationId).every((c) => store.backfill(c.id)?.done === true);
        if (done && cursor !== undefined && cursor >= (await changeLog.lastSeq()) && store.replays(destinationId).length === 0) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`destination ${destinationId} did not catch up in ${timeoutMs} ms: ${JSON.stringify(store.status(destinationId))}`);
    },
    async close() {
      await service.stop();
      await changeLog.close();
    },
  };
}
