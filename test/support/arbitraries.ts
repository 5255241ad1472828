/** fast-check arbitraries: random definitions (every condition kind the engine supports) and random event streams. */
import fc from 'fast-check';
import type { Aggregate, ComparatorName, Condition, Duration, EventStream, Filter, Reducer, Scalar } from '../../engine/lang/ast.ts';
import type { FlockEvent } from '../../engine/event/model.ts';
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import { agg, and, audience, between, cmp, computedTrait, count, ctx, event, expiresAfter, instant, lit, not, or, parentProp, prop, seconds, trait, where, within, withinParent } from './ast.ts';
import { base } from './events.ts';

export const T0 = Date.parse('2026-03-01T00:00:00Z');
export const EVENT_NAMES = ['A', 'B', 'C'] as const;
export const PROFILES = ['u1', 'u2', 'u3'] as const;

/** Instants used as date values (traits, properties) and timestamp literals: near the test's timeline. */
export const DATE_POOL = [0, 20, 45, 90, 150].map((s) => new Date(T0 + s * 1000).toISOString());

const durationArb: fc.Arbitrary<Duration> = fc.integer({ min: 1, max: 90 }).map(seconds);

const numberArg = fc.oneof(fc.integer({ min: -1, max: 8 }), fc.constantFrom(2.5, 0.5));
const textArg = fc.constantFrom('a', 'b', 'ab', 'ba', 'c', 'x');
const dateArg = fc.constantFrom(...DATE_POOL).map(instant);

type Kind = 'number' | 'text' | 'date' | 'bool' | 'any';

/** A comparison for a subject of a given kind, with every comparator that makes sense for it. */
function comparisonArb(subject: Scalar, kind: Kind): fc.Arbitrary<Condition> {
  const numeric: fc.Arbitrary<Condition>[] = [
    fc.tuple(fc.constantFrom<ComparatorName>('equals', 'differs', 'greater_than', 'at_least', 'less_than', 'at_most'), numberArg).map(([c, v]) => cmp(subject, c, v)),
    fc.array(numberArg, { minLength: 1, maxLength: 3 }).chain((vs) => fc.constantFrom<ComparatorName>('one_of', 'none_of').map((c) => cmp(subject, c, ...vs))),
  ];
  const textual: fc.Arbitrary<Condition>[] = [
    fc.tuple(fc.constantFrom<ComparatorName>('equals', 'differs', 'starts_with', 'ends_with', 'greater_than', 'less_than'), textArg).map(([c, v]) => cmp(subject, c, v)),
    fc.array(textArg, { minLength: 1, maxLength: 3 }).chain((vs) => fc.constantFrom<ComparatorName>('contains', 'omits', 'one_of', 'none_of').map((c) => cmp(subject, c, ...vs))),
  ];
  const dates: fc.Arbitrary<Condition>[] = [
    fc.tuple(fc.constantFrom<ComparatorName>('before_date', 'after_date'), dateArg).map(([c, v]) => cmp(subject, c, v)),
    fc.tuple(fc.constantFrom<ComparatorName>('within_last', 'within_next', 'before_last', 'after_next'), durationArb).map(([c, d]) => cmp(subject, c, d)),
  ];
  const presence = fc.constantFrom<ComparatorName>('exists', 'absent').map((c) => cmp(subject, c));
  switch (kind) {
    case 'number':
      return fc.oneof({ weight: 4, arbitrary: fc.oneof(...numeric) }, { weight: 1, arbitrary: presence });
    case 'text':
      return fc.oneof({ weight: 4, arbitrary: fc.oneof(...textual) }, { weight: 1, arbitrary: presence });
    case 'date':
      return fc.oneof({ weight: 4, arbitrary: fc.oneof(...dates) }, { weight: 1, arbitrary: presence });
    case 'bool':
      return fc.constantFrom(true, false).map((b) => cmp(subject, 'equals', b));
    case 'any':
      return fc.oneof(...numeric, ...textual, ...dates, presence);
  }
}

/** A `where` condition over one event's properties and context. */
const eventConditionArb: fc.Arbitrary<Condition> = fc.letrec<{ c: Condition }>((tie) => ({
  c: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    comparisonArb(prop('p'), 'number'),
    comparisonArb(prop('q'), 'text'),
    comparisonArb(prop('d'), 'date'),
    comparisonArb(ctx('page.path'), 'text'),
    fc.tuple(tie('c'), tie('c')).map(([a, b]) => and(a, b)),
    fc.tuple(tie('c'), tie('c')).map(([a, b]) => or(a, b)),
    tie('c').map(not),
  ),
})).c;

