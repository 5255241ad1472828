/** Deterministic, realistic FlockEvents of every type, for log and codec tests and benches. */
import type { EventType, FlockEvent } from '../../engine/event/model.ts';

const T0 = Date.UTC(2025, 0, 1);
const PAGES = ['Home', 'Pricing', 'Docs', 'Blog'];
const PRODUCTS = ['sku-1', 'sku-2', 'sku-3', 'sku-4', 'sku-5'];

const context = (i: number) => ({
  library: { name: 'analytics.js', version: '2.11.0' },
  ip: `10.0.${i % 250}.${(i * 7) % 250}`,
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  locale: 'en-US',
  page: { path: '/p/' + (i % 50), url: 'https://example.com/p/' + (i % 50), referrer: '' },
});

/** Event `i` of a stream; the type cycles so every shape appears. `space` and `users` vary the routing. */
export function sampleEvent(i: number, options: { space?: string; users?: number; prefix?: string } = {}): FlockEvent {
  const space = options.space ?? 'spa_test';
  const users = options.users ?? 1000;
  const user = i % users;
  const base = {
    space,
    messageId: `${options.prefix ?? 'msg'}-${i}`,
    userId: user % 5 === 0 ? null : `user-${user}`,
    anonymousId: `anon-${user}`,
    groupId: null,
    previousId: null,
    traits: null,
    properties: null,
    context: context(i),
    integrations: null,
    timestamp: T0 + i * 1000,
    receivedAt: T0 + i * 1000 + 40,
    sourceId: 'src_web',
  };
  const kind = i % 10;
  const type: EventType = kind < 5 ? 'track' : kind < 7 ? 'page' : kind === 7 ? 'identify' : kind === 8 ? 'group' : i % 20 === 9 ? 'alias' : 'screen';
  switch (type) {
    case 'track':
      return {
        ...base,
        type,
        event: i % 2 === 0 ? 'Order Completed' : 'Product Viewed',
        properties:
          i % 2 === 0
            ? { orderId: `o-${i}`, revenue: (i % 500) + 0.99, currency: 'USD', products: [{ sku: PRODUCTS[i % 5], quantity: 1 + (i % 3) }] }
            : { sku: PRODUCTS[i % 5], price: 19.5, category: 'shoes' },
      };
    case 'page':
      return { ...base, type, event: 'Page Viewed', properties: { page_name: PAGES[i % 4], path: '/p/' + (i % 50), title: 'Example' } };
    case 'screen':
      return { ...base, type, event: 'Screen Viewed', properties: { screen_name: 'Home' }, context: { app: { name: 'ios', version: '1.2' }, device: { id: `dev-${user}` } } };
    case 'identify':
      return { ...base, type, event: null, traits: { email: `u${user}@example.com`, plan: user % 3 === 0 ? 'pro' : 'free', age: 20 + (user % 40) } };
    case 'group':
      return { ...base, type, event: null, groupId: `acct-${user % 50}`, traits: { name: `Account ${user % 50}`, employees: 10 + (user % 50) } };
    case 'alias':
      return { ...base, type, event: null, userId: `user-${user}`, previousId: `anon-${user}` };
  }
}

export function sampleEvents(count: number, options: { space?: string; users?: number; prefix?: string; from?: number } = {}): FlockEvent[] {
  const out: FlockEvent[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = sampleEvent((options.from ?? 0) + i, options);
  return out;
}
