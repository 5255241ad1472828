// Worker bootstrap: Node 20 loads a worker's entry before `--import tsx` hooks apply, so register tsx here, then load the TypeScript entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
