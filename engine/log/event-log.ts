/** The event log: an AppendLog of encoded FlockEvents, the source of truth every computation replays. */
import type { FlockEvent } from '../event/model.ts';
import type { AppendResult, ReadOptions } from './append-log.ts';
import type { ResolvedInput } from '../cluster/resolved-source.ts';

export interface LoggedEvent {
  readonly seq: number;
  readonly event: FlockEvent;
  /** read off the resolved log (a partitioned worker): the record, resolved and timed by the identity stage. */
  readonly resolved?: ResolvedInput;
}

/**
 * Events in, events out: encodes with the shared-structure codec (engine/event/codec.ts), routes each
 * event to the subject `flock.events.<space>.<partition>` (JetStream) and dedupes on `messageId`
 * (scoped by space).
 */
export interface EventLog {
  readonly kind: 'embedded' | 'jetstream';
  /** resolves once every event is durable. */
  append(events: readonly FlockEvent[]): Promise<AppendResult>;
  read(from: number, max: number): Promise<LoggedEvent[]>;
  tail(from: number, options?: ReadOptions): AsyncIterable<LoggedEvent[]>;
  lastSeq(): Promise<number>;
  position(name: string): Promise<number>;
  commit(name: string, seq: number): Promise<void>;
  /** whether the log's server is reachable (AppendLog.reachable); absent: no server. */
  reachable?(): boolean;
  close(): Promise<void>;
}
