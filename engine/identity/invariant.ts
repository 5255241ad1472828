/** Impossible states of the identity graph fail loudly: a broken graph must never be checkpointed. */

export class IdentityInvariantError extends Error {
  constructor(message: string) {
    super(`identity invariant violated: ${message}`);
    this.name = 'IdentityInvariantError';
  }
}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new IdentityInvariantError(message);
}
