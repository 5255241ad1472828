/** The chaos report: one table, both logs side by side, and the list of what failed (the run exits non-zero on any). */
import { percentile } from './check.ts';
import type { ChaosReport } from './chaos.ts';

/** Why the run failed (empty: it passed). */
export function failures(r: ChaosReport): string[] {
  const out: string[] = [];
  const add = (n: number, what: string) => n > 0 && out.push(`${r.log}: ${n} ${what}`);
  add(r.missing, 'acknowledged events missing from the log');
  add(r.doubled, 'events doubled in the log');
  add(r.collisions, `change ids naming two different changes (${r.collisionExamples.join(', ')})`);
  add(r.vsReference.missing, 'changes missing against the uninterrupted run');
  add(r.vsReference.extra, 'extra changes against the uninterrupted run');
  add(r.vsReference.different, 'changes different from the uninterrupted run');
  add(r.finalDifferent, `final memberships / trait values different (${r.finalExamples.join('; ')})`);
  add(r.backfill.vsReference.missing + r.backfill.vsReference.extra + r.backfill.vsReference.different, 'backfill-phase changes missing, extra or different');
  add(r.backfill.finalDifferent, 'backfilled definitions with different final values');
  if (!r.backfill.faultHit) out.push(`${r.log}: the kill during a backfill did not happen`);
  add(r.wall.missing, 'acknowledged events missing (wall-clock phase)');
  add(r.wall.doubled, 'events doubled (wall-clock phase)');
  add(r.wall.collisions, `change ids naming two different changes (wall-clock phase: ${r.wall.collisionExamples.join(', ')})`);
  add(r.wall.lateInstants, 'event-caused changes after the log’s last event (wall-clock catch-up lost event time)');
  if (r.delivery !== undefined) {
    const d = r.delivery;
    add(d.undelivered, `changes never delivered to the destination (${d.examples.join('; ')})`);
    add(d.duplicatesDiffering, 'delivered duplicates whose content differs from the first arrival');
    add(d.finalDifferent, `users whose delivered values differ from Flock's (${d.examples.join('; ')})`);
    add(d.finalDifferentMerged, `users whose profile absorbed another, with delivered values that differ from Flock's (${d.mergedExamples.join('; ')})`);
    add(d.deadLetters, 'dead letters (every receiver failure was temporary)');
    if (d.checkable === 0) out.push(`${r.log}: no change was checkable against the destination`);
  }
  add(r.failedStarts, 'failed starts');
  add(r.unexpectedExits.length, `exits nobody asked for (${[...new Set(r.unexpectedExits)].join('; ')})`);
  return out;
}

/** The table, one column per log. */
export function formatReport(reports: readonly ChaosReport[]): string {
  const ms = (n: number) => (Number.isNaN(n) ? '–' : `${(n / 1000).toFixed(1)} s`);
  const rows: Array<[string, (r: ChaosReport) => string | number]> = [
    ['events sent / acknowledged', (r) => `${r.events} / ${r.acked}`],
    ['kills: random + FLOCK_FAULT', (r) => `${r.randomKills} + ${r.faultKills.length}`],
    ['FLOCK_FAULT points hit', (r) => [...new Set(r.faultKills.map((f) => f.split(':')[0]))].join(' ') || '–'],
    ['nats-server restarts', (r) => (r.log === 'jetstream' ? r.natsRestarts : '–')],
    ['acknowledged events missing in the log', (r) => r.missing],
    ['events doubled in the log', (r) => r.doubled],
    ['change ids with different content', (r) => r.collisions],
    ['changes (chaos / uninterrupted)', (r) => `${r.changes} / ${r.referenceChanges}`],
    ['changes missing vs uninterrupted', (r) => r.vsReference.missing],
    ['changes extra vs uninterrupted', (r) => r.vsReference.extra],
    ['changes different vs uninterrupted', (r) => r.vsReference.different],
    ['final memberships / traits different', (r) => r.finalDifferent],
    ['backfill: changes missing+extra+different', (r) => r.backfill.vsReference.missing + r.backfill.vsReference.extra + r.backfill.vsReference.different],
    ['backfill: final values different', (r) => r.backfill.finalDifferent],
    ['wall clock: missing / doubled events', (r) => `${r.wall.missing} / ${r.wall.doubled}`],
    ['wall clock: change ids with different content', (r) => r.wall.collisions],
    ['wall clock: event changes after the log end', (r) => r.wall.lateInstants],
    ['destination: changes of connected definitions (with known messageId)', (r) => (r.delivery === undefined ? '–' : `${r.delivery.changes} (${r.delivery.checkable})`)],
    ['destination: changes never delivered', (r) => r.delivery?.undelivered ?? '–'],
    ['destination: messages received / unique', (r) => (r.delivery === undefined ? '–' : `${r.delivery.messages} / ${r.delivery.unique}`)],
    ['destination: duplicates (same messageId) / differing', (r) => (r.delivery === undefined ? '–' : `${r.delivery.duplicates} / ${r.delivery.duplicatesDiffering}`)],
    ['destination: user values ≠ Flock (of checked)', (r) => (r.delivery === undefined ? '–' : `${r.delivery.finalDifferent} (of ${r.delivery.finalChecked})`)],
    ['destination: merged users’ values ≠ Flock', (r) => r.delivery?.finalDifferentMerged ?? '–'],
    ['destination: requests / dead letters', (r) => (r.delivery === undefined ? '–' : `${r.delivery.requests} / ${r.delivery.deadLetters}`)],
    ['restart → ready p50 / max', (r) => `${ms(percentile(r.readyMs, 0.5))} / ${ms(percentile(r.readyMs, 1))}`],
    ['failed starts', (r) => r.failedStarts],
    ['exits nobody asked for', (r) => r.unexpectedExits.length],
    ['duration', (r) => ms(r.durationMs)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = [`| ${'check'.padEnd(width)} | ${reports.map((r) => r.log.padEnd(14)).join(' | ')} |`, `|${'-'.repeat(width + 2)}|${reports.map(() => '-'.repeat(16)).join('|')}|`];
  for (const [label, cell] of rows) lines.push(`| ${label.padEnd(width)} | ${reports.map((r) => String(cell(r)).padEnd(14)).join(' | ')} |`);
  return lines.join('\n');
}
