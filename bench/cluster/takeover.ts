/**
 * `npm run bench:takeover [-- --profiles 1000000]`: issue 18's "partition takeover with 1M profiles
 * of state ≤ 10 s", measured on a private nats-server.
 *
 * Setup (not timed): the realistic workload with identity journeys through the identity stage and a
 * worker engine (the realistic set's user definitions) — real worker state — whose user profiles are
 * then cloned in the worker's store up to `--profiles` (`CheckpointStore.cloneProfiles`), and the
 * identity stage's graph cloned alike, so live events sent by the clones resolve to them; the store
 * is snapshotted to the object store as its holder would (`takeSnapshot`).
 *
 * Timed: the holder (a worker node in its own process, partitions 0-15, on that store) runs under
 * live traffic — events appended to the raw log at `--rate` per second, each sent by a real user or
 * one of its clones, through the identity stage (this process) — and takes its own snapshot under
 * the load; `--kill-after` seconds after that upload it is killed with SIGKILL (or, with `--live S`,
 * S seconds after the traffic started, whatever its newest snapshot then). A standby started on
 * an EMPTY data dir (a fresh machine: it must restore from the object store) is timed from the kill
 * to active and caught up with the live log, step by step (lease expiry wait, snapshot download,
 * store and engine open, muted replay to the fence, catch-up), with the snapshot's size and the RSS
 * of both processes (anonymous memory and file-backed LMDB map pages apart).
 *
 * `--standby warm` (the default, production's): the standby keeps the set warm while it waits
 * (engine/cluster/warm-standby.ts) — it restores the setup's snapshot and follows the live log muted
 * up to the holder's fence; the kill waits until it has caught up with that fence once, so the
 * takeover is timed from a standby that has been up a while. `--standby cold`: the standby waits idle
 * and restores and replays at takeover (what the bench measured before warm standbys).
 *
 * Options: `--profiles` (1,000,000), `--standby` (warm), `--rate` events/s (1,000), `--lease-ttl` ms (5,000, production's
 * default; tests use 3,000), `--snapshot-ms` the holder's snapshot interval (30,000, production's),
 * `--kill-after` s after the holder's snapshot under load (5), or `--live` s after the traffic started
 * (no snapshot under load awaited); `--results FILE` / `--no-results`,
 * `--json FILE` (the measurements), `--keep` (the data dirs), `--verbose` (the workers' stderr).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { Engine } from '../../engine/engine.ts';
import { IdentityStage } from '../../engine/cluster/identity-stage.ts';
import { parsePartitionSet } from '../../engine/cluster/partition-set.ts';
import { FencedSource } from '../../engine/cluster/replay-fence.ts';
import { RESOLVED_LOG } from '../../engine/cluster/resolved-records.ts';
import { openSnapshotBucket, snapshotInfo, takeSnapshot } from '../../engine/cluster/snapshot.ts';
import type { WorkerNodeStats } from '../../engine/cluster/worker-node.ts';
import type { FlockEvent } from '../../engine/event/model.ts';
import { IdentityGraph } from '../../engine/identity/identity-graph.ts';
import { DirectResolver } from '../../engine/identity/resolver.ts';
import type { AppendLog } from '../../engine/log/append-log.ts';
import type { EventLog } from '../../engine/log/event-log.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../engine/log/open-event-log.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import { collectionOf } from '../../engine/runtime/profile-state.ts';
import { CheckpointStore } from '../../engine/store/checkpoint-store.ts';
import { writeResults, type ResultRow } from '../results.ts';
import { cloneIdentifier, cloneProfileId, toCopy } from '../suite/stages/scale-state.ts';
import { DAY, SPACE } from '../suite/config.ts';
import { generateEvents } from '../workload/generator.ts';
import { startNatsCluster } from './nats-cluster.ts';
import { clusterDefinitions } from './workers-workload.ts';

const repo = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const SET = '0-15';
const PARTITIONS = 16;
const NAME = `worker.${SET}`;

class TakeoverBenchError extends Error {
  readonly code = 'bench_option_invalid';
}

const { values } = parseArgs({
  options: {
    profiles: { type: 'string', default: '1000000' },
    rate: { type: 'string', default: '1000' },
    'lease-ttl': { type: 'string', default: '5000' },
    'snapshot-ms': { type: 'string', default: '30000' },
    'kill-after': { type: 'string', default: '5' },
    standby: { type: 'string', default: 'warm' },
    live: { type: 'string' },
    results: { type: 'string' },
    'no-results': { type: 'boolean', default: false },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    /** a directory: each worker writes the CPU profile of its first event-loop stall over 2 s there (takeover-worker.ts). */
    'profile-stalls': { type: 'string' },
    /** where the workers commit their checkpoints: inline (default) or thread (worker-node.ts). */
    'checkpoint-writer': { type: 'string', default: 'inline' },
  },
});

