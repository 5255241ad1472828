/**
 * A lease on a named resource in a JetStream KV bucket (`flock_leases`): it decides who may act for
 * the resource — a worker for its partition set, later the identity stage for its space — while any
 * number of standbys wait to take it over.
 *
 * - Acquire: `create` the key (compare-and-set on "no entry", or on a released one), or, when the
 *   holder stopped renewing, `update` the entry on the revision that was seen unchanged for its TTL —
 *   so two standbys racing for one expired lease cannot both win.
 * - Renew: the holder rewrites its entry every `renewMs`, each time on the revision it wrote last.
 *   A renewal refused (someone else wrote the entry) loses the lease at once; a holder that cannot
 *   renew for `ttlMs` (NATS unreachable, the process stalled) counts it as lost by itself.
 * - Release: the entry is deleted on its revision (a clean stop hands over without waiting).
 *
 * Expiry — why neither the bucket's max_age nor a stored expiry time decides it: a bucket-wide TTL
 * gives every lease of the bucket one TTL and leaves the moment to the server's expiry timer (per
 * message TTLs need nats-server 2.11; 2.9 is deployed here); a stored expiry time compared with the
 * standby's clock makes correctness depend on two machines' clocks agreeing. Instead a lease is
 * expired when a standby has seen its revision unchanged for the TTL the entry declares, on the
 * standby's own monotonic clock. The holder's own deadline is TTL after it *started* its last
 * successful write, which is before any standby could have seen that write: the holder counts the
 * lease as lost before a standby takes it (clock rates, not clock values, must agree). The entry
 * still carries the holder's id and its wall-clock expiry, for operators reading the bucket.
 *
 * A lease is exclusive in what it decides, not instantaneous: a holder learns of its loss at its
 * next renewal or at its deadline, and stops acting some time after. What a lease guards must
 * tolerate that overlap — a worker's changes and snapshots are deterministic functions of the log.
 */
import { hostname } from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, StorageType, jetstream } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { sleep } from '../log/retry.ts';

export const LEASE_BUCKET = 'flock_leases';

/** What a lease's KV entry holds (JSON). */
export interface LeaseRecord {
  /** who holds it (a process: `host:pid` by default). */
  readonly holder: string;
  /** one acquisition of it: tells the holder's own write from another's after an ambiguous renewal. */
  readonly token: string;
  /** how long a standby waits for a renewal before it takes the lease over. */
  readonly ttlMs: number;
  /** the holder's wall clock at its last renewal plus the TTL: for operators, not for deciding. */
  readonly expiresAt: string;
}

/** Why a holder lost its lease: another wrote the entry (`taken`), it was deleted, or it could not renew in time. */
export type LeaseLostReason = 'taken' | 'deleted' | 'expired';

export interface LeaseOptions {
  readonly kv: KV;
  /** the resource: a KV key (`[-/_=.A-Za-z0-9]`), e.g. `worker.0-7`. */
  readonly name: string;
  /** the holder's id (default `<hostname>:<pid>`). */
  readonly holder?: string;
  /** default 5000 ms. */
  readonly ttlMs?: number;
  /** default a third of the TTL. */
  readonly renewMs?: number;
  /** how often a standby reads the entry (default a quarter of the TTL, at most 500 ms). */
  readonly pollMs?: number;
  /** called once when the lease is lost (not when released). */
  readonly onLost?: (reason: LeaseLostReason) => void;
  /** a failed read or write of the bucket that the lease rides out (it retries); for logs. */
  readonly onError?: (error: unknown) => void;
  /** monotonic clock (ms); tests may pass a virtual one. */
  readonly clock?: () => number;
}

/** Opens (creating) the lease bucket: one entry per resource, history 1, file storage. */
export async function openLeaseBucket(nc: NatsConnection, options: { readonly bucket?: string; readonly replicas?: number; readonly timeoutMs?: number } = {}): Promise<KV> {
  return new Kvm(jetstream(nc, { timeout: options.timeoutMs ?? 5000 })).create(options.bucket ?? LEASE_BUCKET, {
    history: 1,
    storage: StorageType.File,
    ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
  });
}

const KEY = /^[-/_=.A-Za-z0-9]+$/;

