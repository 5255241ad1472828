/** Rule unsupported-entity. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { unsupportedEntity } from '../../../../engine/lang/rules/unsupported-entity.ts';
import { runAstRule } from '../../../support/query-lang.ts';

test('entity() is Linked Audiences: unsupported, each one reported', () => {
  assert.equal(runAstRule(unsupportedEntity, "entity('orders').where(entity('order-products').count() >= 1).count() >= 1"), [
    "1:1 unsupported entity('orders') is part of Linked Audiences, which Flock does not support",
    "1:24 unsupported entity('order-products') is part of Linked Audiences, which Flock does not support",
  ]);
});

test('passes event()', () => {
  assert.equal(runAstRule(unsupportedEntity, "event('orders').count() >= 1"), []);
});

test.run();
