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
