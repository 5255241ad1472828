/**
 * Stage `backfill`: an engine that has consumed the whole log (the throughput stage's embedded log)
 * gets a new audience with historical data; its backfill replays the log through a runtime of its
 * own and the definition goes Live. Time from creation to Live, and the replay's events/s.
 */
import { join } from 'node:path';
import { DefinitionRegistry } from '../../../engine/definitions/registry.ts';
import { Engine } from '../../../engine/engine.ts';
import { IdentityGraph } from '../../../engine/identity/identity-graph.ts';
import { Lifecycle } from '../../../engine/lifecycle/lifecycle.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../../engine/log/open-event-log.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import { SPACE, type SuiteConfig } from '../config.ts';
import { fmt, type Figure } from '../figures.ts';
import { EMBEDDED } from './throughput.ts';

const NEW_AUDIENCE = "event('Order Completed').where(property('total') > 100).within(30 days).count() >= 2";
const TEN_MILLION = 10_000_000;

export async function backfill(config: SuiteConfig, progress: (line: string) => void): Promise<Figure[]> {
  const dir = join(config.dir, 'backfill');
  const clock = Date.now;
  const eventLog = await openEventLog({ dataDir: join(config.dir, EMBEDDED) });
  const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
  const store = CheckpointStore.open(join(dir, 'engine'));
  const registry = DefinitionRegistry.open(join(dir, 'registry'), { clock });
  const resolver = new IdentityGraph({ source: store });
  let lifecycle!: Lifecycle;
  const engine = await Engine.open({ eventLog, changeLog, store, plans: new Map(), resolver, clock, background: { step: () => lifecycle.step(), pending: () => lifecycle.backfills > 0 } });
  lifecycle = new Lifecycle({ registry, engine, eventLog, resolver, clock, stepEvents: 5000 });
  try {
    // The live engine catches up first (no definitions yet: identity resolution only).
    const last = await eventLog.lastSeq();
    for (;;) {
      const batch = await eventLog.read(engine.position + 1, 5000);
      if (batch.length === 0) break;
      engine.process(batch);
    }
    engine.tick();
    await engine.checkpoint();
    const start = performance.now();
    const created = await registry.create({ space: SPACE, kind: 'audience', key: 'big_orders_30d', name: 'Big orders', definition: { query: NEW_AUDIENCE, type: 'USERS' }, options: { includeHistoricalData: true } });
    await lifecycle.reconcile();
    while (lifecycle.backfills > 0) await lifecycle.step();
    const seconds = (performance.now() - start) / 1000;
    const status = registry.get(SPACE, created.id)?.status;
    if (status !== 'Live') throw new Error(`the new audience is ${status} after its backfill`);
    await engine.checkpoint();
    const rate = last / seconds;
    progress(`new audience Live after ${fmt(seconds, 2)} s: ${fmt(rate)} events/s over ${fmt(last)} events`);
    return [
      { id: 'backfill.rate', measurement: 'backfill: a new audience replays the whole log', value: rate, unit: 'events/s', note: `${fmt(last)} events; \`${NEW_AUDIENCE}\`` },
      { id: 'backfill.time_to_live', measurement: `backfill: time from creation to Live, ${fmt(last)} events`, value: seconds, unit: 's' },
      last >= TEN_MILLION
        ? { id: 'backfill.time_to_live_10m', measurement: 'backfill: time to Live for 10M events (measured)', value: (seconds * TEN_MILLION) / last, unit: 's', note: `measured over ${fmt(last)} events` }
        : { id: 'backfill.time_to_live_10m', measurement: 'backfill: time to Live for 10M events (PROJECTED at the measured rate, not measured)', value: TEN_MILLION / rate, unit: 's', note: '`npm run bench -- --size large` measures it' },
    ];
  } finally {
    await store.close();
    await changeLog.close();
    await eventLog.close();
    await registry.close();
  }
}
