/**
 * Stage `backfill`: an engine that has consumed the whole log (the throughput stage's embedded log)
 * gets a new audience with historical data; its backfill replays the log through a runtime of its
 * own and the definition goes Live. Time from creation to Live, and the replay's events/s.
 */
import { openEngineWithLifecycle } from '../../../engine/lifecycle/open-engine.ts';
import { join } from 'node:path';
import { DefinitionRegistry } from '../../../engine/definitions/registry.ts';
import { IdentityGraph } from '../../../engine/identity/identity-graph.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../../engine/log/open-event-log.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import { SPACE, type SuiteConfig } from '../config.ts';
import { fmt, type Figure } from '../figures.ts';
import { EMBEDDED } from './throughput.ts';
import { realisticDefinitions, type QueryDefinition } from '../../workload/definitions.ts';

export const NEW_AUDIENCE = "event('Order Completed').where(property('total') > 100).within(30 days).count() >= 2";
const TEN_MILLION = 10_000_000;

export interface BackfillRun {
  /** events in the log, all replayed by the backfill. */
  readonly events: number;
  /** creation → Live. */
  readonly seconds: number;
  /** the live engine's identity-only catch-up before the creation (not timed as the backfill). */
  readonly catchUpSeconds: number;
  readonly checkpoints: number;
  /** the process's resident set before the creation, and its peak during the backfill. */
  readonly rssBefore: number;
  readonly rssPeak: number;
}

/** How many of the realistic set are created at once for the shared-pass figure. */
export const AT_ONCE = 50;

/**
 * The live engine (no definitions: identity resolution only) catches up with the log at `logDir`,
 * checkpointing every `checkpointEvents` (so the history and event index of one checkpoint stay
 * bounded); then a new audience with historical data is created through the registry and the
 * lifecycle, as the API does, and timed from creation to Live. Its stores go in `dir`.
 */
export async function timeToLive(o: {
  readonly logDir: string;
  readonly dir: string;
  readonly checkpointEvents: number;
  readonly progress: (line: string) => void;
  /** awaited between the catch-up and the creation (bench:scale holds the measurement until nothing else of it runs). */
  readonly beforeCreate?: () => Promise<void>;
  /** the definitions created at once (default: the one new audience, NEW_AUDIENCE). */
  readonly definitions?: readonly QueryDefinition[];
}): Promise<BackfillRun> {
  const clock = Date.now;
  const eventLog = await openEventLog({ dataDir: o.logDir });
  const changeLog = await openAppendLog({ dataDir: o.dir, log: CHANGE_LOG });
  const store = CheckpointStore.open(join(o.dir, 'engine'));
  const registry = DefinitionRegistry.open(join(o.dir, 'registry'), { clock });
  const resolver = new IdentityGraph({ source: store });
  const { engine, lifecycle } = await openEngineWithLifecycle({ eventLog, changeLog, store, plans: new Map(), resolver, clock }, { registry, clock, stepEvents: 5000 });
  try {
    // The live engine catches up first (no definitions yet: identity resolution only).
    const last = await eventLog.lastSeq();
    const caughtUpFrom = performance.now();
    let told = caughtUpFrom;
    let checkpointed = engine.position;
    for (;;) {
      const batch = await eventLog.read(engine.position + 1, 5000);
      if (batch.length === 0) break;
      engine.process(batch);
      if (engine.position - checkpointed >= o.checkpointEvents) {
        await engine.checkpoint();
        checkpointed = engine.position;
      }
      if (performance.now() - told > 15_000) {
        told = performance.now();
        o.progress(`live engine catching up (identity only): ${fmt(engine.position)} of ${fmt(last)} events, ${fmt(engine.position / ((told - caughtUpFrom) / 1000))}/s`);
      }
    }
    engine.tick();
    await engine.checkpoint();
    const catchUpSeconds = (performance.now() - caughtUpFrom) / 1000;
    await o.beforeCreate?.();
    const definitions = o.definitions ?? [{ key: 'big_orders_30d', kind: 'audience', query: NEW_AUDIENCE }];
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const start = performance.now();
    const created = [];
    for (const d of definitions) created.push(await registry.create({ space: SPACE, kind: d.kind, key: d.key, name: d.key, definition: { query: d.query, type: d.target ?? 'USERS' }, options: { includeHistoricalData: true } }));
    await lifecycle.reconcile();
    told = start;
    while (lifecycle.backfills > 0) {
      await lifecycle.step();
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      if (performance.now() - told > 15_000) {
        told = performance.now();
        const live = created.filter((c) => registry.get(SPACE, c.id)?.status === 'Live').length;
        o.progress(`backfill: ${live} of ${created.length} Live after ${fmt((told - start) / 1000)} s`);
      }
    }
    const seconds = (performance.now() - start) / 1000;
    for (const c of created) {
      const status = registry.get(SPACE, c.id)?.status;
      if (status !== 'Live') throw new Error(`${c.key} is ${status} after its backfill`);
    }
    await engine.checkpoint();
    return { events: last, seconds, catchUpSeconds, checkpoints: engine.stats.checkpoints, rssBefore, rssPeak };
  } finally {
    await store.close();
    await changeLog.close();
    await eventLog.close();
    await registry.close();
  }
}

