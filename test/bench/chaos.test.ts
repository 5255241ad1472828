/**
 * The small seeded chaos run (`npm run chaos` at a few thousand events, a few kills, both logs): every
 * acknowledged event stored once, no change id naming two changes, the changes of a run with `kill -9`s
 * (random and at FLOCK_FAULT points: after a commit, after a merge, during a backfill) and a
 * nats-server restart the same as an uninterrupted run's, no failed start, no exit nobody asked for, and
 * a fresh wall-clock Flock (killed during its catch-up, then under live load) keeping event time and
 * unique change ids. It fails on each of issue 14's bugs: pending profiles dropped on restore (changes
 * differ), change ids colliding (wall-clock phase), Flock exiting on a nats-server restart, a fresh
 * JetStream engine losing event time (changes after the log's end). A webhook destination delivers
 * through it all to a receiver that is slow, 5xx, 429s and drops connections (bench/chaos/delivery.ts):
 * every change with a known messageId delivered, duplicates only as equal repeats, each user's last
 * delivered values equal to Flock's.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runChaos, type ChaosReport } from '../../bench/chaos/chaos.ts';
import { failures, formatReport } from '../../bench/chaos/report.ts';
import { natsServerAvailable } from '../support/nats-server.ts';

const options = { seed: 7, events: 2_000, kills: 2, natsRestarts: 1, liveEvents: 2_500, paceMs: 100, faults: ['committed:1', 'merge:1'] };

test('chaos (small, seeded): nothing lost, nothing doubled, the same as the uninterrupted run, on both logs', async () => {
  const jetstream = natsServerAvailable('the small chaos run (JetStream)');
  // (both logs at once: most of the time goes to starting Flock processes)
  const reports: ChaosReport[] = await Promise.all([runChaos('embedded', options), ...(jetstream ? [runChaos('jetstream', options)] : [])]);
  const failed = reports.flatMap(failures);
  assert.equal(failed, [], `\n${formatReport(reports)}\n${failed.join('\n')}`);
  for (const r of reports) {
    assert.ok(r.randomKills >= 2 && r.faultKills.length >= 2, `${r.log}: the kills happened (${r.randomKills} random, ${r.faultKills.join(' ')})`);
    assert.ok(r.changes > 1_000, `${r.log}: the workload makes changes`);
    assert.ok((r.delivery?.checkable ?? 0) > 100 && (r.delivery?.finalChecked ?? 0) > 100, `${r.log}: the destination's deliveries were checked`);
  }
});

test.run();
