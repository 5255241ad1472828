/**
 * The chaos run of the distributed mode (issue 18: "a worker killed with kill -9 mid-load: its
 * partitions are taken over within 10 s, with no loss and no doubling"): an ingest front, the
 * identity stage and two workers sharing the partition sets (`--worker-partitions auto`), each a
 * process, on a private nats-server. The seeded load goes over HTTP with Segment's retries while
 * workers are killed with `kill -9` (and started again a moment later: their sets move to the
 * other worker and back) and the identity stage is killed once. Then the change log must hold
 * exactly the changes one process computes from the same raw log: none missing, none extra, none
 * different, each id naming one change — account definitions included (computed where each
 * account's partition is, over shadows of its users).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Change } from '../../engine/runtime/change.ts';
import { startFlockCluster, type FlockCluster } from '../cluster/flock-cluster.ts';
import { Random } from '../workload/random.ts';
import { appendInOrder, prepare, readChanges, readEvents, WRITE_KEY, type Place } from './chaos.ts';
import { checkLog, compareChanges, compareFinal, finalState, idCollisions, type Comparison } from './check.ts';
import { drive } from './driver.ts';
import { FlockUnderTest, waitCaughtUp } from './flock.ts';
import { chaosDefinitions, chaosWorkload } from './workload.ts';

export interface ClusterChaosOptions {
  readonly seed: number;
  readonly events: number;
  /** worker kills (kill -9, then started again); the identity stage is killed once besides. */
  readonly kills: number;
  readonly keep?: boolean;
  readonly say?: (line: string) => void;
}