function option(name: keyof typeof values, min: number): number {
  const raw = values[name];
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(n) || n < min) throw new TakeoverBenchError(`--${name} ${JSON.stringify(raw)}: a number ≥ ${min} is needed`);
  return n;
}

let PROFILES: number, RATE: number, TTL: number, SNAPSHOT_MS: number, KILL_AFTER_S: number, LIVE_S: number | undefined;
try {
  PROFILES = Math.round(option('profiles', 100));
  RATE = option('rate', 1);
  TTL = Math.round(option('lease-ttl', 500));
  SNAPSHOT_MS = Math.round(option('snapshot-ms', 100));
  KILL_AFTER_S = option('kill-after', 0);
  LIVE_S = values.live === undefined ? undefined : option('live', 1);
  if (values.standby !== 'warm' && values.standby !== 'cold') throw new TakeoverBenchError(`--standby ${JSON.stringify(values.standby)}: warm or cold`);
} catch (error) {
  process.stderr.write(`${(error as Error).message} (${(error as TakeoverBenchError).code})\n`);
  process.exit(2);
}
const WARM = values.standby === 'warm';
const started = performance.now();
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const say = (text: string) => process.stdout.write(`${text}\n`);
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mib = (bytes: number) => bytes / 2 ** 20;
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').trim();

/** A process's memory from /proc: resident (anonymous, file-backed: LMDB's map pages), and its peak. */
interface Memory {
  readonly rss: number;
  readonly anon: number;
  readonly file: number;
  readonly peak: number;
}

function memoryOf(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
    return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), peak: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

const maxMemory = (a: Memory | undefined, b: Memory | undefined): Memory | undefined =>
  a === undefined ? b : b === undefined ? a : { rss: Math.max(a.rss, b.rss), anon: Math.max(a.anon, b.anon), file: Math.max(a.file, b.file), peak: Math.max(a.peak, b.peak) };

interface Line {
  readonly t: number;
  readonly type: 'state' | 'stats' | 'caught-up';
  readonly stats?: WorkerNodeStats;
  readonly position?: number;
  readonly target?: number;
  readonly loopMaxMs?: number;
}

