/** Test support for the distributed mode's tests: one process over the raw log — the reference its workers must equal. */
import { join } from 'node:path';
import { Engine } from '../../engine/engine.ts';
import { IdentityGraph } from '../../engine/identity/identity-graph.ts';
import type { EventLog } from '../../engine/log/event-log.ts';
import { CHANGE_LOG, openAppendLog } from '../../engine/log/open-event-log.ts';
import type { Plan } from '../../engine/plan/plan.ts';
import type { Change } from '../../engine/runtime/change.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import { changesOf } from './change-log.ts';
import { until } from './until.ts';

/** An engine in `dir` over all of `events` in event time, with identity resolution: its changes once it applied them all. */
export async function oneProcessChanges(dir: string, events: EventLog, plans: ReadonlyMap<string, Plan>): Promise<Change[]> {
  const store = CheckpointStore.open(join(dir, 'engine'));
  const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
  try {
    const engine = await Engine.open({ eventLog: events, changeLog, store, plans, resolver: new IdentityGraph({ source: store }), time: 'event', tickMs: 50 });
    const end = await events.lastSeq();
    const stop = new AbortController();
    const running = engine.run(stop.signal);
    await until('the one process to apply the log', async () => (engine.position >= end ? true : undefined), 60_000, 20);
    stop.abort();
    await running;
  } finally {
    await store.close();
    await changeLog.close();
  }
  return changesOf(dir);
}