const windowArb: fc.Arbitrary<Filter | null> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 3, arbitrary: durationArb.map(within) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 60 })).map(([a, w]) => between(seconds(a), seconds(a + w))) },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 40 }).map((g) => expiresAfter(seconds(g))) },
);

const streamArb: fc.Arbitrary<EventStream> = fc
  .tuple(fc.constantFrom(...EVENT_NAMES), fc.option(eventConditionArb, { freq: 2 }), windowArb, fc.boolean())
  .map(([name, cond, window, sources]) => {
    const filters: Filter[] = [];
    if (cond !== null) filters.push(where(cond));
    if (sources) filters.push({ kind: 'sources', exclude: ['src_blocked'] });
    if (window !== null) filters.push(window);
    return event(name, ...filters);
  });

const reducerArb: fc.Arbitrary<[Reducer, Kind]> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<[Reducer, Kind]>([{ kind: 'count' }, 'number']) },
  fc.constantFrom<[Reducer, Kind]>(
    [{ kind: 'sum', of: prop('p') }, 'number'],
    [{ kind: 'avg', of: prop('p') }, 'number'],
    [{ kind: 'min', of: prop('p'), as: 'number' }, 'number'],
    [{ kind: 'max', of: prop('p'), as: 'number' }, 'number'],
    [{ kind: 'min', of: prop('q'), as: 'string' }, 'text'],
    [{ kind: 'max', of: prop('q'), as: 'string' }, 'text'],
    [{ kind: 'first', of: prop('q') }, 'text'],
    [{ kind: 'last', of: prop('p') }, 'number'],
    [{ kind: 'last', of: prop('d') }, 'date'],
    [{ kind: 'first', of: prop('d') }, 'date'],
    [{ kind: 'mode', of: prop('q'), as: 'string', minFrequency: 1 }, 'text'],
    [{ kind: 'mode', of: prop('q'), as: 'string', minFrequency: 2 }, 'text'],
    [{ kind: 'mode', of: prop('q'), as: 'array', minFrequency: 1 }, 'text'],
    [{ kind: 'unique', of: prop('q'), count: true }, 'number'],
  ),
);

/** A session window (`expires_after`) with any reducer. */
const sessionAggregateArb: fc.Arbitrary<[Aggregate, Kind]> = fc
  .tuple(fc.constantFrom(...EVENT_NAMES), fc.integer({ min: 2, max: 40 }), reducerArb)
  .map(([name, g, [r, k]]) => [agg(event(name, expiresAfter(seconds(g))), r), k]);

const plainAggregateArb: fc.Arbitrary<[Aggregate, Kind]> = fc.tuple(streamArb, reducerArb).map(([s, [r, k]]) => [agg(s, r), k]);

/**
 * A nested (funnel) step: `event(name).where(…).within(parent: T).count() <cmp> k`, whose `where` may
 * compare with the parent's properties (dynamic reference) and nest one more step.
 */
const stepArb = (depth: number): fc.Arbitrary<Condition> =>
  fc
    .tuple(
      fc.constantFrom(...EVENT_NAMES),
      fc.integer({ min: 1, max: 60 }),
      fc.oneof(
        { weight: 3, arbitrary: fc.constant<Condition | null>(null) },
        { weight: 2, arbitrary: fc.constant<Condition | null>(cmp(prop('q'), 'equals', parentProp('q'))) },
        { weight: 1, arbitrary: comparisonArb(prop('p'), 'number').map((c): Condition | null => c) },
        ...(depth < 2 ? [{ weight: 1, arbitrary: stepArb(depth + 1).map((c): Condition | null => c) }] : []),
      ),
      fc.constantFrom<'did' | 'did not' | 'not did' | 'twice' | 'at most one'>('did', 'did not', 'not did', 'twice', 'at most one'),
    )
    .map(([name, t, cond, form]) => {
      const child = count(event(name, ...(cond === null ? [] : [where(cond)]), withinParent(seconds(t))));
      switch (form) {
        case 'did':
          return cmp(child, 'at_least', 1);
        case 'did not':
          return cmp(child, 'equals', 0);
        case 'not did':
          return not(cmp(child, 'at_least', 1));
        case 'twice':
          return cmp(child, 'at_least', 2);
        case 'at most one':
          return cmp(child, 'at_most', 1);
      }
    });

