// Worker bootstrap: on Node 20 a worker loads its entry before `--import tsx` hooks apply, so register tsx here, then load the TypeScript entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
