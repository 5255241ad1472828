/** The benchmark's definition set, in Segment's query language: 100 audiences of mixed kinds over the generator's events. */
import { parseDefinition } from '../../engine/lang/index.ts';
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import { CATEGORIES, CITIES, PLANS } from './generator.ts';

export interface QueryDefinition {
  readonly key: string;
  readonly kind: 'audience' | 'trait';
  readonly query: string;
  /** for computed traits: the kind reported in the per-kind cost table. */
  readonly group?: string;
  /** account-level definitions; USERS when unset. */
  readonly target?: 'USERS' | 'ACCOUNTS';
}

/**
 * A realistic mix: many audiences share sub-expressions ("Order Completed within 30 days"), as real
 * workspaces do; windows from hours to 90 days, in-between windows, negation, property filters,
 * custom traits with date comparators, and references to other audiences.
 */
export function benchAudiences(): QueryDefinition[] {
  const out: QueryDefinition[] = [];
  const add = (key: string, query: string) => out.push({ key, kind: 'audience', query });
  // Marketers mostly use week-to-quarter windows; a few audiences look at the last day.
  const windows = ['7 days', '30 days', '90 days'];
  const events = ['Product Viewed', 'Product Added', 'Order Completed', 'Logged In', 'Search Performed', 'Email Opened', 'Cart Viewed'];
  // 21: performed an event at least k times within a window
  for (const e of events) {
    windows.forEach((w, i) => add(`${slug(e)}_${i}`, `event('${e}').within(${w}).count() >= ${1 + i}`));
  }
  // 15: property filters
  for (const [i, c] of CATEGORIES.slice(0, 5).entries()) {
    add(`viewed_${c}`, `event('Product Viewed').where(property('category') = '${c}').within(7 days).count() >= 1`);
    add(`expensive_${c}`, `event('Product Viewed').where(property('category') = '${c}' AND property('price') > ${100 + 50 * i}).within(30 days).count() >= 2`);
    add(`bought_${c}`, `event('Order Completed').where(property('category') = '${c}').within(90 days).count() >= 1`);
  }
  // 10: in-between windows (lapsed users)
  for (const e of ['Logged In', 'Product Viewed', 'Order Completed', 'Email Opened', 'Page Viewed']) {
    add(`lapsed_${slug(e)}`, `event('${e}').between(30 days, 90 days).count() >= 1 AND event('${e}').within(30 days).count() = 0`);
    add(`was_active_${slug(e)}`, `event('${e}').between(7 days, 14 days).count() >= 2`);
  }
  // 14: did one thing and not another
  const pairs: Array<[string, string]> = [
    ['Product Added', 'Order Completed'],
    ['Checkout Started', 'Order Completed'],
    ['Product Viewed', 'Product Added'],
    ['Email Opened', 'Email Clicked'],
    ['Signed Up', 'Logged In'],
    ['Cart Viewed', 'Checkout Started'],
    ['Search Performed', 'Product Clicked'],
  ];
  for (const [a, b] of pairs) {
    add(`${slug(a)}_no_${slug(b)}`, `event('${a}').within(7 days).count() >= 1 AND NOT event('${b}').within(7 days).count() >= 1`);
    add(`${slug(a)}_no_${slug(b)}_30d`, `event('${a}').within(30 days).count() >= 1 AND event('${b}').within(30 days).count() = 0`);
  }
  // 14: custom traits
  for (const p of PLANS) add(`plan_${p}`, `trait('plan') = '${p}'`);
  for (const c of CITIES) add(`city_${slug(c)}`, `trait('city') = '${c}' AND event('Page Viewed').within(30 days).count() >= 3`);
  add('score_high', `trait('score') >= 80`);
  add('score_mid', `trait('score') >= 40 AND trait('score') < 80`);
  add('new_signup', `trait('signup_at').within_last(30 days)`);
  add('old_account', `trait('signup_at').before_last(365 days)`);
  // 12: aggregates compared with thresholds
  add('revenue_30d_100', `event('Order Completed').within(30 days).sum(property('total')) > 100`);
  add('revenue_30d_500', `event('Order Completed').within(30 days).sum(property('total')) > 500`);
  add('revenue_90d_1000', `event('Order Completed').within(90 days).sum(property('total')) >= 1000`);
  add('avg_order_high', `event('Order Completed').within(90 days).avg(property('total')) > 250`);
  add('max_price_viewed', `event('Product Viewed').within(7 days).max(property('price')) > 400`);
  add('min_price_cheap', `event('Product Viewed').within(7 days).min(property('price')) < 20`);
  add('many_products', `event('Product Viewed').within(30 days).unique(property('product_id')).count() >= 10`);
  add('fav_shoes', `event('Product Viewed').within(30 days).mode(property('category'), 2) = 'shoes'`);
  add('heavy_viewer', `event('Product Viewed').within(1 day).count() >= 20`);
  // (with `active_today` and `heavy_viewer` below, the one-day audiences)
  add('page_regular', `event('Page Viewed').within(7 days).count() >= 5`);
  add('pricing_page', `event('Page Viewed').where(property('page_name') = 'Pricing').within(7 days).count() >= 1`);
  add('searcher', `event('Search Performed').where(property('query').one_of('shoes', 'bags')).within(30 days).count() >= 2`);
  // 14: references to other audiences and boolean combinations
  add('vip', `trait('revenue_30d_500') = true AND (trait('plan_pro') = true OR trait('plan_business') = true)`);
  add('at_risk_vip', `trait('vip') = true AND trait('lapsed_logged_in') = true`);
  add('winback', `trait('lapsed_order_completed') = true AND trait('email_opened_0') = true`);
  add('engaged', `trait('page_regular') = true OR trait('logged_in_1') = true`);
  add('engaged_not_buying', `trait('engaged') = true AND NOT trait('order_completed_2') = true`);
  add('cart_abandoner_pro', `trait('product_added_no_order_completed') = true AND trait('plan').one_of('pro', 'business', 'enterprise')`);
  add('new_and_active', `trait('new_signup') = true AND trait('logged_in_0') = true`);
  add('shoe_lover', `trait('fav_shoes') = true OR trait('bought_shoes') = true`);
  add('big_spender_recent', `trait('revenue_30d_100') = true AND event('Order Completed').within(7 days).count() >= 1`);
  add('browsers', `trait('heavy_viewer') = true AND NOT trait('order_completed_1') = true`);
  add('high_score_engaged', `trait('score_high') = true AND trait('engaged') = true`);
  add('mid_score_lapsed', `trait('score_mid') = true AND trait('lapsed_product_viewed') = true`);
  add('searcher_no_buy', `trait('searcher') = true AND event('Order Completed').within(30 days).count() = 0`);
  add('active_today', `event('Page Viewed').within(1 day).count() >= 1 OR event('Product Viewed').within(1 day).count() >= 1`);
  if (out.length !== 100) throw new Error(`bench audience set has ${out.length} audiences, expected 100`);
  return out;
}