/** A root stream whose `where` needs its instances: funnel steps, trait references, parent-free statics. */
const funnelAggregateArb: fc.Arbitrary<[Aggregate, Kind]> = fc
  .tuple(
    fc.constantFrom(...EVENT_NAMES),
    fc.oneof(
      stepArb(1),
      fc.tuple(stepArb(1), eventConditionArb).map(([a, b]) => and(a, b)),
      fc.tuple(stepArb(1), stepArb(1)).map(([a, b]) => or(a, b)),
      fc.constantFrom<ComparatorName>('at_least', 'less_than', 'equals').map((c) => cmp(prop('p'), c, trait('score'))),
      fc.tuple(stepArb(1), fc.constantFrom<ComparatorName>('at_least', 'less_than')).map(([a, c]) => and(a, cmp(prop('p'), c, trait('score')))),
    ),
    fc.oneof(
      { weight: 1, arbitrary: fc.constant<Filter | null>(null) },
      { weight: 3, arbitrary: durationArb.map((d): Filter | null => within(d)) },
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 60 })).map(([a, w]): Filter | null => between(seconds(a), seconds(a + w))) },
    ),
    fc.constantFrom<[Reducer, Kind]>([{ kind: 'count' }, 'number'], [{ kind: 'count' }, 'number'], [{ kind: 'sum', of: prop('p') }, 'number'], [{ kind: 'last', of: prop('q') }, 'text']),
  )
  .map(([name, cond, window, [reducer, kind]]) => [agg(event(name, where(cond), ...(window === null ? [] : [window])), reducer), kind]);

const aggregateArb: fc.Arbitrary<[Aggregate, Kind]> = fc.oneof({ weight: 4, arbitrary: plainAggregateArb }, { weight: 1, arbitrary: funnelAggregateArb });

/**
 * (ACCOUNTS) a reducer over the trait of each event's user, as it is when the event is applied:
 * `event(X).mode(trait('plan'), 1)` (the plan of the most active users), `first(trait('plan'))` …
 * The generated identify calls (and context.traits of some 'A' events) set these traits.
 */
const userTraitAggregateArb: fc.Arbitrary<[Aggregate, Kind]> = fc
  .tuple(
    streamArb, // (plain streams: a user trait is not reduced over funnels)
    fc.constantFrom<[Reducer, Kind]>(
      [{ kind: 'mode', of: trait('plan'), as: 'string', minFrequency: 1 }, 'text'],
      [{ kind: 'mode', of: trait('plan'), as: 'string', minFrequency: 2 }, 'text'],
      [{ kind: 'first', of: trait('plan') }, 'text'],
      [{ kind: 'last', of: trait('plan') }, 'text'],
      [{ kind: 'unique', of: trait('plan'), count: true }, 'number'],
      [{ kind: 'max', of: trait('plan'), as: 'string' }, 'text'],
      [{ kind: 'min', of: trait('score'), as: 'number' }, 'number'],
      [{ kind: 'sum', of: trait('score') }, 'number'],
      [{ kind: 'avg', of: trait('score') }, 'number'],
      [{ kind: 'last', of: trait('signup') }, 'date'],
      [{ kind: 'first', of: trait('address.city') }, 'text'],
    ),
  )
  .map(([s, [r, k]]) => [agg(s, r), k]);

/** An audience condition: aggregates, custom traits, earlier definitions, nested boolean logic (`userTraits`: reducers over user traits too). */
function audienceConditionArb(earlier: readonly DefinitionInput[], userTraits = false): fc.Arbitrary<Condition> {
  const leaves: fc.Arbitrary<Condition>[] = [
    aggregateArb.chain(([a, k]) => comparisonArb(a, k)),
    aggregateArb.chain(([a, k]) => comparisonArb(a, k)),
    ...(userTraits ? [userTraitAggregateArb.chain(([a, k]) => comparisonArb(a, k))] : []),
    comparisonArb(trait('plan'), 'text'),
    comparisonArb(trait('score'), 'number'),
    comparisonArb(trait('signup'), 'date'),
    comparisonArb(trait('flag'), 'bool'),
    comparisonArb(trait('address.city'), 'text'),
  ];
  for (const d of earlier) {
    leaves.push(d.kind === 'audience' ? comparisonArb(trait(d.key), 'bool') : comparisonArb(trait(d.key), 'any'));
  }
  return fc.letrec<{ c: Condition }>((tie) => ({
    c: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      ...leaves,
      fc.tuple(tie('c'), tie('c')).map(([a, b]) => and(a, b)),
      fc.tuple(tie('c'), tie('c')).map(([a, b]) => or(a, b)),
      tie('c').map(not),
    ),
  })).c;
}

