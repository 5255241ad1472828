/** A separate process for the delivery crash test: runs the delivery service over a data dir until killed. */
import { join } from 'node:path';
import { DefinitionRegistry } from '../../engine/definitions/registry.ts';
import { DeliveryService } from '../../engine/destinations/delivery-service.ts';
import { DestinationStore } from '../../engine/destinations/destination-store.ts';
import { CHANGE_LOG, openAppendLog } from '../../engine/log/open-event-log.ts';
import { engineStorePath, readOnlyStore } from '../../engine/profiles/store-handle.ts';

const [dataDir] = process.argv.slice(2);
if (dataDir === undefined) throw new Error('usage: delivery-child <dataDir>');
const changeLog = await openAppendLog({ dataDir, log: CHANGE_LOG });
const engine = readOnlyStore(engineStorePath(dataDir));
const service = new DeliveryService({
  store: DestinationStore.open(join(dataDir, 'destinations')),
  changeLog,
  engine: () => engine.get(),
  registry: DefinitionRegistry.open(join(dataDir, 'registry')),
  pollMs: 5,
  reconcileMs: 20,
  onError: (id, error) => process.stderr.write(`${id}: ${(error as Error).stack}\n`),
});
service.start();
process.stdout.write('ready\n');
