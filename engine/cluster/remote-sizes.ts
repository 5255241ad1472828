/**
 * Definition sizes in the API role (`--role api`): a definition's outputs are held by the workers
 * that compute its profiles, each set's share in its own store, so a size is gathered — every
 * resolved partition asked (`flock.query.partition.<p>`, op `sizes`), each partition set's answer
 * counted once by its name (a worker answers for its whole set). A partition without an owner (a
 * standby not yet taken over, a worker replaying) makes the size unknown: `ClusterReadError`
 * `partition_unavailable` (503), never a partial sum.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { ClusterReadError, decodeQuery, encodeQuery, partitionQuerySubject, QueryAnswerError, type OutputCounts, type QueryReply } from './read-queries.ts';

export interface RemoteSizesOptions {
  readonly partitions: number;
  readonly timeoutMs?: number;
}

/** The outputs of each of `definitionIds` over every partition set. */
export type RemoteSizes = (space: string, definitionIds: readonly string[]) => Promise<Map<string, number>>;

export function remoteSizes(nc: NatsConnection, options: RemoteSizesOptions): RemoteSizes {
  const timeout = options.timeoutMs ?? 2000;
  return async (space, definitionIds) => {
    const out = new Map(definitionIds.map((id) => [id, 0]));
    if (definitionIds.length === 0) return out;
    const query = encodeQuery({ op: 'sizes', space, definitionIds });
    const answers = await Promise.all(
      Array.from({ length: options.partitions }, async (_, p) => {
        let reply: QueryReply;
        try {
          reply = decodeQuery<QueryReply>((await nc.request(partitionQuerySubject(p), query, { timeout })).data);
        } catch (error) {
          throw new ClusterReadError('partition_unavailable', `the worker of partition ${p} did not answer (${error instanceof Error ? error.message : String(error)}): a size needs every partition; retry shortly`, { cause: error });
        }
        if (!reply.ok) throw new QueryAnswerError(reply.code, `the worker of partition ${p} failed to answer: ${reply.message}`);
        return reply.value as OutputCounts;
      }),
    );
    const counted = new Set<string>();
    for (const answer of answers) {
      if (counted.has(answer.set)) continue;
      counted.add(answer.set);
      answer.counts.forEach((n, i) => out.set(definitionIds[i]!, out.get(definitionIds[i]!)! + n));
    }
    return out;
  };
}
