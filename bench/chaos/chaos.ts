/**
 * The chaos run of one log (embedded or JetStream): a seeded load over HTTP while Flock is killed
 * with `kill -9` (at random points and at the FLOCK_FAULT points that matter) and nats-server is
 * restarted; then what the logs hold is checked against what was acknowledged and against an
 * uninterrupted Flock fed the same log in the same order. Both runs use `--clock event`, so their
 * changes are a function of the log order and comparable id for id.
 *
 * Phases (each a row group of the report):
 * 1. chaos — the load, the kills and nats restarts; every definition present from the first start
 *    (the definitions file), Live before the first event, so no backfill switch sits at a
 *    timing-dependent position. Compared change for change with the uninterrupted run.
 * 2. backfill — both Flocks restart over the full log with two more definitions; the chaotic one is
 *    killed during the backfill (FLOCK_FAULT=backfill:1). Both backfill the same log to the same
 *    position and watermark, so this phase too is compared change for change.
 * 3. wall clock — a fresh Flock with `--clock wall` (production's mode) over a copy of the log, its
 *    definitions still to backfill, killed during its catch-up; then a live load with real-time
 *    timestamps and more kills. Not comparable with a reference (the wall clock decides instants);
 *    checked for id collisions, losses, and event-caused changes at instants after the log's last
 *    event (the catch-up must replay in event time).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeChangeRecord } from '../../engine/engine.ts';
import type { FlockEvent } from '../../engine/event/model.ts';
import { CHANGE_LOG, openAppendLog, openEventLog } from '../../engine/log/open-event-log.ts';
import type { Change } from '../../engine/runtime/change.ts';
import { startNatsServer, type NatsServer } from '../../test/support/nats-server.ts';
import { engineStorePath, readOnlyStore } from '../../engine/profiles/store-handle.ts';
import { Random } from '../workload/random.ts';
import { checkLog, compareChanges, compareFinal, finalState, idCollisions, type Comparison } from './check.ts';
import { checkDelivery, connectDestination, destinationStatus, waitDelivered, type ChaosDestination, type DeliveryReport } from './delivery.ts';
import { drive } from './driver.ts';
import { FlockUnderTest, waitCaughtUp, waitLive } from './flock.ts';
import { chaosDefinitions, chaosWorkload, type SegmentCall } from './workload.ts';

export type LogKind = 'embedded' | 'jetstream';

export interface ChaosOptions {
  readonly seed: number;
  readonly events: number;
  /** random `kill -9`s during the load (the deliberate FLOCK_FAULT kills come on top). */
  readonly kills: number;
  /** nats-server restarts during the load (JetStream), alternately TERM and kill -9. */
  readonly natsRestarts: number;
  /** deliberate kill points (FLOCK_FAULT specs), one per start from the first random kill on. */
  readonly faults?: readonly string[];
  /** events of the wall-clock phase's live load (default: events / 10, at least 5,000). */
  readonly liveEvents?: number;
  readonly concurrency?: number;
  /** each load sender's pause after each acknowledged batch of 100 (ms; default 0: as fast as Flock takes them). */
  readonly paceMs?: number;
  /** keep the data directories and nats-server stores (to look into a failure). */
  readonly keep?: boolean;
  /** the webhook destination delivering during phase 1 (delivery.ts), with its FLOCK_FAULT kill `delivered` (default true). */
  readonly destination?: boolean;
  readonly say?: (line: string) => void;
}

// (the first occurrence of most: under full load an engine that lags checkpoints only every 100k events, and a start with a fault gets 3 s once ready)
export const DEFAULT_FAULTS: readonly string[] = ['catch-up:1', 'committed:1', 'merge:1', 'exits:1', 'published:1', 'applied:3'];

