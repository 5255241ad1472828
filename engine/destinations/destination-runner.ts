/**
 * An event destination's step (webhook, segment, nats): replays queued dead letters, backfills new
 * connections (every current member or value from the engine's published outputs, then the changes
 * after the change-log position the backfill started at), then follows the change log from the
 * destination's cursor, turning each change of a connected definition into Segment messages; a
 * profile that gained an identifier since its values were last sent first gets its current values
 * re-sent to that identifier (identifier-ledger.ts); a profile absorbed by a merge has its last
 * changes sent to the identifiers its values went to (merged-away.ts). The cursor (and backfill progress) is
 * committed only after the receiver acknowledged: at least once.
 */
import { decodeChangeRecord } from '../engine.ts';
import type { Change } from '../runtime/change.ts';
import type { CheckpointStore } from '../store/checkpoint-store.ts';
import { deliver, sendBatch } from './delivery-lanes.ts';
import type { ConnectionRecord, DestinationRecord } from './destination-record.ts';
import { destinationLoop, type RunnerDeps } from './destination-loop.ts';
import type { BackfillState } from './destination-store.ts';
import { profileIdentifiers } from './identifiers.ts';
import { identifierKey, ledgerKeys, newKeys } from './identifier-ledger.ts';
import { mergedAwayMessages } from './merged-away.ts';
import { flipMessages, type Computation, type Flip, type Outbound, type ProfileFacts } from './segment-messages.ts';

