/**
 * `npm run bench:scale`: the two figures of issue 9 the default `npm run bench` size cannot reach,
 * measured — recovery (restart to caught up) with 1M profiles of state, and a new audience's time to
 * Live over a large log (5M events by default, what fits the time here; 10M with
 * `--backfill-events 10000000`, and projected to 10M otherwise, labelled so). Stages of bench/suite run in child processes; the figures go to the
 * `scale` section of bench/RESULTS.md and a summary is printed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { writeResults, type ResultRow } from '../results.ts';
import { SCALE_SIZES, type ScaleSizeName, type SuiteConfig } from './config.ts';
import { fmt, REQUIRED_SCALE_FIGURES, type Figure, type StageResult } from './figures.ts';
import { repo, spawnStage } from './spawn-stage.ts';


const program = new Command('npm run bench:scale')
  .description('recovery with 1M profiles of state and a backfill over a 5M-event log (10M with --backfill-events), measured')
  .addOption(new Option('--size <size>', 'default (1M profiles of state, 5M events of backfill; ~12 min here), tiny (the smoke test)').choices(Object.keys(SCALE_SIZES)).default(process.env.FLOCK_BENCH_SCALE_SIZE ?? 'default'))
  .option('--events <n>', 'events of the workload run through the engine for the real state (overrides the size)')
  .option('--profiles <n>', 'users of that workload (overrides the size)')
  .option('--state-profiles <n>', 'profiles of state at the restart (overrides the size)')
  .option('--backfill-events <n>', 'events in the backfill log (overrides the size; users: a tenth, at most 1M): 10000000 measures 10M (well over 20 min here)')
  .option('--stages <list>', `comma-separated subset of ${Object.keys(REQUIRED_SCALE_FIGURES).join(',')} (scale-recovery needs scale-state)`)
  .option('--results <file>', 'where the report goes', join(repo, 'bench/RESULTS.md'))
  .option('--no-results', 'print only, write no report')
  .option('--json <file>', 'also write every figure as JSON (the smoke test reads it)');
program.parse();
const flags = program.opts<{ size: ScaleSizeName; events?: string; profiles?: string; stateProfiles?: string; backfillEvents?: string; stages?: string; results: string | false; json?: string }>();

const started = performance.now();
const size = SCALE_SIZES[flags.size];
const backfillEvents = flags.backfillEvents === undefined ? size.scale.backfillEvents : Number(flags.backfillEvents);
const backfillProfiles = flags.backfillEvents === undefined ? size.scale.backfillProfiles : Math.min(1_000_000, Math.max(10, Math.round(backfillEvents / 10)));
const profiles = flags.profiles === undefined ? size.profiles : Number(flags.profiles);
const config: SuiteConfig = {
  ...size,
  ...(flags.events === undefined ? {} : { events: Number(flags.events) }),
  profiles,
  accounts: flags.profiles === undefined ? size.accounts : Math.max(5, Math.round(profiles / 20)),
  scale: {
    ...size.scale,
    ...(flags.stateProfiles === undefined ? {} : { stateProfiles: Number(flags.stateProfiles) }),
    backfillEvents,
    backfillProfiles,
    backfillAccounts: flags.backfillEvents === undefined ? size.scale.backfillAccounts : Math.max(5, Math.round(backfillProfiles / 20)),
  },
  // (a minute ago, on the minute: no event from the future, and the same instant for every stage)
  end: Math.floor(Date.now() / 60_000) * 60_000 - 60_000,
  dir: mkdtempSync(join(tmpdir(), 'flock-bench-scale-')),
};
const scale = config.scale!;
const stages = flags.stages === undefined ? Object.keys(REQUIRED_SCALE_FIGURES) : flags.stages.split(',');

/** The stages running (two at once: see below), each killed with what it started on Ctrl-C. */
/** Runs one stage in a child process (bench/suite/spawn-stage.ts) with a heap large enough for 1M profiles. */
function runStage(name: string, env: Record<string, string> = {}): Promise<StageResult> {
  return spawnStage(name, {
    config,
    env,
    nodeArgs: ['--max-old-space-size=12288'],
    limitSeconds: 300 + (scale.stateProfiles + scale.backfillEvents) / 2000,
    onInterrupt: () => rmSync(config.dir, { recursive: true, force: true }),
  });
}

