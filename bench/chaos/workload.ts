/**
 * The chaos harness's load: a deterministic (seeded) stream of Segment calls in batches — anonymous
 * events, identify calls that merge a person's two devices, aliases (not a merge), group calls with
 * account traits, orders with totals — with synthetic timestamps that advance (a few late ones),
 * ending with one event far later so that every instant before it closes.
 */
import { Random } from '../workload/random.ts';

/** A Segment call as sent in `/v1/batch`. */
export type SegmentCall = Readonly<Record<string, unknown>> & { readonly messageId: string; readonly type: string };

export interface ChaosWorkload {
  readonly batches: readonly (readonly SegmentCall[])[];
  readonly events: number;
  /** the last (far-later) event's timestamp: every instant before it is closed in event time. */
  readonly lastTimestamp: number;
}

/** 2025-01-01: synthetic event time, in the past of any wall clock the harness runs under. */
export const WORKLOAD_START = Date.UTC(2025, 0, 1);
const PRODUCTS = 40;
const PLANS = ['free', 'pro', 'business'] as const;

interface Person {
  readonly n: number;
  /** calls so far; the journey decides what comes next. */
  calls: number;
  identifiedA: boolean;
  identifiedB: boolean;
  grouped: boolean;
}

/**
 * `events` calls (the last one the far-later clock event) in batches of `batchSize`. About one
 * person per 25 calls: each visits on device A then device B anonymously, identifies on A (the user
 * id joins A's profile), later on B (a merge of B into A), joins an account, orders.
 */
export function chaosWorkload(seed: number, events: number, options: { readonly batchSize?: number; readonly hot?: boolean } = {}): ChaosWorkload {
  const batchSize = options.batchSize ?? 100;
  const random = new Random(seed);
  const people: Person[] = Array.from({ length: Math.max(4, Math.round(events / 25)) }, (_, n) => ({ n, calls: 0, identifiedA: false, identifiedB: false, grouped: false }));
  const accounts = Math.max(2, Math.round(people.length / 8));
  const calls: SegmentCall[] = [];
  let t = WORKLOAD_START;
  for (let i = 0; i < events - 1; i++) {
    // event time advances 0–40 ms a call (short windows see enters and exits); 3 % come late, up to a minute
    t += random.int(0, 40);
    const ts = random.chance(0.03) ? t - random.int(0, 60_000) : t;
    const timestamp = new Date(ts).toISOString();
    const messageId = `chaos-${seed}-${i}`;
    // (`hot`: a third of the calls from three people, whose traits change in nearly every batch)
    const p = people[options.hot === true && random.chance(0.33) ? random.int(0, 2) : random.int(0, people.length - 1)]!;
    p.calls++;
    const userId = `user-${p.n}`;
    const deviceB = random.chance(0.35);
    const anonymousId = `anon-${p.n}-${deviceB ? 'b' : 'a'}`;
    const ids = (deviceB ? p.identifiedB : p.identifiedA) ? { userId, anonymousId } : { anonymousId };
    if (p.calls >= 3 && !deviceB && !p.identifiedA) {
      p.identifiedA = true;
      calls.push({ type: 'identify', messageId, timestamp, userId, anonymousId, traits: { plan: random.pick(PLANS), email: `${userId}@example.com` } });
    } else if (p.calls >= 8 && deviceB && p.identifiedA && !p.identifiedB) {
      // links device B's profile to A's: a merge
      p.identifiedB = true;
      calls.push({ type: 'identify', messageId, timestamp, userId, anonymousId, traits: { plan: random.pick(PLANS) } });
    } else if (p.identifiedA && !p.grouped && random.chance(0.3)) {
      p.grouped = true;
      const groupId = `acct-${random.int(0, accounts - 1)}`;
      calls.push({ type: 'group', messageId, timestamp, userId, groupId, traits: { name: groupId, tier: random.pick(PLANS) } });
    } else if (p.identifiedA && random.chance(0.01)) {
      // alias: Segment's "this is the same person" for destinations; Flock does not merge on it
      calls.push({ type: 'alias', messageId, timestamp, userId, previousId: `old-${p.n}` });
    } else {
      const r = random.next();
      const product = `p${random.int(0, PRODUCTS - 1)}`;
      const [event, properties] =
        r < 0.5
          ? ['Product Viewed', { product_id: product, price: random.int(5, 400) }]
          : r < 0.7
            ? ['Product Added', { product_id: product }]
            : r < 0.8
              ? ['Order Completed', { product_id: product, total: random.int(10, 500) }]
              : ['Page Viewed', { path: `/p/${product}` }];
      calls.push({ type: 'track', messageId, timestamp, ...ids, event, properties });
    }
  }
  const lastTimestamp = t + 86_400_000;
  calls.push({ type: 'track', messageId: `chaos-${seed}-clock`, timestamp: new Date(lastTimestamp).toISOString(), userId: 'clock', event: 'Clock Advanced', properties: {} });
  const batches: SegmentCall[][] = [];
  for (let i = 0; i < calls.length; i += batchSize) batches.push(calls.slice(i, i + batchSize));
  return { batches, events: calls.length, lastTimestamp };
}

/**
 * The definitions file: short windows (time-driven exits happen), a funnel, computed traits, an
 * account audience (group calls) and a trait audience. `extra`: the definitions the backfill phase
 * adds to a running Flock.
 */
export function chaosDefinitions(extra = false): { definitions: Array<Record<string, string>> } {
  const space = 'spa_default';
  const base = [
    { key: 'viewed_twice_2m', kind: 'audience', query: "event('Product Viewed').within(2 minutes).count() >= 2" },
    { key: 'cart_no_order_5m', kind: 'audience', query: "event('Product Added').within(5 minutes).count() >= 1 AND NOT event('Order Completed').within(5 minutes).count() >= 1" },
    {
      key: 'added_not_ordered',
      kind: 'audience',
      query: "event('Product Added').where(event('Order Completed').within(parent: 3 minutes).count() = 0).within(10 minutes).count() >= 1",
    },
    { key: 'pro_plan', kind: 'audience', query: "trait('plan') = 'pro'" },
    { key: 'orders_all', kind: 'trait', query: "event('Order Completed').count()" },
    { key: 'views_90s', kind: 'trait', query: "event('Product Viewed').within(90 seconds).count()" },
    { key: 'revenue_10m', kind: 'trait', query: "event('Order Completed').within(10 minutes).sum(property('total'))" },
    { key: 'ordering_accounts', kind: 'audience', target: 'ACCOUNTS', query: "ANY event('Order Completed').within(10 minutes).count() >= 1" },
  ];
  const more = [
    { key: 'big_spenders_30m', kind: 'audience', query: "event('Order Completed').within(30 minutes).sum(property('total')) >= 400" },
    { key: 'pages_all', kind: 'trait', query: "event('Page Viewed').count()" },
  ];
  return { definitions: [...base, ...(extra ? more : [])].map((d) => ({ space, ...d })) };
}
