/**
 * `npm run bench`: every end-to-end figure of Flock in one run and one report — throughput from each
 * log to the change log beside the floor, live latency and timer accuracy through `npm start`,
 * backfill, recovery, memory, and the DuckDB batch peer. Each stage runs in a child process (its own
 * memory); the figures go to a section of bench/RESULTS.md and a summary is printed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { findNatsServer } from '../../test/support/nats-server.ts';
import { writeResults, type ResultRow } from '../results.ts';
import { SIZES, type SizeName, type SuiteConfig } from './config.ts';
import { fmt, REQUIRED_FIGURES, type Figure, type StageResult } from './figures.ts';
import { repo, spawnStage } from './spawn-stage.ts';


const program = new Command('npm run bench')
  .description('Flock end to end: throughput beside the floor, latency, timers, backfill, recovery, memory and a DuckDB batch peer')
  .addOption(new Option('--size <size>', 'tiny (CI smoke), default (< 15 min here), large (10M events, 1M profiles)').choices(Object.keys(SIZES)).default(process.env.FLOCK_BENCH_SIZE ?? 'default'))
  .option('--events <n>', 'events in the log (overrides the size)')
  .option('--profiles <n>', 'users of the workload (overrides the size)')
  .option('--live-seconds <n>', 'seconds of the live run')
  .option('--stages <list>', `comma-separated subset of ${Object.keys(REQUIRED_FIGURES).join(',')}`)
  .option('--results <file>', 'where the report goes', join(repo, 'bench/RESULTS.md'))
  .option('--no-results', 'print only, write no report')
  .option('--json <file>', 'also write every figure as JSON (the CI smoke test reads it)');
program.parse();
const flags = program.opts<{ size: SizeName; events?: string; profiles?: string; liveSeconds?: string; stages?: string; results: string | false; json?: string }>();

const started = performance.now();
const size = SIZES[flags.size];
const events = flags.events === undefined ? size.events : Number(flags.events);
const profiles = flags.profiles === undefined ? size.profiles : Number(flags.profiles);
let config: SuiteConfig = {
  ...size,
  events,
  profiles,
  accounts: flags.profiles === undefined ? size.accounts : Math.max(5, Math.round(profiles / 20)),
  peerEvents: Math.min(size.peerEvents, events),
  ...(flags.liveSeconds === undefined ? {} : { liveSeconds: Number(flags.liveSeconds) }),
  // (a minute ago, on the minute: no event from the future, and the same instant for every stage)
  end: Math.floor(Date.now() / 60_000) * 60_000 - 60_000,
  dir: mkdtempSync(join(tmpdir(), 'flock-bench-')),
};
const stages = flags.stages === undefined ? Object.keys(REQUIRED_FIGURES) : flags.stages.split(',');

/** Runs one stage in a child process (bench/suite/spawn-stage.ts). */
function runStage(name: string): Promise<StageResult> {
  return spawnStage(name, { config, limitSeconds: 300 + config.events / 100, onInterrupt: () => rmSync(config.dir, { recursive: true, force: true }) });
}

