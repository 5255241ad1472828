/** The change log's record format: changes as JSON arrays of one `<space>.<partition>` each. */
import type { LogRecord } from '../log/append-log.ts';
import { fnv1a32 } from '../log/partition.ts';
import type { Change } from './change.ts';

/** Changes per change-log record. */
const CHUNK = 500;

/**
 * Change-log records: a JSON array of up to 500 changes of one `<space>.<partition>` (partition by
 * profile, so one profile's changes stay in order on one subject). A record's id is its first
 * change's id and its length: republishing a committed outbox record yields the same records, which
 * the log deduplicates; consumers can also dedupe on each change's own id.
 */
export function encodeChangeRecords(changes: readonly Change[], partitions: number): LogRecord[] {
  const groups = new Map<string, Change[]>();
  for (const c of changes) {
    const key = `${c.space}.${fnv1a32(c.profileId) % partitions}`;
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = []));
    group.push(c);
  }
  const records: LogRecord[] = [];
  for (const [key, group] of groups) {
    for (let i = 0; i < group.length; i += CHUNK) {
      const chunk = group.slice(i, i + CHUNK);
      records.push({
        id: `${chunk[0]!.id}#${chunk.length}`,
        key,
        // (an absent trait value or previous value is left out of the JSON)
        data: Buffer.from(JSON.stringify(chunk)),
      });
    }
  }
  return records;
}

export function decodeChangeRecord(data: Uint8Array): Change[] {
  return JSON.parse(Buffer.from(data).toString('utf8')) as Change[];
}
