/** The deterministic Segment-like traffic generator shared by tests and benchmarks. */
import type { FlockEvent } from '../../engine/event/model.ts';
import { Random, Zipf } from './random.ts';

export const EVENT_NAMES = [
  'Page Viewed',
  'Screen Viewed',
  'Product Viewed',
  'Product Clicked',
  'Product Added',
  'Product Removed',
  'Cart Viewed',
  'Checkout Started',
  'Order Completed',
  'Order Refunded',
  'Coupon Applied',
  'Signed Up',
  'Logged In',
  'Search Performed',
  'Email Opened',
  'Email Clicked',
  'Subscription Started',
  'Subscription Cancelled',
  'Review Submitted',
  'Wishlist Added',
] as const;

/** Relative frequency of each event name (page views dominate, orders are rarer). */
const WEIGHTS = [30, 8, 20, 8, 6, 2, 4, 3, 2, 0.5, 1, 0.5, 5, 4, 3, 1, 0.4, 0.2, 0.6, 1];
export const CATEGORIES = ['shoes', 'shirts', 'pants', 'hats', 'bags', 'watches', 'books', 'games', 'phones', 'toys'];
export const PLANS = ['free', 'pro', 'business', 'enterprise'];
export const CITIES = ['Berlin', 'Lisbon', 'Austin', 'Osaka', 'Lagos', 'Lima'];
const PAGES = ['Home', 'Pricing', 'Docs', 'Blog', 'Product'];
/** Interned product ids and paths for the first products (the Zipf head), so events share strings. */
const PRODUCT_IDS = Array.from({ length: 5000 }, (_, p) => `p${p}`);
const PATHS = PRODUCT_IDS.map((id, p) => `/${CATEGORIES[p % CATEGORIES.length]}/${id}`);

export interface WorkloadOptions {
  readonly seed: number;
  readonly events: number;
  readonly profiles: number;
  /** spread of event timestamps (ms), ending at `end`. */
  readonly spanMs: number;
  readonly end: number;
  readonly space?: string;
  /** share of identify calls. */
  readonly identifyShare?: number;
  /** share of events that arrive late (timestamp up to an hour behind). */
  readonly lateShare?: number;
  readonly products?: number;
  /** identity journeys (anonymous visitors who sign in, several devices, shared devices, blocked ids); unset: every event carries its user's userId. */
  readonly identity?: IdentityJourneyOptions;
  /** accounts: users belong to companies and a share of calls are group calls with account traits; unset: no group calls. */
  readonly accounts?: AccountOptions;
}

/**
 * B2B traffic: user `u` works for account `acc_<k>` (k from a fixed hash of u, so a user always names the
 * same company); a `groupShare` of calls are group calls carrying the account's traits (name, plan,
 * employees, industry — the plan sometimes changes).
 */
export interface AccountOptions {
  readonly count: number;
  /** share of calls that are group calls. */
  readonly groupShare?: number;
}

/**
 * Each user has 1–`maxDevices` devices, each with an anonymous id (`anon_<u>_<d>`; device 1 is an iPhone,
 * device 2 an Android phone, with device ids). On a device the user has not signed in on, events are
 * anonymous; an identify call (the `identifyShare` ones) signs in there: userId + anonymousId + email, which
 * attaches the device's anonymous profile to the user's, or merges the two. A few events come from a
 * shared kiosk whose anonymous id several users send (merge protection keeps them apart) or carry a
 * blocked placeholder id.
 */
export interface IdentityJourneyOptions {
  readonly maxDevices?: number;
  /** share of events from one of 10 shared kiosks (signed in as the user). */
  readonly sharedDeviceShare?: number;
  /** share of events whose userId is a blocked placeholder (`null`, `0`, `-1`, `anonymous`). */
  readonly blockedShare?: number;
}

const BLOCKED_IDS = ['null', '0', '-1', 'anonymous'];
export const INDUSTRIES = ['retail', 'software', 'finance', 'health', 'media'];
const DEVICE_TYPES = [null, 'ios', 'android'] as const;

/** The devices of one user and which of them the user signed in on (a bit per device). */
interface Journey {
  readonly devices: number;
  signedIn: number;
}