/** Runs event destination `id` until `signal` aborts or the destination is deleted. */
export function runDestination(space: string, id: string, deps: RunnerDeps, signal: AbortSignal): Promise<void> {
  return destinationLoop(space, id, deps, signal, ({ lanes, persist }) => {
    const target = (d: DestinationRecord) => ({ destinationId: id, destinationName: d.name, space: d.space, names: d.names });
    /**
     * Before a send: the ledger entries it is about to make true, noted ahead (`noted`: what this
     * step noted already). A crash after the receiver's acknowledgement and before the commit
     * leaves them, so a profile merged away meanwhile still knows where its values went.
     */
    const writeAhead = async (sent: ReadonlyMap<string, string[]>, noted: Map<string, string>): Promise<void> => {
      const fresh = new Map<string, string[]>();
      for (const [profileId, keys] of sent) {
        const text = keys.join('\n');
        if (noted.get(profileId) === text) continue;
        noted.set(profileId, text);
        fresh.set(profileId, keys);
      }
      await deps.store.noteAttempted(id, fresh);
    };
    /** An absorbed profile's ledger: what was committed, and what a send that was never committed may have reached (kept from now on). */
    const ledgerOf = (sent: Map<string, string[]>, profileId: string): readonly string[] | undefined => {
      const ledger = sent.get(profileId) ?? deps.store.sentIdentifiers(id, profileId);
      const attempted = deps.store.attemptedIdentifiers(id, profileId);
      if (attempted === undefined || attempted.every((k) => ledger?.includes(k) === true)) return ledger;
      const all = [...new Set([...(ledger ?? []), ...attempted])].sort();
      sent.set(profileId, all);
      return all;
    };

    const backfillPage = async (d: DestinationRecord, engine: CheckpointStore, c: ConnectionRecord, state: BackfillState): Promise<void> => {
      const computation = computationOf(deps, c);
      const rows = computation === undefined ? [] : engine.outputs(d.space, c.definitionId, { ...(state.after === null ? {} : { after: state.after }), limit: deps.backfillPage });
      if (rows.length === 0) return persist({ backfills: [[c.id, { ...state, done: true }]] });
      const facts = factsReader(engine, d.space, [c]);
      const connections = deps.store.connections(id);
      const outbound: Outbound[] = [];
      const sent = new Map<string, string[]>();
      for (const row of rows) {
        if (computation!.target === 'USERS' && facts(row.profileId).graph === true) sent.set(row.profileId, ledgerKeys(facts(row.profileId).identifiers, connections));
        const flip: Flip = {
          // the same backfill (same start) sent again after a crash repeats its messageIds
          id: `backfill.${state.fromSeq}.${row.profileId}.${row.at}`,
          profileId: row.profileId,
          at: row.at,
          value: computation!.kind === 'audience' ? true : row.value,
          users: computation!.target === 'ACCOUNTS' ? accountUserIds(engine, d.space, row.profileId) : undefined,
        };
        outbound.push(...flipMessages(flip, computation!, c, target(d), facts));
      }
      await writeAhead(sent, new Map());
      await deliver(d, outbound, lanes());
      await persist({ backfills: [[c.id, { ...state, after: rows[rows.length - 1]!.profileId }]], sent });
    };

    // The identifier sweep: the ledger read page by page against the identity graph, so a profile
    // that gained an identifier gets its current values there without waiting for its next change
    // (the change log carries no identity changes). One page per step, alternating with the log.
    let sweepAfter: string | null = null;
    let sweepDueAt = deps.clock() + deps.identifierSweepMs;
    let sweepStartedAt = 0;
    let sweptLast = false;
    const sweepPage = async (d: DestinationRecord, engine: CheckpointStore): Promise<void> => {
      if (sweepAfter === null) sweepStartedAt = deps.clock();
      const page = deps.store.sentPage(id, sweepAfter, deps.backfillPage);
      const connections = deps.store.connections(id);
      const computations = new Map(connections.map((c) => [c.id, computationOf(deps, c)]));
      const sent = new Map<string, string[]>();
      const resends = { engine, d, connections, computations, facts: factsReader(engine, d.space, connections), target: target(d), sent };
      const outbound = page.flatMap(([profileId, previous]) => newIdentifierResends(resends, profileId, previous, undefined));
      await writeAhead(sent, new Map());
      await deliver(d, outbound, lanes());
      const done = page.length < deps.backfillPage;
      await persist(done ? { sent, identifiersCheckedAt: sweepStartedAt } : { sent });
      sweepAfter = done ? null : page[page.length - 1]![0];
      if (done) sweepDueAt = deps.clock() + deps.identifierSweepMs;
    };

    return async (d, engine) => {
      if (!sweptLast && (sweepAfter !== null || deps.clock() >= sweepDueAt) && deps.store.connections(id).every((c) => deps.store.backfill(c.id)?.done === true)) {
        sweptLast = true;
        await sweepPage(d, engine);
        return true;
      }
      sweptLast = false;
      // dead letters the API queued for replay: each is one batch again
      for (const letter of deps.store.replays(id)) {
        const batch = letter.messages.map((m) => ({ messageId: (m as { messageId: string }).messageId, json: JSON.stringify(m) }));
        await sendBatch(d, batch, lanes());
        await deps.store.replayDone(id, letter.id);
        await persist();
        return true;
      }
      let cursor = deps.store.cursor(id);
      if (cursor === undefined) {
        // a new destination starts at the log's end: its connections' backfills send what is current
        cursor = await deps.changeLog.lastSeq();
        await persist({ cursor });
      }
      const connections = deps.store.connections(id);
      const starts = new Map<string, number>();
      for (const c of connections) {
        let state = deps.store.backfill(c.id);
        if (state === undefined) {
          // (read before the outputs are, so every change the backfill may not show comes after it)
          state = { fromSeq: Math.max(cursor, await deps.changeLog.lastSeq()), after: null, done: !c.backfill };
          await persist({ backfills: [[c.id, state]] });
        }
        if (!state.done) {
          await backfillPage(d, engine, c, state);
          return true;
        }
        starts.set(c.id, state.fromSeq);
      }
      const entries = await deps.changeLog.read(cursor + 1, deps.maxRecords);
      if (entries.length === 0) return false;
      // Messages go out in slices: the next slice is built while the previous one is sent, and a
      // slice starts only once the previous one is delivered (a profile's messages stay in order).
      const sliceSize = d.limits.eventsPerRequest * d.limits.concurrency * 2;
      let outbound: Outbound[] = [];
      let inflight: Promise<void> = Promise.resolve();
      const noted = new Map<string, string>();
      const send = async () => {
        const slice = outbound;
        outbound = [];
        await inflight;
        await writeAhead(sent, noted);
        inflight = deliver(d, slice, lanes());
        inflight.catch(() => {}); // (awaited by the next send or below)
      };
      const facts = factsReader(engine, d.space, connections);
      // (one registry read per connection and step, not per change)
      const computations = new Map(connections.map((c) => [c.id, computationOf(deps, c)]));
      // a profile that gained an identifier since its values were last sent: its current values go
      // to the new identifier first (only the connections' identifier types count)
      const sent = new Map<string, string[]>();
      const checked = new Set<string>();
      const resends = { engine, d, connections, computations, facts, target: target(d), sent };
      const awayCtx = { engine, space: d.space, target: target(d), facts, sent, ledger: (p: string) => deps.store.sentIdentifiers(id, p) };
      const resend = (profileId: string, changed: string | undefined) => {
        if (checked.has(profileId)) return;
        checked.add(profileId);
        outbound.push(...newIdentifierResends(resends, profileId, deps.store.sentIdentifiers(id, profileId), changed));
      };

      for (const entry of entries) {
        let changes: Change[];
        try {
          changes = decodeChangeRecord(entry.data);
        } catch (error) {
          deps.onInvalidRecord?.(entry.seq, error as Error);
          continue;
        }
        for (const change of changes) {
          if (change.space !== d.space) continue;
          for (const c of connections) {
            if (c.definitionId !== change.definitionId || entry.seq <= starts.get(c.id)!) continue;
            const computation = computations.get(c.id);
            if (computation === undefined) continue;
            const value = change.kind === 'trait' ? change.value : change.kind === 'enter';
            const away = mergedAwayMessages(awayCtx, change, value, computation, c, ledgerOf(sent, change.profileId));
            if (away !== undefined) {
              // (A's own earlier messages of this step are delivered first: its exit goes in B's lane)
              if (away.messages.length > 0 && outbound.some((o) => o.profileId === change.profileId)) await send();
              // B's values to the identifiers it gained (A's among them), before B's ledger takes A's
              resend(away.survivor, undefined);
              outbound.push(...away.messages);
              continue;
            }
            if (change.collection === 'users') resend(change.profileId, change.definitionId);
            outbound.push(...flipMessages({ id: change.id, profileId: change.profileId, at: change.at, value, users: change.users }, computation, c, target(d), facts));
          }
        }
        if (outbound.length >= sliceSize) await send();
      }
      await send();
      await inflight;
      deps.probe?.('delivered');
      await persist({ cursor: entries[entries.length - 1]!.seq, sent });
      return true;
    };
  });
}

