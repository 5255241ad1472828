/**
 * Stage `scale-backfill` of `npm run bench:scale`: the `backfill` stage's measurement on a log of its
 * own size (5M events of the realistic workload, 500k users by default; 10M when asked): a live engine caught up with the log
 * (identity only) gets a new audience with historical data; creation → Live, events/s.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openEventLog } from '../../../engine/log/open-event-log.ts';
import { generateEvents } from '../../workload/generator.ts';
import { workload, type SuiteConfig } from '../config.ts';
import { fmt, type Figure } from '../figures.ts';
import { fillLog } from '../log-to-change-log.ts';
import { NEW_AUDIENCE, timeToLive } from './backfill.ts';

const TEN_MILLION = 10_000_000;

/** The file bench:scale names in FLOCK_BENCH_GATE: this stage writes `<gate>.ready` once caught up and measures once `<gate>.go` exists. */
async function gate(progress: (line: string) => void): Promise<void> {
  const path = process.env.FLOCK_BENCH_GATE;
  if (path === undefined) return;
  writeFileSync(`${path}.ready`, '');
  progress('caught up: the measurement waits for the other stages to finish');
  while (!existsSync(`${path}.go`)) await new Promise((r) => setTimeout(r, 200));
  global.gc?.();
}

export async function scaleBackfill(config: SuiteConfig, progress: (line: string) => void): Promise<Figure[]> {
  const scale = config.scale;
  if (scale === undefined) throw new Error('scale-backfill runs under npm run bench:scale (no scale sizes given)');
  const logDir = join(config.dir, 'scale-log');
  const fillStart = performance.now();
  const log = await openEventLog({ dataDir: logDir });
  const last = await fillLog(log, generateEvents(workload({ profiles: scale.backfillProfiles, accounts: scale.backfillAccounts, end: config.end }, scale.backfillEvents)));
  await log.close();
  const fillSeconds = (performance.now() - fillStart) / 1000;
  progress(`log filled: ${fmt(last)} events in ${fmt(fillSeconds)} s`);
  const r = await timeToLive({ logDir, dir: join(config.dir, 'scale-backfill'), checkpointEvents: scale.checkpointEvents, progress, beforeCreate: () => gate(progress) });
  const rate = r.events / r.seconds;
  progress(`new audience Live after ${fmt(r.seconds, 2)} s: ${fmt(rate)} events/s over ${fmt(r.events)} events`);
  const sizes = `${fmt(r.events)} events of the realistic workload, ${fmt(scale.backfillProfiles)} users, ${fmt(scale.backfillAccounts)} accounts`;
  return [
    { id: 'scale.backfill.time_to_live', measurement: `backfill: time from creation to Live, ${fmt(r.events)} events (measured)`, value: r.seconds, unit: 's', note: `${sizes}; \`${NEW_AUDIENCE}\`` },
    { id: 'scale.backfill.rate', measurement: `backfill: a new audience replays the whole log, ${fmt(r.events)} events`, value: rate, unit: 'events/s' },
    r.events >= TEN_MILLION
      ? { id: 'scale.backfill.time_to_live_10m', measurement: 'backfill: time to Live for 10M events (measured)', value: (r.seconds * TEN_MILLION) / r.events, unit: 's', note: `measured over ${fmt(r.events)} events` }
      : {
          id: 'scale.backfill.time_to_live_10m',
          measurement: `backfill: time to Live for 10M events (PROJECTED from the ${fmt(r.events)}-event run above, not measured)`,
          value: TEN_MILLION / rate,
          unit: 's',
          note: `10M events did not fit the time budget here; \`npm run bench:scale -- --backfill-events 10000000\` measures it`,
        },
    {
      id: 'scale.backfill.catch_up',
      measurement: 'backfill setup: the live engine catching up before the creation (identity only; not part of time to Live)',
      value: r.catchUpSeconds,
      unit: 's',
      note: `${fmt(r.events / r.catchUpSeconds)} events/s, a checkpoint every ${fmt(scale.checkpointEvents)} events (${r.checkpoints} in all); the log filled in ${fmt(fillSeconds)} s`,
    },
  ];
}