/** 20 computed traits of every kind: counts, sums, averages, extremes, first/last, mode, unique lists, sessions, in-between. */
export function benchTraits(): QueryDefinition[] {
  const t = (key: string, kind: string, query: string) => ({ key, kind: 'trait' as const, query, group: kind });
  return [
    t('orders_30d', 'count', "event('Order Completed').within(30 days).count()"),
    t('expensive_views_7d', 'count', "event('Product Viewed').where(property('price') > 200).within(7 days).count()"),
    t('revenue_30d', 'sum', "event('Order Completed').within(30 days).sum(property('total'))"),
    t('shoe_revenue_90d', 'sum', "event('Order Completed').where(property('category') = 'shoes').within(90 days).sum(property('total'))"),
    t('revenue_prev_month', 'sum', "event('Order Completed').between(30 days, 60 days).sum(property('total'))"),
    t('avg_order_90d', 'avg', "event('Order Completed').within(90 days).avg(property('total'))"),
    t('max_price_viewed_7d', 'min/max', "event('Product Viewed').within(7 days).max(property('price'))"),
    t('min_price_viewed_30d', 'min/max', "event('Product Viewed').within(30 days).min(property('price'))"),
    t('last_category_text_max', 'min/max', "event('Product Viewed').within(30 days).max(property('category') as string)"),
    t('first_category', 'first/last', "event('Product Viewed').first(property('category'))"),
    t('last_product_30d', 'first/last', "event('Product Viewed').within(30 days).last(property('product_id'))"),
    t('top_category_30d', 'mode', "event('Product Viewed').within(30 days).mode(property('category'), 2)"),
    t('top_page', 'mode', "event('Page Viewed').mode(property('page_name'), 1)"),
    t('categories_30d', 'unique', "event('Product Viewed').within(30 days).unique(property('category'))"),
    t('products_viewed_30d', 'unique', "event('Product Viewed').within(30 days).unique(property('product_id')).count()"),
    t('searches_90d', 'unique', "event('Search Performed').within(90 days).unique(property('query')).count()"),
    t('session_pages', 'session', "event('Page Viewed').expires_after(30 minutes).count()"),
    t('session_products', 'session', "event('Product Viewed').expires_after(30 minutes).unique(property('product_id')).count()"),
    t('session_spend', 'session', "event('Order Completed').expires_after(1 hour).sum(property('total'))"),
    t('logins_7d', 'count', "event('Logged In').within(7 days).count()"),
  ];
}