/** A worker node in its own process (takeover-worker.ts): its lines, its memory sampled. */
class WorkerChild {
  stats: WorkerNodeStats | undefined;
  /** when it entered each state first (epoch ms), and the stats then. */
  readonly entered = new Map<string, { t: number; stats: WorkerNodeStats }>();
  caughtUp: Line | undefined;
  stderr = '';
  /** the largest memory figures sampled, and the longest event-loop stall reported, since `resetMemory`. */
  memory: Memory | undefined;
  loopMaxMs = 0;
  readonly exited: Promise<void>;
  readonly #sampler: NodeJS.Timeout;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    let buffered = '';
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const text of lines) {
        if (!text.startsWith('{')) continue;
        const line = JSON.parse(text) as Line;
        if (line.stats !== undefined) {
          if (line.stats.state !== this.stats?.state) say(`  [${this.name}] ${line.stats.state} (takeovers ${line.stats.takeovers}, leases lost ${line.stats.leasesLost}, position ${line.stats.position})`);
          this.stats = line.stats;
          if (!this.entered.has(line.stats.state)) this.entered.set(line.stats.state, { t: line.t, stats: line.stats });
        }
        if (line.type === 'caught-up') this.caughtUp ??= line;
        if (line.loopMaxMs !== undefined) {
          this.loopMaxMs = Math.max(this.loopMaxMs, line.loopMaxMs);
          // (the lease is renewed every TTL/3 on that loop: a stall near the TTL loses it)
          if (line.loopMaxMs >= TTL / 3) say(`  [${this.name}] event loop stalled ${fmt(line.loopMaxMs)} ms (${this.stats?.state})`);
        }
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => {
      if (values.verbose) process.stderr.write(chunk);
      this.stderr = (this.stderr + chunk.toString()).slice(-6000);
    });
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    this.#sampler = setInterval(() => this.sample(), 100);
    void this.exited.then(() => clearInterval(this.#sampler));
  }

  static start(nats: string, dir: string, name: string): WorkerChild {
    const args = ['--import', 'tsx', join(repo, 'bench/cluster/takeover-worker.ts'), '--nats', nats, '--dir', dir, '--set', SET, '--partitions', String(PARTITIONS), '--holder', name, '--lease-ttl', String(TTL), '--snapshot-ms', String(SNAPSHOT_MS), '--standby', WARM ? 'warm' : 'cold', ...(values['profile-stalls'] === undefined ? [] : ['--profile-stalls', values['profile-stalls']]), '--checkpoint-writer', values['checkpoint-writer'] === 'thread' ? 'thread' : 'inline'];
    return new WorkerChild(name, spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  get gone(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  sample(): Memory | undefined {
    const m = this.proc.pid === undefined || this.gone ? undefined : memoryOf(this.proc.pid);
    this.memory = maxMemory(this.memory, m);
    return m;
  }

  resetMemory(): void {
    this.memory = undefined;
    this.loopMaxMs = 0;
  }

  /** Waits until `ok` holds; fails with its stderr if it exits first or it takes longer than `timeoutMs`. */
  async reach(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!ok()) {
      if (this.gone) throw new Error(`${this.name} exited (${this.proc.exitCode ?? this.proc.signalCode}) before ${what}:\n${this.stderr}`);
      if (performance.now() > deadline) throw new Error(`${this.name}: no ${what} within ${Math.round(timeoutMs / 1000)} s; last stats ${JSON.stringify(this.stats)}\n${this.stderr}`);
      await sleep(20);
    }
  }

  async kill(): Promise<void> {
    if (!this.gone) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

/** Follows `eventLog` with the identity stage until `stop` aborts (or, with `until`, the stage reached it). */
async function runStage(stage: IdentityStage, stop: AbortController, until?: number): Promise<void> {
  const running = stage.run(stop.signal);
  if (until !== undefined) {
    while (stage.position < until) await sleep(20);
    stop.abort();
  }
  await running;
}

/** The live traffic: events of the workload's users, each sent by the user or one of its clones, stamped now, appended at `rate`/s. */
function startTraffic(eventLog: EventLog, users: number, copies: number, rate: number): { stop(): Promise<{ sent: number; seconds: number }> } {
  const events = generateEvents({ seed: 43, events: Number.MAX_SAFE_INTEGER, profiles: users, spanMs: DAY, end: Date.now(), space: SPACE, identity: {} });
  let sent = 0;
  let running = true;
  const t0 = performance.now();
  let failure: { error: unknown } | undefined;
  const loop = (async () => {
    while (running) {
      const due = Math.floor(((performance.now() - t0) / 1000) * rate) - sent;
      if (due > 0) {
        const at = Date.now();
        const batch: FlockEvent[] = [];
        for (let i = 0; i < Math.min(due, 5000); i++) {
          const e = events.next().value as FlockEvent;
          const n = sent + i;
          batch.push(toCopy({ ...e, messageId: `live_${n}`, timestamp: at, receivedAt: at }, (Math.imul(n, 2654435761) >>> 0) % (copies + 1)));
        }
        await eventLog.append(batch);
        sent += batch.length;
      }
      await sleep(50);
    }
  })().catch((error: unknown) => {
    failure = { error };
  });
  return {
    async stop() {
      running = false;
      await loop;
      if (failure !== undefined) throw new Error('the live traffic failed', { cause: failure.error });
      return { sent, seconds: (performance.now() - t0) / 1000 };
    },
  };
}

/** The worker state of the workload: the resolved log through a worker engine into `path` (as the holder computes it), to the log's end. */
async function buildWorkerState(path: string, resolvedLog: AppendLog, changeLog: AppendLog): Promise<void> {
  const store = CheckpointStore.open(path);
  try {
    const source = new FencedSource(resolvedLog, parsePartitionSet(SET, PARTITIONS).partitions, PARTITIONS, changeLog);
    const { plan } = compilePlan(clusterDefinitions(false));
    const engine = await Engine.open({ eventLog: source, changeLog, store, plans: new Map([[SPACE, plan]]), resolver: new DirectResolver(), transfers: resolvedLog, time: 'event', partitions: PARTITIONS, consumer: NAME });
    const end = await resolvedLog.lastSeq();
    const stop = new AbortController();
    const running = engine.run(stop.signal);
    while (engine.position < end) await sleep(50);
    stop.abort();
    await running;
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'flock-bench-takeover-'));
  const loadAtStart = loadavg();
  // (two snapshots of the set live in the bucket at once while one replaces the other)
  const cluster = await startNatsCluster({ nodes: 1, dir: join(root, 'nats'), maxFileStore: '64GB' });
  const nats = cluster.urls;
  const children: WorkerChild[] = [];
  const stopStage = new AbortController();
  let staging: Promise<void> | undefined;
  const nc = await connect({ servers: nats, noAsyncTraces: true });
  const eventLog = await openEventLog({ dataDir: root, natsUrl: nats });
  const resolvedLog = await openAppendLog({ dataDir: root, natsUrl: nats, log: RESOLVED_LOG });
  const changeLog = await openAppendLog({ dataDir: root, natsUrl: nats, log: CHANGE_LOG });
  const stageStore = CheckpointStore.open(join(root, 'identity'));
  // (interrupted: the worker processes and nats-server go too — they are in process groups of their own)
  const interrupted = async () => {
    for (const child of children) child.proc.kill('SIGKILL');
    for (const node of cluster.nodes) await node.kill();
    if (!values.keep) rmSync(root, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', () => void interrupted());
  process.once('SIGTERM', () => void interrupted());
  try {
    // 1. real state: the workload through the identity stage and a worker engine
    const users = Math.min(25_000, Math.max(100, Math.ceil(PROFILES * 0.8)));
    const stateEvents = 4 * users;
    const end = Date.now() - 60_000;
    say(`state: ${fmt(stateEvents)} events of ${fmt(users)} users (identity journeys) through the identity stage and a worker…`);
    let t = performance.now();
    const history = [...generateEvents({ seed: 42, events: stateEvents, profiles: users, spanMs: 90 * DAY, end, space: SPACE, identity: {} })];
    for (let i = 0; i < history.length; i += 5000) await eventLog.append(history.slice(i, i + 5000));
    const newStage = () => new IdentityStage({ eventLog, resolvedLog, store: stageStore, resolver: new IdentityGraph({ source: stageStore }), partitions: PARTITIONS, time: 'wall' });
    await runStage(newStage(), new AbortController(), await eventLog.lastSeq());
    const holderDir = join(root, 'holder');
    const storePath = join(holderDir, 'worker', SET);
    await buildWorkerState(storePath, resolvedLog, changeLog);
    const buildSeconds = (performance.now() - t) / 1000;

    // 2. cloned to the size asked for: the worker's store and the stage's graph alike
    const store = CheckpointStore.open(storePath);
    const realProfiles = store.profileCount(SPACE);
    let realUsers = 0;
    for (const id of store.profileIds(SPACE)) if (collectionOf(id) === 'users') realUsers++;
    const copies = Math.max(0, Math.ceil((PROFILES - realProfiles) / Math.max(1, realUsers)));
    say(`  ${fmt(realProfiles)} profiles (${fmt(realUsers)} users) in ${fmt(buildSeconds)} s; cloning the users ${copies}× …`);
    t = performance.now();
    let told = t;
    const progress = (written: number) => {
      if (performance.now() - told < 15_000) return;
      told = performance.now();
      say(`  cloning: ${fmt(written)} of ${fmt(copies * realUsers)}`);
    };
    await store.cloneProfiles({ space: SPACE, copies, profileId: cloneProfileId, identifier: cloneIdentifier, progress });
    await stageStore.cloneProfiles({ space: SPACE, copies, profileId: cloneProfileId, identifier: cloneIdentifier });
    const cloneSeconds = (performance.now() - t) / 1000;
    const profiles = store.profileCount(SPACE);
    say(`  ${fmt(profiles)} profiles in ${fmt(cloneSeconds)} s; the holder's snapshot…`);

    // 3. the holder's snapshot, as the holder takes it (this process's memory watched)
    const bucket = await openSnapshotBucket(nc);
    let setupMemory: Memory | undefined;
    const watch = setInterval(() => (setupMemory = maxMemory(setupMemory, memoryOf(process.pid))), 100);
    const before = memoryOf(process.pid)!;
    t = performance.now();
    const setup = await takeSnapshot(store, bucket, NAME);
    const setupSeconds = (performance.now() - t) / 1000;
    clearInterval(watch);
    await store.close();
    if (setup === undefined) throw new Error('the setup snapshot was not stored');
    say(`  snapshot of ${fmt(mib(setup.bytes))} MiB (position ${setup.position}) in ${fmt(setupSeconds, 1)} s`);

    // 4. the holder under live traffic, a standby on an empty data dir
    staging = runStage(newStage(), stopStage);
    const holder = WorkerChild.start(nats, holderDir, 'holder');
    children.push(holder);
    await holder.reach('active', () => holder.stats?.state === 'active', 15 * 60_000);
    say(`holder active (open ${fmt(holder.stats!.timings.open / 1000, 1)} s); live traffic at ${fmt(RATE)} events/s, a standby on an empty data dir…`);
    const traffic = startTraffic(eventLog, users, copies, RATE);
    const standby = WorkerChild.start(nats, join(root, 'standby'), 'standby');
    children.push(standby);
    await standby.reach('standby state', () => standby.stats?.state === 'standby', 5 * 60_000);
    const trafficAt = performance.now();
    if (LIVE_S === undefined) {
      await holder.reach('snapshot under load', () => (holder.stats?.snapshots ?? 0) >= 1, SNAPSHOT_MS + 30 * 60_000);
      say(`holder snapshot under load: position ${holder.stats!.snapshotPosition} in ${fmt(holder.stats!.snapshotMs / 1000, 1)} s; kill -9 in ${KILL_AFTER_S} s`);
      await sleep(KILL_AFTER_S * 1000);
    } else {
      await sleep(Math.max(0, LIVE_S * 1000 - (performance.now() - trafficAt)));
    }
    // a warm standby: restored the snapshot and caught up with the holder's fence once (it has been up a while)
    let warmAtKill: WorkerNodeStats['warm'] = null;
    if (WARM) {
      const slack = Math.max(1000, RATE);
      await standby.reach('warm copy caught up with the fence', () => standby.stats?.warm?.state === 'following' && standby.stats.warm.position >= standby.stats.warm.fence - slack, 30 * 60_000);
      say(`standby warm: restored ${fmt(mib(standby.stats!.warm!.restoredBytes))} MiB in ${fmt(standby.stats!.warm!.restoreMs / 1000, 1)} s while waiting, following at ${standby.stats!.warm!.position} (fence ${standby.stats!.warm!.fence})`);
    }
    const holderSnapshot = { ...holder.stats! };
    // (a holder that lost its lease before the kill — its own snapshot stalling its renewals — is not the case measured)
    if (holderSnapshot.state !== 'active' || holderSnapshot.leasesLost > 0) {
      throw new Error(`the holder lost its lease before the kill (state ${holderSnapshot.state}, leases lost ${holderSnapshot.leasesLost}, longest event-loop stall ${fmt(holder.loopMaxMs)} ms, its snapshot under load ${fmt(holderSnapshot.snapshotMs / 1000, 1)} s): the standby took the set over from a live holder\n${holder.stderr}`);
    }

    // 5. kill -9; the standby takes over
    const holderAtKill = holder.sample()!;
    const holderPeak = holder.memory!;
    const holderStats = { ...holder.stats! };
    const holderStoreBytes = statSync(join(storePath, 'data.mdb')).size;
    const standbyWaiting = standby.sample();
    const standbyWaitingPeak = standby.memory;
    if (WARM) warmAtKill = standby.stats?.warm === null || standby.stats?.warm === undefined ? null : { ...standby.stats.warm };
    standby.resetMemory();
    const loadAtKill = loadavg();
    const killAt = now();
    holder.proc.kill('SIGKILL');
    await holder.exited;
    const snapshotAtKill = await snapshotInfo(bucket, NAME);
    const fenceAtKill = await resolvedLog.position(NAME);
    say(`killed the holder (its snapshot at ${snapshotAtKill?.position}, its fence at ${fenceAtKill}); the standby takes over…`);
    const telling = setInterval(() => {
      const x = standby.stats;
      if (x !== undefined) say(`  standby ${x.state}: position ${x.position}, fence ${x.fence}, restored ${JSON.stringify(x.restored)}, timings ${JSON.stringify(x.timings)}, leases lost ${x.leasesLost}, longest loop stall ${fmt(standby.loopMaxMs)} ms`);
    }, 5000);
    await standby.reach('catch-up', () => standby.caughtUp !== undefined, 30 * 60_000).finally(() => clearInterval(telling));
    const standbyPeak = standby.memory!;
    const standbyLoop = standby.loopMaxMs;
    const loadAtEnd = loadavg();
    const sent = await traffic.stop();
    await standby.kill();
    stopStage.abort();
    await staging;
    staging = undefined;

    // what the standby restored: counted in its store
    const restoredStore = CheckpointStore.open(join(root, 'standby', 'worker', SET), { readOnly: true });
    const restoredProfiles = restoredStore.profileCount(SPACE);
    await restoredStore.close();

    const at = (state: string) => {
      const e = standby.entered.get(state);
      if (e === undefined) throw new Error(`the standby never entered ${state}`);
      return e;
    };
    // The first acquisition's steps: as the stats were when it began to replay (a standby that lost the
    // lease meanwhile and took it again — counted in `leasesLost` — goes on from its own store).
    const restoring = at('restoring');
    const replaying = at('replaying');
    const active = at('active');
    const final = standby.stats!;
    const caught = standby.caughtUp!;
    const restored = WARM ? (warmAtKill === null ? null : { position: warmAtKill.position, bytes: warmAtKill.restoredBytes }) : replaying.stats.restored;
    if (restored === null) throw new Error(WARM ? 'the standby kept no warm copy' : 'the standby restored no snapshot');
    if (WARM && replaying.stats.startedFrom !== 'warm') throw new Error(`the warm standby started from ${replaying.stats.startedFrom}, not its warm copy`);
    if (final.leasesLost > 0) say(`the standby lost the lease it took ${final.leasesLost}× during the takeover (acquired ${final.takeovers}×); its stderr:\n${standby.stderr}`);
    const m = {
      profiles: restoredProfiles,
      leaseTtlMs: TTL,
      totalMs: caught.t - killAt,
      activeMs: active.t - killAt,
      leaseWaitMs: restoring.t - killAt,
      restoreMs: replaying.stats.timings.restore,
      openMs: replaying.stats.timings.open,
      replayMs: active.t - replaying.t,
      catchUpMs: caught.t - active.t,
      snapshotBytes: restored.bytes,
      replayedRecords: replaying.stats.fence - replaying.stats.startPosition,
      startPosition: replaying.stats.startPosition,
      warmRestoreMs: warmAtKill?.restoreMs ?? 0,
      standbyWaiting,
      standbyWaitingPeak,
      catchUpRecords: caught.target! - active.stats.position,
      holderStoreBytes,
      holderRss: holderAtKill,
      holderPeak,
      standbyPeak,
      holderSnapshotMs: holderSnapshot.snapshotMs,
      holderSnapshotPosition: holderSnapshot.snapshotPosition,
      setupSnapshotSeconds: setupSeconds,
      setupSnapshotAnonGrowth: (setupMemory?.anon ?? before.anon) - before.anon,
      rate: sent.sent / sent.seconds,
      standbyLoopMaxMs: standbyLoop,
      standbyLeasesLost: final.leasesLost,
    };
    if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(m, null, 2));
    if (!WARM && restored.position !== snapshotAtKill?.position) throw new Error(`the standby restored position ${restored.position}, not the holder's newest snapshot (${snapshotAtKill?.position})`);
    if (replaying.stats.fence < fenceAtKill) throw new Error(`the standby replayed to ${replaying.stats.fence}, short of the holder's fence ${fenceAtKill}`);
    if (restoredProfiles < profiles) throw new Error(`the standby's store holds ${restoredProfiles} profiles, not the ${profiles} of the holder's`);

    const killRule =
      LIVE_S === undefined
        ? `killed ${KILL_AFTER_S} s after its first snapshot under load (position ${m.holderSnapshotPosition}) was stored`
        : `killed ${LIVE_S} s after the live traffic started; its newest snapshot then was at position ${restored.position} (${m.holderSnapshotMs > 0 ? 'taken under load' : 'the setup\'s: none under load yet'})`;
    const s = (ms: number) => `${fmt(ms / 1000, 2)} s`;
    const gib = (bytes: number) => `${fmt(bytes / 2 ** 30, 2)} GiB`;
    const memory = (x: Memory) => `${gib(x.anon)} anonymous + ${gib(x.file)} file-backed (LMDB map pages)`;
    const rows: ResultRow[] = [
      { measurement: `takeover: kill -9 of the holder → the standby active and caught up with the live log, ${fmt(restoredProfiles)} profiles of state`, value: s(m.totalMs), note: `issue 18 target ≤ 10 s; lease TTL ${fmt(TTL)} ms (production default 5,000; tests use 3,000); ${WARM ? "a WARM standby (started on an empty data dir, it restored the snapshot and followed the log muted while it waited)" : "a COLD standby on a fresh machine: its data dir was empty, it restored at takeover"}` },
      { measurement: 'takeover: kill → active (before the catch-up)', value: s(m.activeMs), note: '' },
      { measurement: '… lease expiry wait (kill → lease taken)', value: s(m.leaseWaitMs), note: `TTL ${fmt(TTL)} ms: the standby takes the lease once it has seen the holder's last renewal (every TTL/3) unchanged for the TTL, polling every ${Math.min(500, Math.floor(TTL / 4))} ms` },
      WARM
        ? { measurement: '… snapshot download at takeover', value: s(m.restoreMs), note: `none: the warm copy was used (the standby had restored ${fmt(mib(m.snapshotBytes))} MiB in ${fmt(m.warmRestoreMs / 1000, 1)} s while it waited)` }
        : { measurement: '… snapshot download (and digest check, sync, rename)', value: s(m.restoreMs), note: `${fmt(mib(m.snapshotBytes))} MiB at ${fmt(mib(m.snapshotBytes) / (m.restoreMs / 1000))} MiB/s` },
      { measurement: WARM ? '… fence and published-changes read (the warm copy\'s store and engine are open)' : '… store and engine open (every profile\'s timer), fence read', value: s(m.openMs), note: '' },
      { measurement: '… muted replay to the fence', value: s(m.replayMs), note: `${fmt(m.replayedRecords)} resolved records from ${WARM ? "the warm copy's position" : "the snapshot's position"} (${fmt(m.startPosition)}) to the dead holder's fence (${fmt(m.replayedRecords / (m.replayMs / 1000))} records/s; ${killRule})${m.standbyLeasesLost > 0 ? `; the standby LOST the lease it took ${m.standbyLeasesLost}× meanwhile and took it again from its own store — included` : ''}` },
      { measurement: '… catch-up with the live log (active → caught up)', value: s(m.catchUpMs), note: `${fmt(m.catchUpRecords)} records that came while the set had no holder` },
      { measurement: 'snapshot size', value: `${fmt(m.snapshotBytes)} B`, note: `${fmt(m.snapshotBytes / restoredProfiles)} bytes per profile (the store copied whole, free pages included); the holder's store file ${fmt(mib(holderStoreBytes))} MiB` },
      { measurement: 'holder RSS at the kill (peak sampled)', value: gib(holderAtKill.rss), note: `${memory(holderAtKill)}; peak ${gib(holderPeak.peak)} (${memory(holderPeak)})${m.holderSnapshotMs > 0 ? ', its snapshot under load included' : ''}` },
      { measurement: 'standby RSS, peak during the takeover', value: gib(standbyPeak.rss), note: memory(standbyPeak) },
      ...(m.standbyWaiting === undefined ? [] : [{ measurement: `standby RSS while it waited (${WARM ? 'keeping the set warm' : 'idle'}), at the kill`, value: gib(m.standbyWaiting.rss), note: `${memory(m.standbyWaiting)}${m.standbyWaitingPeak === undefined ? '' : `; peak sampled ${gib(m.standbyWaitingPeak.rss)}`}` }]),
      { measurement: 'standby: longest event-loop stall during the takeover', value: `${fmt(m.standbyLoopMaxMs)} ms`, note: `its lease is renewed on that loop every ${fmt(TTL / 3)} ms; leases it lost meanwhile: ${m.standbyLeasesLost} (acquired ${final.takeovers}×)` },
      m.holderSnapshotMs > 0
        ? { measurement: 'holder: snapshot under load (copy + upload)', value: s(m.holderSnapshotMs), note: `${fmt(mib(m.snapshotBytes) / (m.holderSnapshotMs / 1000))} MiB/s; the setup's snapshot (the same code, no load): ${fmt(setupSeconds, 1)} s, ${fmt(mib(setup.bytes) / setupSeconds)} MiB/s, this process's anonymous memory grew ${fmt(mib(m.setupSnapshotAnonGrowth))} MiB meanwhile` }
        : { measurement: 'holder: snapshot with no load (the setup\'s, by the holder\'s code)', value: `${fmt(setupSeconds, 2)} s`, note: `${fmt(mib(setup.bytes) / setupSeconds)} MiB/s (copy + upload); this process's anonymous memory grew ${fmt(mib(m.setupSnapshotAnonGrowth))} MiB meanwhile; the holder took none under load before the kill (\`--live\`)` },
      { measurement: 'live traffic', value: `${fmt(m.rate)} events/s`, note: `through the identity stage; each event sent by a real user or one of its clones (${copies} per user)` },
    ];
    say('');
    for (const r of rows) say(`${r.measurement}: ${r.value}  ${r.note ?? ''}`);
    if (!values['no-results']) {
      writeResults(WARM ? 'takeover-warm' : 'takeover', `Partition takeover with ${fmt(restoredProfiles)} profiles of state, ${WARM ? 'a warm standby' : 'a cold standby'} (npm run bench:takeover)`, rows, {
        command: `npm run bench:takeover -- --standby ${WARM ? 'warm' : 'cold'} --profiles ${PROFILES} --rate ${RATE} --lease-ttl ${TTL} --snapshot-ms ${SNAPSHOT_MS}${values['checkpoint-writer'] === 'thread' ? ' --checkpoint-writer thread' : ''} ${LIVE_S === undefined ? `--kill-after ${KILL_AFTER_S}` : `--live ${LIVE_S}`}`,
        seconds: (performance.now() - started) / 1000,
        ...(values.results === undefined ? {} : { file: values.results }),
        details: [
          `\`cat /proc/loadavg\`: ${loadAtStart} at the start, ${loadAtKill} at the kill, ${loadAtEnd} when caught up (the machine is shared).`,
          `State: ${fmt(stateEvents)} events of the realistic workload (${fmt(users)} users, identity journeys, 90 days) through the identity stage and a worker engine with the realistic set's user definitions → ${fmt(realProfiles)} profiles, its ${fmt(realUsers)} user profiles cloned ${copies}× in the worker's store and the identity stage's graph (${fmt(cloneSeconds)} s; setup, not timed). One nats-server (JetStream file store, R1) on loopback; partition set ${SET} of ${PARTITIONS}; the holder and the standby are processes of their own, the identity stage and the traffic run in the bench's process.`,
          `The holder snapshots every ${fmt(SNAPSHOT_MS / 1000)} s under load; ${killRule}.`,
        ],
      });
    }
  } finally {
    for (const child of children) await child.kill();
    stopStage.abort();
    await staging?.catch(() => {});
    await stageStore.close();
    await changeLog.close();
    await resolvedLog.close();
    await eventLog.close();
    await nc.close();
    await cluster.stop();
    if (values.keep) say(`kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

