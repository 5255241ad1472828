/**
 * fast-check arbitraries for identity: event streams of a few people whose identifiers overlap —
 * anonymous visitors who sign in, several devices per person, a shared device, two people claiming
 * one email, blocked placeholder ids, emails in traits and context.traits — and random identity rules.
 */
import fc from 'fast-check';
import type { FlockEvent } from '../../engine/event/model.ts';
import type { IdentityRulesConfig } from '../../engine/identity/rules.ts';
import { DATE_POOL, EVENT_NAMES, GROUPS, T0 } from './arbitraries.ts';
import { base } from './events.ts';

export const USER_IDS = ['u1', 'u2', 'u3'] as const;
export const ANONYMOUS_IDS = ['a1', 'a2', 'a3', 'a4'] as const;
export const EMAILS = ['e1@example.com', 'E1@Example.com', 'e2@example.com'] as const;
/** Segment's suggested blocked values, and one the random rules may block. */
export const BLOCKED_IDS = ['null', '0000', '-1', 'anonymous'] as const;

/** Who an event says it is: the identifier fields of one call. */
export interface IdentityShape {
  readonly userId: string | null;
  readonly anonymousId: string | null;
  /** where an email goes: identify traits, context.traits, or nowhere. */
  readonly email: { readonly value: string; readonly via: 'traits' | 'context' } | null;
  readonly device: { readonly type: 'ios' | 'android'; readonly id: string; readonly advertisingId: string; readonly adTrackingEnabled: boolean } | null;
  /** a custom identifier in context.externalIds. */
  readonly phone: string | null;
}

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const none = <T>(): fc.Arbitrary<T | null> => fc.constant(null);

/** One call's identifiers: the journey steps that make people merge, refuse to merge, or identify nobody. */
export const identityShapeArb: fc.Arbitrary<IdentityShape> = fc.oneof(
  // an anonymous visitor on a device
  { weight: 4, arbitrary: fc.record({ userId: none<string>(), anonymousId: pick(ANONYMOUS_IDS), email: none<IdentityShape['email']>(), device: none<IdentityShape['device']>(), phone: none<string>() }) },
  // a signed-in user on a device (anonymous → identified; a second device merges; a shared device conflicts)
  { weight: 4, arbitrary: fc.record({ userId: pick(USER_IDS), anonymousId: fc.option(pick(ANONYMOUS_IDS), { freq: 4 }), email: none<IdentityShape['email']>(), device: none<IdentityShape['device']>(), phone: none<string>() }) },
  // an email given on a device, or with a user id (two users claiming one email conflict)
  {
    weight: 3,
    arbitrary: fc.record({
      userId: fc.option(pick(USER_IDS), { freq: 2 }),
      anonymousId: fc.option(pick(ANONYMOUS_IDS), { freq: 3 }),
      email: fc.record({ value: pick(EMAILS), via: fc.constantFrom('traits' as const, 'context' as const) }),
      device: none<IdentityShape['device']>(),
      phone: fc.option(fc.constantFrom('p1', 'p2'), { freq: 3 }),
    }),
  },
  // a mobile device: device id, advertising id when tracking is allowed
  {
    weight: 2,
    arbitrary: fc.record({
      userId: fc.option(pick(USER_IDS), { freq: 2 }),
      anonymousId: pick(ANONYMOUS_IDS),
      email: none<IdentityShape['email']>(),
      device: fc.record({ type: fc.constantFrom('ios' as const, 'android' as const), id: fc.constantFrom('d1', 'D1', 'd2'), advertisingId: fc.constantFrom('ad1', 'ad2'), adTrackingEnabled: fc.boolean() }),
      phone: none<string>(),
    }),
  },
  // placeholder ids that must identify nobody
  { weight: 1, arbitrary: fc.record({ userId: fc.option(pick(BLOCKED_IDS)), anonymousId: fc.oneof(pick(BLOCKED_IDS), pick(ANONYMOUS_IDS)), email: none<IdentityShape['email']>(), device: none<IdentityShape['device']>(), phone: none<string>() }) },
);

const propValue = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: -2, max: 9 }) }, { weight: 1, arbitrary: fc.constantFrom<unknown>('5', 'x', undefined) });
const qValue = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('a', 'b', 'ab', 'ba', 'c') }, { weight: 1, arbitrary: fc.constantFrom<unknown>(['a', 'b'], undefined) });