export interface ChaosReport {
  readonly log: LogKind;
  readonly events: number;
  readonly acked: number;
  readonly missing: number;
  readonly doubled: number;
  readonly collisions: number;
  readonly collisionExamples: readonly string[];
  readonly changes: number;
  readonly referenceChanges: number;
  readonly vsReference: Comparison;
  readonly finalDifferent: number;
  readonly finalExamples: readonly string[];
  readonly backfill: { readonly vsReference: Comparison; readonly finalDifferent: number; readonly faultHit: boolean };
  readonly wall: {
    readonly missing: number;
    readonly doubled: number;
    readonly collisions: number;
    readonly collisionExamples: readonly string[];
    /** event-caused changes (of the copied log's events) at instants after its last event. */
    readonly lateInstants: number;
    readonly changes: number;
  };
  /** phase 1's destination (absent when `destination: false`). */
  readonly delivery?: DeliveryReport | undefined;
  readonly randomKills: number;
  readonly faultKills: readonly string[];
  readonly natsRestarts: number;
  readonly readyMs: readonly number[];
  readonly failedStarts: number;
  readonly unexpectedExits: readonly string[];
  readonly durationMs: number;
}

export const WRITE_KEY = 'dev_write_key';
const DEFINITIONS = chaosDefinitions().definitions.length;
const ALL_DEFINITIONS = chaosDefinitions(true).definitions.length;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Place {
  readonly dataDir: string;
  readonly natsUrl?: string | undefined;
}

export async function readEvents(place: Place): Promise<FlockEvent[]> {
  const log = await openEventLog({ dataDir: place.dataDir, natsUrl: place.natsUrl });
  try {
    const last = await log.lastSeq();
    const out: FlockEvent[] = [];
    for (let from = 1; from <= last; ) {
      const batch = await log.read(from, 5_000);
      if (batch.length === 0) break;
      for (const e of batch) out.push(e.event);
      from = batch[batch.length - 1]!.seq + 1;
    }
    return out;
  } finally {
    await log.close();
  }
}

export async function readChanges(place: Place): Promise<Change[]> {
  const log = await openAppendLog({ dataDir: place.dataDir, natsUrl: place.natsUrl, log: CHANGE_LOG });
  try {
    const out: Change[] = [];
    for (let from = 1; ; ) {
      const batch = await log.read(from, 1_000);
      if (batch.length === 0) break;
      for (const r of batch) out.push(...decodeChangeRecord(r.data));
      from = batch[batch.length - 1]!.seq + 1;
    }
    return out;
  } finally {
    await log.close();
  }
}

/** Appends `events` to a log in their order (the uninterrupted run's input). */
export async function appendInOrder(place: Place, events: readonly FlockEvent[]): Promise<void> {
  const log = await openEventLog({ dataDir: place.dataDir, natsUrl: place.natsUrl });
  try {
    for (let i = 0; i < events.length; i += 1_000) await log.append(events.slice(i, i + 1_000));
  } finally {
    await log.close();
  }
}

/** Events a direct producer appends at once: more than one engine batch, so at least one batch holds only them. */
const DIRECT_EVENTS = 2_500;

/**
 * A direct producer (JetStream): events of the live load's busiest people, received 10 s ago, published
 * straight to the stream in the middle of the HTTP load — the engine reads batches of only these,
 * replays them in event time right behind an instant it evaluated live, and reopens that instant (a
 * change id must still name one change).
 */
async function produceDirectly(place: Place, seed: number, n: number): Promise<void> {
  const log = await openEventLog({ dataDir: place.dataDir, natsUrl: place.natsUrl });
  const receivedAt = Date.now() - 10_000;
  const events: FlockEvent[] = Array.from({ length: DIRECT_EVENTS }, (_, i) => ({
    space: 'spa_default',
    type: 'track',
    event: 'Product Viewed',
    messageId: `direct-${seed}-${n}-${i}`,
    userId: null,
    anonymousId: `anon-${i % 3}-a`,
    groupId: null,
    previousId: null,
    traits: null,
    properties: { product_id: 'p1', price: 10 },
    context: null,
    integrations: null,
    timestamp: receivedAt - DIRECT_EVENTS + i,
    receivedAt,
    sourceId: null,
  }));
  try {
    await log.append(events);
  } finally {
    await log.close();
  }
}

/** Starts a Flock on an empty log, waits until its definitions are Live, stops it: the events appended later are then all computed by the live plan. */
export async function prepare(flock: FlockUnderTest, definitions: number): Promise<void> {
  await flock.start();
  await waitLive(flock, definitions);
  await flock.stop();
}

