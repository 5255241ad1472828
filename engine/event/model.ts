/** The normalised internal event: what every Segment call becomes before it is written to the event log. */

export const EVENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type JsonObject = { readonly [key: string]: unknown };

/**
 * One customer event, normalised. Times are epoch milliseconds.
 *
 * - `event` is the track name; page calls become `Page Viewed` (page name in `properties.page_name`),
 *   screen calls `Screen Viewed` (`properties.screen_name`); identify, group and alias carry `null`.
 * - `timestamp` is the corrected event time (`receivedAt − (sentAt − originalTimestamp)`), the time
 *   every window is measured in; `receivedAt` is when Flock accepted it.
 */
export interface FlockEvent {
  readonly space: string;
  readonly type: EventType;
  readonly event: string | null;
  readonly messageId: string;
  readonly userId: string | null;
  readonly anonymousId: string | null;
  readonly groupId: string | null;
  /** alias calls only: the id being aliased. */
  readonly previousId: string | null;
  readonly traits: JsonObject | null;
  readonly properties: JsonObject | null;
  readonly context: JsonObject | null;
  readonly integrations: JsonObject | null;
  readonly timestamp: number;
  readonly receivedAt: number;
  /** the source (write key's source id) the event came from; `sources({exclude})` filters on it. */
  readonly sourceId: string | null;
}

/** An event with every optional field absent (`null`): a track call unless `fields` say otherwise; received when it happened. */
export function eventWith(fields: Partial<FlockEvent> & Pick<FlockEvent, 'space' | 'messageId' | 'timestamp'>): FlockEvent {
  return {
    type: 'track',
    event: null,
    userId: null,
    anonymousId: null,
    groupId: null,
    previousId: null,
    traits: null,
    properties: null,
    context: null,
    integrations: null,
    receivedAt: fields.timestamp,
    sourceId: null,
    ...fields,
  };
}
