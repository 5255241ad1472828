/** The changes the engine emits: audience enters/exits and computed-trait value changes, with deterministic ids. */

interface ChangeBase {
  /** deterministic: definition id and version, profile, instant and direction — a replay regenerates it. */
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
 * - `event`: an event applied to the profile at that instant (the last one, when several share it);
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

export function changeId(definitionId: string, version: number, profileId: string, at: number, direction: 'e' | 'x' | 't'): string {
  return `${definitionId}.${version}.${profileId}.${at}.${direction}`;
}
