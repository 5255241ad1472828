/**
 * Who the live workers are (`--worker-partitions auto`): one entry `members` in the KV bucket
 * `flock_workers` holds each worker's heartbeat counter; every `beatMs` a worker reads it, counts
 * itself up and writes it back by compare-and-set on the revision it read (a conflict: another
 * worker wrote meanwhile — read again). A worker is live while its counter keeps changing — seen
 * unchanged for `ttlMs` on this process's own clock, it is gone (the lease's expiry rule, lease.ts:
 * no bucket-wide max_age, no comparison of two machines' clocks). A worker that stops cleanly takes
 * itself out; one gone for ten TTLs is taken out by whoever sees it. One entry read with a single
 * get — no consumer, so nothing to hang when a node of the cluster dies (a `keys()` listing runs an
 * ordered consumer, which nats.js does not recreate: engine/log/README.md).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, StorageType, jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';

export const MEMBERS_BUCKET = 'flock_workers';
const KEY = 'members';
/** compare-and-set attempts per beat before it waits for the next one. */
const ATTEMPTS = 10;

export async function openMembersBucket(nc: NatsConnection, options: { readonly replicas?: number; readonly timeoutMs?: number } = {}): Promise<KV> {
  return new Kvm(jetstream(nc, { timeout: options.timeoutMs ?? 5000 })).create(MEMBERS_BUCKET, {
    history: 1,
    storage: StorageType.File,
    ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
  });
}

function isCasConflict(error: unknown): boolean {
  return error instanceof JetStreamApiError && (error.code === JetStreamApiCodes.StreamWrongLastSequence || error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}

export class WorkerMembers {
  readonly #kv: KV;
  readonly #self: string;
  readonly #ttlMs: number;
  readonly #clock: () => number;
  /** worker → its counter as last seen, and when this process first saw that value. */
  readonly #seen = new Map<string, { beat: number; since: number }>();

  constructor(kv: KV, self: string, ttlMs: number, clock: () => number = () => performance.now()) {
    this.#kv = kv;
    this.#self = self;
    this.#ttlMs = ttlMs;
    this.#clock = clock;
  }

  /** One heartbeat: this worker counted up in the entry; the live workers (this one always among them), sorted. */
  async beat(): Promise<string[]> {
    return this.#update((beats) => {
      beats[this.#self] = (beats[this.#self] ?? 0) + 1;
      return true;
    });
  }

  /** Takes this worker out of the entry (a clean stop: the others rebalance at their next beat). */
  async leave(): Promise<void> {
    await this.#update((beats) => {
      if (!(this.#self in beats)) return false;
      delete beats[this.#self];
      return true;
    });
  }

  /** Reads the entry, lets `change` edit it (false: nothing to write), writes it on the revision read; the live workers as read. */
  async #update(change: (beats: Record<string, number>) => boolean): Promise<string[]> {
    for (let attempt = 1; ; attempt++) {
      const entry = await this.#kv.get(KEY);
      let beats: Record<string, number> = {};
      if (entry !== null && entry.operation === 'PUT') {
        try {
          beats = entry.json<Record<string, number>>() ?? {};
        } catch {
          beats = {};
        }
      }
      const live = this.#observe(beats);
      if (!change(beats)) return live;
      try {
        const text = JSON.stringify(beats);
        if (entry === null || entry.operation !== 'PUT') await this.#kv.create(KEY, text);
        else await this.#kv.update(KEY, text, entry.revision);
        return live;
      } catch (error) {
        if (!isCasConflict(error) || attempt >= ATTEMPTS) throw error;
      }
    }
  }

  /** The live workers in `beats` (stale ones for ten TTLs removed from it). */
  #observe(beats: Record<string, number>): string[] {
    const now = this.#clock();
    const live = new Set<string>([this.#self]);
    for (const [worker, beat] of Object.entries(beats)) {
      const seen = this.#seen.get(worker);
      if (seen === undefined || seen.beat !== beat) this.#seen.set(worker, { beat, since: now });
      const since = this.#seen.get(worker)!.since;
      if (now - since < this.#ttlMs) live.add(worker);
      else if (now - since >= 10 * this.#ttlMs && worker !== this.#self) delete beats[worker];
    }
    for (const worker of this.#seen.keys()) if (!(worker in beats)) this.#seen.delete(worker);
    return [...live].sort();
  }
}
