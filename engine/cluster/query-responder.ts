/**
 * The owners' side of the read queries (read-queries.ts): a subscription that answers them from the
 * owner's own store, with the functions one process reads its store with — the identity stage's owner
 * through `identityProfileLocator` / `identityLinkIndex`, a worker through `ProfileReader` and its
 * event index — so an answer is what one process would read of the same state.
 *
 * It decides when an owner answers: from `serveQueries` (subscribed and flushed: the server routes
 * to it) to `stop()` (unsubscribed, then every answer under way finished), which the node calls
 * before it closes the store — a store is never read after its lease is lost and its engine stopped.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { DefinitionRegistry } from '../definitions/registry.ts';
import { profileEvent, readEvents, type EventSource } from '../history/profile-events.ts';
import type { AppendLog } from '../log/append-log.ts';
import type { LoggedEvent } from '../log/event-log.ts';
import { identityLinkIndex, identityProfileLocator } from '../profiles/identity-locator.ts';
import { ProfileReader } from '../profiles/profile-reader.ts';
import type { StoreHandle } from '../profiles/store-handle.ts';
import type { CheckpointStore } from '../store/checkpoint-store.ts';
import { decodeQuery, encodeQuery, QUERY_QUEUE, type EventPage, type OutputCounts, type IdentityQuery, type PartitionQuery, type QueryReply } from './read-queries.ts';
import { decodeResolved } from './resolved-records.ts';

export interface QueryResponder {
  /** Unsubscribes, then waits for the answers under way. */
  stop(): Promise<void>;
}

/** Answers every request on `subjects` (in the query queue group) with `answer`, until `stop()`. */
export async function serveQueries<Q extends IdentityQuery | PartitionQuery>(
  nc: NatsConnection,
  subjects: readonly string[],
  answer: (query: Q) => unknown,
  onError?: (error: unknown) => void,
): Promise<QueryResponder> {
  const underWay = new Set<Promise<void>>();
  const respond = async (data: Uint8Array, reply: (bytes: Uint8Array) => void): Promise<void> => {
    let out: QueryReply;
    try {
      out = { ok: true, value: await answer(decodeQuery<Q>(data)) };
    } catch (error) {
      onError?.(error);
      const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'internal';
      out = { ok: false, code, message: error instanceof Error ? error.message : String(error) };
    }
    reply(encodeQuery(out));
  };
  const subscriptions = subjects.map((subject) =>
    nc.subscribe(subject, {
      queue: QUERY_QUEUE,
      callback: (error, msg) => {
        if (error !== null) return onError?.(error);
        const answering = respond(msg.data, (bytes) => msg.respond(bytes)).catch((e: unknown) => onError?.(e));
        underWay.add(answering);
        void answering.finally(() => underWay.delete(answering));
      },
    }),
  );
  // (the server knows of the subscriptions once this returns: a request sent after is routed here)
  await nc.flush();
  return {
    async stop() {
      for (const s of subscriptions) s.unsubscribe();
      await Promise.allSettled([...underWay]);
    },
  };
}

/** A handle on a store the node has open (the query answerers read it while the node holds it). */
function openHandle(store: CheckpointStore): StoreHandle {
  return { get: () => store, close: async () => {} };
}

/** The identity stage owner's answers: its graph, read as one process reads its engine's graph (users and accounts). */
export function identityAnswers(store: CheckpointStore): (query: IdentityQuery) => Promise<unknown> {
  const handle = openHandle(store);
  const locator = identityProfileLocator(handle);
  const links = identityLinkIndex(handle);
  return async (q) => {
    switch (q.op) {
      case 'locate':
        return locator.locate(q.space, q.collection ?? 'users', q.identifier);
      case 'external_ids':
        return locator.externalIds(q.space, q.collection ?? 'users', { id: q.profileId, firstSeen: q.firstSeen });
      case 'links':
        return links.links(q.space, q.collection ?? 'users', q.profileId, q.limit);
      default:
        throw new UnknownQueryError(q);
    }
  };
}

/**
 * The resolved log read as an event source (the worker's event index points into it: its `seq` is a
 * resolved-log position); records other than events are not events.
 */
export function resolvedEventSource(log: Pick<AppendLog, 'read'>): EventSource {
  return {
    async read(from, max) {
      const out: LoggedEvent[] = [];
      for (const entry of await log.read(from, max)) {
        const r = decodeResolved(entry.data);
        if (r.kind === 'event') out.push({ seq: entry.seq, event: r.event });
      }
      return out;
    },
  };
}

/**
 * A worker's answers: a profile's view through `ProfileReader` (the definitions it computes), the
 * outputs its set's store holds per definition (`set`: its name, so a size counts it once), and
 * its share of a profile's events — the merges and event-index entries its store recorded, the
 * events read back from the resolved log (the API role puts the shares together: remote-profiles.ts).
 */
export function partitionAnswers(store: CheckpointStore, registry: Pick<DefinitionRegistry, 'served'>, resolvedLog: Pick<AppendLog, 'read'>, set?: { readonly name: string; readonly owns: (profileId: string) => boolean }): (query: PartitionQuery) => Promise<unknown> {
  const reader = new ProfileReader(openHandle(store), registry);
  const source = resolvedEventSource(resolvedLog);
  return async (q) => {
    switch (q.op) {
      case 'view':
        return reader.read(q.space, q.profileId) ?? null;
      case 'members':
        return [...new Set(q.profileIds.flatMap((id) => store.events.members(q.space, id).map((m) => m.profileId)))];
      case 'events': {
        const page = store.events.entries(q.space, q.profileIds, q.query);
        const events = await readEvents(source, page.entries.map((e) => e.seq));
        return {
          entries: page.entries.map((e) => {
            const event = events.get(e.seq);
            return { timestamp: e.timestamp, messageId: e.messageId, event: event === undefined ? null : profileEvent(event) };
          }),
          hasMore: page.hasMore,
        } satisfies EventPage;
      }
      case 'sizes': {
        // (the store also keeps rows of the profiles it shadows for their accounts: those are another set's to count)
        const owns = set?.owns ?? (() => true);
        const count = (id: string) => {
          let n = 0;
          for (const row of store.allOutputs(q.space, id)) if (owns(row.profileId) && store.profileView(q.space, row.profileId) !== undefined) n++;
          return n;
        };
        return { set: set?.name ?? '', counts: q.definitionIds.map(count) } satisfies OutputCounts;
      }
      default:
        throw new UnknownQueryError(q);
    }
  };
}

export class UnknownQueryError extends Error {
  readonly code = 'unknown_query';
  constructor(query: never) {
    super(`not a query of this owner: ${JSON.stringify((query as { op?: unknown }).op)}`);
    this.name = 'UnknownQueryError';
  }
}
