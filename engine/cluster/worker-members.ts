/**
 * Who the live workers are (`--worker-partitions auto`): each worker writes its entry in the KV
 * bucket `flock_workers` every `beatMs`, and reads every entry; a worker is live while its entry's
 * revision keeps changing — seen unchanged for `ttlMs` on this process's own clock, it is gone (the
 * same expiry rule as a lease, lease.ts: no bucket-wide max_age, no comparison of two machines'
 * clocks). A worker that stops cleanly deletes its entry: the others see it gone at their next read.
 * Entries gone stale for ten TTLs are deleted by whoever sees them, so the bucket does not grow with
 * every process that ever ran.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { StorageType, jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';

export const MEMBERS_BUCKET = 'flock_workers';

/** A worker's key in the bucket: its id as base64url (ids such as `host:pid` hold characters keys may not). */
export function memberKey(worker: string): string {
  return `w.${Buffer.from(worker).toString('base64url')}`;
}

export async function openMembersBucket(nc: NatsConnection, options: { readonly replicas?: number; readonly timeoutMs?: number } = {}): Promise<KV> {
  return new Kvm(jetstream(nc, { timeout: options.timeoutMs ?? 5000 })).create(MEMBERS_BUCKET, {
    history: 1,
    storage: StorageType.File,
    ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
  });
}

export class WorkerMembers {
  readonly #kv: KV;
  readonly #self: string;
  readonly #ttlMs: number;
  readonly #clock: () => number;
  /** key → the worker, its revision and when this process first saw that revision. */
  readonly #seen = new Map<string, { worker: string; revision: number; since: number }>();

  constructor(kv: KV, self: string, ttlMs: number, clock: () => number = () => performance.now()) {
    this.#kv = kv;
    this.#self = self;
    this.#ttlMs = ttlMs;
    this.#clock = clock;
  }

  /** Writes this worker's entry (its heartbeat): call every `beatMs`, well within the TTL. */
  async beat(): Promise<void> {
    await this.#kv.put(memberKey(this.#self), JSON.stringify({ worker: this.#self, at: new Date().toISOString() }));
  }

  /** Reads every entry: the live workers (this one always among them), sorted. */
  async live(): Promise<string[]> {
    const now = this.#clock();
    const present = new Set<string>();
    const keys = await this.#kv.keys();
    for await (const key of keys) present.add(key);
    const live = new Set<string>([this.#self]);
    for (const key of present) {
      const entry = await this.#kv.get(key);
      if (entry === null || entry.operation !== 'PUT') continue;
      let worker: string;
      try {
        worker = String((entry.json() as { worker: unknown }).worker);
      } catch {
        continue;
      }
      const seen = this.#seen.get(key);
      if (seen === undefined || seen.revision !== entry.revision) this.#seen.set(key, { worker, revision: entry.revision, since: now });
      const since = this.#seen.get(key)!.since;
      if (now - since < this.#ttlMs) live.add(worker);
      else if (now - since >= 10 * this.#ttlMs) await this.#kv.delete(key, { previousSeq: entry.revision }).catch(() => {});
    }
    for (const key of this.#seen.keys()) if (!present.has(key)) this.#seen.delete(key);
    return [...live].sort();
  }

  /** Deletes this worker's entry (a clean stop: the others rebalance at once). */
  async leave(): Promise<void> {
    await this.#kv.delete(memberKey(this.#self));
  }
}