function version(pkg: string): string {
  return (JSON.parse(readFileSync(join(repo, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

function natsVersion(): string {
  const bin = findNatsServer();
  if (bin === undefined) return 'not installed';
  return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
}

function digits(unit: string): number {
  return unit === 'ms' || unit === 'µs' ? 1 : unit === 's' ? 2 : 0;
}

const results: StageResult[] = [];
const problems: string[] = [];
process.stderr.write(`npm run bench — size ${flags.size}: ${fmt(events)} events, ${fmt(profiles)} profiles, ${fmt(config.accounts)} accounts; stages ${stages.join(', ')}\n`);
try {
  for (const [i, name] of stages.entries()) {
    process.stderr.write(`[${i + 1}/${stages.length}] ${name} …\n`);
    try {
      const r = await runStage(name);
      results.push(r);
      // The live load is a fixed rate below saturation: at most a quarter of the catch-up throughput just measured.
      const saturation = r.figures.find((f) => f.id === 'throughput.embedded')?.value;
      if (saturation !== undefined) config = { ...config, liveRate: Math.max(1, Math.min(config.liveRate, Math.round(saturation / 4))) };
      problems.push(...r.failures);
      process.stderr.write(`[${i + 1}/${stages.length}] ${name} done in ${fmt(r.seconds)} s\n`);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
} finally {
  rmSync(config.dir, { recursive: true, force: true });
}

const figures = new Map<string, Figure>(results.flatMap((r) => r.figures.map((f) => [f.id, f] as const)));
// Ratios across stages, from this one run.
const embedded = figures.get('throughput.embedded');
const recompute = figures.get('peer.recompute');
const liveRate = figures.get('live.rate');
if (embedded !== undefined && recompute !== undefined) {
  figures.set('peer.ratio_end_to_end', {
    id: 'peer.ratio_end_to_end',
    measurement: 'batch peer: one recomputation ÷ Flock absorbing one event end to end (all 120 definitions, log → change log, checkpoints)',
    value: recompute.value * embedded.value,
    unit: '×',
    note: `${fmt(1e6 / embedded.value, 1)} µs per event in the embedded throughput run`,
  });
}
if (embedded !== undefined && liveRate !== undefined) {
  figures.set('live.load', { id: 'live.load', measurement: 'live: the background load as a share of the embedded catch-up throughput', value: (liveRate.value / embedded.value) * 100, unit: '%', note: 'below saturation' });
}
for (const name of stages) for (const id of REQUIRED_FIGURES[name] ?? []) if (!figures.has(id)) problems.push(`figure ${id} is missing`);

const rows: ResultRow[] = [...figures.values()].map((f) => ({ measurement: f.measurement, value: `${fmt(f.value, digits(f.unit))} ${f.unit}`, note: f.note ?? '' }));
const details = [
  `Sizes: ${fmt(events)} events over 90 days (Zipf users with anonymous → identified journeys, group calls), ${fmt(profiles)} users, ${fmt(config.accounts)} accounts; ` +
    `recovery tail ${fmt(config.recoveryTail)} events; peer over ${fmt(config.peerEvents)} events; live ${config.liveSeconds} s at ${config.liveRate} events/s (at most a quarter of the embedded throughput) with ${config.probeRate} latency and ${config.timerRate} timer probes/s. ` +
    `Definitions: the realistic set of bench/workload/definitions.ts (100 audiences, 20 computed traits).`,
  `Versions: flock ${version('..')}, lmdb ${version('lmdb')}, msgpackr ${version('msgpackr')}, @nats-io/jetstream ${version('@nats-io/jetstream')}, rxjs ${version('rxjs')}, @duckdb/node-api ${version('@duckdb/node-api')}, nats-server ${natsVersion()}.`,
];
const seconds = (performance.now() - started) / 1000;
if (flags.results !== false) {
  writeResults('bench', `End to end — size ${flags.size}: ${fmt(events)} events, ${fmt(profiles)} users`, rows, {
    command: `npm run bench${flags.size === 'default' ? '' : ` -- --size ${flags.size}`}`,
    seconds,
    details,
    file: flags.results,
  });
}
if (flags.json !== undefined) writeFileSync(flags.json, JSON.stringify({ figures: [...figures.values()], problems }, null, 2));
const width = Math.max(...rows.map((r) => r.measurement.length));
process.stdout.write(`\n${details.join('\n')}\n\n`);
for (const r of rows) process.stdout.write(`${r.measurement.padEnd(width)}  ${r.value.padStart(18)}\n`);
process.stdout.write(`\n${fmt(figures.size)} figures in ${fmt(seconds)} s${problems.length === 0 ? '' : `; PROBLEMS:\n${problems.map((p) => `  - ${p}`).join('\n')}`}\n`);
process.exitCode = problems.length === 0 ? 0 : 1;
