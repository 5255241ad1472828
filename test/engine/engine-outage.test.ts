/**
 * The run loop over logs that fail for a while (as JetStream does while nats-server restarts): the
 * tail breaks, reads of the log end, change-log publishes and position commits fail several times
 * each. The engine waits them out — paused, counting retries, never failing — and its change log
 * equals an uninterrupted run's: nothing skipped, nothing doubled, the same ids.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Engine, type PauseReason } from '../../engine/engine.ts';
import { DirectResolver } from '../../engine/identity/resolver.ts';
import type { AppendLog, ReadOptions } from '../../engine/log/append-log.ts';
import type { EventLog, LoggedEvent } from '../../engine/log/event-log.ts';
import { LogAppendError, LogCommitError, LogReadError } from '../../engine/log/log-errors.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../engine/log/open-event-log.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import { generateEvents } from '../../bench/workload/generator.ts';
import { mixedDefinitions } from '../support/engine-defs.ts';
import { canonical, changesOf } from '../support/change-log.ts';

const DAY = 86_400_000;
const END = Date.parse('2026-06-01T00:00:00Z');
const EVENTS = [...generateEvents({ seed: 11, events: 1500, profiles: 40, spanMs: 3 * DAY, end: END - DAY })];
const CLOCK = END + 10 * DAY;
const { plan } = compilePlan(mixedDefinitions());
const plans = new Map([['spa_bench', plan]]);
const down = (what: string) => new Error(`${what}: connection lost`);

/**
 * The event log with a tail that breaks after every third batch (LogReadError) and a `lastSeq` and
 * `commit` that fail their first attempts after each break.
 */
function flakyEventLog(log: EventLog, failures: { tail: number; lastSeq: number; commit: number }): EventLog {
  let outage = 0; // failures left for lastSeq and commit
  return {
    kind: log.kind,
    append: (events) => log.append(events),
    read: (from, max) => log.read(from, max),
    async *tail(from: number, options: ReadOptions = {}): AsyncIterable<LoggedEvent[]> {
      let batches = 0;
      for await (const batch of log.tail(from, { ...options, maxBatch: 100 })) {
        if (++batches > 3) {
          failures.tail++;
          outage = 3;
          throw new LogReadError(`tail of the event log failed`, { cause: down('tail') });
        }
        yield batch;
      }
    },
    async lastSeq() {
      if (outage > 0) {
        outage--;
        failures.lastSeq++;
        throw new LogReadError('reading the log end failed', { cause: down('lastSeq') });
      }
      return log.lastSeq();
    },
    position: (name) => log.position(name),
    async commit(name, seq) {
      if (failures.commit < 5 && seq > 0) {
        failures.commit++;
        throw new LogCommitError(`commit of ${name}=${seq} failed`, { cause: down('commit') });
      }
      return log.commit(name, seq);
    },
    close: () => log.close(),
  };
}

/** The change log failing the first attempts of every other append. */
function flakyChangeLog(log: AppendLog, failures: { append: number }): AppendLog {
  let calls = 0;
  return {
    kind: 'jetstream',
    async append(records, options) {
      if (++calls % 2 === 1 && calls < 40) {
        failures.append++;
        throw new LogAppendError(`publish of ${records.length} records failed`, { cause: down('publish') });
      }
      return log.append(records, options);
    },
    read: (from, max) => log.read(from, max),
    tail: (from, options) => log.tail(from, options),
    lastSeq: () => log.lastSeq(),
    position: (name) => log.position(name),
    commit: (name, seq) => log.commit(name, seq),
    structures: (from) => log.structures(from),
    close: () => log.close(),
  };
}

test('tail, log end, publish and commit failing for a while: the same change log as an uninterrupted run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flock-outage-'));
  try {
    const eventLog = await openEventLog({ dataDir: join(dir, 'log') });
    await eventLog.append(EVENTS);
    const last = await eventLog.lastSeq();

    const run = async (name: string, wrap: (log: EventLog, changes: AppendLog) => { eventLog: EventLog; changeLog: AppendLog }) => {
      const store = CheckpointStore.open(join(dir, name, 'engine'));
      const changeLog = await openAppendLog({ dataDir: join(dir, name), log: CHANGE_LOG });
      const pauses: Array<PauseReason | null> = [];
      const logs = wrap(eventLog, changeLog);
      const engine = await Engine.open({
        ...logs,
        store,
        plans,
        resolver: new DirectResolver(),
        clock: () => CLOCK,
        tickMs: 200,
        catchUpCheckpointEvents: 250,
        backoff: { baseMs: 1, maxMs: 4 },
        onPause: (reason) => pauses.push(reason),
      });
      const controller = new AbortController();
      const running = engine.run(controller.signal);
      while (engine.position < last || engine.stats.position < last) await sleep(10);
      await sleep(500); // idle: the catch-up ends with a tick to the wall clock
      controller.abort();
      await running;
      // Stopping while a publish fails leaves it in the outbox: the next open publishes it.
      await Engine.open({ eventLog, changeLog, store, plans, resolver: new DirectResolver(), clock: () => CLOCK });
      await store.close();
      await changeLog.close();
      return { stats: engine.stats, pauses };
    };

    await run('ref', (log, changes) => ({ eventLog: log, changeLog: changes }));
    const failures = { tail: 0, lastSeq: 0, commit: 0, append: 0 };
    const { stats, pauses } = await run('flaky', (log, changes) => ({ eventLog: flakyEventLog(log, failures), changeLog: flakyChangeLog(changes, failures) }));
    await eventLog.close();

    assert.ok(failures.tail >= 3 && failures.lastSeq >= 3 && failures.commit === 5 && failures.append >= 5, JSON.stringify(failures));
    // every failure is counted as a retry, except one met while stopping (not retried)
    const total = failures.tail + failures.lastSeq + failures.commit + failures.append;
    assert.ok(stats.retries.log_unreachable >= total - 1 && stats.retries.log_unreachable <= total, `${stats.retries.log_unreachable} retries of ${JSON.stringify(failures)}`);
    assert.is(stats.paused, null, 'running again');
    assert.ok(pauses.length >= 2 && pauses.every((p, i) => p === (i % 2 === 0 ? 'log_unreachable' : null)), `paused and resumed in turn: ${pauses.join(' ')}`);
    assert.is(stats.eventsIn, EVENTS.length, 'every event applied once');
    const reference = await changesOf(join(dir, 'ref'));
    const flaky = await changesOf(join(dir, 'flaky'));
    assert.ok(reference.length > 50);
    assert.is(new Set(flaky.map((c) => c.id)).size, flaky.length, 'no change published twice');
        assert.equal(canonical(flaky), canonical(reference));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