function version(pkg: string): string {
  return (JSON.parse(readFileSync(join(repo, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

const results: StageResult[] = [];
const problems: string[] = [];
process.stderr.write(
  `npm run bench:scale — size ${flags.size}: recovery over ${fmt(scale.stateProfiles)} profiles of state (from ${fmt(config.events)} events, ${fmt(config.profiles)} users); ` +
    `backfill over ${fmt(backfillEvents)} events (${fmt(backfillProfiles)} users); stages ${stages.join(', ')}\n`,
);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function stage(name: string, env?: Record<string, string>): Promise<void> {
  process.stderr.write(`[${name}] …\n`);
  try {
    const r = await runStage(name, env);
    results.push(r);
    problems.push(...r.failures);
    process.stderr.write(`[${name}] done in ${fmt(r.seconds)} s\n`);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
}
// The setups overlap, the measurements run alone: the backfill stage fills its log and catches up
// while scale-state builds the restart's state; it then waits (FLOCK_BENCH_GATE) until the restart has
// been measured, and measures creation → Live with nothing else of this run going on.
const gate = join(config.dir, 'gate');
let backfillSettled = false;
const backfill = stages.includes('scale-backfill') ? stage('scale-backfill', { FLOCK_BENCH_GATE: gate }).finally(() => (backfillSettled = true)) : undefined;
try {
  if (stages.includes('scale-state')) await stage('scale-state');
  if (stages.includes('scale-recovery')) {
    while (backfill !== undefined && !backfillSettled && !existsSync(`${gate}.ready`)) await sleep(200);
    await stage('scale-recovery');
  }
  writeFileSync(`${gate}.go`, '');
  await backfill;
} finally {
  rmSync(config.dir, { recursive: true, force: true });
}
const order = Object.keys(REQUIRED_SCALE_FIGURES);
results.sort((a, b) => order.indexOf(a.stage) - order.indexOf(b.stage));

const figures = new Map<string, Figure>(results.flatMap((r) => r.figures.map((f) => [f.id, f] as const)));
for (const name of stages) for (const id of REQUIRED_SCALE_FIGURES[name] ?? []) if (!figures.has(id)) problems.push(`figure ${id} is missing`);
const digits = (unit: string) => (unit === 's' ? 2 : 0);
const rows: ResultRow[] = [...figures.values()].map((f) => ({ measurement: f.measurement, value: `${fmt(f.value, digits(f.unit))} ${f.unit}`, note: f.note ?? '' }));
const stageTimes = results.map((r) => `${r.stage} ${fmt(r.seconds)} s`).join(', ');
const details = [
  `Sizes: recovery over ${fmt(scale.stateProfiles)}+ profiles of state — the realistic workload (${fmt(config.events)} events over 90 days, ${fmt(config.profiles)} users, ${fmt(config.accounts)} accounts) through the engine with the realistic set ` +
    `(100 audiences, 20 computed traits), its user profiles then cloned in the store under new ids (\`CheckpointStore.cloneProfiles\`: core, node states, timers, published outputs, identity records with renamed identifiers) — ` +
    `and a tail of ${fmt(config.recoveryTail)} events behind the last checkpoint sent by the real users and their clones; backfill over ${fmt(backfillEvents)} events of the same workload (${fmt(backfillProfiles)} users, ${fmt(scale.backfillAccounts)} accounts), measured${backfillEvents < 10_000_000 ? ' — the 10M row is PROJECTED from it (at 10M the live engine\'s identity-only catch-up before the creation alone would not fit this command\'s 20-minute budget here)' : ''}.`,
  `Stages: ${stageTimes} (the backfill stage's log fill and catch-up overlap scale-state; the restart and creation → Live are each measured with nothing else of this run going on).`,
  `Versions: flock ${version('..')}, lmdb ${version('lmdb')}, msgpackr ${version('msgpackr')}, rxjs ${version('rxjs')}.`,
];
const seconds = (performance.now() - started) / 1000;
if (flags.results !== false) {
  writeResults('scale', `Scale — recovery with ${fmt(scale.stateProfiles)} profiles of state, backfill over ${fmt(backfillEvents)} events`, rows, {
    command: `npm run bench:scale${flags.size === 'default' ? '' : ` -- --size ${flags.size}`}`,
    seconds,
    details,
    file: flags.results,
  });
}
if (flags.json !== undefined) writeFileSync(flags.json, JSON.stringify({ figures: [...figures.values()], problems }, null, 2));
const width = Math.max(0, ...rows.map((r) => r.measurement.length));
process.stdout.write(`\n${details.join('\n')}\n\n`);
for (const r of rows) process.stdout.write(`${r.measurement.padEnd(width)}  ${r.value.padStart(18)}\n`);
process.stdout.write(`\n${fmt(figures.size)} figures in ${fmt(seconds)} s${problems.length === 0 ? '' : `; PROBLEMS:\n${problems.map((p) => `  - ${p}`).join('\n')}`}\n`);
process.exitCode = problems.length === 0 ? 0 : 1;
