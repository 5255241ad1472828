/** Golden tests: every documented example of spec §1.4, text → AST (as a readable dump) and back to canonical text. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDefinition, printDefinition, type ParseOptions } from '../../../engine/lang/index.ts';
import { ACCOUNTS_AUDIENCE, dumpAst, located, USERS_AUDIENCE, USERS_TRAIT } from '../../support/query-lang.ts';

function golden(source: string, options: ParseOptions, printed: string, dump: string): void {
  const result = parseDefinition(source, options);
  assert.equal(result.diagnostics, []);
  assert.ok(result.definition !== null);
  assert.is(printDefinition(result.definition), printed);
  assert.fixture(dumpAst(result.definition), dump.trim());
}

test('audience: event with property filter and window', () => {
  golden(
    "event('Shoes Bought').where( property('price') >= 100 ).within(7 days).count() >= 1",
    USERS_AUDIENCE,
    "event('Shoes Bought').where(property('price') >= 100).within(7 days).count() >= 1",
    `
audience USERS
  at_least
    aggregate count
      event 'Shoes Bought'
        where
          at_least
            property [price]
            literal number 100
        within 7 day
    literal number 1`,
  );
});

test('audience: funnel with a dynamic trait reference and within(parent:), multi-line', () => {
  golden(
    `event('Shoes Bought').where(
property('price') >= trait('avg_spend')
AND
event('Shoes Returned').within(parent: 5 days).count() >= 1
).within(30 days).count() >= 1`,
    USERS_AUDIENCE,
    "event('Shoes Bought').where(property('price') >= trait('avg_spend') AND event('Shoes Returned').within(parent: 5 days).count() >= 1).within(30 days).count() >= 1",
    `
audience USERS
  at_least
    aggregate count
      event 'Shoes Bought'
        where
          and
            at_least
              property [price]
              trait [avg_spend]
            at_least
              aggregate count
                event 'Shoes Returned'
                  within parent 5 day
              literal number 1
        within 30 day
    literal number 1`,
  );
});

test('audience: NOT of a parenthesised AND', () => {
  golden(
    "NOT ( event('Shoes Bought').count() >= 1 AND trait('total_spend') > 200 )",
    USERS_AUDIENCE,
    "NOT (event('Shoes Bought').count() >= 1 AND trait('total_spend') > 200)",
    `
audience USERS
  not
    and
      at_least
        aggregate count
          event 'Shoes Bought'
        literal number 1
      greater_than
        trait [total_spend]
        literal number 200`,
  );
});

test('account audience: ALL ( … )', () => {
  golden(
    "ALL ( event('Shoes Bought').count() >= 1 AND trait('total_spend') > 200 )",
    ACCOUNTS_AUDIENCE,
    "ALL (event('Shoes Bought').count() >= 1 AND trait('total_spend') > 200)",
    `
audience ACCOUNTS
  all
    and
      at_least
        aggregate count
          event 'Shoes Bought'
        literal number 1
      greater_than
        trait [total_spend]
        literal number 200`,
  );
});

test('account audience: ALL NOT x ("none of the users")', () => {
  golden(
    "ALL NOT event('Shoes Bought').count() >= 1",
    ACCOUNTS_AUDIENCE,
    "ALL NOT event('Shoes Bought').count() >= 1",
    `
audience ACCOUNTS
  all
    not
      at_least
        aggregate count
          event 'Shoes Bought'
        literal number 1`,
  );
});

test('account audience: ANY x without parentheses', () => {
  golden(
    "ANY event('Shoes Bought').count() >= 1",
    ACCOUNTS_AUDIENCE,
    "ANY event('Shoes Bought').count() >= 1",
    `
audience ACCOUNTS
  any
    at_least
      aggregate count
        event 'Shoes Bought'
      literal number 1`,
  );
});

test('linked audiences: the entity(…) examples parse but are unsupported', () => {
  assert.equal(located(parseDefinition("entity('orders').where(entity('order-products').count() >= 1).count() >= 1", USERS_AUDIENCE).diagnostics), [
    '1:1 unsupported',
    '1:24 unsupported',
  ]);
  assert.equal(located(parseDefinition("entity('orders').count() >= 1 OR trait('VIP') = 'true'", USERS_AUDIENCE).diagnostics), ['1:1 unsupported']);
  const result = parseDefinition("entity('orders').where(property('total') > 500).count() >= 1", USERS_AUDIENCE);
  assert.equal(located(result.diagnostics), ['1:1 unsupported']);
  assert.match(result.diagnostics[0]!.message, /Linked Audiences/);
  assert.is(result.definition, null);
});

test('computed trait: avg within a window', () => {
  golden(
    "event('Shoes Bought').within(30 days).avg(property('spend'))",
    USERS_TRAIT,
    "event('Shoes Bought').within(30 days).avg(property('spend'))",
    `
trait USERS
  aggregate avg
    event 'Shoes Bought'
      within 30 day
    property [spend]`,
  );
});

test('computed trait: min with an AND filter (default as number)', () => {
  golden(
    "event('Shoes Bought').where( property('price') > 100 AND property('brand') = 'My Brand' ).min(property('spend'))",
    USERS_TRAIT,
    "event('Shoes Bought').where(property('price') > 100 AND property('brand') = 'My Brand').min(property('spend'))",
    `
trait USERS
  aggregate min as number
    event 'Shoes Bought'
      where
        and
          greater_than
            property [price]
            literal number 100
          equals
            property [brand]
            literal string 'My Brand'
    property [spend]`,
  );
});

test('computed trait: first', () => {
  golden(
    "event('Shoes Bought').within(30 days).first(property('spend'))",
    USERS_TRAIT,
    "event('Shoes Bought').within(30 days).first(property('spend'))",
    `
trait USERS
  aggregate first
    event 'Shoes Bought'
      within 30 day
    property [spend]`,
  );
});

test('computed trait: mode with a minimum frequency (default as string)', () => {
  golden(
    "event('Shoes Bought').within(30 days).mode(property('spend'), 2)",
    USERS_TRAIT,
    "event('Shoes Bought').within(30 days).mode(property('spend'), 2)",
    `
trait USERS
  aggregate mode as string min 2
    event 'Shoes Bought'
      within 30 day
    property [spend]`,
  );
});

test('Public API sample body', () => {
  golden(
    "event('Shoes Bought').count() >= 1",
    USERS_AUDIENCE,
    "event('Shoes Bought').count() >= 1",
    `
audience USERS
  at_least
    aggregate count
      event 'Shoes Bought'
    literal number 1`,
  );
});

test('UI concepts of spec §1.5', () => {
  const cases: [string, ParseOptions, string][] = [
    ["event('E').count() = 0", USERS_AUDIENCE, "event('E').count() = 0"],
    ["event('E').between(30 days, 90 days).count() <= 2", USERS_AUDIENCE, "event('E').between(30 days, 90 days).count() <= 2"],
    ["trait('plan').exists() AND trait('churned').absent()", USERS_AUDIENCE, "trait('plan').exists() AND trait('churned').absent()"],
    ["trait('vip_buyers') = true AND NOT (trait('refunders') = true)", USERS_AUDIENCE, "trait('vip_buyers') = true AND NOT trait('refunders') = true"],
    [
      "event('Product Added').where(event('Order Completed').where(property('product_id') = property(parent: 'product_id')).within(parent: 1 day).count() = 0).within(7 days).count() >= 1",
      USERS_AUDIENCE,
      "event('Product Added').where(event('Order Completed').where(property('product_id') = property(parent: 'product_id')).within(parent: 1 day).count() = 0).within(7 days).count() >= 1",
    ],
    ["event('E').where(property('p') = 'x').within(90 days).count()", USERS_TRAIT, "event('E').where(property('p') = 'x').within(90 days).count()"],
    ["event('E').sum(property('p'))", USERS_TRAIT, "event('E').sum(property('p'))"],
    ["event('E').max(property('p') as string)", USERS_TRAIT, "event('E').max(property('p') as string)"],
    ["event('E').mode(property('tags') as array, 2)", USERS_TRAIT, "event('E').mode(property('tags') as array, 2)"],
    ["event('E').last(context('campaign.name'))", USERS_TRAIT, "event('E').last(context('campaign.name'))"],
    ["event('E').unique(property('p'))", USERS_TRAIT, "event('E').unique(property('p'))"],
    ["event('E').unique(property('p')).count()", USERS_TRAIT, "event('E').unique(property('p')).count()"],
    ["event('Page Viewed').expires_after(30 minutes).count()", USERS_TRAIT, "event('Page Viewed').expires_after(30 minutes).count()"],
    ["event('E').sources({exclude: 'QgRHeujRJBM9j18yChyC', '/;hSBZDqGDPvXCKHbikPm'}).count()", USERS_TRAIT, "event('E').sources({exclude: 'QgRHeujRJBM9j18yChyC', '/;hSBZDqGDPvXCKHbikPm'}).count()"],
  ];
  for (const [source, options, printed] of cases) {
    const result = parseDefinition(source, options);
    assert.equal(result.diagnostics, [], source);
    assert.is(printDefinition(result.definition!), printed);
  }
});

test.run();
