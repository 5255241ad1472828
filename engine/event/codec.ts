/** The msgpackr record codec with shared structures kept in the log's structure registry, and the FlockEvent codec built on it. */
import { Packr, RESERVE_START_SPACE, Unpackr } from 'msgpackr';
import type { Structure, StructureAppend } from '../log/append-log.ts';
import { CorruptRecordError, StructureConflictError } from '../log/log-errors.ts';
import type { FlockEvent } from './model.ts';

/**
 * Record framing: `[FORMAT][needed structures: uint16 BE][msgpack]`. The count lets a reader know,
 * before decoding, whether it must reload the registry (another process may have extended it).
 */
const FORMAT = 1;
const HEADER = 3;

/**
 * Part of the format: ids above 32 take two bytes, and every encoder and decoder of a log must agree.
 * Generous because user-defined property shapes vary; shapes past the limit are encoded inline.
 */
export const MAX_SHARED_STRUCTURES = 1024;

/** Conflicting writers retry; this many conflicts in a row means something is wrong with the registry. */
const MAX_CONFLICTS = 64;

/** Where the registry lives: the log (`AppendLog.structures`). */
export interface StructureSource {
  structures(from: number): Promise<Structure[]>;
}

/**
 * Stores encoded records, together with the registry update they need (if any). Must reject with
 * `StructureConflictError`, storing nothing, when the registry no longer holds `structures.from` entries.
 */
export type RecordWriter<R> = (records: Uint8Array[], structures: StructureAppend | undefined) => Promise<R>;

export interface RecordCodecOptions<T> {
  /** names the record type in errors. */
  readonly name: string;
  /** maps a value to what is stored, e.g. fixing key order so one shape is one structure. */
  readonly normalize?: (value: T) => unknown;
  /** a cheap shape check of a decoded value; a record failing it is corrupt. */
  readonly accept: (value: unknown) => boolean;
}

/** A record needs more structures than this codec has loaded: call `ensure` first. */
export class MissingStructuresError extends Error {
  constructor(
    readonly needed: number,
    readonly loaded: number,
  ) {
    super(`record needs ${needed} shared structures, ${loaded} loaded: call ensure(${needed}) before decoding`);
    this.name = 'MissingStructuresError';
  }
}

/**
 * Encodes and decodes records against one log's append-only list of msgpackr shared structures.
 *
 * - `prepare()` loads the registry; after it `decode` is synchronous (the hot path).
 * - `write(values, writer)` encodes a batch; if the batch introduced structures, they go to the
 *   writer with compare-and-set semantics; on a conflict the codec reloads and encodes again.
 *   Writes that introduce structures are serialised within a codec, so no record is ever stored
 *   before the structures it references.
 * - `required(record)` tells how many structures a record needs; `ensure(n)` reloads until it has them.
 */
export class RecordCodec<T> {
  readonly #source: StructureSource;
  readonly #options: RecordCodecOptions<T>;
  #known: Structure[] = [];
  #packr: Packr;
  /** how many of `#known` the packr was built on; it may hold more (unsaved) while a write is in flight. */
  #packrBase = 0;
  #unpackr: Unpackr;
  #extending: Promise<void> | undefined;
  #loading: Promise<void> | undefined;

  constructor(source: StructureSource, options: RecordCodecOptions<T>) {
    this.#source = source;
    this.#options = options;
    this.#packr = this.#newPackr();
    this.#unpackr = this.#newUnpackr();
  }

  /** structures loaded (and usable by `decode`). */
  get structureCount(): number {
    return this.#known.length;
  }

  async prepare(): Promise<void> {
    await this.#load();
  }

