/**
 * The chaos run's destination: a webhook connected to two audiences and a computed trait delivers to
 * a local node:http receiver that is seeded to answer slowly, fail with 5xx, 429 with Retry-After and
 * drop connections after reading; after the run, what the receiver holds is checked against the
 * change log (every change sent, duplicates only under an equal messageId with equal content, the
 * final values per user equal Flock's).
 */
import { deliveryMessageId } from '../../engine/destinations/message-id.ts';
import type { Change } from '../../engine/runtime/change.ts';
import { startReceiver, type Fault, type Receiver } from '../../test/support/receiver.ts';
import { Random } from '../workload/random.ts';
import { finalState } from './check.ts';
import type { FlockUnderTest } from './flock.ts';
import type { SegmentCall } from './workload.ts';

const SPACE = 'spa_default';
const MANAGEMENT_TOKEN = 'dev_management_token';
/** the connected definitions (ids as the definitions file gives them): an event-driven and a trait audience, a computed trait. */
export const CONNECTED = ['aud_viewed_twice_2m', 'aud_pro_plan', 'tra_orders_all'] as const;

export interface DeliveryReport {
  /** changes of the connected definitions on the change log. */
  readonly changes: number;
  /**
   * of those, changes caused by an event that carried the person's user id, of a profile that still
   * holds it at the end: their messageId is known in advance. (A profile merged away later is left
   * out: its changes go to the identifiers it has when they are delivered — none once it is gone.)
   */
  readonly checkable: number;
  /** checkable changes whose message never arrived. */
  readonly undelivered: number;
  readonly messages: number;
  readonly unique: number;
  /** arrivals of a messageId that had arrived before (redeliveries after a kill, a dropped acknowledgement). */
  readonly duplicates: number;
  /** duplicates whose content differs from the first arrival's. */
  readonly duplicatesDiffering: number;
  /** (user, definition) pairs whose last delivered value differs from Flock's final value. */
  readonly finalDifferent: number;
  readonly finalChecked: number;
  /**
   * the same, for users whose profile absorbed another (a merge), counted apart because their values
   * take a longer way: the absorbed profile's changes delivered after the merge reach its former
   * identifiers, then the survivor's values (merged-away.ts; engine/destinations/README.md, "Merges").
   */
  readonly finalDifferentMerged: number;
  readonly mergedExamples: readonly string[];
  readonly examples: readonly string[];
  /** the destination's own counters at the end: requests, retried, dead letters. */
  readonly requests: number;
  readonly retrying: number;
  readonly deadLetters: number;
}

/** The receiver's misbehaviour, seeded: 72 % ok, 10 % slow (50–400 ms), 8 % 503, 5 % 429 (Retry-After 1 s), 5 % connection dropped after the body was read. */
export function chaosFaults(seed: number): (n: number) => Fault {
  const random = new Random(seed);
  return () => {
    const r = random.next();
    if (r < 0.72) return { kind: 'ok' };
    if (r < 0.82) return { kind: 'slow', ms: random.int(50, 400) };
    if (r < 0.9) return { kind: 'status', status: 503 };
    if (r < 0.95) return { kind: 'status', status: 429, retryAfter: '1' };
    return { kind: 'drop-after' };
  };
}

export interface ChaosDestination {
  readonly receiver: Receiver;
  readonly destinationId: string;
  /** connection id → definition id. */
  readonly connections: ReadonlyMap<string, string>;
}

