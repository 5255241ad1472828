/**
 * `replayToFence` (engine/cluster/replay-fence.ts): it applies the log up to the fence and no further,
 * checkpoints once there, and hands the event loop a turn every `slice` records — a takeover's replay
 * of thousands of records on one turn kept the new holder's lease from being renewed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replayToFence } from '../../../engine/cluster/replay-fence.ts';
import { Engine } from '../../../engine/engine.ts';
import { DirectResolver } from '../../../engine/identity/resolver.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../../engine/log/open-event-log.ts';
import { compilePlan } from '../../../engine/plan/compile.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import { generateEvents } from '../../../bench/workload/generator.ts';
import { bufferedLog } from '../../support/buffered-log.ts';
import { mixedDefinitions } from '../../support/engine-defs.ts';

const END = Date.parse('2026-06-01T00:00:00Z');
const EVENTS = [...generateEvents({ seed: 12, events: 1200, profiles: 40, spanMs: 86_400_000, end: END })];
const { plan } = compilePlan(mixedDefinitions());

test('a replay stops at the fence, checkpoints there, and turns the event loop every slice of records', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-replay-fence-'));
  try {
    const eventLog = await openEventLog({ dataDir: join(dir, 'log') });
    await eventLog.append(EVENTS);
    const store = CheckpointStore.open(join(dir, 'engine'));
    const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
    let atTurn: number | undefined;
    let asked = false;
    const probe = (point: string) => {
      if (point !== 'applied' || asked) return;
      asked = true;
      setImmediate(() => (atTurn = engine.position));
    };
    const engine = await Engine.open({ eventLog, changeLog, store, plans: new Map([['spa_bench', plan]]), resolver: new DirectResolver(), time: 'event', probe });
    const fence = 1000;
    // (the tail hands over one batch of 2000: the records past the fence are cut)
    await replayToFence(engine, bufferedLog(eventLog, 2000), fence, new AbortController().signal, 2000, 100);
    assert.is(engine.position, fence);
    assert.is(store.meta().position, fence, 'checkpointed at the fence');
    assert.ok(atTurn !== undefined && atTurn <= 200, `the loop turned at position ${atTurn} of ${fence}`);
    await store.close();
    await changeLog.close();
    await eventLog.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
