/**
 * The resume tests' driver: runs an engine over an event log to its end; at each listed (point, nth
 * occurrence) of the checkpoint protocol the process "dies" — the in-memory engine is dropped, handles
 * are closed without a final checkpoint — and a new engine restores from LMDB and the log. Returns the
 * change log's changes.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Engine, type ProbePoint } from '../../engine/engine.ts';
import type { IdentityResolver } from '../../engine/identity/resolver.ts';
import type { EventLog } from '../../engine/log/event-log.ts';
import { CHANGE_LOG, openAppendLog } from '../../engine/log/open-event-log.ts';
import type { Plan } from '../../engine/plan/plan.ts';
import type { Change } from '../../engine/runtime/change.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import { CheckpointWriter } from '../../engine/store/checkpoint-writer.ts';
import { Random } from '../../bench/workload/random.ts';
import { changesOn } from './change-log.ts';

export type CrashPoint = ProbePoint;

class SimulatedCrash extends Error {}

export interface CrashRunOptions {
  readonly dir: string;
  readonly eventLog: EventLog;
  readonly plans: ReadonlyMap<string, Plan>;
  /** a resolver for each (re)started engine, over its store. */
  readonly resolver: (store: CheckpointStore) => IdentityResolver;
  readonly clock: number;
  /** batch sizes and when to checkpoint. */
  readonly seed: number;
  readonly crashes: ReadonlyArray<{ readonly point: CrashPoint; readonly at: number }>;
  /** commit through a writer thread (CheckpointWriter), checkpoints pipelined as the run loop does. */
  readonly writer?: boolean;
  /** with `writer`: these commit attempts of each writer fail as a full disk would (retried by the engine). */
  readonly failAttempts?: readonly number[];
}

export async function runWithCrashes(o: CrashRunOptions): Promise<{ changes: Change[]; restarts: number; merges: number; diskFullRetries: number }> {
  const random = new Random(o.seed);
  const last = await o.eventLog.lastSeq();
  let restarts = 0;
  let merges = 0;
  let diskFullRetries = 0;
  const seen = new Map<CrashPoint, number>();
  let finished = false;
  while (!finished) {
    const store = CheckpointStore.open(join(o.dir, 'engine'));
    const writer = o.writer === true ? await CheckpointWriter.start({ path: join(o.dir, 'engine'), ...(o.failAttempts === undefined ? {} : { failAttempts: o.failAttempts }) }) : undefined;
    const changeLog = await openAppendLog({ dataDir: o.dir, log: CHANGE_LOG });
    const engine = await Engine.open({
      eventLog: o.eventLog,
      changeLog,
      store,
      ...(writer === undefined ? {} : { writer }),
      // (as the engine worker does: the engine opens with no plans, then the lifecycle sets them)
      plans: new Map(),
      resolver: o.resolver(store),
      clock: () => o.clock,
      checkpointEvents: 1e9,
      probe: (point) => {
        const n = (seen.get(point) ?? 0) + 1;
        seen.set(point, n);
        if (o.crashes.some((c) => c.point === point && c.at === n)) throw new SimulatedCrash(`${point} #${n}`);
      },
    });
    for (const [space, plan] of o.plans) engine.setPlan(space, plan);
    try {
      while (engine.position < last) {
        const batch = await o.eventLog.read(engine.position + 1, random.int(1, 700));
        engine.process(batch);
        if (random.chance(0.3)) await (writer === undefined ? engine.checkpoint() : engine.checkpointAndGoOn());
      }
      engine.tick();
      await engine.checkpoint();
      finished = true;
    } catch (err) {
      if (!(err instanceof SimulatedCrash)) throw err;
      restarts++;
    } finally {
      merges += engine.stats.merges;
      diskFullRetries += engine.stats.retries.disk_full;
      // (a crash: the writer thread ends with whatever it had committed, as in a kill)
      await writer?.close();
      await store.close();
      await changeLog.close();
    }
  }
  const changeLog = await openAppendLog({ dataDir: o.dir, log: CHANGE_LOG });
  const changes = (await changesOn(changeLog));
  await changeLog.close();
  return { changes, restarts, merges, diskFullRetries };
}

/** Random crash points for one run (seeded): the first crash always happens, a few batches in; three more wherever they fall. */
export function randomCrashes(seed: number): Array<{ point: CrashPoint; at: number }> {
  const random = new Random(seed);
  const points: CrashPoint[] = ['applied', 'committed', 'published'];
  return [{ point: 'applied', at: random.int(1, 3) }, ...Array.from({ length: 3 }, () => ({ point: random.pick(points), at: random.int(1, 4) }))];
}

/**
 * A crashed run's outcome against the uninterrupted one: at least one crash, no duplicate change id,
 * the same changes, and the same history (its sizes and the event index: nothing lost, nothing twice).
 */
export function assertSameAsUninterrupted(run: { changes: readonly Change[]; restarts: number; history: readonly string[] }, reference: { changes: readonly Change[]; history: readonly string[] }): void {
  assert.ok(run.restarts >= 1, 'no crash happened');
  const ids = run.changes.map((c) => c.id);
  assert.is(new Set(ids).size, ids.length, 'duplicate change ids on the change log');
  const canonical = (cs: readonly Change[]) => cs.map((c) => JSON.stringify(c)).sort();
  assert.equal(canonical(run.changes), canonical(reference.changes));
  assert.equal(run.history, reference.history, 'the history, its sizes and the event index');
}
