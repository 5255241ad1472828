/**
 * Stage `peer`: the batch peer. The realistic audiences that translate to SQL, computed by DuckDB in
 * one full recomputation over the same events, and by Flock's runtime incrementally; the answers
 * must be equal as sets. Reported: the recomputation's time beside Flock's cost per event.
 */
import { compareWithPeer } from '../../peer/compare.ts';
import { compileQueryDefinitions, realisticDefinitions } from '../../workload/definitions.ts';
import { generateEvents } from '../../workload/generator.ts';
import { DAY, workload, type SuiteConfig } from '../config.ts';
import { fmt, type Figure } from '../figures.ts';

export async function peer(config: SuiteConfig, progress: (line: string) => void, failures: string[]): Promise<Figure[]> {
  const definitions = compileQueryDefinitions(realisticDefinitions());
  const r = await compareWithPeer({ definitions, events: generateEvents(workload(config, config.peerEvents)), now: config.end + DAY });
  const perEvent = r.flockSeconds / r.events;
  const equal = r.translated.length - r.mismatches.length;
  for (const m of r.mismatches) failures.push(`peer: ${m.key} differs — only Flock: ${m.onlyFlock.slice(0, 5).join(', ')}; only DuckDB: ${m.onlyPeer.slice(0, 5).join(', ')}`);
  progress(`DuckDB recomputes ${r.translated.length} audiences in ${fmt(r.peer.seconds, 2)} s; Flock absorbs an event in ${fmt(perEvent * 1e6, 1)} µs; ${equal}/${r.translated.length} equal`);
  const kinds = [...new Set(r.untranslated.map((u) => u.reason.replace(/ .*/, '')))];
  return [
    {
      id: 'peer.recompute',
      measurement: `batch peer: DuckDB full recomputation of ${r.translated.length} audiences`,
      value: r.peer.seconds,
      unit: 's',
      note: `${fmt(r.events)} events, ${fmt(r.peer.profiles)} profiles (loading them took ${fmt(r.loadSeconds, 1)} s, not counted); ${r.untranslated.length} audiences not translated (${kinds.join(', ')})`,
    },
    {
      id: 'peer.flock_per_event',
      measurement: `Flock: cost to absorb one event, the same ${r.translated.length} audiences (runtime, replay)`,
      value: perEvent * 1e6,
      unit: 'µs',
      note: `${r.flockDefinitions} definitions with their references; ${fmt(r.events / r.flockSeconds)} events/s`,
    },
    { id: 'peer.ratio', measurement: 'batch peer: one recomputation ÷ Flock absorbing one event', value: r.peer.seconds / perEvent, unit: '×', note: 'how many events Flock absorbs in the time of one recomputation' },
    { id: 'peer.equal', measurement: 'batch peer: audiences whose member sets equal Flock’s', value: equal, unit: `of ${r.translated.length}`, note: `${fmt(r.members)} memberships compared` },
  ];
}
