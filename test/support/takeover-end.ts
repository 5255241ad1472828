/**
 * Test support: how a takeover scenario ends (takeover.test.ts, warm-standby.test.ts). The identity
 * stage and the last holders catch up with the logs; the holders stop cleanly; the stage stops. Then
 * the change log must hold exactly one process's changes over the same raw log, none twice.
 */
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import type { IdentityStage } from '../../engine/cluster/identity-stage.ts';
import type { AppendLog } from '../../engine/log/append-log.ts';
import type { EventLog } from '../../engine/log/event-log.ts';
import { CHANGE_LOG, openAppendLog } from '../../engine/log/open-event-log.ts';
import type { Plan } from '../../engine/plan/plan.ts';
import type { Change } from '../../engine/runtime/change.ts';
import { canonical, changesOn } from './change-log.ts';
import { oneProcessChanges } from './one-process.ts';
import { until } from './until.ts';
import type { WorkerProcess } from './worker-process.ts';

export interface TakeoverEnd {
  readonly root: string;
  readonly natsUrl: string;
  readonly events: EventLog;
  readonly resolved: AppendLog;
  readonly stage: IdentityStage;
  readonly stopStage: AbortController;
  readonly staging: Promise<void>;
  /** the holders at the end, each stopped cleanly; the first is the one that took over last. */
  readonly holders: readonly [WorkerProcess, ...WorkerProcess[]];
  readonly plan: Plan;
}

/** Runs the end; returns the changes logged and the changes the last taker-over left out past its fence. */
export async function endTakeover(t: TakeoverEnd): Promise<{ logged: Change[]; skipped: number }> {
  const end = await t.events.lastSeq();
  await until(
    'the stage and the workers to catch up',
    async () => {
      if (t.stage.position < end) return undefined;
      const last = await t.resolved.lastSeq();
      return t.holders.every((h) => h.stats!.position >= last) ? true : undefined;
    },
    60_000,
    50,
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}: stage ${t.stage.position}/${end}, ${t.holders.map((h) => `${h.holder} ${JSON.stringify(h.stats)}\n${h.stderr}`).join('\n')}`);
  });
  // clean stops: each checkpoints, publishes, snapshots, releases
  const [taker] = t.holders;
  assert.is(await taker.stop('SIGTERM'), 0, taker.stderr);
  const skipped = taker.stats!.skippedChanges;
  assert.ok(skipped > 0, 'the changes the previous holder published before it could commit their position were left out');
  for (const h of t.holders.slice(1)) assert.is(await h.stop('SIGTERM'), 0, h.stderr);
  t.stopStage.abort();
  await t.staging;
  assert.ok(t.stage.stats.handovers > 5, `merges across partitions handed profiles over (${t.stage.stats.handovers})`);
  assert.ok(t.stage.stats.shadowStarts > 10, `users copied to their accounts' partitions (${t.stage.stats.shadowStarts})`);

  const changeLog = await openAppendLog({ dataDir: t.root, natsUrl: t.natsUrl, log: CHANGE_LOG });
  const logged = await changesOn(changeLog);
  await changeLog.close();
  const reference = await oneProcessChanges(join(t.root, 'single'), t.events, new Map([['spa_bench', t.plan]]));
  assert.ok(reference.length > 1000, `the workload changes memberships (${reference.length})`);
  assert.ok(reference.filter((c) => c.collection === 'accounts').length > 500, 'and accounts');
  // none twice, and the same changes as one process
  const ids = logged.map((change) => change.id);
  assert.is(new Set(ids).size, ids.length, `${ids.length - new Set(ids).size} changes logged twice`);
  assert.equal(canonical(logged), canonical(reference));
  return { logged, skipped };
}
