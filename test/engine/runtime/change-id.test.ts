/** Change ids: deterministic and unique per change, also when one profile changes twice at one instant. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defineQuery, recordingRuntime } from '../../support/runtime-harness.ts';
import { track } from '../../support/events.ts';

const T = Date.parse('2026-03-01T00:00:00Z');

function twiceAtOneInstant() {
  const { rt, changes } = recordingRuntime([defineQuery('views', "event('Product Viewed').count()", 'trait')]);
  // replay: the first view at T is evaluated when the instant closes (a tick, a plan switch) …
  rt.replay([{ event: track('u1', 'Product Viewed', T, {}, { messageId: 'm1' }), profileId: 'use_1' }]);
  rt.close();
  // … and a late view (timestamp before T) arrives after: it counts from T, the same instant.
  rt.replay([{ event: track('u1', 'Product Viewed', T - 60_000, {}, { messageId: 'm2' }), profileId: 'use_1' }]);
  rt.close();
  return changes.filter((c) => c.kind === 'trait' && c.value !== 0);
}

test('two changes of one profile and definition at one instant have different ids', () => {
  const changes = twiceAtOneInstant();
  assert.equal(changes.map((c) => [c.at, c.kind === 'trait' ? c.value : null]), [[T, 1], [T, 2]]);
  assert.is(new Set(changes.map((c) => c.id)).size, 2, changes.map((c) => c.id).join(' '));
});

test('ids are deterministic: the same input gives the same ids', () => {
  assert.equal(twiceAtOneInstant().map((c) => c.id), twiceAtOneInstant().map((c) => c.id));
});

test('the id names definition, version, profile, instant, direction and cause', () => {
  const [first] = twiceAtOneInstant();
  assert.is(first!.id, `tra_views.1.use_1.${T}.t.mm1`);
});

test.run();