/** 1–4 definitions; later ones may reference earlier ones; computed traits included. */
export const definitionsArb: fc.Arbitrary<DefinitionInput[]> = fc.integer({ min: 1, max: 4 }).chain((n) => {
  let acc: fc.Arbitrary<DefinitionInput[]> = fc.constant([]);
  for (let i = 0; i < n; i++) {
    acc = acc.chain((earlier) =>
      fc
        .oneof(
          { weight: 3, arbitrary: audienceConditionArb(earlier).map((c) => audience(`aud_${i}`, c)) },
          { weight: 1, arbitrary: aggregateArb.map(([a]) => computedTrait(`ct_${i}`, a)) },
        )
        .map((d) => [...earlier, d]),
    );
  }
  return acc;
});

const propValue = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -2, max: 9 }) },
  { weight: 1, arbitrary: fc.constantFrom('5', '1.5', 'x', 2.25) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  // sums beyond the double range (no value), and values no numeric reducer counts
  { weight: 1, arbitrary: fc.constantFrom<unknown>(1e308, -1e308, 1e308, Number.POSITIVE_INFINITY, Number.NaN, '1e400') },
);
const qValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'ab', 'ba', 'c') },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(['a', 'b'], ['c'], 7) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const dateValue = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...DATE_POOL) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, 'not a date') });

const trackArb = fc
  .record({ name: fc.constantFrom(...EVENT_NAMES), p: propValue, q: qValue, d: dateValue, path: fc.constantFrom('/a', '/b/c', '/ab'), blocked: fc.boolean() })
  .map(({ name, p, q, d, path, blocked }) => {
    const properties: Record<string, unknown> = {};
    if (p !== undefined) properties.p = p;
    if (q !== undefined) properties.q = q;
    if (d !== undefined) properties.d = d;
    return { type: 'track' as const, event: name, properties, context: { page: { path } }, sourceId: blocked ? 'src_blocked' : 'src_ok' };
  });

const identifyArb = fc
  .record({
    plan: fc.constantFrom<unknown>('free', 'pro', 'business', null, undefined),
    score: fc.constantFrom<unknown>(1, 5, 9, '7', null, undefined),
    signup: fc.constantFrom<unknown>(...DATE_POOL, null, undefined),
    flag: fc.constantFrom<unknown>(true, false, undefined),
    city: fc.constantFrom<unknown>('ab', 'c', undefined),
    viaContext: fc.boolean(),
  })
  .map(({ plan, score, signup, flag, city, viaContext }) => {
    const traits: Record<string, unknown> = {};
    if (plan !== undefined) traits.plan = plan;
    if (score !== undefined) traits.score = score;
    if (signup !== undefined) traits.signup = signup;
    if (flag !== undefined) traits.flag = flag;
    if (city !== undefined) traits.address = { city };
    return viaContext
      ? { type: 'track' as const, event: 'A', properties: {}, context: { traits }, sourceId: null }
      : { type: 'identify' as const, event: null, traits, context: null, sourceId: null };
  });

// Accounts ------------------------------------------------------------------------------------

export const GROUPS = ['g1', 'g2'] as const;

/** 1–2 user-level definitions, then 1–3 account-level ones: ANY/ALL/ALL NOT, account traits, aggregates over the users' events (and reducers over a user trait). */
export const accountDefinitionsArb: fc.Arbitrary<DefinitionInput[]> = accountDefinitions(true);

/**
 * The same without reducers over a user trait (`mode(trait('plan'))`), for streams with identity
 * merges: an event counts with the trait its profile had when it arrived, and an absorbed profile's
 * events keep theirs (engine/identity/README.md, left out), where "one person from the start" would
 * give them the survivor's.
 */
export const accountDefinitionsWithoutUserTraitsArb: fc.Arbitrary<DefinitionInput[]> = accountDefinitions(false);

