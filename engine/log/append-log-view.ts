/**
 * A view of an AppendLog that decides only what its appends do: reads, tails, positions and
 * structures go to the log underneath, and closing the view leaves that log open (it belongs to
 * whoever opened it). A takeover's muted change log and a warm standby's held-back transfers are
 * such views (engine/cluster/replay-fence.ts, warm-standby.ts).
 */
import type { AppendLog, AppendResult, LogEntry, LogRecord, ReadOptions, Structure } from './append-log.ts';

export abstract class AppendLogView implements AppendLog {
  readonly kind: AppendLog['kind'];

  constructor(readonly log: AppendLog) {
    this.kind = log.kind;
  }

  abstract append(records: readonly LogRecord[]): Promise<AppendResult>;

  read(from: number, max: number): Promise<LogEntry[]> {
    return this.log.read(from, max);
  }

  tail(from: number, options?: ReadOptions): AsyncIterable<LogEntry[]> {
    return this.log.tail(from, options);
  }

  lastSeq(): Promise<number> {
    return this.log.lastSeq();
  }

  position(name: string): Promise<number> {
    return this.log.position(name);
  }

  commit(name: string, seq: number): Promise<void> {
    return this.log.commit(name, seq);
  }

  reachable(): boolean {
    return this.log.reachable?.() ?? true;
  }

  structures(from: number): Promise<Structure[]> {
    return this.log.structures(from);
  }

  /** The log underneath is not the view's: closing the view leaves it open. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
