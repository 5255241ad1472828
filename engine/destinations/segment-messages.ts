/**
 * The Segment messages one flip (an audience enter/exit or a trait value) becomes for one connection
 * (segment-surface.md §4.2–4.4): Identify with the boolean (or value) named by the key, Track
 * `Audience Entered` / `Audience Exited` / `Trait Computed`, Group for accounts; one call per chosen
 * identifier value, each with a deterministic messageId. Pure: the profile facts are given.
 */
import type { ConnectionRecord, EventNames } from './destination-record.ts';
import { chooseIdentifiers, type ProfileIdentifier } from './identifiers.ts';
import { deliveryMessageId } from './message-id.ts';

export interface Computation {
  readonly id: string;
  readonly key: string;
  readonly kind: 'audience' | 'trait';
  readonly target: 'USERS' | 'ACCOUNTS';
}

/** One flip to send: the change (or a backfilled current value) of one profile. */
export interface Flip {
  /** unique per flip (a change id; a backfill's own tag): the messageIds derive from it. */
  readonly id: string;
  readonly profileId: string;
  readonly at: number;
  /** audience: true (in) / false (out); trait: its value, null when it has none. */
  readonly value: unknown;
  /** an account flip: the account's users (profile ids). */
  readonly users?: readonly string[] | undefined;
}

export interface ProfileFacts {
  readonly identifiers: readonly ProfileIdentifier[];
  /** the identifiers come from the identity graph, so the profile can gain more (false: read off a direct profile id, fixed). */
  readonly graph?: boolean;
  readonly traits: Readonly<Record<string, unknown>>;
}

export interface MessageTarget {
  readonly destinationId: string;
  readonly destinationName: string;
  readonly space: string;
  readonly names: EventNames;
}

export type SegmentMessage = { readonly type: 'identify' | 'track' | 'group'; readonly messageId: string } & Readonly<Record<string, unknown>>;

/** A message and the profile whose order it keeps. */
export interface Outbound {
  readonly profileId: string;
  readonly message: SegmentMessage;
}

export function flipMessages(
  flip: Flip,
  computation: Computation,
  connection: ConnectionRecord,
  target: MessageTarget,
  facts: (profileId: string) => ProfileFacts,
  /** only the calls to identifiers it accepts (a resend to a profile's new identifiers). */
  only?: (identifier: ProfileIdentifier) => boolean,
): Outbound[] {
  const out: Outbound[] = [];
  const personas = {
    computation_class: computation.kind,
    computation_id: computation.id,
    computation_key: computation.key,
    namespace: target.space,
    space_id: target.space,
  };
  const base = { timestamp: new Date(flip.at).toISOString(), integrations: { All: false, [target.destinationName]: true } };
  const id = (...parts: string[]) => deliveryMessageId(flip.id, target.destinationId, connection.id, ...parts);
  const exit = computation.kind === 'audience' && flip.value === false;
  const value = flip.value === undefined ? null : flip.value;

  const userCalls = (profileId: string) => {
    const f = facts(profileId);
    const enrich = pick(f.traits, connection.enrichTraits);
    const userId = first(f.identifiers, 'user_id');
    const anonymousId = first(f.identifiers, 'anonymous_id');
    for (const ident of chooseIdentifiers(f.identifiers, connection, exit)) {
      if (only !== undefined && !only(ident)) continue;
      const who: Record<string, unknown> = {};
      if (ident.type === 'user_id') who['userId'] = ident.value;
      else if (ident.type === 'anonymous_id') who['anonymousId'] = ident.value;
      else if (userId !== undefined) who['userId'] = userId;
      else who['anonymousId'] = anonymousId ?? profileId;
      const contextTraits = ident.type === 'email' ? { email: ident.value } : undefined;
      const externalIds = ident.type === 'user_id' || ident.type === 'anonymous_id' || ident.type === 'email' ? undefined : [{ id: ident.value, type: ident.type, collection: 'users', encoding: 'none' }];
      const context = { personas, ...(externalIds === undefined ? {} : { externalIds }) };
      if (connection.identify) {
        const message = {
          type: 'identify' as const,
          messageId: id('identify', profileId, ident.type, ident.value),
          ...who,
          traits: { ...enrich, ...contextTraits, [computation.key]: value },
          context,
          ...base,
        };
        out.push({ profileId: flip.profileId, message });
      }
      if (connection.track) {
        const event = computation.kind === 'trait' ? target.names.computed : exit ? target.names.exited : target.names.entered;
        const properties = computation.kind === 'trait' ? { ...enrich, trait_key: computation.key, [computation.key]: value } : { ...enrich, audience_key: computation.key, [computation.key]: value };
        const message = {
          type: 'track' as const,
          messageId: id('track', profileId, ident.type, ident.value),
          ...who,
          event,
          properties,
          context: { ...context, ...(contextTraits === undefined ? {} : { traits: contextTraits }) },
          ...base,
        };
        out.push({ profileId: flip.profileId, message });
      }
    }
  };

  if (computation.target === 'ACCOUNTS') {
    if (connection.group) {
      const account = facts(flip.profileId);
      const groupId = first(account.identifiers, 'group_id') ?? flip.profileId;
      const member = (flip.users ?? []).map((u) => first(facts(u).identifiers, 'user_id')).find((u) => u !== undefined);
      const message = {
        type: 'group' as const,
        messageId: id('group', flip.profileId),
        groupId,
        ...(member === undefined ? { anonymousId: flip.profileId } : { userId: member }),
        traits: { ...pick(account.traits, connection.enrichTraits), [computation.key]: value },
        context: { personas },
        ...base,
      };
      out.push({ profileId: flip.profileId, message });
    }
    if (connection.accountUsers) for (const user of flip.users ?? []) userCalls(user);
  } else {
    userCalls(flip.profileId);
  }
  return out;
}

function first(ids: readonly ProfileIdentifier[], type: string): string | undefined {
  let best: ProfileIdentifier | undefined;
  for (const i of ids) if (i.type === type && (best === undefined || i.at < best.at)) best = i;
  return best?.value;
}

function pick(traits: Readonly<Record<string, unknown>>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (Object.hasOwn(traits, k) && traits[k] !== undefined) out[k] = traits[k];
  return out;
}
