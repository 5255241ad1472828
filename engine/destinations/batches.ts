/** Splits messages into request batches of at most `maxEvents` messages and about `maxBytes` of JSON each. */

/**
 * Greedy, in order: a batch closes when adding the next message would pass either bound. A single
 * message larger than `maxBytes` travels alone (the receiver decides; it is never dropped here).
 */
export function splitBatches<T>(items: readonly T[], maxEvents: number, maxBytes: number, size: (item: T) => number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const n = size(item) + 1;
    if (current.length > 0 && (current.length >= maxEvents || bytes + n > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += n;
  }
  if (current.length > 0) out.push(current);
  return out;
}