/** Yields `events` events in arrival order: timestamps increase with jitter; a few are late. */
export function* generateEvents(o: WorkloadOptions): Generator<FlockEvent> {
  const random = new Random(o.seed);
  const users = new Zipf(o.profiles, 1.0);
  const products = new Zipf(o.products ?? 1000, 1.1);
  const total = WEIGHTS.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of WEIGHTS) cumulative.push((acc += w / total));
  const space = o.space ?? 'spa_bench';
  const userIds = Array.from({ length: Math.min(o.profiles, 1_000_000) }, (_, u) => `user_${u}`);
  const start = o.end - o.spanMs;
  const step = o.spanMs / Math.max(1, o.events);
  const identifyShare = o.identifyShare ?? 0.03;
  const lateShare = o.lateShare ?? 0.01;
  const identity = o.identity;
  const journeys = new Map<number, Journey>();
  for (let i = 0; i < o.events; i++) {
    const user = users.sample(random);
    const knownAs = userIds[user] ?? `user_${user}`;
    let userId: string | null = knownAs;
    let ts = Math.floor(start + i * step + random.next() * step);
    if (random.chance(lateShare)) ts -= random.int(1, 3_600_000);
    const messageId = `m_${o.seed}_${i}`;
    // Identity journeys draw their own random numbers only when enabled: the default stream is unchanged.
    let anonymousId: string | null = null;
    let device: Record<string, unknown> | null = null;
    let signIn = false;
    if (identity !== undefined) {
      let journey = journeys.get(user);
      if (journey === undefined) journeys.set(user, (journey = { devices: random.int(1, identity.maxDevices ?? 3), signedIn: 0 }));
      const d = random.int(0, journey.devices - 1);
      anonymousId = `anon_${user}_${d}`;
      const type = DEVICE_TYPES[d % DEVICE_TYPES.length]!;
      if (type !== null) device = { type, id: `dev_${user}_${d}` };
      signIn = random.chance(identifyShare);
      if (signIn) journey.signedIn |= 1 << d;
      else if ((journey.signedIn & (1 << d)) === 0) userId = null;
      if (random.chance(identity.sharedDeviceShare ?? 0.002)) {
        anonymousId = `kiosk_${random.int(0, 9)}`;
        device = null;
        userId = knownAs;
      }
      if (random.chance(identity.blockedShare ?? 0.001)) userId = random.pick(BLOCKED_IDS);
    }
    const context = device === null ? null : { device };
    // Group calls draw their own random numbers only when accounts are enabled, too.
    if (o.accounts !== undefined && random.chance(o.accounts.groupShare ?? 0.01)) {
      const k = Math.imul(user, 2654435761) >>> 0;
      const account = k % o.accounts.count;
      const traits = {
        name: `Company ${account}`,
        // an account's plan is mostly stable: its own, and now and then an up- or downgrade
        plan: random.chance(0.9) ? PLANS[account % PLANS.length]! : random.pick(PLANS),
        employees: 5 + ((account * 7919) % 2000),
        industry: INDUSTRIES[account % INDUSTRIES.length]!,
      };
      yield call(space, messageId, ts, { type: 'group', event: null, userId: knownAs, anonymousId, groupId: `acc_${account}`, traits, properties: null, context });
      continue;
    }
    if (identity === undefined ? random.chance(identifyShare) : signIn) {
      const traits = {
        plan: random.pick(PLANS),
        score: random.int(0, 100),
        city: random.pick(CITIES),
        email: `${knownAs}@example.com`,
        signup_at: new Date(ts - random.int(0, 400) * 86_400_000).toISOString(),
      };
      yield call(space, messageId, ts, { type: 'identify', event: null, userId: userId ?? knownAs, anonymousId, groupId: null, traits, properties: null, context });
      continue;
    }
    const u = random.next();
    let k = 0;
    while (cumulative[k]! < u) k++;
    const name = EVENT_NAMES[k]!;
    const product = products.sample(random);
    const price = Math.round((5 + ((product * 7919) % 495) + random.next() * 5) * 100) / 100;
    const category = CATEGORIES[product % CATEGORIES.length]!;
    const productId = PRODUCT_IDS[product] ?? `p${product}`;
    const properties: Record<string, unknown> = { product_id: productId, category, price };
    if (name === 'Order Completed' || name === 'Order Refunded') {
      const quantity = random.int(1, 5);
      properties.quantity = quantity;
      properties.total = Math.round(price * quantity * 100) / 100;
      properties.currency = 'USD';
    }
    if (name === 'Search Performed') properties.query = random.pick(CATEGORIES);
    if (name === 'Page Viewed') properties.page_name = random.pick(PAGES);
    yield call(space, messageId, ts, {
      type: name === 'Page Viewed' ? 'page' : name === 'Screen Viewed' ? 'screen' : 'track',
      event: name,
      userId,
      anonymousId,
      groupId: null,
      traits: null,
      properties,
      context: { page: { path: PATHS[product] ?? `/${category}/${productId}` }, ...context },
    });
  }
}

/** A call from the web source at `ts` (the field order is part of the stream the tests pin). */
function call(space: string, messageId: string, ts: number, c: Pick<FlockEvent, 'type' | 'event' | 'userId' | 'anonymousId' | 'groupId' | 'traits' | 'properties' | 'context'>): FlockEvent {
  return {
    space,
    type: c.type,
    event: c.event,
    messageId,
    userId: c.userId,
    anonymousId: c.anonymousId,
    groupId: c.groupId,
    previousId: null,
    traits: c.traits,
    properties: c.properties,
    context: c.context,
    integrations: null,
    timestamp: ts,
    receivedAt: ts,
    sourceId: 'src_web',
  };
}
