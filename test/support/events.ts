/** Builders of normalised FlockEvents for tests. */
import { eventWith, type FlockEvent } from '../../engine/event/model.ts';

let counter = 0;

export function track(userId: string, event: string, ts: number, properties: Record<string, unknown> = {}, extra: Partial<FlockEvent> = {}): FlockEvent {
  return base({ type: 'track', event, userId, timestamp: ts, properties, ...extra });
}
export function identify(userId: string, ts: number, traits: Record<string, unknown>, extra: Partial<FlockEvent> = {}): FlockEvent {
  return base({ type: 'identify', event: null, userId, timestamp: ts, traits, ...extra });
}
export function base(e: Partial<FlockEvent> & { timestamp: number }): FlockEvent {
  return eventWith({ space: 'spa_test', messageId: `m${++counter}`, ...e });
}