/** 20 funnel audiences: did / did not within a parent window, same-product references, three steps, trait references. */
export function benchFunnels(): QueryDefinition[] {
  const f = (key: string, query: string) => ({ key, kind: 'audience' as const, query });
  const did = (a: string, b: string, t: string, w: string) => `event('${a}').where(event('${b}').within(parent: ${t}).count() >= 1).within(${w}).count() >= 1`;
  const didNot = (a: string, b: string, t: string, w: string) => `event('${a}').where(event('${b}').within(parent: ${t}).count() = 0).within(${w}).count() >= 1`;
  return [
    f('abandoned_checkout', didNot('Checkout Started', 'Order Completed', '1 hour', '7 days')),
    f('abandoned_cart', didNot('Product Added', 'Order Completed', '1 day', '7 days')),
    f('abandoned_cart_30d', didNot('Product Added', 'Order Completed', '1 day', '30 days')),
    f('viewed_then_added', did('Product Viewed', 'Product Added', '1 hour', '7 days')),
    f('viewed_not_added', didNot('Product Viewed', 'Product Added', '1 hour', '7 days')),
    f('cart_to_checkout', did('Cart Viewed', 'Checkout Started', '1 hour', '30 days')),
    f('cart_no_checkout', didNot('Cart Viewed', 'Checkout Started', '1 hour', '30 days')),
    f('search_then_click', did('Search Performed', 'Product Clicked', '1 hour', '7 days')),
    f('search_no_click', didNot('Search Performed', 'Product Clicked', '1 hour', '7 days')),
    f('opened_then_clicked', did('Email Opened', 'Email Clicked', '1 day', '30 days')),
    f('opened_not_clicked', didNot('Email Opened', 'Email Clicked', '1 day', '30 days')),
    f('signup_no_login', didNot('Signed Up', 'Logged In', '1 day', '30 days')),
    f('added_then_removed', did('Product Added', 'Product Removed', '1 hour', '7 days')),
    f('ordered_then_refunded', did('Order Completed', 'Order Refunded', '7 days', '90 days')),
    f('viewed_same_added', "event('Product Viewed').where(event('Product Added').where(property('product_id') = property(parent: 'product_id')).within(parent: 1 day).count() >= 1).within(7 days).count() >= 1"),
    f('added_same_not_ordered', "event('Product Added').where(event('Order Completed').where(property('product_id') = property(parent: 'product_id')).within(parent: 1 day).count() = 0).within(7 days).count() >= 1"),
    f('view_add_order', "event('Product Viewed').where(event('Product Added').where(event('Order Completed').within(parent: 1 day).count() >= 1).within(parent: 1 hour).count() >= 1).within(30 days).count() >= 1"),
    f('view_add_no_order', "event('Product Viewed').where(event('Product Added').where(event('Order Completed').within(parent: 1 day).count() = 0).within(parent: 1 hour).count() >= 1).within(30 days).count() >= 1"),
    f('viewed_above_score', "event('Product Viewed').where(property('price') > trait('score')).within(7 days).count() >= 3"),
    f('expensive_abandon', "event('Product Added').where(property('price') > 200 AND event('Order Completed').within(parent: 1 day).count() = 0).within(30 days).count() >= 1"),
  ];
}

