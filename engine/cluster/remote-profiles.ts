/**
 * The Profile API's sources in the API role (`--role api`): the same interfaces one process reads its
 * store through (`ProfileFinder`, `ProfileViewReader`, `ProfileEventIndex`, `ProfileLinkIndex`),
 * answered by the owners over NATS request/reply (read-queries.ts) — so the routes, their answers and
 * their error codes are the ones of one process.
 *
 * It decides whom to ask: who is who (an identifier's profile, its external ids, its accounts) the
 * identity stage's owner; a profile's view the worker of its resolved partition
 * (`resolvedPartition(profileId)`, the identity stage's own function); a profile's events every
 * partition holding some of them — the profile and those merged into it keep their event-index
 * entries where they were computed, so the members are gathered partition by partition and each
 * partition's page of entries is merged into one page, exactly as one store's `entries` pages them.
 *
 * Account profiles (`collections/accounts`) the same way: the identity owner finds the account
 * (`group_id:<id>`, its spelling as first seen) and lists its users; the worker of the account
 * profile's partition — where the identity stage sends its group calls and shadows its users
 * (docs/scale.md §8) — holds its view whole.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { LocateResult, ProfileExternalId, ProfileFinder } from '../profiles/profile-locator.ts';
import type { ProfileView, ProfileViewReader } from '../profiles/profile-reader.ts';
import type { ProfileEvent, ProfileEventIndex, ProfileLink, ProfileLinkIndex } from '../profiles/profile-sources.ts';
import {
  ClusterReadError,
  decodeQuery,
  encodeQuery,
  IDENTITY_QUERY_SUBJECT,
  partitionQuerySubject,
  QueryAnswerError,
  type EventPage,
  type EventPageEntry,
  type IdentityQuery,
  type PartitionQuery,
  type QueryReply,
} from './read-queries.ts';
import { resolvedPartition } from './resolved-records.ts';

export interface RemoteProfilesOptions {
  /** the resolved log's partition count (every process of the cluster has the same `--partitions`). */
  readonly partitions: number;
  /** how long a read waits for its owner before it answers unavailable (default 2000 ms). */
  readonly timeoutMs?: number;
}

export interface RemoteProfiles {
  readonly locator: ProfileFinder;
  readonly reader: ProfileViewReader;
  readonly events: ProfileEventIndex;
  readonly links: ProfileLinkIndex;
}

export function remoteProfiles(nc: NatsConnection, options: RemoteProfilesOptions): RemoteProfiles {
  const timeout = options.timeoutMs ?? 2000;
  const ask = async <T>(subject: string, query: IdentityQuery | PartitionQuery, unavailable: ClusterReadError['code'], who: string): Promise<T> => {
    let reply: QueryReply;
    try {
      reply = decodeQuery<QueryReply>((await nc.request(subject, encodeQuery(query), { timeout })).data);
    } catch (error) {
      // (no responders, a timeout, a closed or reconnecting connection: nobody answers for it now)
      throw new ClusterReadError(unavailable, `${who} did not answer (${error instanceof Error ? error.message : String(error)}); retry shortly`, { cause: error });
    }
    if (!reply.ok) throw new QueryAnswerError(reply.code, `${who} failed to answer: ${reply.message}`);
    return reply.value as T;
  };
  const identity = <T>(query: IdentityQuery) => ask<T>(IDENTITY_QUERY_SUBJECT, query, 'identity_unavailable', 'the identity stage');
  const partitionOf = (profileId: string) => resolvedPartition(profileId, options.partitions);
  const partition = <T>(p: number, query: PartitionQuery) => ask<T>(partitionQuerySubject(p), query, 'partition_unavailable', `the worker of partition ${p}`);
  /** `ids` by partition. */
  const byPartition = (ids: Iterable<string>): Map<number, string[]> => {
    const out = new Map<number, string[]>();
    for (const id of ids) {
      const p = partitionOf(id);
      const list = out.get(p);
      if (list === undefined) out.set(p, [id]);
      else list.push(id);
    }
    return out;
  };

  return {
    locator: {
      async locate(space, collection, identifier): Promise<LocateResult> {
        return identity<LocateResult>({ op: 'locate', space, collection, identifier });
      },
      async externalIds(space, collection, profile): Promise<readonly ProfileExternalId[]> {
        return identity<ProfileExternalId[]>({ op: 'external_ids', space, collection, profileId: profile.id, firstSeen: profile.firstSeen });
      },
    },
    reader: {
      async read(space, profileId): Promise<ProfileView | undefined> {
        return (await partition<ProfileView | null>(partitionOf(profileId), { op: 'view', space, profileId })) ?? undefined;
      },
    },
    events: {
      async events(space, profileId, query) {
        // the profile and every profile merged into it: each merge is recorded where its survivor is computed
        const members = new Set([profileId]);
        for (let asking = [profileId]; asking.length > 0; ) {
          const found = await Promise.all([...byPartition(asking)].map(([p, profileIds]) => partition<string[]>(p, { op: 'members', space, profileIds })));
          asking = found.flat().filter((id) => !members.has(id));
          for (const id of asking) members.add(id);
        }
        // each partition's page, then one page (as EventIndex.entries: every share holds its first `limit`)
        const pages = await Promise.all([...byPartition(members)].map(([p, profileIds]) => partition<EventPage>(p, { op: 'events', space, profileIds, query })));
        const sign = query.sort === 'desc' ? -1 : 1;
        const order = (a: EventPageEntry, b: EventPageEntry) => sign * (a.timestamp - b.timestamp || (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0));
        const all = pages.flatMap((page) => page.entries).sort(order);
        const hasMore = pages.some((page) => page.hasMore) || all.length > query.limit;
        const events: ProfileEvent[] = [];
        for (const entry of all.slice(0, query.limit)) if (entry.event !== null) events.push(entry.event);
        return { events, hasMore };
      },
    },
    links: {
      async links(space, collection, profileId, limit): Promise<readonly ProfileLink[]> {
        return identity<ProfileLink[]>({ op: 'links', space, collection, profileId, limit });
      },
    },
  };
}
