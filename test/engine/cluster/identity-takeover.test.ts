/**
 * Issue 18: "The identity owner killed: the standby takes over, no event resolved twice
 * differently." Two identity nodes run as child processes on a private nats-server; the owner is
 * killed with SIGKILL after it resolved past its last snapshot; the standby takes over, restoring
 * that snapshot, and resolves again what came after it. The resolved log keeps both copies of
 * those records (its duplicate window is 1 s here): every copy is the same as the first. Two workers
 * over the resolved log then give exactly one process's changes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../../engine/engine.ts';
import { DirectResolver } from '../../../engine/identity/resolver.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../../engine/log/open-event-log.ts';
import { compilePlan } from '../../../engine/plan/compile.ts';
import { CheckpointStore } from '../../../engine/store/checkpoint-store.ts';
import type { IdentityNodeStats } from '../../../engine/cluster/identity-node.ts';
import { decodeResolved, RESOLVED_LOG } from '../../../engine/cluster/resolved-records.ts';
import { ResolvedSource } from '../../../engine/cluster/resolved-source.ts';
import { generateEvents } from '../../../bench/workload/generator.ts';
import { mixedDefinitions } from '../../support/engine-defs.ts';
import { canonical, changesOf } from '../../support/change-log.ts';
import { natsServerAvailable, startNatsServer } from '../../support/nats-server.ts';
import { oneProcessChanges } from '../../support/one-process.ts';
import { StatsChild } from '../../support/stats-child.ts';
import { until } from '../../support/until.ts';

const END = Date.parse('2026-06-01T00:00:00Z');
const EVENTS = [...generateEvents({ seed: 33, events: 3000, profiles: 100, spanMs: 3 * 86_400_000, end: END, identifyShare: 0.08, identity: { maxDevices: 3 } })];
const { plan } = compilePlan(mixedDefinitions());
const plans = new Map([['spa_bench', plan]]);
const LEASE_TTL_MS = 3000;

/** An identity node in a child process (test/support/identity-node-child.ts), its last stats line. */
type IdentityProcess = StatsChild<IdentityNodeStats>;
const IdentityProcess = {
  start: (natsUrl: string, dataDir: string, holder: string, snapshotMs: number): IdentityProcess =>
    StatsChild.start<IdentityNodeStats>(`identity ${holder}`, 'test/support/identity-node-child.ts', [natsUrl, dataDir, holder, String(LEASE_TTL_MS), String(snapshotMs)]),
};

if (natsServerAvailable('the identity takeover test')) {
  test('the identity owner killed: the standby takes over from its snapshot; every record resolved again is the same; the workers equal one process', async () => {
    const root = mkdtempSync(join(tmpdir(), 'flock-identity-takeover-'));
    const nats = await startNatsServer();
    const events = await openEventLog({ dataDir: root, natsUrl: nats.url });
    // (a 1 s duplicate window: the standby's copies of what it resolves again stay in the log, to be compared)
    const resolved = await openAppendLog({ dataDir: root, natsUrl: nats.url, log: RESOLVED_LOG, stream: { duplicateWindowMs: 1000 } });
    const children: IdentityProcess[] = [];
    try {
      const first = Math.floor(EVENTS.length * 0.4);
      const second = Math.floor(EVENTS.length * 0.7);
      await events.append(EVENTS.slice(0, first));
      const a = IdentityProcess.start(nats.url, join(root, 'a'), 'a', 300);
      children.push(a);
      await a.reach('resolves the first part and snapshots it', (s) => s.state === 'active' && (s.stage?.position ?? 0) >= first && s.snapshots >= 1);
      const b = IdentityProcess.start(nats.url, join(root, 'b'), 'b', 300);
      children.push(b);
      await b.reach('waits as a standby', (s) => s.state === 'standby');
      // (the nodes opened the log with the default window: set 1 s again now that both have it open)
      await (await openAppendLog({ dataDir: root, natsUrl: nats.url, log: RESOLVED_LOG, stream: { duplicateWindowMs: 1000 } })).close();
      // more events; the owner dies as soon as it resolved them (before its next snapshot, most runs)
      await events.append(EVENTS.slice(first, second));
      const last = await a.reach('resolves the second part', (s) => (s.stage?.position ?? 0) >= second, 30_000);
      a.proc.kill('SIGKILL');
      await a.exited;
      const killedAt = performance.now();
      await events.append(EVENTS.slice(second));
      const taken = await b.reach('takes over', (s) => s.state === 'active' && s.takeovers === 1, 20_000);
      const takeoverMs = performance.now() - killedAt;
      assert.ok(takeoverMs < 10_000, `taken over in ${takeoverMs.toFixed(0)} ms`);
      assert.ok(taken.restored !== null, 'the standby restored the owner’s snapshot (its own store was empty)');
      const end = await events.lastSeq();
      await b.reach('resolves the rest', (s) => (s.stage?.position ?? 0) >= end, 30_000);

      // every order resolved twice: the same record both times
      const records = (await resolved.read(1, 1e6)).map((e) => decodeResolved(e.data));
      const byOrder = new Map<number, string>();
      let copies = 0;
      for (const r of records) {
        if (r.kind !== 'event' && r.kind !== 'handover') continue;
        const text = JSON.stringify(r);
        const before = byOrder.get(r.order);
        if (before === undefined) byOrder.set(r.order, text);
        else {
          copies++;
          assert.is(text, before, `order ${r.order} resolved twice differently`);
        }
      }
      const resolvedAgain = (last.stage?.position ?? 0) - (taken.restored?.position ?? 0);
      if (resolvedAgain > 0) assert.ok(copies > 0, `the standby resolved ${resolvedAgain} raw events again and the log kept their copies`);
      else console.log('  [notice] the owner had snapshotted everything it resolved: nothing was resolved twice this run');

      // two workers over the resolved log: one process's changes
      const reference = await oneProcessChanges(join(root, 'single'), events, plans);
      const resolvedEnd = await resolved.lastSeq();
      const workers = [0, 1].map((w) => ({ w, dir: join(root, `worker-${w}`) }));
      const opened: Array<{ close(): Promise<void> }> = [];
      const engines: Engine[] = [];
      try {
        for (const { w, dir } of workers) {
          const store = CheckpointStore.open(join(dir, 'engine'));
          const changeLog = await openAppendLog({ dataDir: dir, log: CHANGE_LOG });
          const log = await openAppendLog({ dataDir: dir, natsUrl: nats.url, log: RESOLVED_LOG });
          opened.push(store, changeLog, log);
          const owned = new Set(Array.from({ length: 16 }, (_, p) => p).filter((p) => p % 2 === w));
          engines.push(await Engine.open({ eventLog: new ResolvedSource(log, owned, 16), changeLog, store, plans, resolver: new DirectResolver(), transfers: log, time: 'event', tickMs: 50, partitions: 16 }));
        }
        const stop = new AbortController();
        const running = engines.map((e) => e.run(stop.signal));
        await until('the workers', async () => (engines.every((e) => e.position >= resolvedEnd) ? true : undefined), 60_000, 20);
        stop.abort();
        await Promise.all(running);
      } finally {
        for (const o of opened.reverse()) await o.close();
      }
      const changes = (await Promise.all(workers.map(({ dir }) => changesOf(dir)))).flat();
      assert.equal(canonical(changes), canonical(reference));
    } finally {
      for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
      await Promise.all(children.map((c) => c.exited));
      await resolved.close();
      await events.close();
      await nats.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test.run();
