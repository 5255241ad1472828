/** Smoke run of `npm run bench:scale` at the tiny size (2k profiles of state, a 5k-event backfill): it completes and reports every figure (timings are not asserted). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REQUIRED_SCALE_FIGURES } from '../../bench/suite/figures.ts';
import { smokeRun } from '../support/bench-smoke.ts';

test('npm run bench:scale --size tiny completes, writes its report and reports every figure', async () => {
  const figures = await smokeRun('bench/suite/scale.ts', REQUIRED_SCALE_FIGURES, 'scale', /Versions: flock .*lmdb/);
  // the restart really had the tiny size's profiles of state (counted in the store)
  assert.ok(figures.find((f) => f.id === 'scale.recovery.profiles')!.value >= 2000);
});

test.run();
