import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EVENT_TYPES } from '../../engine/event/model.ts';

test('event types', () => {
  assert.is(EVENT_TYPES.length, 6);
});

test.run();