  /** reloads the registry until it holds at least `count` structures; a registry that stays short means corruption. */
  async ensure(count: number): Promise<void> {
    if (count <= this.#known.length) return;
    await this.#load();
    if (count > this.#known.length) {
      throw new CorruptRecordError(
        `a ${this.#options.name} record needs ${count} shared structures but the registry holds ${this.#known.length}`,
      );
    }
  }

  async write<R>(values: readonly T[], writer: RecordWriter<R>): Promise<R> {
    for (let conflicts = 0; ; ) {
      while (this.#extending !== undefined) await this.#extending;
      if (this.#packrBase !== this.#known.length) this.#resetPackr();
      const { records, added } = this.#encode(values);
      if (added.length === 0) return writer(records, undefined);

      const update: StructureAppend = { from: this.#known.length, added };
      let release!: () => void;
      this.#extending = new Promise((resolve) => (release = resolve));
      try {
        const result = await writer(records, update);
        this.#merge(update.from, added);
        return result;
      } catch (error) {
        // the packr holds structures the registry may not have: rebuild it from what is known
        this.#resetPackr();
        if (!(error instanceof StructureConflictError)) throw error;
        if (++conflicts > MAX_CONFLICTS) {
          throw new CorruptRecordError(`${this.#options.name}: ${conflicts} structure registry conflicts in a row`, {
            cause: error,
          });
        }
        await this.#load();
      } finally {
        this.#extending = undefined;
        release();
      }
    }
  }

  /** structures a stored record needs (from its header). */
  required(record: Uint8Array): number {
    this.#checkHeader(record);
    return ((record[1] as number) << 8) | (record[2] as number);
  }

  decode(record: Uint8Array): T {
    const needed = this.required(record);
    if (needed > this.#known.length) throw new MissingStructuresError(needed, this.#known.length);
    let value: unknown;
    try {
      value = this.#unpackr.unpack(record, { start: HEADER });
    } catch (error) {
      throw new CorruptRecordError(`cannot decode a ${this.#options.name} record (${record.length} bytes)`, {
        cause: error,
      });
    }
    if (!this.#options.accept(value)) {
      throw new CorruptRecordError(`a decoded record is not a ${this.#options.name}`);
    }
    return value as T;
  }

  #checkHeader(record: Uint8Array): void {
    if (record.length <= HEADER || record[0] !== FORMAT) {
      throw new CorruptRecordError(
        `not a ${this.#options.name} record: ${record.length} bytes, format byte ${record[0] ?? 'missing'} (expected ${FORMAT})`,
      );
    }
  }

  #encode(values: readonly T[]): { records: Uint8Array[]; added: Structure[] } {
    const packr = this.#packr;
    const before = this.#packrBase;
    const normalize = this.#options.normalize;
    const records: Uint8Array[] = new Array(values.length);
    try {
      for (let i = 0; i < values.length; i++) {
        const value = values[i] as T;
        const record = packr.pack(normalize === undefined ? value : normalize(value), RESERVE_START_SPACE | HEADER);
        const needed = sharedLength(packr);
        record[0] = FORMAT;
        record[1] = needed >> 8;
        record[2] = needed & 0xff;
        records[i] = record;
      }
    } catch (error) {
      this.#resetPackr();
      throw error;
    }
    const added = packrStructures(packr)
      .slice(before, sharedLength(packr))
      .map((keys) => [...keys]);
    return { records, added };
  }

  /** the only way `#known` grows: idempotent for overlapping ranges, which happen when a reload sees our own update. */
  #merge(from: number, structures: readonly Structure[]): void {
    if (from > this.#known.length) {
      throw new CorruptRecordError(`structure registry has a gap: got index ${from}, have ${this.#known.length}`);
    }
    const before = this.#known.length;
    for (let i = Math.max(0, before - from); i < structures.length; i++) {
      this.#known.push([...(structures[i] as Structure)]);
    }
    if (this.#known.length !== before) this.#unpackr = this.#newUnpackr();
  }

  async #load(): Promise<void> {
    if (this.#loading !== undefined) return this.#loading;
    const loading = (async () => {
      const from = this.#known.length;
      const more = await this.#source.structures(from);
      this.#merge(from, more);
    })();
    this.#loading = loading;
    try {
      await loading;
    } finally {
      this.#loading = undefined;
    }
  }

  #resetPackr(): void {
    this.#packr = this.#newPackr();
  }

  #newPackr(): Packr {
    this.#packrBase = this.#known.length;
    return new Packr({
      structures: this.#known.map((keys) => [...keys]),
      maxSharedStructures: MAX_SHARED_STRUCTURES,
      // accept every new shape now; `write` persists them with compare-and-set before the records count
      saveStructures: () => true,
    });
  }

  #newUnpackr(): Unpackr {
    // getStructures (not `structures`) so msgpackr sets up two-byte record ids for structures past 32
    return new Unpackr({
      maxSharedStructures: MAX_SHARED_STRUCTURES,
      getStructures: () => this.#known.map((keys) => [...keys]),
    });
  }
}

/** msgpackr keeps the shared structures on the instance (not in its typings), with `sharedLength` on the array. */
function packrStructures(packr: Packr): Structure[] & { sharedLength?: number } {
  return (packr as unknown as { structures: Structure[] & { sharedLength?: number } }).structures;
}

function sharedLength(packr: Packr): number {
  return packrStructures(packr).sharedLength ?? 0;
}

/** Fixed key order: one structure for every FlockEvent, and decoded events carry exactly these fields. */
function normalizeEvent(e: FlockEvent): unknown {
  return {
    space: e.space,
    type: e.type,
    event: e.event,
    messageId: e.messageId,
    userId: e.userId,
    anonymousId: e.anonymousId,
    groupId: e.groupId,
    previousId: e.previousId,
    traits: e.traits,
    properties: e.properties,
    context: e.context,
    integrations: e.integrations,
    timestamp: e.timestamp,
    receivedAt: e.receivedAt,
    sourceId: e.sourceId,
  };
}

function isFlockEvent(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return typeof e.space === 'string' && typeof e.messageId === 'string' && typeof e.type === 'string' && typeof e.timestamp === 'number';
}

export type EventCodec = RecordCodec<FlockEvent>;

export function createEventCodec(source: StructureSource): EventCodec {
  return new RecordCodec<FlockEvent>(source, { name: 'FlockEvent', normalize: normalizeEvent, accept: isFlockEvent });
}