/** What the call carries besides identity: a track call or an identify with traits the definitions read. */
type Payload =
  | { readonly kind: 'track'; readonly name: string; readonly p: unknown; readonly q: unknown; readonly d: unknown; readonly path: string; readonly blocked: boolean }
  | { readonly kind: 'identify'; readonly traits: Record<string, unknown> }
  | { readonly kind: 'group'; readonly groupId: string; readonly traits: Record<string, unknown> };

const payloadArb: fc.Arbitrary<Payload> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('track' as const),
      name: pick(EVENT_NAMES),
      p: propValue,
      q: qValue,
      d: fc.constantFrom<unknown>(...DATE_POOL, undefined),
      path: fc.constantFrom('/a', '/b/c', '/ab'),
      blocked: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        plan: fc.constantFrom<unknown>('free', 'pro', 'business', null, undefined),
        score: fc.constantFrom<unknown>(1, 5, 9, '7', null, undefined),
        signup: fc.constantFrom<unknown>(...DATE_POOL, undefined),
        flag: fc.constantFrom<unknown>(true, false, undefined),
        city: fc.constantFrom<unknown>('ab', 'c', undefined),
      })
      .map(({ plan, score, signup, flag, city }) => {
        const traits: Record<string, unknown> = {};
        if (plan !== undefined) traits['plan'] = plan;
        if (score !== undefined) traits['score'] = score;
        if (signup !== undefined) traits['signup'] = signup;
        if (flag !== undefined) traits['flag'] = flag;
        if (city !== undefined) traits['address'] = { city };
        return { kind: 'identify' as const, traits };
      }),
  },
);

/** A group call: whoever makes it joins the account (the accounts' `tier` trait is what account definitions read). */
const groupPayloadArb: fc.Arbitrary<Payload> = fc
  .record({ groupId: fc.constantFrom(...GROUPS), tier: fc.constantFrom<unknown>('gold', 'silver', 'bronze', null, undefined) })
  .map(({ groupId, tier }) => ({ kind: 'group' as const, groupId, traits: tier === undefined ? {} : { tier } }));

export function identityEvent(shape: IdentityShape, payload: Payload, timestamp: number): FlockEvent {
  const context: Record<string, unknown> = {};
  if (payload.kind === 'group') {
    if (shape.device !== null) context['device'] = { ...shape.device };
    return base({ type: 'group', event: null, userId: shape.userId, anonymousId: shape.anonymousId, groupId: payload.groupId, traits: { ...payload.traits }, context: Object.keys(context).length === 0 ? null : context, timestamp });
  }
  let traits: Record<string, unknown> | null = null;
  if (payload.kind === 'identify') traits = { ...payload.traits };
  if (shape.email !== null) {
    if (shape.email.via === 'traits') traits = { ...(traits ?? {}), email: shape.email.value };
    else context['traits'] = { email: shape.email.value };
  }
  if (shape.device !== null) context['device'] = { ...shape.device };
  if (shape.phone !== null) context['externalIds'] = [{ id: shape.phone, type: 'phone', collection: 'users', encoding: 'none' }];
  // An email in traits needs an identify call (track calls carry no traits).
  const identify = payload.kind === 'identify' || shape.email?.via === 'traits';
  if (identify) return base({ type: 'identify', userId: shape.userId, anonymousId: shape.anonymousId, traits, context: Object.keys(context).length === 0 ? null : context, timestamp });
  const p = payload.kind === 'track' ? payload : null;
  const properties: Record<string, unknown> = {};
  if (p?.p !== undefined) properties['p'] = p.p;
  if (p?.q !== undefined) properties['q'] = p.q;
  if (p?.d !== undefined) properties['d'] = p.d;
  context['page'] = { path: p?.path ?? '/a' };
  return base({
    type: 'track',
    event: p?.name ?? 'A',
    userId: shape.userId,
    anonymousId: shape.anonymousId,
    properties,
    context,
    sourceId: p?.blocked === true ? 'src_blocked' : 'src_ok',
    timestamp,
  });
}

/** One input step: an event, or a clock tick. */
export type IdentityStep = { readonly kind: 'event'; readonly event: FlockEvent } | { readonly kind: 'tick'; readonly dt: number };

