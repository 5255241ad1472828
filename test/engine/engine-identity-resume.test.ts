/** Checkpoint-resume with identity resolution: a workload full of merges, crashes at random points, restart = an uninterrupted run. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityGraph } from '../../engine/identity/identity-graph.ts';
import { lookupProfile } from '../../engine/identity/lookup.ts';
import { openEventLog } from '../../engine/log/open-event-log.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import type { Change } from '../../engine/runtime/change.ts';
import { generateEvents } from '../../bench/workload/generator.ts';
import { dumpHistory, historyLines } from '../support/history.ts';
import { mixedDefinitions } from '../support/engine-defs.ts';
import { assertSameAsUninterrupted, randomCrashes, runWithCrashes, type CrashPoint } from '../support/crash-run.ts';

const END = Date.parse('2026-06-01T00:00:00Z');
// Anonymous visitors signing in on several devices: many merges, some refused (shared kiosks), some blocked ids.
const EVENTS = [...generateEvents({ seed: 5, events: 4000, profiles: 80, spanMs: 3 * 86_400_000, end: END - 86_400_000, identifyShare: 0.06, identity: { sharedDeviceShare: 0.01, blockedShare: 0.005 } })];
const CLOCK = END + 10 * 86_400_000;
const { plan } = compilePlan(mixedDefinitions());
const plans = new Map([['spa_bench', plan]]);

/** Runs the engine to the end of the log; at each listed (point, nth occurrence) the process "dies" and a new engine and resolver restore from LMDB. */
async function run(dir: string, seed: number, crashes: Array<{ point: CrashPoint; at: number }>): Promise<{ changes: Change[]; restarts: number; merges: number; history: string[] }> {
  const eventLog = await openEventLog({ dataDir: dir });
  await eventLog.append(EVENTS);
  const { changes, restarts, merges } = await runWithCrashes({ dir, eventLog, plans, resolver: (store) => new IdentityGraph({ source: store }), clock: CLOCK, seed, crashes });
  await eventLog.close();
  // every profile the events resolved to (the absorbed ones too), for the history and the event index
  const graph = new IdentityGraph();
  const profiles = [...new Set(EVENTS.map((e) => graph.resolve(e).profileId).filter((p): p is string => p !== null))];
  const store = CheckpointStore.open(join(dir, 'engine'), { readOnly: true });
  const history = dumpHistory(store, 'spa_bench', profiles, { from: END - 5 * 86_400_000, to: CLOCK });
  await store.close();
  return { changes, restarts, merges, history };
}


let reference: Change[] = [];
let referenceHistory: string[] = [];
let referenceGraph: IdentityGraph;

test('uninterrupted run: merges happen, absorbed profiles exit, the graph is checkpointed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-identity-resume-'));
  try {
    const { changes, merges, history } = await run(dir, 1, []);
    reference = changes;
    referenceHistory = history;
    assert.equal(history.filter((l) => l.startsWith('h ')), historyLines(changes), 'every change in the history once');
    assert.ok(history.filter((l) => l.startsWith('m ')).length >= 20, 'the merges are indexed');
    assert.ok(merges >= 20, `only ${merges} merges`);
    assert.ok(reference.length > 100, `only ${reference.length} changes`);
    // A merged-away profile left what it was in: its last change is an exit or a trait cleared.
    referenceGraph = new IdentityGraph();
    const absorbed = new Set(EVENTS.flatMap((e) => referenceGraph.resolve(e).merges.map((m) => m.from)));
    const lastOf = new Map<string, Change>();
    for (const c of reference) if (absorbed.has(c.profileId)) lastOf.set(`${c.profileId} ${c.definitionId}`, c);
    assert.ok(lastOf.size > 0, 'no absorbed profile had changes');
    for (const c of lastOf.values()) assert.ok(c.kind === 'exit' || (c.kind === 'trait' && c.value == null), JSON.stringify(c)); // (the change log writes undefined as null)
    // The checkpointed graph answers lookups as the in-memory one does.
    const store = CheckpointStore.open(join(dir, 'engine'), { readOnly: true });
    for (const id of ['user_id:user_0', 'anonymous_id:anon_1_0', 'email:user_2@example.com', ...[...absorbed].slice(0, 5)]) {
      assert.equal(lookupProfile(store, 'spa_bench', id), lookupProfile(referenceGraph, 'spa_bench', id), id);
    }
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const RUNS = Number(process.env.FLOCK_RESUME_RUNS ?? 5);
for (let seed = 31; seed < 31 + RUNS; seed++) {
  test(`crashes at random points (seed ${seed}) → same changes, no duplicate, none missing`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flock-identity-resume-'));
    try {
      assertSameAsUninterrupted(await run(dir, seed, randomCrashes(seed)), { changes: reference, history: referenceHistory });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