function isCasConflict(error: unknown): boolean {
  return error instanceof JetStreamApiError && (error.code === JetStreamApiCodes.StreamWrongLastSequence || error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}

/** The entry's record, or undefined when there is none (never written, deleted, or not a lease record). */
function recordOf(entry: KvEntry | null): LeaseRecord | undefined {
  if (entry === null || entry.operation !== 'PUT') return undefined;
  try {
    const r = entry.json<LeaseRecord>();
    return typeof r?.holder === 'string' && typeof r.token === 'string' && typeof r.ttlMs === 'number' ? r : undefined;
  } catch {
    return undefined;
  }
}

let tokens = 0;

export class Lease {
  readonly name: string;
  readonly holder: string;
  readonly ttlMs: number;
  readonly #o: LeaseOptions;
  readonly #token: string;
  readonly #clock: () => number;
  readonly #renewMs: number;
  readonly #stop = new AbortController();
  #revision = 0;
  /** when the last successful write started (the lease is ours until this + TTL). */
  #validFrom = 0;
  #timer: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;
  #state: 'contending' | 'held' | 'lost' | 'released' = 'contending';

  private constructor(options: LeaseOptions) {
    if (!KEY.test(options.name)) throw new RangeError(`lease name ${JSON.stringify(options.name)} is not a KV key ([-/_=.A-Za-z0-9])`);
    this.#o = options;
    this.name = options.name;
    this.holder = options.holder ?? `${hostname()}:${process.pid}`;
    this.ttlMs = options.ttlMs ?? 5000;
    this.#renewMs = options.renewMs ?? Math.floor(this.ttlMs / 3);
    if (!(this.#renewMs > 0 && this.#renewMs < this.ttlMs)) throw new RangeError(`lease renewal (${this.#renewMs} ms) must be shorter than its TTL (${this.ttlMs} ms)`);
    this.#clock = options.clock ?? (() => performance.now());
    this.#token = `${this.holder}#${process.pid}.${Date.now().toString(36)}.${(tokens++).toString(36)}`;
  }

  /**
   * Waits until the lease is this process's (as a standby meanwhile), then keeps renewing it.
   * Resolves undefined when `signal` aborts first.
   */
  static async acquire(options: LeaseOptions, signal: AbortSignal): Promise<Lease | undefined> {
    const lease = new Lease(options);
    const pollMs = options.pollMs ?? Math.min(500, Math.floor(lease.ttlMs / 4));
    /** the other holder's revision and when this standby first saw it. */
    let seen: { revision: number; since: number } | undefined;
    while (!signal.aborted) {
      try {
        const entry = await options.kv.get(lease.name);
        const record = recordOf(entry);
        if (entry === null || record === undefined) {
          // (free: never taken, released, or unreadable — create is compare-and-set on that state)
          if (await lease.#write(() => (entry === null || entry.operation !== 'PUT' ? options.kv.create(lease.name, lease.#record()) : options.kv.update(lease.name, lease.#record(), entry.revision)))) return lease.#held();
          seen = undefined;
        } else if (record.token === lease.#token) {
          // (our write landed but its answer was lost: renewing it on its revision starts our TTL)
          if (await lease.#write(() => options.kv.update(lease.name, lease.#record(), entry.revision))) return lease.#held();
          seen = undefined;
        } else {
          const now = lease.#clock();
          if (seen?.revision !== entry.revision) seen = { revision: entry.revision, since: now };
          else if (now - seen.since >= record.ttlMs) {
            if (await lease.#write(() => options.kv.update(lease.name, lease.#record(), entry.revision))) return lease.#held();
            seen = undefined;
          }
        }
      } catch (error) {
        options.onError?.(error);
      }
      await sleep(pollMs, signal);
    }
    return undefined;
  }

  /** Whether this process holds the lease now (false once lost or released). */
  get held(): boolean {
    return this.#state === 'held';
  }

  /** The entry's revision this holder wrote last: grows with every renewal and every new holder. */
  get revision(): number {
    return this.#revision;
  }

  /** Aborts when the lease is lost or released: what the holder's work stops on. */
  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  /** Stops renewing and deletes the entry (on its revision: a lease already taken is left alone). */
  async release(): Promise<void> {
    if (this.#state !== 'held') return;
    this.#state = 'released';
    this.#clearTimers();
    this.#stop.abort('released');
    await this.#renewing;
    try {
      await this.#o.kv.delete(this.name, { previousSeq: this.#revision });
    } catch (error) {
      if (!isCasConflict(error)) throw error;
    }
  }

  #record(): string {
    return JSON.stringify({ holder: this.holder, token: this.#token, ttlMs: this.ttlMs, expiresAt: new Date(Date.now() + this.ttlMs).toISOString() } satisfies LeaseRecord);
  }

  /** One compare-and-set write: true when it took, false when another's write came first. */
  async #write(put: () => Promise<number>): Promise<boolean> {
    const started = this.#clock();
    try {
      this.#revision = await put();
    } catch (error) {
      if (isCasConflict(error)) return false;
      throw error;
    }
    this.#validFrom = started;
    return true;
  }

  #held(): this {
    this.#state = 'held';
    this.#armDeadline();
    this.#schedule();
    return this;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#renewing = this.#renew().finally(() => {
        this.#renewing = undefined;
        if (this.#state === 'held') this.#schedule();
      });
    }, this.#renewMs);
  }

  /** Lost by itself TTL after the start of its last successful write. */
  #armDeadline(): void {
    clearTimeout(this.#deadline);
    const left = this.#validFrom + this.ttlMs - this.#clock();
    this.#deadline = setTimeout(() => this.#lose('expired'), Math.max(0, left));
  }

  async #renew(): Promise<void> {
    if (this.#state !== 'held') return;
    try {
      if (await this.#write(() => this.#o.kv.update(this.name, this.#record(), this.#revision))) {
        if (this.#state === 'held') this.#armDeadline();
        return;
      }
      // Refused: someone else wrote the entry — unless it is our own renewal whose answer was lost.
      const entry = await this.#o.kv.get(this.name);
      const record = recordOf(entry);
      if (entry !== null && record?.token === this.#token) this.#revision = entry.revision;
      else this.#lose(record === undefined ? 'deleted' : 'taken');
    } catch (error) {
      // (unreachable: the deadline decides)
      this.#o.onError?.(error);
    }
  }

  #lose(reason: LeaseLostReason): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    this.#clearTimers();
    this.#stop.abort(reason);
    this.#o.onLost?.(reason);
  }

  #clearTimers(): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#deadline);
  }
}
