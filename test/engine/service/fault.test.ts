/** FLOCK_FAULT: parsing, refusing typos, and the probe that kills at the n-th time a point is reached. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { faultProbe, FaultSpecError, parseFault, type FaultSpec } from '../../../engine/service/fault.ts';

test('parses point:n lists; unset or empty is no fault', () => {
  assert.equal(parseFault(undefined), []);
  assert.equal(parseFault(' '), []);
  assert.equal(parseFault('committed:3, catch-up:1'), [
    { point: 'committed', at: 3 },
    { point: 'catch-up', at: 1 },
  ]);
  assert.is(faultProbe([]), undefined);
  // the delivery worker's point (it reads the same FLOCK_FAULT)
  assert.equal(parseFault('delivered:2'), [{ point: 'delivered', at: 2 }]);
});

test('a malformed FLOCK_FAULT is refused (a typo must not run a chaos test without its fault)', () => {
  for (const bad of ['commited:1', 'committed', 'committed:0', 'committed:x']) assert.throws(() => parseFault(bad), (e: unknown) => e instanceof FaultSpecError);
});

test('the probe kills at the n-th time its point is reached, once', () => {
  const killed: FaultSpec[] = [];
  const probe = faultProbe(parseFault('committed:2,exits:1'), (spec) => killed.push(spec))!;
  probe('applied');
  probe('committed');
  assert.equal(killed, []);
  probe('committed');
  assert.equal(killed, [{ point: 'committed', at: 2 }]);
  probe('committed');
  probe('exits');
  assert.equal(killed, [{ point: 'committed', at: 2 }, { point: 'exits', at: 1 }]);
});

test.run();