/** Plain audiences left out of the realistic set to make room for funnels and accounts (none is referenced by another). */
const LEFT_OUT = new Set([
  ...['product_added', 'search_performed', 'email_opened', 'cart_viewed'].flatMap((e) => [0, 1, 2].map((i) => `${e}_${i}`)).filter((k) => k !== 'email_opened_0'),
  'viewed_hats', 'viewed_bags', 'expensive_hats', 'expensive_bags', 'bought_hats', 'bought_bags',
  'was_active_email_opened', 'was_active_page_viewed', 'city_austin', 'city_osaka', 'city_lagos', 'city_lima',
  'signed_up_no_logged_in', 'signed_up_no_logged_in_30d', 'cart_viewed_no_checkout_started', 'cart_viewed_no_checkout_started_30d',
  'search_performed_no_product_clicked', 'search_performed_no_product_clicked_30d', 'min_price_cheap', 'plan_free', 'plan_enterprise', 'old_account',
  'email_opened_no_email_clicked_30d', 'product_viewed_no_product_added_30d', 'score_mid', 'mid_score_lapsed',
]);

/** Funnels left out of the realistic set (the same shape is kept over other events). */
const FUNNELS_LEFT_OUT = new Set(['abandoned_cart_30d', 'cart_to_checkout', 'search_then_click', 'opened_then_clicked', 'added_then_removed', 'viewed_not_added']);

/**
 * Account-level audiences (target ACCOUNTS, over the generator's `accounts` option): account traits,
 * `ANY`/`ALL`/`ALL NOT` over the users, aggregates merged over the users, audience references.
 */
export function accountAudiences(): QueryDefinition[] {
  const a = (key: string, query: string): QueryDefinition => ({ key, kind: 'audience', target: 'ACCOUNTS', query });
  return [
    a('acct_any_buyer_30d', "ANY event('Order Completed').within(30 days).count() >= 1"),
    a('acct_enterprise_at_risk', "trait('plan') = 'enterprise' AND ALL NOT event('Logged In').within(30 days).count() >= 1"),
    a('acct_all_active_7d', "ALL event('Logged In').within(7 days).count() >= 1"),
    a('acct_large_checkout', "trait('employees') >= 500 AND ANY event('Checkout Started').within(7 days).count() >= 1"),
    a('acct_revenue_90d_5k', "event('Order Completed').within(90 days).sum(property('total')) > 5000"),
    a('acct_retail_adders', "trait('industry') = 'retail' AND ANY event('Product Added').within(7 days).count() >= 3"),
    a('acct_opened_not_clicked', "ANY (event('Email Opened').within(30 days).count() >= 1 AND event('Email Clicked').within(30 days).count() = 0)"),
    a('acct_busy_7d', "event('Logged In').within(7 days).count() >= 20"),
    a('acct_business_no_orders', "trait('plan') = 'business' AND ALL NOT event('Order Completed').within(90 days).count() >= 1"),
    a('acct_churn_signal', "ANY event('Subscription Cancelled').within(30 days).count() >= 1"),
    a('acct_pricing_interest', "ANY event('Page Viewed').where(property('page_name') = 'Pricing').within(7 days).count() >= 2"),
    a('acct_paid_quiet', "trait('plan').one_of('business', 'enterprise') AND event('Order Completed').within(30 days).count() = 0"),
    a('acct_has_pro_user', "ANY trait('plan') = 'pro'"),
    a('acct_all_browsing', "ALL event('Product Viewed').within(30 days).count() >= 1"),
    a('acct_broad_interest', "event('Product Viewed').within(30 days).unique(property('category')).count() >= 5"),
    a('acct_lapsed', "event('Logged In').between(30 days, 90 days).count() >= 1 AND event('Logged In').within(30 days).count() = 0"),
  ];
}

