/**
 * A process's replica of the shared definitions home (definitions-home.ts): a local
 * `DefinitionRegistry` brought up to the home's newest operation by applying the operations in order,
 * each at the instant it carries — so every replica holds the registry one process would hold after
 * the same management calls, and answers reads (`get`, `list`, `validate`, `computeSet`, …) with one
 * process's code.
 *
 * It decides when a write is answered: `propose` writes the operation as the next one (retrying on
 * the next number when another writer took it), applies the home through it, and answers with what
 * applying it gave — the record, or the registry's own refusal (`RegistryError`, the same code as one
 * process). A read is as fresh as the last `sync` (the API role syncs before each management request).
 *
 * The replica is a cache: its directory is emptied when it opens and rebuilt from the home.
 * Status reports of an engine that computes from it (`reportStatus`) stay in this replica.
 */
import { rmSync } from 'node:fs';
import type { KV } from '@nats-io/kv';
import { DefinitionRegistry, RegistryError, type CreateDefinitionInput, type SeedResult, type UpdateDefinitionInput } from '../definitions/registry.ts';
import type { DefinitionRecord } from '../definitions/registry-record.ts';
import { idPrefixOf, newId } from '../definitions/definition-id.ts';
import { readOp, writeOp, type DefinitionOp } from './definitions-home.ts';

type Outcome = { readonly ok: true; readonly value: DefinitionRecord | SeedResult } | { readonly ok: false; readonly error: RegistryError };

export interface DefinitionsReplicaOptions {
  readonly kv: KV;
  /** the replica's directory (emptied first). */
  readonly path: string;
  /** the instant a proposed operation carries (default `Date.now`). */
  readonly clock?: () => number;
}

export class DefinitionsReplica {
  readonly registry: DefinitionRegistry;
  readonly #kv: KV;
  readonly #clock: () => number;
  /** the operations applied (the home's op.1 … op.<applied>). */
  #applied = 0;
  /** the instant of the operation being applied: the registry's clock. */
  #at = 0;
  /** syncs run one at a time. */
  #chain: Promise<unknown> = Promise.resolve();
  /** outcomes of this replica's own proposals, by operation number, until taken. */
  readonly #awaited = new Map<number, Outcome | null>();

  private constructor(options: DefinitionsReplicaOptions) {
    this.#kv = options.kv;
    this.#clock = options.clock ?? Date.now;
    rmSync(options.path, { recursive: true, force: true });
    this.registry = DefinitionRegistry.open(options.path, { clock: () => this.#at });
  }

  /** Opens the replica and applies the home's operations so far. */
  static async open(options: DefinitionsReplicaOptions): Promise<DefinitionsReplica> {
    const replica = new DefinitionsReplica(options);
    await replica.sync();
    return replica;
  }

  /** The home's operations applied here. */
  get applied(): number {
    return this.#applied;
  }

  /** Applies every operation of the home not applied yet; resolves with the number applied through. */
  sync(): Promise<number> {
    const run = this.#chain.then(() => this.#sync());
    this.#chain = run.catch(() => {});
    return run;
  }

  async #sync(): Promise<number> {
    for (;;) {
      const op = await readOp(this.#kv, this.#applied + 1);
      if (op === undefined) break;
      const outcome = await this.#apply(op);
      this.#applied++;
      if (this.#awaited.has(this.#applied)) this.#awaited.set(this.#applied, outcome);
    }
    return this.#applied;
  }

  async #apply(op: DefinitionOp): Promise<Outcome> {
    this.#at = op.at;
    const r = this.registry;
    try {
      switch (op.op) {
        case 'create':
          return { ok: true, value: await r.create(op.input) };
        case 'update':
          return { ok: true, value: await r.update(op.space, op.id, op.patch) };
        case 'remove':
          return { ok: true, value: await r.remove(op.space, op.id) };
        case 'seed':
          return { ok: true, value: await r.seed(op.entries) };
      }
    } catch (error) {
      // (a refusal is the same in every replica: the operation simply changes nothing)
      if (error instanceof RegistryError) return { ok: false, error };
      throw error;
    }
  }

  /** Writes `op` as the home's next operation and answers with what applying it gave. */
  async #propose(op: DefinitionOp): Promise<DefinitionRecord | SeedResult> {
    for (;;) {
      const n = (await this.sync()) + 1;
      this.#awaited.set(n, null);
      let written: boolean;
      try {
        written = await writeOp(this.#kv, n, op);
      } catch (error) {
        this.#awaited.delete(n);
        throw error;
      }
      if (!written) {
        this.#awaited.delete(n);
        continue;
      }
      while (this.#applied < n) await this.sync();
      const outcome = this.#awaited.get(n);
      this.#awaited.delete(n);
      if (outcome === undefined || outcome === null) throw new Error(`definitions home: operation ${n} was applied without an outcome`);
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    }
  }

  /** `DefinitionRegistry.create` through the home (the id is decided here, as one process decides it). */
  async create(input: CreateDefinitionInput): Promise<DefinitionRecord> {
    const at = this.#clock();
    const id = input.id ?? newId(idPrefixOf(input.kind), at);
    return (await this.#propose({ op: 'create', at, input: { ...input, id } })) as DefinitionRecord;
  }

  async update(space: string, id: string, patch: UpdateDefinitionInput): Promise<DefinitionRecord> {
    return (await this.#propose({ op: 'update', at: this.#clock(), space, id, patch })) as DefinitionRecord;
  }

  async remove(space: string, id: string): Promise<DefinitionRecord> {
    return (await this.#propose({ op: 'remove', at: this.#clock(), space, id })) as DefinitionRecord;
  }

  /** Seeds the home from a definitions file (idempotent, as `DefinitionRegistry.seed`). */
  async seed(entries: Parameters<DefinitionRegistry['seed']>[0]): Promise<SeedResult> {
    return (await this.#propose({ op: 'seed', at: this.#clock(), entries })) as SeedResult;
  }

  async close(): Promise<void> {
    await this.#chain;
    await this.registry.close();
  }
}
