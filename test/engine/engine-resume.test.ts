/** Checkpoint-resume: crashes at random points of the checkpoint protocol, then restart = an uninterrupted run. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectResolver } from '../../engine/identity/resolver.ts';
import { openEventLog } from '../../engine/log/open-event-log.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import type { Change } from '../../engine/runtime/change.ts';
import { generateEvents } from '../../bench/workload/generator.ts';
import { mixedDefinitions } from '../support/engine-defs.ts';
import { assertSameAsUninterrupted, randomCrashes, runWithCrashes, type CrashPoint } from '../support/crash-run.ts';
import { dumpHistory, historyLines } from '../support/history.ts';

const END = Date.parse('2026-06-01T00:00:00Z');
const EVENTS = [...generateEvents({ seed: 7, events: 4000, profiles: 60, spanMs: 3 * 86_400_000, end: END - 86_400_000 })];
const CLOCK = END + 10 * 86_400_000;
const { plan } = compilePlan(mixedDefinitions());
const plans = new Map([['spa_bench', plan]]);

/**
 * Runs the engine over the log until the end (then advances the clock past every timer), with the
 * crashes listed (test/support/crash-run.ts).
 */
async function run(dir: string, seed: number, crashes: Array<{ point: CrashPoint; at: number }>, writer = false, failAttempts?: number[]): Promise<{ changes: Change[]; restarts: number; history: string[]; diskFullRetries: number }> {
  const eventLog = await openEventLog({ dataDir: dir });
  await eventLog.append(EVENTS);
  const { changes, restarts, diskFullRetries } = await runWithCrashes({ dir, eventLog, plans, resolver: () => new DirectResolver(), clock: CLOCK, seed, crashes, writer, ...(failAttempts === undefined ? {} : { failAttempts }) });
  await eventLog.close();
  const store = CheckpointStore.open(join(dir, 'engine'), { readOnly: true });
  const profiles = [...new Set(EVENTS.map((e) => `user_id:${e.userId}`))];
  const history = dumpHistory(store, 'spa_bench', profiles, { from: END - 5 * 86_400_000, to: CLOCK });
  await store.close();
  return { changes, restarts, history, diskFullRetries };
}


let reference: Change[] = [];
let referenceHistory: string[] = [];

test('uninterrupted run produces changes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-resume-'));
  try {
    const uninterrupted = await run(dir, 1, []);
    reference = uninterrupted.changes;
    referenceHistory = uninterrupted.history;
    // every change is in the history once, with its cause, and every applied event is indexed
    assert.equal(referenceHistory.filter((l) => l.startsWith('h ')), historyLines(reference));
    assert.ok(reference.every((c) => c.cause !== undefined), 'every change has its cause');
    assert.is(referenceHistory.filter((l) => l.startsWith('e ')).length, EVENTS.filter((e) => e.userId !== null).length);
    assert.ok(reference.length > 100, `only ${reference.length} changes`);
    assert.ok(reference.some((c) => c.kind === 'exit'));
    assert.ok(reference.some((c) => c.kind === 'trait'));
    for (const key of ['abandoned_cart', 'viewed_then_added_same', 'viewed_above_score']) {
      assert.ok(reference.some((c) => c.kind === 'enter' && c.audienceKey === key), `no ${key} enter in the workload`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const RUNS = Number(process.env.FLOCK_RESUME_RUNS ?? 6);
for (let seed = 11; seed < 11 + RUNS; seed++) {
  test(`crashes at random points (seed ${seed}) → same changes, no duplicate, none missing`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flock-resume-'));
    try {
      assertSameAsUninterrupted(await run(dir, seed, randomCrashes(seed)), { changes: reference, history: referenceHistory });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// The same through the checkpoint writer thread, checkpoints pipelined (several in flight when a crash hits).
for (let seed = 31; seed < 31 + Math.ceil(RUNS / 2); seed++) {
  test(`writer thread: crashes at random points (seed ${seed}) → same changes, no duplicate, none missing`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flock-resume-'));
    try {
      assertSameAsUninterrupted(await run(dir, seed, randomCrashes(seed), true), { changes: reference, history: referenceHistory });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('writer thread, no crash: the same changes and history as in the engine\'s thread', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-resume-'));
  try {
    const piped = await run(dir, 1, [], true);
    const canonical = (cs: readonly Change[]) => cs.map((c) => JSON.stringify(c)).sort();
    assert.equal(canonical(piped.changes), canonical(reference));
    assert.equal(piped.history, referenceHistory);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writer thread: failed commits with later checkpoints already sent → those wait, every one is committed once, in order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-resume-'));
  try {
    // (attempts 2 and 3 fail as a full disk: 3 is the retry of 2; later checkpoints sent meanwhile are skipped and sent again)
    const piped = await run(dir, 5, [], true, [2, 3]);
    assert.ok(piped.diskFullRetries >= 2, `${piped.diskFullRetries} retries`);
    const canonical = (cs: readonly Change[]) => cs.map((c) => JSON.stringify(c)).sort();
    assert.equal(canonical(piped.changes), canonical(reference));
    assert.equal(piped.history, referenceHistory);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