/** Account-level computed traits: aggregates merged over an account's users. */
export function accountTraits(): QueryDefinition[] {
  const t = (key: string, kind: string, query: string): QueryDefinition => ({ key, kind: 'trait', target: 'ACCOUNTS', query, group: kind });
  return [
    t('acct_revenue_30d', 'sum', "event('Order Completed').within(30 days).sum(property('total'))"),
    t('acct_logins_7d', 'count', "event('Logged In').within(7 days).count()"),
    t('acct_top_category_30d', 'mode', "event('Product Viewed').within(30 days).mode(property('category'), 2)"),
    t('acct_biggest_order_90d', 'min/max', "event('Order Completed').within(90 days).max(property('total'))"),
  ];
}

/**
 * THE realistic set of `npm run bench`: 100 audiences and 20 computed traits mixing every condition
 * kind the engine supports — windows from a day to 90 days, in-between windows, negation, property
 * filters, custom traits and date comparators, audience references, funnels (did / did not, three
 * steps), dynamic property references (`property(parent: …)`, `trait()` on the right), account-level
 * audiences and traits (`ANY`/`ALL`/`ALL NOT`, merged aggregates), sessions, mode and unique lists.
 * 63 plain user audiences + 14 funnels + 7 more references (dynamic, computed traits) + 16 account audiences;
 * 16 user traits + 4 account traits.
 */
export function realisticDefinitions(): QueryDefinition[] {
  const plain = benchAudiences().filter((d) => !LEFT_OUT.has(d.key));
  const funnels = benchFunnels().filter((d) => !FUNNELS_LEFT_OUT.has(d.key));
  const au = (key: string, query: string): QueryDefinition => ({ key, kind: 'audience', query });
  const references = [
    au('viewed_above_avg_order', "event('Product Viewed').where(property('price') > trait('avg_order_90d')).within(7 days).count() >= 2"),
    au('viewed_same_ordered', "event('Product Viewed').where(event('Order Completed').where(property('product_id') = property(parent: 'product_id')).within(parent: 7 days).count() >= 1).within(30 days).count() >= 1"),
    au('reordered_same_category', "event('Order Completed').where(event('Order Completed').where(property('category') = property(parent: 'category')).within(parent: 30 days).count() >= 1).within(90 days).count() >= 1"),
    au('searched_then_viewed_same', "event('Search Performed').where(event('Product Viewed').where(property('category') = property(parent: 'query')).within(parent: 1 hour).count() >= 1).within(7 days).count() >= 1"),
    au('refund_same_product', "event('Order Refunded').where(event('Order Completed').where(property('product_id') = property(parent: 'product_id')).within(parent: 1 day).count() = 0).within(30 days).count() >= 1"),
    au('pricier_than_score_30d', "event('Order Completed').where(property('total') > trait('score')).within(30 days).count() >= 2"),
    // computed traits read by an audience
    au('valuable_regular', "trait('revenue_30d') > 200 AND trait('orders_30d') >= 2 AND trait('top_category_30d') = 'shoes'"),
  ];
  const traits = benchTraits().filter((t) => !['last_category_text_max', 'logins_7d', 'searches_90d', 'expensive_views_7d'].includes(t.key));
  const out = [...plain, ...funnels, ...references, ...accountAudiences(), ...traits, ...accountTraits()];
  const audiences = out.filter((d) => d.kind === 'audience').length;
  if (audiences !== 100 || out.length - audiences !== 20) throw new Error(`the realistic set has ${audiences} audiences and ${out.length - audiences} traits, expected 100 and 20`);
  return out;
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '_');
}

/** Parses query definitions; throws on any diagnostic (the set is part of the repository and must stay valid). */
export function compileQueryDefinitions(defs: readonly QueryDefinition[], space = 'spa_bench'): DefinitionInput[] {
  void space;
  return defs.map((d) => {
    const target = d.target ?? 'USERS';
    const r = parseDefinition(d.query, { kind: d.kind, target });
    if (r.definition === null) throw new Error(`${d.key}: ${r.diagnostics.map((x) => `${x.code} ${x.message} (${x.line}:${x.column})`).join('; ')}`);
    return { id: `${d.kind === 'audience' ? 'aud' : 'tra'}_${d.key}`, key: d.key, kind: d.kind, target, version: 1, definition: r.definition };
  });
}
