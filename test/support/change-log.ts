/** Test support: the changes on a change log, and a canonical form to compare two runs' change logs. */
import { decodeChangeRecord } from '../../engine/engine.ts';
import type { AppendLog } from '../../engine/log/append-log.ts';
import { CHANGE_LOG, openAppendLog } from '../../engine/log/open-event-log.ts';
import type { Change } from '../../engine/runtime/change.ts';

/** Every change on an open change log, in log order. */
export async function changesOn(changeLog: AppendLog): Promise<Change[]> {
  return (await changeLog.read(1, 1e9)).flatMap((e) => decodeChangeRecord(e.data));
}

/** Every change on the embedded change log of `dataDir` (opened and closed here). */
export async function changesOf(dataDir: string): Promise<Change[]> {
  const changeLog = await openAppendLog({ dataDir, log: CHANGE_LOG });
  try {
    return await changesOn(changeLog);
  } finally {
    await changeLog.close();
  }
}

/** The changes as sorted JSON lines: two runs emitted the same changes iff these are equal. */
export const canonical = (cs: readonly Change[]): string[] => cs.map((c) => JSON.stringify(c)).sort();