export interface ClusterChaosReport {
  readonly events: number;
  readonly acked: number;
  readonly workerKills: number;
  readonly identityKills: number;
  /** acknowledged events missing in the raw log, events doubled in it. */
  readonly missing: number;
  readonly doubled: number;
  readonly changes: number;
  readonly referenceChanges: number;
  /** the reference's changes of account definitions (compared like the others). */
  readonly accountChanges: number;
  readonly vsReference: Comparison;
  readonly finalDifferent: number;
  /** change ids naming two different changes; ids logged more than once with the same content (a holder going on a moment after losing its lease). */
  readonly collisions: number;
  readonly repeated: number;
  /** role processes that exited without being killed, with their last error or warning lines. */
  readonly unexpectedExits: string[];
  readonly durationMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** In event-time order (a profile's changes come from one worker at a time, but the change log interleaves workers). */
const byInstant = (cs: readonly Change[]) => [...cs].sort((a, b) => a.at - b.at);

export async function runClusterChaos(o: ClusterChaosOptions): Promise<ClusterChaosReport> {
  const say = o.say ?? (() => {});
  const started = Date.now();
  const root = mkdtempSync(join(tmpdir(), 'flock-chaos-cluster-'));
  let cluster: FlockCluster | undefined;
  const flocks: FlockUnderTest[] = [];
  /** set before the clean stop at the end: exits after it were asked for. */
  let stopping = false;
  try {
    const definitionsFile = join(root, 'definitions.json');
    writeFileSync(definitionsFile, JSON.stringify(chaosDefinitions()));
    /** the role processes' last error and warning lines (their logs are JSON lines on stdout). */
    const complaints: string[] = [];
    const onFlockLine = (line: Record<string, unknown>) => {
      if (line['level'] === 'error' || line['level'] === 'warn') complaints.push(JSON.stringify(line).slice(0, 400));
      if (complaints.length > 20) complaints.shift();
    };
    cluster = await startFlockCluster({ nats: 1, workers: 2, autoWorkers: true, dir: join(root, 'cluster'), flockArgs: ['--clock', 'event', '--definitions-file', definitionsFile], onFlockLine });
    const c = cluster;
    const unexpectedExits: string[] = [];
    const killed = new Set<unknown>();
    const watch = () => {
      for (const role of c.roles) {
        if ((role as { watched?: boolean }).watched === true) continue;
        (role as { watched?: boolean }).watched = true;
        void role.exited.then((code) => {
          if (!killed.has(role.child) && !stopping) unexpectedExits.push(`${role.name} exited (${code ?? role.child.signalCode}): ${complaints.slice(-3).join(' | ')}`);
        });
      }
    };
    watch();
    const random = new Random(o.seed);
    const workload = chaosWorkload(o.seed, o.events);
    const killAt = Array.from({ length: o.kills }, () => Math.floor(o.events * (0.1 + 0.8 * random.next()))).sort((a, b) => a - b);
    const identityAt = Math.floor(o.events * (0.3 + 0.4 * random.next()));
    let workerKills = 0;
    let identityKills = 0;
    const respawns: Array<Promise<unknown>> = [];
    let busy = false;
    /** kill -9 of a role process, started again after a pause (what a supervisor would do). */
    const kill = (name: string) => {
      const role = c.roles.find((r) => r.name === name)!;
      killed.add(role.child);
      role.child.kill('SIGKILL');
      busy = true;
      respawns.push(
        (async () => {
          await role.exited;
          await sleep(500 + random.int(0, 2_500));
          await c.respawn(name);
          watch();
          busy = false;
        })(),
      );
    };
    say(`cluster: load of ${workload.events} events, ${killAt.length} worker kills, 1 identity kill`);
    const load = await drive(workload.batches, {
      url: () => c.url,
      writeKey: WRITE_KEY,
      concurrency: 4,
      // (paced to last about a minute whatever the size: a kill and its restart take a few seconds, and the kills spread over the load)
      paceMs: Math.floor((60_000 * 4) / workload.batches.length),
      onAcked: (acked) => {
        if (busy) return;
        if (killAt.length > 0 && acked >= killAt[0]!) {
          killAt.shift();
          const name = `worker-${random.int(0, 1)}`;
          say(`cluster: ${name} killed (kill -9)`);
          workerKills++;
          kill(name);
        } else if (identityKills === 0 && acked >= identityAt) {
          say('cluster: identity stage killed (kill -9)');
          identityKills++;
          kill('identity');
        }
      },
    });
    await Promise.all(respawns);
    const eventsPlace: Place = { dataDir: join(root, 'reader'), natsUrl: c.nats.urls };
    mkdirSync(eventsPlace.dataDir);
    const logged = await readEvents(eventsPlace);
    const logCheck = checkLog(load.acked, logged.map((e) => e.messageId));
    say(`cluster: ${logged.length} events logged; the one process over the same log…`);

    // the reference: one process over the same raw log, in its order
    const refPlace: Place = { dataDir: join(root, 'reference') };
    mkdirSync(refPlace.dataDir);
    const reference = new FlockUnderTest({ dataDir: refPlace.dataDir, definitionsFile, clock: 'event', say, name: 'cluster/reference' });
    flocks.push(reference);
    await prepare(reference, chaosDefinitions().definitions.length);
    await appendInOrder(refPlace, logged);
    await reference.start();
    await waitCaughtUp(reference);
    await reference.stop();
    const refChanges = await readChanges(refPlace);

    // the workers catch up: every reference change on the cluster's change log, then nothing more for 5 s
    const want = new Set(refChanges.map((ch) => ch.id));
    let changes: Change[] = [];
    const deadline = Date.now() + 300_000;
    for (let stableSince = 0, count = -1; Date.now() < deadline; await sleep(1_000)) {
      // (a read that does not come back within a minute counts as no progress: the deadline holds)
      const read = await Promise.race([readChanges(eventsPlace), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 60_000).unref())]);
      if (read === undefined) {
        say('cluster: a read of the change log took over 60 s');
        continue;
      }
      changes = read;
      const have = new Set(changes.map((ch) => ch.id));
      const complete = [...want].every((id) => have.has(id));
      if (changes.length !== count) [count, stableSince] = [changes.length, Date.now()];
      if (complete && Date.now() - stableSince >= 5_000) break;
    }
    const ids = changes.map((ch) => ch.id);
    stopping = true;
    return {
      events: workload.events,
      acked: load.acked.size,
      workerKills,
      identityKills,
      missing: logCheck.missing,
      doubled: logCheck.doubled,
      changes: new Set(ids).size,
      referenceChanges: refChanges.length,
      accountChanges: refChanges.filter((ch) => ch.collection === 'accounts').length,
      vsReference: compareChanges(changes, refChanges),
      finalDifferent: compareFinal(finalState(byInstant(changes)), finalState(byInstant(refChanges))).different,
      collisions: idCollisions(changes).ids,
      repeated: ids.length - new Set(ids).size,
      unexpectedExits,
      durationMs: Date.now() - started,
    };
  } finally {
    for (const f of flocks) await f.stop().catch(() => {});
    await cluster?.stop().catch(() => {});
    if (o.keep === true) say(`cluster: kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}

/** Why the cluster run failed (empty: it passed). */
export function clusterFailures(r: ClusterChaosReport): string[] {
  const out: string[] = [];
  const add = (n: number, what: string) => n > 0 && out.push(`cluster: ${n} ${what}`);
  add(r.missing, 'acknowledged events missing from the log');
  add(r.doubled, 'events doubled in the log');
  add(r.vsReference.missing, `changes missing against one process (${r.vsReference.examples.slice(0, 2).join('; ')})`);
  add(r.vsReference.extra, 'extra changes against one process');
  add(r.vsReference.different, 'changes different from one process');
  add(r.finalDifferent, 'final memberships / trait values different from one process');
  add(r.collisions, 'change ids naming two different changes');
  if (r.workerKills === 0 && r.identityKills === 0) out.push('cluster: no kill happened');
  add(r.unexpectedExits.length, `role processes exited unasked (${r.unexpectedExits.join('; ')})`);
  return out;
}

/** The cluster run's table. */
export function formatClusterReport(r: ClusterChaosReport): string {
  const rows: Array<[string, string | number]> = [
    ['events sent / acknowledged', `${r.events} / ${r.acked}`],
    ['kills: workers + identity stage (kill -9, started again)', `${r.workerKills} + ${r.identityKills}`],
    ['acknowledged events missing in the log / doubled', `${r.missing} / ${r.doubled}`],
    ['changes (cluster / one process)', `${r.changes} / ${r.referenceChanges}`],
    ['changes missing / extra / different vs one process', `${r.vsReference.missing} / ${r.vsReference.extra} / ${r.vsReference.different}`],
    ['final memberships / traits different', r.finalDifferent],
    ['change ids with different content', r.collisions],
    ['change ids logged again with the same content', r.repeated],
    ['role processes that exited unasked', r.unexpectedExits.length],
    ['of them account-definition changes (one process)', r.accountChanges],
    ['duration', `${(r.durationMs / 1000).toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return [`| ${'check'.padEnd(width)} | cluster |`, `|${'-'.repeat(width + 2)}|---------|`, ...rows.map(([label, v]) => `| ${label.padEnd(width)} | ${v} |`)].join('\n');
}
