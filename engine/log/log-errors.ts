/** The named infrastructure failures of the append logs and their codec. */

/** A log was used after `close()`. */
export class LogClosedError extends Error {
  constructor(what: string) {
    super(`${what}: the log is closed`);
    this.name = 'LogClosedError';
  }
}

/** Opening a log failed: the LMDB environment could not be opened, or NATS could not be reached. */
export class LogOpenError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'LogOpenError';
  }
}

/** An existing stream's configuration cannot serve this log (other subjects, storage or retention). */
export class LogConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogConfigError';
  }
}

/**
 * An append did not complete. Some records may be stored: appending the same records again is safe,
 * because ids dedupe (embedded: always; JetStream: within the duplicate window).
 */
export class LogAppendError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'LogAppendError';
  }
}

/** Reading records, positions or structures failed. */
export class LogReadError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'LogReadError';
  }
}

/** Committing a named position failed. */
export class LogCommitError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'LogCommitError';
  }
}

/**
 * The structure registry no longer holds the count an append expected (another writer extended it);
 * nothing was stored. The codec reloads the registry and encodes again.
 */
export class StructureConflictError extends Error {
  constructor(
    readonly expected: number,
    readonly actual: number | undefined,
  ) {
    super(`structure registry changed: expected ${expected} structures, found ${actual ?? 'more'}`);
    this.name = 'StructureConflictError';
  }
}

/** A stored record cannot be decoded: bad framing, a structure the registry lacks, or not the expected shape. */
export class CorruptRecordError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CorruptRecordError';
  }
}
