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

/** Characters per chunk (~256 KiB of ASCII). */
export const CHUNK_CHARS = 256 * 1024;

export interface CsvChunk {
  readonly text: string;
  /** the definition's members read so far. */
  readonly members: number;
}

export function* csvChunks(snap: StoreSnapshot, kind: 'audience' | 'trait', options: ExportOptions, source: ExportSource, chunkChars = CHUNK_CHARS): Generator<CsvChunk> {
  const counts = needsIdentifierCounts(options) ? identifierCounts(snap, source) : new Map<string, number>();
  const layout = csvLayout(kind, options, counts);
  const progress: ExportProgress = { members: 0 };
  let text = layout.header;
  for (const p of exportProfiles(snap, source, progress)) {
    text += layout.lines(p);
    if (text.length >= chunkChars) {
      yield { text, members: progress.members };
      text = '';
    }
  }
  yield { text, members: progress.members };
}
