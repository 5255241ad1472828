/** The contract every durable, ordered, replayable log implements (embedded LMDB and NATS JetStream). */

/** One record to append. `id` is the dedupe key (an event's messageId, a change's id). */
export interface LogRecord {
  readonly id: string;
  /** routing key: the JetStream subject suffix, e.g. `<space>.<partition>`; the embedded log stores it. */
  readonly key: string;
  readonly data: Uint8Array;
}

/** A record read back, with its position. Positions start at 1 and grow by one per kept record. */
export interface LogEntry {
  readonly seq: number;
  readonly key: string;
  readonly data: Uint8Array;
}

export interface AppendResult {
  /** position of each input record, in input order; a duplicate gets the position of the copy kept. */
  readonly seqs: readonly number[];
  /** how many input records were dropped as duplicates of an earlier append (or of each other). */
  readonly duplicates: number;
}

/**
 * One msgpackr shared structure: the keys of a record shape. A log keeps an append-only list of them
 * (its structure registry) so every encoder and decoder of its records, in any process, agrees on them.
 */
export type Structure = readonly string[];

/** Structures to add to the registry together with a batch: `added[i]` becomes structure `from + i`. */
export interface StructureAppend {
  readonly from: number;
  readonly added: readonly Structure[];
}

export interface AppendOptions {
  /**
   * Registry update the records depend on. It is stored only if the registry still holds exactly
   * `from` structures (compare-and-set), and before or with the records (embedded: in the same
   * transaction; JetStream: before publishing). Otherwise `append` rejects with
   * `StructureConflictError` and stores nothing.
   */
  readonly structures?: StructureAppend;
}

export interface ReadOptions {
  /** upper bound on records per batch. */
  readonly maxBatch?: number;
  /** aborts a waiting tail. */
  readonly signal?: AbortSignal;
}

/**
 * A durable, ordered, replayable log.
 *
 * - `append` resolves only once every record is durable; the same `id` appended twice keeps one record
 *   (JetStream: inside the stream's duplicate window; embedded: always).
 * - `read` returns up to `max` records with `seq >= from`, in order, without waiting.
 * - `tail` yields batches from `from` on, waiting for new records when caught up, until aborted.
 * - Named consumer positions are durable: `commit(name, seq)` then `position(name)` after a restart
 *   answers `seq`. A never-committed name answers 0.
 */
export interface AppendLog {
  readonly kind: 'embedded' | 'jetstream';
  append(records: readonly LogRecord[], options?: AppendOptions): Promise<AppendResult>;
  read(from: number, max: number): Promise<LogEntry[]>;
  tail(from: number, options?: ReadOptions): AsyncIterable<LogEntry[]>;
  /** position of the newest record, 0 when empty. */
  lastSeq(): Promise<number>;
  position(name: string): Promise<number>;
  commit(name: string, seq: number): Promise<void>;
  /**
   * Whether the log's server is reachable right now (JetStream: the connection is up); a log without
   * a server leaves it out. Readiness reads it: an idle engine does not notice an outage by itself.
   */
  reachable?(): boolean;
  /** the registered structures from index `from` on (every one when 0). */
  structures(from: number): Promise<Structure[]>;
  close(): Promise<void>;
}