/**
 * Streams like the oracle test's (mostly increasing, some late, some from the future, ticks), with
 * every timestamp distinct: two profiles' events at one instant have no defined order across a merge.
 * Distinct by construction — an event's millisecond offset is its index.
 */
export const identityStepsArb: fc.Arbitrary<IdentityStep[]> = identitySteps(payloadArb);

/** The same journeys with group calls mixed in: people join accounts, also before or after they merge. */
export const identityAccountStepsArb: fc.Arbitrary<IdentityStep[]> = identitySteps(fc.oneof({ weight: 3, arbitrary: payloadArb }, { weight: 1, arbitrary: groupPayloadArb }));

function identitySteps(payloads: fc.Arbitrary<Payload>): fc.Arbitrary<IdentityStep[]> {
  return fc
    .array(
      fc.oneof(
        {
          weight: 8,
          arbitrary: fc.record({
            shape: identityShapeArb,
            payload: payloads,
            dt: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 20 }) }, { weight: 1, arbitrary: fc.integer({ min: -60, max: -1 }) }, { weight: 1, arbitrary: fc.integer({ min: 21, max: 50 }) }),
          }),
        },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 40 }).map((tick) => ({ tick })) },
      ),
      { minLength: 4, maxLength: 35, size: 'max' },
    )
    .map((raw) => {
      let clock = T0;
      const steps: IdentityStep[] = [];
      raw.forEach((r, i) => {
        if ('tick' in r) {
          steps.push({ kind: 'tick', dt: r.tick * 1000 });
          return;
        }
        const ts = clock + r.dt * 1000 + 1 + i;
        if (r.dt > 0 && r.dt <= 20) clock += r.dt * 1000;
        steps.push({ kind: 'event', event: identityEvent(r.shape, r.payload, ts) });
      });
      return steps;
    });
}

/** Identity rules: Segment's defaults, or tight limits (some windowed, in seconds) that make every rule fire in 35 events. */
export const identityRulesArb: fc.Arbitrary<IdentityRulesConfig> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({}) },
  // Segment's defaults but a short user_id window: merges of users whose ids left the window are merge protection's to refuse.
  { weight: 1, arbitrary: fc.boolean().map((mergeProtection): IdentityRulesConfig => ({ identifiers: { user_id: { limit: 1, window: 5_000 } }, mergeProtection })) },
  {
    weight: 3,
    arbitrary: fc
      .record({
        userIdLimit: fc.constantFrom(1, 1, 2),
        userIdWindow: fc.option(fc.constantFrom(5_000, 30_000), { freq: 3 }),
        anonymousLimit: fc.integer({ min: 1, max: 3 }),
        anonymousWindow: fc.option(fc.constantFrom(20_000, 60_000), { freq: 2 }),
        emailLimit: fc.constantFrom(1, 2, 5),
        maxMerges: fc.integer({ min: 1, max: 4 }),
        maxIdentifiers: fc.integer({ min: 2, max: 8 }),
        mergeProtection: fc.boolean(),
        blockA4: fc.boolean(),
        phonePriority: fc.option(fc.constantFrom(1, 3), { freq: 2 }),
        disableIdfa: fc.boolean(),
      })
      .map((r): IdentityRulesConfig => ({
        identifiers: {
          user_id: r.userIdWindow === null ? { limit: r.userIdLimit } : { limit: r.userIdLimit, window: r.userIdWindow },
          anonymous_id: r.anonymousWindow === null ? { limit: r.anonymousLimit } : { limit: r.anonymousLimit, window: r.anonymousWindow },
          email: { limit: r.emailLimit },
          ...(r.phonePriority === null ? {} : { phone: { priority: r.phonePriority } }),
          ...(r.disableIdfa ? { 'ios.idfa': { enabled: false } } : {}),
        },
        ...(r.blockA4 ? { blocked: [{ pattern: '^[0-]*$' }, { exact: '-1' }, { exact: 'null' }, { exact: 'anonymous' }, { exact: 'A4' }] } : {}),
        maxMerges: r.maxMerges,
        maxIdentifiers: r.maxIdentifiers,
        mergeProtection: r.mergeProtection,
      })),
  },
);