export async function backfill(config: SuiteConfig, progress: (line: string) => void): Promise<Figure[]> {
  const { events: last, seconds } = await timeToLive({ logDir: join(config.dir, EMBEDDED), dir: join(config.dir, 'backfill'), checkpointEvents: 100_000, progress });
  const rate = last / seconds;
  progress(`new audience Live after ${fmt(seconds, 2)} s: ${fmt(rate)} events/s over ${fmt(last)} events`);
  // Many definitions created at once: one shared pass over the log for all of them.
  const many = realisticDefinitions().filter((d) => !d.query.includes('trait(')).slice(0, AT_ONCE);
  const shared = await timeToLive({ logDir: join(config.dir, EMBEDDED), dir: join(config.dir, 'backfill-many'), checkpointEvents: 100_000, progress, definitions: many });
  progress(`${many.length} definitions created at once: all Live after ${fmt(shared.seconds, 2)} s`);
  return [
    {
      id: 'backfill.many_time_to_live',
      measurement: `backfill: ${many.length} definitions created at once, all Live (one shared pass), ${fmt(shared.events)} events`,
      value: shared.seconds,
      unit: 's',
      note: `the realistic set's first ${many.length} without trait references; ${fmt((shared.events * many.length) / shared.seconds)} definition-events/s; peak RSS ${fmt(shared.rssPeak / 1048576)} MiB = ${(shared.rssPeak / shared.rssBefore).toFixed(2)}× the engine's before the creation`,
    },
    { id: 'backfill.rate', measurement: 'backfill: a new audience replays the whole log', value: rate, unit: 'events/s', note: `${fmt(last)} events; \`${NEW_AUDIENCE}\`` },
    { id: 'backfill.time_to_live', measurement: `backfill: time from creation to Live, ${fmt(last)} events`, value: seconds, unit: 's' },
    last >= TEN_MILLION
      ? { id: 'backfill.time_to_live_10m', measurement: 'backfill: time to Live for 10M events (measured)', value: (seconds * TEN_MILLION) / last, unit: 's', note: `measured over ${fmt(last)} events` }
      : {
          id: 'backfill.time_to_live_10m',
          measurement: 'backfill: time to Live for 10M events (PROJECTED at the measured rate, not measured)',
          value: TEN_MILLION / rate,
          unit: 's',
          note: '`npm run bench:scale` measures time to Live on a larger log (section `scale`: 5M events; 10M with `-- --backfill-events 10000000`), `npm run bench -- --size large` at 10M',
        },
  ];
}