function accountDefinitions(userTraitReducers: boolean): fc.Arbitrary<DefinitionInput[]> {
  return fc.integer({ min: 0, max: 2 }).chain((nUsers) =>
  fc.integer({ min: 1, max: 3 }).chain((nAccounts) => {
    let acc: fc.Arbitrary<DefinitionInput[]> = fc.constant([]);
    for (let i = 0; i < nUsers; i++) {
      acc = acc.chain((earlier) =>
        fc
          .oneof(
            { weight: 3, arbitrary: audienceConditionArb(earlier).map((c) => audience(`aud_${i}`, c)) },
            { weight: 1, arbitrary: aggregateArb.map(([a]) => computedTrait(`ct_${i}`, a)) },
          )
          .map((d) => [...earlier, d]),
      );
    }
    for (let j = 0; j < nAccounts; j++) {
      acc = acc.chain((earlier) => {
        const users = earlier.filter((d) => d.target === 'USERS');
        const accounts = earlier.filter((d) => d.target === 'ACCOUNTS');
        const userCondition = audienceConditionArb(users, true);
        const leaves: fc.Arbitrary<Condition>[] = [
          fc.tuple(fc.constantFrom<'any' | 'all' | 'none'>('any', 'all', 'none'), userCondition).map(([q, c]): Condition =>
            q === 'none' ? { kind: 'quantified', quantifier: 'all', operand: not(c) } : { kind: 'quantified', quantifier: q, operand: c },
          ),
          comparisonArb(trait('tier'), 'text'),
          aggregateArb.chain(([a, k]) => comparisonArb(a, k)),
          ...(userTraitReducers ? [userTraitAggregateArb.chain(([a, k]) => comparisonArb(a, k))] : []),
          ...accounts.map((d) => (d.kind === 'audience' ? comparisonArb(trait(d.key), 'bool') : comparisonArb(trait(d.key), 'any'))),
        ];
        const condition = fc.letrec<{ c: Condition }>((tie) => ({
          c: fc.oneof(
            { depthSize: 'small', withCrossShrink: true },
            ...leaves,
            fc.tuple(tie('c'), tie('c')).map(([a, b]) => and(a, b)),
            fc.tuple(tie('c'), tie('c')).map(([a, b]) => or(a, b)),
          ),
        })).c;
        return fc
          .oneof(
            { weight: 3, arbitrary: condition.map((c) => ({ ...audience(`acc_${j}`, c), target: 'ACCOUNTS' as const, definition: { kind: 'audience' as const, target: 'ACCOUNTS' as const, condition: c } })) },
            {
              weight: 2,
              arbitrary: fc
                .oneof(aggregateArb, ...(userTraitReducers ? [userTraitAggregateArb] : []))
                .map(([a]) => ({ ...computedTrait(`acct_${j}`, a), target: 'ACCOUNTS' as const, definition: { kind: 'trait' as const, target: 'ACCOUNTS' as const, value: a } })),
            },
          )
          .map((d) => [...earlier, d]);
      });
    }
    return acc;
  }),
  );
}

const groupArb = fc
  .record({ group: fc.constantFrom(...GROUPS), tier: fc.constantFrom<unknown>('gold', 'silver', 'bronze', null, undefined) })
  .map(({ group, tier }) => ({ type: 'group' as const, event: null, groupId: group, traits: tier === undefined ? {} : { tier }, context: null, sourceId: null }));

/** Steps with group calls mixed in (users join accounts and set account traits). */
export const accountStepsArb: fc.Arbitrary<Step[]> = fc
  .array(
    fc.oneof(
      {
        weight: 8,
        arbitrary: fc
          .tuple(
            fc.oneof(trackArb, trackArb, identifyArb, groupArb),
            fc.constantFrom(...PROFILES),
            fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 20 }) }, { weight: 1, arbitrary: fc.integer({ min: -60, max: -1 }) }, { weight: 1, arbitrary: fc.integer({ min: 21, max: 50 }) }),
          )
          .map(([shape, profileId, dt]) => ({ shape, profileId, dt })),
      },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 40 }).map((dt) => ({ tick: dt })) },
    ),
    { minLength: 1, maxLength: 30 },
  )
  .map(toSteps);

/** One input step: an event (with a timestamp offset from the current time) or a clock tick. */
export type Step =
  | { readonly kind: 'event'; readonly event: FlockEvent; readonly profileId: string }
  | { readonly kind: 'tick'; readonly dt: number };