async function manage(url: string, method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const response = await fetch(`${url}/spaces/${SPACE}${path}`, {
    method,
    headers: { authorization: `Bearer ${MANAGEMENT_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as Record<string, any>;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json['data'] as Record<string, any>;
}

/** Starts the receiver and creates the webhook destination with its connections in the running Flock (which then starts its delivery thread). */
export async function connectDestination(flock: FlockUnderTest, seed: number): Promise<ChaosDestination> {
  const receiver = await startReceiver();
  receiver.fault = chaosFaults(seed);
  await flock.whenReady();
  const url = flock.url!;
  const d = (
    await manage(url, 'POST', '/destinations', {
      name: 'chaos-hook',
      kind: 'webhook',
      settings: { url: receiver.url },
      // (Segment's default batch: a slice waits for its slowest request, so small batches cannot keep up at 200,000 events)
      limits: { eventsPerRequest: 500, concurrency: 4 },
      // (never dead-letter in this run: every failure is temporary)
      retry: { maxAttempts: 100, baseMs: 20, maxMs: 1_000 },
    })
  )['destination'] as Record<string, any>;
  const connections = new Map<string, string>();
  for (const definitionId of CONNECTED) {
    const c = (await manage(url, 'POST', `/destinations/${d['id']}/connections`, { definitionId, identify: false, track: true, identifiers: [{ type: 'user_id', strategy: 'first' }], includeAnonymous: false }))['connection'] as Record<string, any>;
    connections.set(String(c['id']), definitionId);
  }
  // (the load starts once delivery runs: its cursor set, nothing to backfill — every later change goes out as a change)
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await destinationStatus(flock, String(d['id']));
    if (status['position'] !== null && status['state'] === 'running') break;
    if (Date.now() > deadline) throw new Error(`the delivery thread did not start: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { receiver, destinationId: String(d['id']), connections };
}

/** The destination's status (through whichever Flock process is up). */
export async function destinationStatus(flock: FlockUnderTest, destinationId: string): Promise<Record<string, any>> {
  for (;;) {
    await flock.whenReady();
    try {
      return (await manage(flock.url!, 'GET', `/destinations/${destinationId}/status`))['status'] as Record<string, any>;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Waits until the destination's cursor is at the change log's end (after the engine caught up), and
 * then for an identifier sweep that started after that: a profile that gained the user id by a merge
 * without a change of its own gets its values there only from the sweep (every 10 s).
 */
export async function waitDelivered(flock: FlockUnderTest, destinationId: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let caughtUpAt: number | undefined;
  for (let seen = 0; ; ) {
    const s = await destinationStatus(flock, destinationId);
    if (caughtUpAt === undefined) {
      seen = s['lag']?.['changes'] === 0 && s['state'] === 'running' ? seen + 1 : 0;
      if (seen >= 2) caughtUpAt = Date.now();
    } else if (s['identifiersCheckedAt'] !== null && Date.parse(s['identifiersCheckedAt']) >= caughtUpAt) return;
    if (Date.now() > deadline) throw new Error(`the destination did not deliver everything in ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const content = (m: Record<string, unknown>): string => {
  const { sentAt: _, ...rest } = m;
  return JSON.stringify(rest);
};

/** A delivered message's value: audience enter true / exit false, a trait's value (null: none). */
function messageValue(m: Record<string, any>, key: string): unknown {
  return m['properties']?.[key] ?? null;
}

/**
 * Checks the receiver's messages against the change log: each change caused by an event that carried
 * the person's user id must have arrived under its deterministic messageId (the connection sends to the
 * first user id; a person has one); duplicates must repeat an earlier arrival exactly; and per user, the
 * last value delivered for each definition (deduplicated, in arrival order) must be Flock's final value.
 */
export function checkDelivery(
  dest: ChaosDestination,
  changes: readonly Change[],
  calls: readonly SegmentCall[],
  status: Record<string, any>,
  /** a profile in the identity graph at the end: its user ids (none: merged away, or never identified), and whether it absorbed other profiles. */
  atEnd: (profileId: string) => { readonly userIds: readonly string[]; readonly absorbed: boolean },
): DeliveryReport {
  const userOf = new Map<string, string>();
  for (const c of calls) if (typeof c['userId'] === 'string') userOf.set(c.messageId, c['userId']);
  const connectionOf = new Map([...dest.connections].map(([connection, definition]) => [definition, connection]));
  const keyOf = (definitionId: string) => definitionId.slice(4);

  // arrivals: first of each messageId, duplicates compared with it
  const first = new Map<string, Record<string, any>>();
  let duplicates = 0;
  let duplicatesDiffering = 0;
  const examples: string[] = [];
  for (const m of dest.receiver.messages) {
    const before = first.get(m['messageId']);
    if (before === undefined) first.set(m['messageId'], m);
    else {
      duplicates++;
      if (content(before) !== content(m)) {
        duplicatesDiffering++;
        if (examples.length < 3) examples.push(`duplicate ${m['messageId']} differs`);
      }
    }
  }

  // every checkable change arrived
  const connected = changes.filter((c) => connectionOf.has(c.definitionId));
  const seen = new Set<string>();
  let checkable = 0;
  let undelivered = 0;
  /** profile → user id, from the changes its own user's events caused. */
  const profileUser = new Map<string, string>();
  for (const c of connected) {
    if (seen.has(c.id)) continue;
    seen.add(c.id);
    const user = c.cause?.type === 'event' ? userOf.get(c.cause.messageId) : undefined;
    if (user === undefined || !atEnd(c.profileId).userIds.includes(user)) continue;
    profileUser.set(c.profileId, user);
    checkable++;
    const id = deliveryMessageId(c.id, dest.destinationId, connectionOf.get(c.definitionId)!, 'track', c.profileId, 'user_id', user);
    if (!first.has(id)) {
      undelivered++;
      if (examples.length < 3) examples.push(`change ${c.id} (${user}) not delivered`);
    }
  }

  // per user: the last value delivered = Flock's final value
  const delivered = new Map<string, unknown>();
  for (const m of first.values()) {
    const key = m['properties']?.['audience_key'] ?? m['properties']?.['trait_key'];
    if (typeof m['userId'] === 'string' && typeof key === 'string') delivered.set(`${m['userId']}/${key}`, messageValue(m, key));
  }
  const final = finalState(connected);
  let finalDifferent = 0;
  let finalDifferentMerged = 0;
  const mergedExamples: string[] = [];
  let finalChecked = 0;
  for (const [profile, user] of profileUser) {
    for (const definitionId of CONNECTED) {
      finalChecked++;
      const flock = final.get(`${SPACE}/${definitionId}/${profile}`);
      const value = delivered.get(`${user}/${keyOf(definitionId)}`);
      const expected = flock === undefined ? (definitionId.startsWith('aud_') ? false : null) : JSON.parse(flock);
      const got = value === undefined ? (definitionId.startsWith('aud_') ? false : null) : value;
      if (JSON.stringify(expected) !== JSON.stringify(got) && atEnd(profile).absorbed) {
        // (counted apart: a merged-away profile's changes go to the identifiers its values went to, merged-away.ts)
        finalDifferentMerged++;
        if (mergedExamples.length < 3) mergedExamples.push(`${user}/${keyOf(definitionId)}: delivered ${JSON.stringify(got)} ≠ Flock ${JSON.stringify(expected)}`);
      } else if (JSON.stringify(expected) !== JSON.stringify(got)) {
        finalDifferent++;
        if (examples.length < 3) examples.push(`${user}/${keyOf(definitionId)}: delivered ${JSON.stringify(got)} ≠ Flock ${JSON.stringify(expected)}`);
      }
    }
  }
  return {
    changes: seen.size,
    checkable,
    undelivered,
    messages: dest.receiver.messages.length,
    unique: first.size,
    duplicates,
    duplicatesDiffering,
    finalDifferent,
    finalDifferentMerged,
    mergedExamples,
    finalChecked,
    examples,
    requests: Number(status['requests'] ?? 0),
    retrying: Number(status['retrying'] ?? 0),
    deadLetters: Number(status['deadLetters'] ?? 0),
  };
}
