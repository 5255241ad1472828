/**
 * An export as a sequence of text chunks (header first), each a bounded slice of the file: the
 * consumer writes a chunk, waits for the sink to drain and asks for the next, so memory stays flat
 * whatever the export's size. Every row comes from the one snapshot the caller holds.
 */
import type { StoreSnapshot } from '../store/store-snapshot.ts';
import { csvLayout } from './csv-layout.ts';
import type { ExportOptions } from './export-format.ts';
import { needsIdentifierCounts } from './export-format.ts';
import { exportProfiles, identifierCounts, type ExportProgress, type ExportSource } from './export-profiles.ts';

/** Bytes per chunk (64 KiB, ~500 rows): the API's event loop is never held for more than a few milliseconds per chunk. */
export const CHUNK_BYTES = 64 * 1024;

export interface CsvChunk {
  /** UTF-8 bytes of whole lines (a fresh buffer: the consumer may keep it). */
  readonly bytes: Buffer;
  /** the definition's members read so far. */
  readonly members: number;
}

/**
 * Lines are encoded into a chunk buffer as they are made (no string of the whole chunk, no second
 * copy when it is written); a line that might not fit (3 bytes per UTF-16 unit at most) starts the next.
 */
export function* csvChunks(snap: StoreSnapshot, kind: 'audience' | 'trait', options: ExportOptions, source: ExportSource, chunkBytes = CHUNK_BYTES): Generator<CsvChunk> {
  const counts = needsIdentifierCounts(options) ? identifierCounts(snap, source) : new Map<string, number>();
  const layout = csvLayout(kind, options, counts);
  const progress: ExportProgress = { members: 0 };
  let buffer = Buffer.allocUnsafe(Math.max(chunkBytes, layout.header.length * 3));
  let used = buffer.write(layout.header, 0);
  for (const p of exportProfiles(snap, source, progress)) {
    const line = layout.lines(p);
    if (used + line.length * 3 > buffer.length) {
      if (used > 0) yield { bytes: buffer.subarray(0, used), members: progress.members - 1 };
      buffer = Buffer.allocUnsafe(Math.max(chunkBytes, line.length * 3));
      used = 0;
    }
    used += buffer.write(line, used);
  }
  yield { bytes: buffer.subarray(0, used), members: progress.members };
}
