/** Worker thread for identity tests: answers lookups from a read-only checkpoint store, as the HTTP API's thread will. */
import { parentPort, workerData } from 'node:worker_threads';
import { profileExternalIds, lookupProfile } from '../../engine/identity/lookup.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';

const { path, space, identifiers, profiles } = workerData as { path: string; space: string; identifiers: string[]; profiles: string[] };
const store = CheckpointStore.open(path, { readOnly: true });
parentPort!.postMessage({
  lookups: identifiers.map((i) => lookupProfile(store, space, i)),
  externalIds: profiles.map((p) => profileExternalIds(store, space, p) ?? null),
});
await store.close();
