/**
 * Stage `throughput`: the realistic workload from the event log to the change log with checkpoints,
 * on the embedded log and on JetStream, beside each log's raw consume + decode rate and the
 * hand-written minimal loop over the same tail; the engine's memory after catching up. Leaves the
 * embedded log and store (plus a tail of events it never saw) for the recovery and backfill stages.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlockEvent } from '../../../engine/event/model.ts';
import { IdentityGraph } from '../../../engine/identity/identity-graph.ts';
import { compilePlan } from '../../../engine/plan/compile.ts';
import { findNatsServer, startNatsServer } from '../../../test/support/nats-server.ts';
import { consumeRate } from '../../log.ts';
import { compileQueryDefinitions, realisticDefinitions } from '../../workload/definitions.ts';
import { generateEvents } from '../../workload/generator.ts';
import { SPACE, workload, type SuiteConfig } from '../config.ts';
import { fmt, type Figure } from '../figures.ts';
import { minimalWork } from '../floor.ts';
import { fillLog, logToChangeLog, type PipelineRun } from '../log-to-change-log.ts';
import { openEventLog } from '../../../engine/log/open-event-log.ts';

/** What the recovery stage needs to know about the state this stage left. */
export interface LeftState {
  readonly events: number;
  readonly profiles: number;
}

export const EMBEDDED = 'embedded';

export async function throughput(config: SuiteConfig, progress: (line: string) => void, failures: string[]): Promise<Figure[]> {
  const { plan } = compilePlan(compileQueryDefinitions(realisticDefinitions()));
  const figures: Figure[] = [];
  const run = async (kind: 'embedded' | 'jetstream', dir: string, natsUrl: string | undefined, events: Iterable<FlockEvent>) => {
    let floor = 0;
    const r = await logToChangeLog({
      kind,
      dir,
      natsUrl,
      events,
      space: SPACE,
      plan,
      resolver: (store) => new IdentityGraph({ source: store }),
      progress,
      floors: [async (log, last) => void (floor = (await consumeRate(`${kind}: minimal`, (f, o) => log.tail(f, o), 1, last, 2000, minimalWork(plan))).perSecond)],
    });
    progress(`${kind}: ${fmt(r.perSecond)} events/s (raw consume + decode ${fmt(r.raw)}/s, minimal loop ${fmt(floor)}/s)`);
    figures.push(
      {
        id: `throughput.${kind}`,
        measurement: `${kind} log → change log with checkpoints (catching up from position 1)`,
        value: r.perSecond,
        unit: 'events/s',
        note: `${fmt(r.events)} events, ${fmt(r.changes)} changes, ${r.checkpoints} checkpoints (p50 ${fmt(r.checkpointP50)} ms, max ${fmt(r.checkpointMax)} ms; in all ${fmt(r.commitSeconds, 1)} s committing, ${fmt(r.publishSeconds, 1)} s publishing changes) in ${fmt(r.seconds)} s`,
      },
      { id: `floor.${kind}.consume`, measurement: `floor: ${kind} raw consume + msgpack decode, 1 → end`, value: r.raw, unit: 'events/s', note: `Flock reaches ${fmt((r.perSecond / r.raw) * 100, 1)} % of it` },
      {
        id: `floor.${kind}.minimal`,
        measurement: `floor: ${kind} consume + decode + minimal loop (profile lookup, a counter per fed node)`,
        value: floor,
        unit: 'events/s',
        note: `Flock reaches ${fmt((r.perSecond / floor) * 100, 1)} % of it`,
      },
    );
    return r;
  };

  // The embedded run keeps its directory for recovery, plus a tail of events it never consumed: the
  // lag a crash leaves (the same users, in the minute after the workload).
  const embeddedDir = join(config.dir, EMBEDDED);
  const embedded: PipelineRun = await run('embedded', embeddedDir, undefined, generateEvents(workload(config, config.events)));
  const log = await openEventLog({ dataDir: embeddedDir });
  await fillLog(log, generateEvents({ ...workload(config, config.recoveryTail, 43), spanMs: 60_000, end: config.end + 60_000 }));
  await log.close();
  writeFileSync(join(embeddedDir, 'state.json'), JSON.stringify({ events: embedded.events, profiles: embedded.profiles } satisfies LeftState));
  figures.push(
    { id: 'memory.rss', measurement: 'memory: resident set of the engine process after catching up (embedded)', value: embedded.rss / 2 ** 20, unit: 'MiB', note: `${fmt(embedded.profiles)} profiles in memory` },
    { id: 'memory.heap_per_profile', measurement: 'memory: heap growth per profile (after GC)', value: embedded.heapUsed / Math.max(1, embedded.profiles), unit: 'bytes' },
    { id: 'memory.record_per_profile', measurement: 'state: checkpoint record per profile (msgpack, sampled)', value: embedded.recordBytesPerProfile, unit: 'bytes', note: 'profiles named by the first change-log records' },
    { id: 'memory.store_per_profile', measurement: 'state: engine store file per profile', value: embedded.storeBytes / Math.max(1, embedded.profiles), unit: 'bytes', note: `${fmt(embedded.storeBytes / 2 ** 20)} MiB: profiles, timers, outputs index, identity graph (LMDB file, free pages included)` },
  );

  if (findNatsServer() === undefined) {
    progress('nats-server not found: the JetStream figures are missing');
    return figures;
  }
  const server = await startNatsServer();
  try {
    const js = await run('jetstream', join(config.dir, 'jetstream'), server.url, generateEvents(workload(config, config.events)));
    // The same events, the same definitions: the same changes (give or take the final tick to the wall clock).
    if (Math.abs(js.changes - embedded.changes) > embedded.changes / 100) {
      failures.push(`throughput: the JetStream run published ${fmt(js.changes)} changes, the embedded run ${fmt(embedded.changes)}, for the same events`);
    }
  } finally {
    await server.dispose();
  }
  return figures;
}
