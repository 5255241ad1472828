/** RxJS stage: applies resolved batches to the runtime — replay (event time) while catching up, live at the wall clock after. */
import { map, type OperatorFunction } from 'rxjs';
import type { Runtime } from '../runtime/runtime.ts';
import type { ResolvedBatch } from './resolve-profiles.ts';

export interface EvaluateOptions {
  /** the wall clock (virtual in tests). */
  readonly clock: () => number;
  /** a batch whose newest event was received longer ago than this is replayed in event time. */
  readonly catchUpLagMs: number;
  /** event-time mode: every batch is replayed in event time with no cap at the wall clock (never live). */
  readonly eventTime?: boolean;
}

export interface EvaluatedBatch extends ResolvedBatch {
  readonly mode: 'replay' | 'live';
  /** the batch is older than `catchUpLagMs`: the engine is catching up (in event-time mode too). */
  readonly catchingUp: boolean;
  /** the instant each event was applied at (it counts from max(timestamp, instant)). */
  readonly instants: readonly number[];
}

/**
 * Replay keeps the exact instants of history (a backfill or a restart after downtime); live
 * evaluates at the wall clock, so late events count from now and changes come out at once. In
 * event-time mode every batch is replayed: the changes are a function of the log's order alone.
 */
export function evaluateBatch(runtime: Runtime, options: EvaluateOptions): OperatorFunction<ResolvedBatch, EvaluatedBatch> {
  return map((batch) => {
    const now = options.clock();
    const newest = batch.events.length === 0 ? now : batch.events[batch.events.length - 1]!.event.receivedAt;
    const catchingUp = newest < now - options.catchUpLagMs;
    const mode = catchingUp || options.eventTime === true ? 'replay' : 'live';
    const instants: number[] = [];
    if (mode === 'replay') runtime.replay(batch.events, options.eventTime === true ? Number.POSITIVE_INFINITY : now, instants);
    else runtime.live(batch.events, now, instants);
    return { ...batch, mode, catchingUp, instants };
  });
}
