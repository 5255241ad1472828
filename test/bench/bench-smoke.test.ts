/** CI smoke run of `npm run bench` at the tiny size: it completes and reports every figure (no figure is judged: timings are not asserted). */
import { test } from 'uvu';
import { REQUIRED_FIGURES } from '../../bench/suite/figures.ts';
import { smokeRun } from '../support/bench-smoke.ts';
import { natsServerAvailable } from '../support/nats-server.ts';

test('npm run bench --size tiny completes, writes its report and reports every figure', async () => {
  if (!natsServerAvailable('the bench smoke run (JetStream throughput)')) return;
  await smokeRun('bench/suite/run.ts', REQUIRED_FIGURES, 'bench', /Versions: flock .*@duckdb\/node-api/);
});

test.run();
