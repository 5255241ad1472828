/** The changes the engine emits: audience enters/exits and computed-trait value changes, with deterministic ids. */

interface ChangeBase {
  /** deterministic and unique per change: definition id and version, profile, instant, direction and cause (`changeId`) — a replay regenerates it. */
  readonly id: string;
  readonly space: string;
  readonly collection: 'users' | 'accounts';
  readonly definitionId: string;
  readonly version: number;
  readonly profileId: string;
  /** the event-time instant of the flip (epoch ms). */
  readonly at: number;
  /** account changes: the account's users at that instant (destinations send one call per user). */
  readonly users?: readonly string[];
  /** what made the flip; the engine always sets it (records written before it existed lack it). */
  readonly cause?: ChangeCause;
}

/**
 * Why a change happened, deterministic like its id (a replay regenerates it):
 * - `event`: the event that made this definition change — of the events applied to the profile at
 *   that instant, the latest that touched a node or trait the definition reads (directly or through
 *   the definitions it reads); for a new profile's starting outputs, the event that created it;
 * - `time`: no event — a window edge or a date passed (a timer fired at that instant);
 * - `merge`: identity resolution merged the profile into another (the event whose identifiers linked them);
 * - `version`: a new version of the definition went live and this is the difference to the old one.
 */
export type ChangeCause =
  | { readonly type: 'event'; readonly messageId: string }
  | { readonly type: 'time' }
  | { readonly type: 'merge'; readonly messageId?: string }
  | { readonly type: 'version'; readonly from: number };

/** The cause of every timer-driven change (shared: it carries nothing per change). */
export const TIME_CAUSE: ChangeCause = Object.freeze({ type: 'time' });

/** The cause of a change made at an instant where event `messageId` (or, for null, only time) touched the profile. */
export function causeOf(messageId: string | null): ChangeCause {
  return messageId === null ? TIME_CAUSE : { type: 'event', messageId };
}

export interface MembershipChange extends ChangeBase {
  readonly kind: 'enter' | 'exit';
  readonly audienceKey: string;
}

export interface TraitChange extends ChangeBase {
  readonly kind: 'trait';
  readonly traitKey: string;
  /** undefined → the trait no longer has a value. */
  readonly value: unknown;
  readonly previous: unknown;
}

export type Change = MembershipChange | TraitChange;

/**
 * A change's id: `<definitionId>.<version>.<profileId>.<at>.<direction>.<cause tag>`. Deterministic
 * (a replay regenerates it, so consumers deduplicate on it) and unique per change: one profile is
 * evaluated once per instant, and a second evaluation at the same instant happens only when something
 * new touched it there — a late event, a merge, a version switch, a BATCH run — whose tag differs.
 */
export function changeId(definitionId: string, version: number, profileId: string, at: number, direction: 'e' | 'x' | 't', tag: string): string {
  return `${definitionId}.${version}.${profileId}.${at}.${direction}.${tag}`;
}

/** The tag of a BATCH run's published difference (one run per definition and instant). */
export const RUN_TAG = 'r';

/**
 * The last part of a change id, from its cause: `m<messageId>` (an event), `t` (time), `g` or
 * `g<messageId>` (a merge), `v<from>` (a version switch).
 */
export function causeTag(cause: ChangeCause): string {
  switch (cause.type) {
    case 'event':
      return `m${cause.messageId}`;
    case 'time':
      return 't';
    case 'merge':
      return `g${cause.messageId ?? ''}`;
    case 'version':
      return `v${cause.from}`;
  }
}