/** Runs one log's chaos test end to end and returns its report (the caller prints and judges it). */
export async function runChaos(kind: LogKind, o: ChaosOptions): Promise<ChaosReport> {
  const say = o.say ?? (() => {});
  const started = Date.now();
  const root = mkdtempSync(join(tmpdir(), `flock-chaos-${kind}-`));
  const servers: NatsServer[] = [];
  const nats = async (): Promise<NatsServer> => {
    const server = await startNatsServer();
    servers.push(server);
    return server;
  };
  const flocks: FlockUnderTest[] = [];
  let destination: ChaosDestination | undefined;
  try {
    const definitionsFile = join(root, 'definitions.json');
    const allDefinitionsFile = join(root, 'definitions-all.json');
    writeFileSync(definitionsFile, JSON.stringify(chaosDefinitions()));
    writeFileSync(allDefinitionsFile, JSON.stringify(chaosDefinitions(true)));
    const place = async (name: string): Promise<Place> => {
      const dataDir = join(root, name);
      mkdirSync(dataDir);
      return { dataDir, natsUrl: kind === 'jetstream' ? (await nats()).url : undefined };
    };
    const flockAt = (name: string, p: Place, clock: 'wall' | 'event', file = definitionsFile) => {
      const f = new FlockUnderTest({ dataDir: p.dataDir, natsUrl: p.natsUrl, definitionsFile: file, clock, say, name: `${kind}/${name}` });
      flocks.push(f);
      return f;
    };

    // 1. chaos -------------------------------------------------------------------------------
    const random = new Random(o.seed);
    const workload = chaosWorkload(o.seed, o.events);
    const chaosPlace = await place('chaos');
    const server = servers[0];
    const chaos = flockAt('chaos', chaosPlace, 'event');
    // nats-server restarts in the first third of the load, while Flock runs and publishes (the kills, and the
    // FLOCK_FAULT kills chained from the first one on, keep it restarting most of the time after)
    const natsAt = kind === 'jetstream' ? Array.from({ length: o.natsRestarts }, () => Math.floor(o.events * (0.05 + 0.25 * random.next()))).sort((a, b) => a - b) : [];
    const killAt = Array.from({ length: o.kills }, () => Math.floor(o.events * (0.35 + 0.6 * random.next()))).sort((a, b) => a - b);
    let natsRestarts = 0;
    // the deliberate kill points (FLOCK_FAULT), one per start from the first random kill on
    // (and, with the destination, a kill inside delivery: a slice acknowledged by the receiver, its cursor not yet committed)
    const faults = [...(o.faults ?? DEFAULT_FAULTS)];
    if (o.destination !== false) faults.splice(1, 0, 'delivered:1');
    await chaos.start();
    await waitLive(chaos, DEFINITIONS);
    // the destination, connected before the first event (nothing to backfill): its delivery thread is killed with every kill of Flock
    if (o.destination !== false) destination = await connectDestination(chaos, o.seed);
    say(`${kind}: load of ${workload.events} events, ${killAt.length} kills, ${natsAt.length} nats-server restarts`);
    let natsBusy: Promise<void> = Promise.resolve();
    // (no kill of Flock while nats-server is down: a start that fails then would say nothing about Flock)
    let natsDown = false;
    const load = await drive(workload.batches, {
      url: () => chaos.url,
      writeKey: WRITE_KEY,
      concurrency: o.concurrency ?? 4,
      paceMs: o.paceMs ?? 0,
      onAcked: (acked) => {
        // (a kill waits until Flock is ready again, and a start with a FLOCK_FAULT gets 3 s to reach it)
        const { readyForMs, fault } = chaos.readiness();
        if (killAt.length > 0 && acked >= killAt[0]! && chaos.ready && (!fault || readyForMs > 3_000) && !natsDown && natsAt.length === 0) {
          killAt.shift();
          chaos.kill9();
          // the deliberate kill points follow the first kill, one start after another (a point not reached before a random kill is tried again)
          chaos.faults.push(...faults.splice(0));
        }
        // (a restart of nats-server while Flock runs: what Flock must ride out)
        if (natsAt.length > 0 && acked >= natsAt[0]! && server !== undefined && chaos.ready && !natsDown) {
          natsAt.shift();
          const hard = natsRestarts++ % 2 === 1;
          const downMs = 500 + random.int(0, 2_000);
          say(`${kind}: nats-server ${hard ? 'kill -9' : 'TERM'}, down ${downMs} ms`);
          natsDown = true;
          natsBusy = natsBusy.then(async () => {
            await (hard ? server.kill() : server.stop());
            await sleep(downMs);
            await server.restart();
            natsDown = false;
          });
        }
      },
    });
    await natsBusy;
    // what the load ended before (each waits for Flock to be ready): the kills and nats-server restarts still due
    for (let remaining = killAt.length; remaining > 0; ) {
      await chaos.whenReady();
      await sleep(random.int(0, 500));
      if (chaos.kill9()) remaining--;
      chaos.faults.push(...faults.splice(0));
      await sleep(200);
    }
    for (const _ of natsAt) {
      if (server === undefined) break;
      await chaos.whenReady();
      const hard = natsRestarts++ % 2 === 1;
      say(`${kind}: nats-server ${hard ? 'kill -9' : 'TERM'} after the load`);
      await (hard ? server.kill() : server.stop());
      await sleep(500 + random.int(0, 2_000));
      await server.restart();
    }
    await waitCaughtUp(chaos);
    let deliveryStatus: Record<string, any> | undefined;
    if (destination !== undefined) {
      await waitDelivered(chaos, destination.destinationId);
      deliveryStatus = await destinationStatus(chaos, destination.destinationId);
    }
    await chaos.stop();
    const logged = await readEvents(chaosPlace);
    const logCheck = checkLog(load.acked, logged.map((e) => e.messageId));
    const changes = await readChanges(chaosPlace);
    let delivery: DeliveryReport | undefined;
    if (destination !== undefined) {
      const identities = readOnlyStore(engineStorePath(chaosPlace.dataDir));
      try {
        const atEnd = (profileId: string) => {
          const record = identities.get()?.identityProfile('spa_default', profileId);
          return { userIds: (record?.ids ?? []).filter(([type]) => type === 'user_id').map(([, value, , , , raw]) => raw ?? value), absorbed: (record?.n ?? 0) > 0 };
        };
        delivery = checkDelivery(destination, changes, workload.batches.flat(), deliveryStatus!, atEnd);
        // (kept: what the receiver got, in arrival order, and the connected changes — to look into a difference)
        if (o.keep === true) {
          const connected = new Set(destination.connections.values());
          writeFileSync(join(root, 'delivery.json'), JSON.stringify({ messages: destination.receiver.messages, changes: changes.filter((c) => connected.has(c.definitionId)) }));
        }
      } finally {
        await identities.close();
      }
    }
    say(`${kind}: ${logged.length} events logged, ${changes.length} changes; the uninterrupted run…`);

    // the uninterrupted run over the same log, in the same order
    const refPlace = await place('reference');
    const reference = flockAt('reference', refPlace, 'event');
    await prepare(reference, DEFINITIONS);
    await appendInOrder(refPlace, logged);
    await reference.start();
    await waitCaughtUp(reference);
    await reference.stop();
    const refChanges = await readChanges(refPlace);

    // 2. backfill: two more definitions, the chaotic Flock killed during their backfill -------
    say(`${kind}: backfill phase`);
    const chaosB = flockAt('chaos-backfill', chaosPlace, 'event', allDefinitionsFile);
    chaosB.faults.push('backfill:1');
    await chaosB.start();
    await waitLive(chaosB, ALL_DEFINITIONS);
    await chaosB.stop();
    const refB = flockAt('reference-backfill', refPlace, 'event', allDefinitionsFile);
    await refB.start();
    await waitLive(refB, ALL_DEFINITIONS);
    await refB.stop();
    const changesB = await readChanges(chaosPlace);
    const refChangesB = await readChanges(refPlace);

    // 3. wall clock: a fresh Flock over a copy of the log, then live load ----------------------
    say(`${kind}: wall-clock phase`);
    const wallPlace = await place('wall');
    await appendInOrder(wallPlace, logged);
    const wall = flockAt('wall', wallPlace, 'wall');
    wall.faults.push('catch-up:1');
    await wall.start();
    await waitLive(wall, DEFINITIONS);
    const liveEvents = o.liveEvents ?? Math.max(5_000, Math.round(o.events / 10));
    // (no timestamp: the event time is when Flock received it)
    const live = chaosWorkload(o.seed + 1, liveEvents, { hot: true }).batches.map((b) => b.map(({ timestamp: _, ...call }) => ({ ...call, messageId: `live-${call.messageId}` }) as SegmentCall));
    // kills after a batch past a checkpoint and right after a commit, one start after another: the events
    // after the checkpoint, tracked before its instant, are replayed after the restart at the restored
    // instant — evaluated live already (a change id must still name one change)
    const wallFaults = ['applied:6', 'committed:4'];
    // and random kills under full load (the engine behind, requests in flight and retried)
    const wallKills = [Math.floor(liveEvents / 5), Math.floor(liveEvents / 2)];
    // JetStream: a producer publishing straight to the stream, events received 10 s ago, between live batches
    const direct = kind === 'jetstream' ? [Math.floor(liveEvents / 2), Math.floor((3 * liveEvents) / 4)] : [];
    let producing = Promise.resolve();
    const wallLoad = await drive(live, {
      url: () => wall.url,
      writeKey: WRITE_KEY,
      concurrency: o.concurrency ?? 4,
      onAcked: (acked) => {
        if (wallKills.length > 0 && acked >= wallKills[0]! && wall.up) {
          wallKills.shift();
          wall.kill9();
          if (wallKills.length === 0) wall.faults.push(...wallFaults.splice(0));
        }
        if (direct.length > 0 && acked >= direct[0]! && wallPlace.natsUrl !== undefined && wall.up) {
          direct.shift();
          say(`${kind}/wall: a direct producer appends ${DIRECT_EVENTS} events received 10 s ago`);
          producing = producing.then(() => produceDirectly(wallPlace, o.seed, acked));
        }
      },
    });
    await producing;
    await waitCaughtUp(wall);
    await wall.stop();
    const wallLogged = await readEvents(wallPlace);
    const wallCheck = checkLog(wallLoad.acked, wallLogged.map((e) => e.messageId));
    const wallChanges = await readChanges(wallPlace);
    const copied = new Set(logged.map((e) => e.messageId));
    const lateInstants = wallChanges.filter((c) => c.cause?.type === 'event' && copied.has(c.cause.messageId) && c.at > workload.lastTimestamp).length;
    const wallCollisions = idCollisions(wallChanges);

    const collisions = idCollisions(changesB);
    const final = compareFinal(finalState(changes), finalState(refChanges));
    const added = new Set(chaosDefinitions(true).definitions.slice(DEFINITIONS).map((d) => `${d['kind'] === 'audience' ? 'aud' : 'tra'}_${d['key']}`));
    const counts = [chaos, chaosB, wall].map((f) => f.counts);
    return {
      log: kind,
      events: workload.events,
      acked: load.acked.size,
      missing: logCheck.missing,
      doubled: logCheck.doubled,
      collisions: collisions.ids,
      collisionExamples: collisions.examples,
      changes: changes.length,
      referenceChanges: refChanges.length,
      vsReference: compareChanges(changes, refChanges),
      finalDifferent: final.different,
      finalExamples: final.examples,
      backfill: {
        vsReference: compareChanges(changesB.slice(changes.length), refChangesB.slice(refChanges.length)),
        finalDifferent: compareFinal(finalState(changesB.filter((c) => added.has(c.definitionId))), finalState(refChangesB.filter((c) => added.has(c.definitionId)))).different,
        faultHit: chaosB.counts.faultKills.length > 0,
      },
      wall: { missing: wallCheck.missing, doubled: wallCheck.doubled, collisions: wallCollisions.ids, collisionExamples: wallCollisions.examples, lateInstants, changes: wallChanges.length },
      delivery,
      randomKills: counts.reduce((n, c) => n + c.randomKills, 0),
      faultKills: counts.flatMap((c) => c.faultKills),
      natsRestarts,
      readyMs: counts.flatMap((c) => c.readyMs),
      failedStarts: counts.reduce((n, c) => n + c.failedStarts, 0) + reference.counts.failedStarts + refB.counts.failedStarts,
      unexpectedExits: [...counts, reference.counts, refB.counts].flatMap((c) => c.unexpectedExits),
      durationMs: Date.now() - started,
    };
  } finally {
    for (const f of flocks) await f.stop().catch(() => {});
    await destination?.receiver.close();
    for (const s of servers) await (o.keep === true ? s.stop() : s.dispose());
    if (o.keep === true) say(`${kind}: kept ${root} (nats stores: ${servers.map((s) => s.storeDir).join(', ')})`);
    else rmSync(root, { recursive: true, force: true });
  }
}
