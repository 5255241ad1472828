/**
 * Stage `recovery`: a restart over the state the throughput stage left (its store holds every
 * profile of the workload; the log holds a tail of events the engine never consumed, the lag a crash
 * leaves): time from `Engine.open` to caught up with the end of the log.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../../engine/engine.ts';
import { IdentityGraph } from '../../../engine/identity/identity-graph.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../../engine/log/open-event-log.ts';
import { compilePlan } from '../../../engine/plan/compile.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import { compileQueryDefinitions, realisticDefinitions } from '../../workload/definitions.ts';
import { SPACE, type SuiteConfig } from '../config.ts';
import { fmt, type Figure } from '../figures.ts';
import { EMBEDDED, type LeftState } from './throughput.ts';

export interface RestartRun {
  /** open logs and store, restore, replay the tail: restart to caught up. */
  readonly seconds: number;
  /** open logs and store and restore (timers, pending instant, unpublished outbox). */
  readonly openSeconds: number;
  /** events after the checkpoint, replayed. */
  readonly behind: number;
  readonly replayPerSecond: number;
  readonly changes: number;
}

/** Restarts the engine (the realistic set) over the embedded log and store in `dir` and times it until caught up with the log's end. */
export async function restart(dir: string): Promise<RestartRun> {
  const { plan } = compilePlan(compileQueryDefinitions(realisticDefinitions()));
  global.gc?.();
  const start = performance.now();
  const eventLog = await openEventLog({ dataDir: dir });
  const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
  const store = CheckpointStore.open(join(dir, 'engine'));
  const engine = await Engine.open({ eventLog, changeLog, store, plans: new Map([[SPACE, plan]]), resolver: new IdentityGraph({ source: store }) });
  const opened = performance.now();
  const from = engine.position;
  const last = await eventLog.lastSeq();
  const controller = new AbortController();
  const running = engine.run(controller.signal);
  while (engine.position < last) await new Promise((r) => setTimeout(r, 5));
  const caughtUp = performance.now();
  controller.abort();
  await running;
  const changes = engine.stats.changesOut;
  await store.close();
  await changeLog.close();
  await eventLog.close();
  return { seconds: (caughtUp - start) / 1000, openSeconds: (opened - start) / 1000, behind: last - from, replayPerSecond: (last - from) / ((caughtUp - opened) / 1000), changes };
}

export async function recovery(config: SuiteConfig, progress: (line: string) => void): Promise<Figure[]> {
  const dir = join(config.dir, EMBEDDED);
  const left = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as LeftState;
  const r = await restart(dir);
  progress(`restart to caught up: ${fmt(r.seconds, 2)} s over ${fmt(left.profiles)} profiles, ${fmt(r.behind)} events behind`);
  return [
    {
      id: 'recovery.seconds',
      measurement: 'recovery: restart (open logs and store, restore) to caught up with the log',
      value: r.seconds,
      unit: 's',
      note: `open + restore ${fmt(r.openSeconds, 2)} s; then ${fmt(r.behind)} events behind the checkpoint replayed (${fmt(r.replayPerSecond)} events/s, profiles loaded lazily from LMDB); 1M profiles of state: \`npm run bench:scale\``,
    },
    { id: 'recovery.profiles', measurement: 'recovery: profiles of state in the store at the restart', value: left.profiles, unit: 'profiles', note: `after ${fmt(left.events)} events` },
  ];
}
