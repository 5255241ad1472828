/**
 * The distributed mode's shared home of definitions (issue 18): the JetStream KV bucket
 * `flock_definitions`, replicated like the lease bucket, holding the registry's **operations** in
 * the order they were accepted — `op.1`, `op.2`, … — each written once with compare-and-set
 * (`create` of the next key: two writers racing for one number, one wins, the other reads the new
 * operation and tries the next).
 *
 * Why operations, not records: the single process's registry (engine/definitions/registry.ts)
 * decides everything a definition's answers show — its id, versions, statuses, creation order,
 * reserved keys, validation against the space's other definitions — in one LMDB transaction. Every
 * process of the cluster that needs definitions keeps a replica of that registry
 * (definitions-replica.ts) and applies the same operations in the same order with the instant the
 * operation carries: the same registry, byte for byte, in every process, with one process's code.
 * An operation the registry refuses (a taken key, a query with diagnostics) is refused alike
 * everywhere, so it is written as it was proposed and its refusal is the proposer's answer.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, StorageType, jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { CreateDefinitionInput, SeedEntry, UpdateDefinitionInput } from '../definitions/registry.ts';

export const DEFINITIONS_BUCKET = 'flock_definitions';

/** One accepted change of the registry; `at` (epoch ms) is the instant it was made, which every replica applies it at. */
export type DefinitionOp =
  | { readonly op: 'create'; readonly at: number; readonly input: CreateDefinitionInput & { readonly id: string } }
  | { readonly op: 'update'; readonly at: number; readonly space: string; readonly id: string; readonly patch: UpdateDefinitionInput }
  | { readonly op: 'remove'; readonly at: number; readonly space: string; readonly id: string }
  /** a definitions file (`--definitions-file` of the process that seeds the home). */
  | { readonly op: 'seed'; readonly at: number; readonly entries: readonly SeedEntry[] };

/** The key of the n-th operation (n ≥ 1). */
export const opKey = (n: number): string => `op.${n}`;

export async function openDefinitionsBucket(nc: NatsConnection, options: { readonly replicas?: number; readonly timeoutMs?: number; readonly bucket?: string } = {}): Promise<KV> {
  return new Kvm(jetstream(nc, { timeout: options.timeoutMs ?? 5000 })).create(options.bucket ?? DEFINITIONS_BUCKET, {
    history: 1,
    storage: StorageType.File,
    ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
  });
}

/** The n-th operation, or undefined when none was written yet. */
export async function readOp(kv: KV, n: number): Promise<DefinitionOp | undefined> {
  const entry = await kv.get(opKey(n));
  if (entry === null || entry.operation !== 'PUT') return undefined;
  return entry.json<DefinitionOp>();
}

/** Writes `op` as the n-th operation; false when another writer took that number first. */
export async function writeOp(kv: KV, n: number, op: DefinitionOp): Promise<boolean> {
  try {
    await kv.create(opKey(n), JSON.stringify(op));
    return true;
  } catch (error) {
    if (error instanceof JetStreamApiError && (error.code === JetStreamApiCodes.StreamWrongLastSequence || error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)) return false;
    throw error;
  }
}
