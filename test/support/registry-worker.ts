/** A worker thread that creates one definition in a registry, like the API thread writing while the engine thread watches. */
import { parentPort, workerData } from 'node:worker_threads';
import { DefinitionRegistry } from '../../engine/definitions/registry.ts';

const { path } = workerData as { path: string };
const registry = DefinitionRegistry.open(path);
await registry.create({ space: 'spa_a', kind: 'audience', key: 'from_worker', name: 'from worker', definition: { query: "event('A').count() >= 1", type: 'USERS' } });
await registry.close();
parentPort?.postMessage('created');