interface ResendContext {
  readonly engine: CheckpointStore;
  readonly d: DestinationRecord;
  readonly connections: readonly ConnectionRecord[];
  readonly computations: ReadonlyMap<string, Computation | undefined>;
  readonly facts: (profileId: string) => ProfileFacts;
  readonly target: Parameters<typeof flipMessages>[3];
  /** the ledger entries to commit with the step's progress (written here). */
  readonly sent: Map<string, string[]>;
}

/**
 * The messages that send a profile's current values (the published outputs) to the identifiers it
 * gained since `previous` (the ledger's entry; undefined: never recorded — it is recorded as it is,
 * nothing re-sent), and the new ledger entry in `ctx.sent`. `changed`: a definition whose change is
 * being sent anyway (it reaches the new identifier itself).
 */
function newIdentifierResends(ctx: ResendContext, profileId: string, previous: readonly string[] | undefined, changed: string | undefined): Outbound[] {
  // (a profile keyed by its identifier, without the identity graph, never gains one)
  if (ctx.facts(profileId).graph !== true) return [];
  const keys = ledgerKeys(ctx.facts(profileId).identifiers, ctx.connections);
  if (previous === undefined) {
    ctx.sent.set(profileId, keys);
    return [];
  }
  const added = newKeys(previous, keys);
  if (added.size === 0) return [];
  ctx.sent.set(profileId, [...new Set([...previous, ...keys])].sort());
  const out: Outbound[] = [];
  for (const c of ctx.connections) {
    if (c.definitionId === changed) continue;
    const computation = ctx.computations.get(c.id);
    const row = computation?.target === 'USERS' ? ctx.engine.output(ctx.d.space, c.definitionId, profileId) : undefined;
    if (row === undefined) continue;
    const flip: Flip = { id: `identifier.${[...added].join(',')}.${row.at}`, profileId, at: row.at, value: computation!.kind === 'audience' ? true : row.value };
    out.push(...flipMessages(flip, computation!, c, ctx.target, ctx.facts, (i) => added.has(identifierKey(i))));
  }
  return out;
}

/** The definition a connection sends (deleted ones too: their last changes still go out). */
export function computationOf(deps: Pick<RunnerDeps, 'registry'>, c: ConnectionRecord): Computation | undefined {
  const record = deps.registry.get(c.space, c.definitionId, { includeDeleted: true });
  return record === undefined ? undefined : { id: record.id, key: record.key, kind: record.kind, target: record.definition.type };
}

/** The users (profile ids) of an account profile, as the engine links them (with or without the identity graph). */
export function accountUserIds(engine: CheckpointStore, space: string, accountProfileId: string): string[] {
  return [...(engine.loadProfileCore(space, accountProfileId)?.links ?? [])];
}

/** Profile facts (identifiers; custom traits only when a connection enriches) read once per step. */
function factsReader(engine: CheckpointStore, space: string, connections: readonly ConnectionRecord[]): (profileId: string) => ProfileFacts {
  const cache = new Map<string, ProfileFacts>();
  const withTraits = connections.some((c) => c.enrichTraits.length > 0);
  return (profileId) => {
    let f = cache.get(profileId);
    if (f === undefined) {
      const record = engine.identityProfile(space, profileId);
      f = {
        identifiers: profileIdentifiers(record === undefined ? undefined : { identityProfile: () => record }, space, profileId),
        graph: record !== undefined,
        traits: withTraits ? (engine.loadProfileCore(space, profileId)?.traits ?? {}) : {},
      };
      cache.set(profileId, f);
    }
    return f;
  };
}