/**
 * A stream: mostly increasing timestamps (steps of 0–20 s), some late events (up to `lateMax` s
 * behind) and some from the future (up to 30 s ahead, for live mode), interleaved with clock ticks.
 */
export function stepsWith(lateMax: number, lateWeight = 1, length: { minLength: number; maxLength: number } = { minLength: 1, maxLength: 30 }): fc.Arbitrary<Step[]> {
  return fc.array(
    fc.oneof(
      {
        weight: 8,
        arbitrary: fc
          .tuple(
            fc.oneof(trackArb, trackArb, identifyArb),
            fc.constantFrom(...PROFILES),
            fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 20 }) }, { weight: lateWeight, arbitrary: fc.integer({ min: -lateMax, max: -1 }) }, { weight: 1, arbitrary: fc.integer({ min: 21, max: 50 }) }),
          )
          .map(([shape, profileId, dt]) => ({ shape, profileId, dt })),
      },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 40 }).map((dt) => ({ tick: dt })) },
    ),
    length,
  ).map(toSteps);
}

export const stepsArb: fc.Arbitrary<Step[]> = stepsWith(60);

/** One hour per second of the generated timeline. */
export const HOUR_SCALE = 3600;

/**
 * Late by days: definitions and streams on a timeline in hours instead of seconds (every duration
 * and every offset from T0 × 3600), with events up to 150 h (6 days) late — beyond any fixed
 * lateness guess, inside windows of up to 90 h, funnels and sessions of hours.
 */
export const lateDefinitionsArb: fc.Arbitrary<DefinitionInput[]> = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: funnelAggregateArb.chain(([a, k]) => comparisonArb(a, k)) },
      { weight: 2, arbitrary: sessionAggregateArb.chain(([a, k]) => comparisonArb(a, k)) },
      { weight: 1, arbitrary: audienceConditionArb([]) },
    ),
    { minLength: 1, maxLength: 3 },
  )
  .chain((conditions) =>
    fc.boolean().map((trait) => [
      ...conditions.map((c, i) => audience(`aud_${i}`, c)),
      // (a computed trait over a session or a funnel: its value, not only a threshold)
      ...(trait ? [computedTrait('ct_late', agg(event('B', expiresAfter(seconds(7))), { kind: 'sum', of: prop('p') }))] : []),
    ]),
  )
  .map((defs) => defs.map((d) => inHours(d)));
export const lateStepsArb: fc.Arbitrary<Step[]> = stepsWith(150, 3, { minLength: 8, maxLength: 40 }).map((steps) =>
  steps.map((s): Step => (s.kind === 'tick' ? { kind: 'tick', dt: s.dt * HOUR_SCALE } : { ...s, event: { ...s.event, timestamp: T0 + (s.event.timestamp - T0) * HOUR_SCALE } })),
);

/** `node` with every duration in seconds turned into the same number of hours. */
function inHours<T>(node: T): T {
  if (Array.isArray(node)) return node.map(inHours) as T;
  if (node === null || typeof node !== 'object') return node;
  const d = node as { kind?: string; unit?: string; amount?: number };
  if (d.kind === 'duration' && d.unit === 'second') return { ...node, unit: 'hour', ms: d.amount! * 3_600_000 };
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inHours(v)])) as T;
}

function toSteps(raw: ReadonlyArray<{ tick: number } | { shape: Partial<FlockEvent>; profileId: string; dt: number }>): Step[] {
  let clock = T0;
  const steps: Step[] = [];
  for (const r of raw) {
    if ('tick' in r) {
      steps.push({ kind: 'tick', dt: r.tick * 1000 });
      continue;
    }
    const ts = clock + r.dt * 1000;
    if (r.dt > 0 && r.dt <= 20) clock = ts;
    steps.push({ kind: 'event', profileId: r.profileId, event: base({ ...r.shape, userId: r.profileId, timestamp: ts }) });
  }
  return steps;
}

/** Every duration a definition set uses (for candidate instants of flips). */
export function durationsOf(defs: readonly DefinitionInput[]): number[] {
  const out = new Set<number>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      const n = node as { kind?: string; ms?: number };
      if (n.kind === 'duration' && typeof n.ms === 'number') out.add(n.ms);
      for (const v of Object.values(node)) walk(v);
    }
  };
  walk(defs);
  return [...out];
}
