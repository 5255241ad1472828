/** A mixed definition set over the generator's events, for engine tests (windows, in-between, negation, traits, references, computed traits). */
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import { compileQueryDefinitions, type QueryDefinition } from '../../bench/workload/definitions.ts';
import { agg, and, audience, between, cmp, computedTrait, count, event, expiresAfter, hours, minutes, not, or, parentProp, prop, trait, where, within, withinParent, days } from './ast.ts';

export function mixedDefinitions(): DefinitionInput[] {
  return [
    audience('viewed_recently', cmp(count(event('Product Viewed', within(hours(6)))), 'at_least', 1)),
    audience('viewed_expensive', cmp(count(event('Product Viewed', where(cmp(prop('price'), 'greater_than', 200)), within(days(1)))), 'at_least', 2)),
    audience('cart_no_order', and(cmp(count(event('Product Added', within(hours(12)))), 'at_least', 1), not(cmp(count(event('Order Completed', within(hours(12)))), 'at_least', 1)))),
    audience('lapsed', and(cmp(count(event('Logged In', between(hours(12), days(2)))), 'at_least', 1), cmp(count(event('Logged In', within(hours(12)))), 'equals', 0))),
    audience('pro_users', cmp(trait('plan'), 'one_of', 'pro', 'business')),
    audience('recent_signup', cmp(trait('signup_at'), 'within_last', days(30))),
    computedTrait('revenue_1d', agg(event('Order Completed', within(days(1))), { kind: 'sum', of: prop('total') })),
    audience('big_spender', cmp(trait('revenue_1d'), 'greater_than', 300)),
    computedTrait('top_category', agg(event('Product Viewed', within(hours(12))), { kind: 'mode', of: prop('category'), as: 'string', minFrequency: 2 })),
    computedTrait('session_views', agg(event('Page Viewed', expiresAfter(minutes(30))), { kind: 'count' })),
    computedTrait('max_price_6h', agg(event('Product Viewed', within(hours(6))), { kind: 'max', of: prop('price'), as: 'number' })),
    audience('shoe_fan', or(cmp(trait('top_category'), 'equals', 'shoes'), and(cmp(trait('big_spender'), 'equals', true), cmp(trait('pro_users'), 'equals', true)))),
    // funnels: "did not" deciding at the deadline, a parent reference, a trait reference
    audience('abandoned_cart', cmp(count(event('Product Added', where(cmp(count(event('Order Completed', withinParent(hours(2)))), 'equals', 0)), within(days(1)))), 'at_least', 1)),
    audience(
      'viewed_then_added_same',
      cmp(count(event('Product Viewed', where(cmp(count(event('Product Added', where(cmp(prop('product_id'), 'equals', parentProp('product_id'))), withinParent(hours(1)))), 'at_least', 1)), within(days(2)))), 'at_least', 1),
    ),
    audience('viewed_above_score', cmp(count(event('Product Viewed', where(cmp(prop('price'), 'greater_than', trait('score'))), within(hours(12)))), 'at_least', 3)),
  ];
}

/**
 * Account-level definitions over the generator's `accounts` option, with windows of hours (they
 * flip within a test's few days): ANY / ALL / ALL NOT over user conditions (windows, a funnel, a
 * custom trait, a computed trait), account traits, and aggregates merged over the users (sum, count,
 * mode, a user trait read per event, an in-between window).
 */
export function accountDefinitions(): DefinitionInput[] {
  const a = (key: string, query: string): QueryDefinition => ({ key, kind: 'audience', target: 'ACCOUNTS', query });
  const t = (key: string, query: string): QueryDefinition => ({ key, kind: 'trait', target: 'ACCOUNTS', query });
  return compileQueryDefinitions([
    a('acct_any_buyer_12h', "ANY event('Order Completed').within(12 hours).count() >= 1"),
    a('acct_all_viewing_1d', "ALL event('Page Viewed').within(1 day).count() >= 1"),
    a('acct_business_idle', "trait('plan') = 'business' AND ALL NOT event('Product Added').within(6 hours).count() >= 1"),
    a('acct_any_pro', "ANY trait('plan') = 'pro'"),
    a('acct_any_big_spender', "ANY trait('revenue_1d') > 300"),
    a('acct_any_abandoned', "ANY event('Product Added').where(event('Order Completed').within(parent: 2 hours).count() = 0).within(1 day).count() >= 1"),
    a('acct_busy_6h', "event('Page Viewed').within(6 hours).count() >= 8"),
    a('acct_large_lapsed', "trait('employees') >= 500 AND event('Logged In').between(6 hours, 1 day).count() >= 1 AND event('Logged In').within(6 hours).count() = 0"),
    t('acct_revenue_1d', "event('Order Completed').within(1 day).sum(property('total'))"),
    t('acct_views_6h', "event('Product Viewed').within(6 hours).count()"),
    t('acct_top_category_12h', "event('Product Viewed').within(12 hours).mode(property('category'), 2)"),
    t('acct_most_active_email', "event('Page Viewed').within(1 day).mode(trait('email'), 1)"),
  ]);
}
