/**
 * `npm run bench:profile`: where the engine's time goes, end to end. The realistic workload is
 * appended to the embedded log, then the engine runs it into the change log (checkpoints, history,
 * identity) under the V8 CPU profiler; each sample's function is put in a bucket by the file it lives
 * in (history, checkpoint store and LMDB, msgpack, identity, runtime evaluation, kernels, logs, GC),
 * and the shares go to the `profile` section of bench/RESULTS.md beside the run's rate and its raw
 * consume + decode floor — so the next bottleneck is visible.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityGraph } from '../engine/identity/identity-graph.ts';
import { compilePlan } from '../engine/plan/compile.ts';
import { workload, SPACE } from './suite/config.ts';
import { logToChangeLog } from './suite/log-to-change-log.ts';
import { writeResults, type ResultRow } from './results.ts';
import { compileQueryDefinitions, realisticDefinitions } from './workload/definitions.ts';
import { generateEvents } from './workload/generator.ts';

const EVENTS = Number(process.env.FLOCK_BENCH_EVENTS ?? 200_000);
const PROFILES = Number(process.env.FLOCK_BENCH_PROFILES ?? 20_000);
const RESULTS = process.env.FLOCK_BENCH_RESULTS;

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Buckets, first match wins: by V8's pseudo-functions, then by the source file a function is in. */
const BUCKETS: ReadonlyArray<readonly [string, (name: string, url: string) => boolean]> = [
  ['GC', (name) => name === '(garbage collector)'],
  ['idle (waiting for I/O, commits on LMDB\'s thread)', (name) => name === '(idle)' || name === '(program)'],
  ['history and event index', (_, url) => url.includes('/engine/history/')],
  ['checkpoint store: hand-over, puts, key encoding, commit', (_, url) => url.includes('/engine/store/') || url.includes('/node_modules/lmdb/') || url.includes('/node_modules/ordered-binary/')],
  ['msgpack encode / decode', (_, url) => url.includes('/node_modules/msgpackr')],
  ['identity resolution', (_, url) => url.includes('/engine/identity/')],
  ['change-log records (JSON encoding)', (_, url) => url.endsWith('/engine/runtime/change-records.ts')],
  ['runtime evaluation (runtime, plan, values)', (_, url) => url.includes('/engine/runtime/') || url.includes('/engine/plan/') || url.includes('/engine/eval/')],
  ['kernels (windows, funnels, timers)', (_, url) => url.includes('/operators/')],
  ['engine loop, change encoding and publish', (_, url) => url.endsWith('/engine/engine.ts') || url.includes('/engine/pipeline/') || url.includes('/node_modules/rxjs/')],
  ['event logs (read, decode)', (_, url) => url.includes('/engine/log/') || url.includes('/engine/event/')],
  ['built-ins (JSON, strings, maps, …)', (_, url) => url === '' || url.startsWith('node:')],
];

/** Self time per bucket, as shares of the profile. */
export function bucketShares(profile: CpuProfile): Array<[string, number]> {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const totals = new Map<string, number>();
  let all = 0;
  for (const [id, time] of self) {
    const { functionName, url } = byNode.get(id)!.callFrame;
    const bucket = BUCKETS.find(([, match]) => match(functionName, url))?.[0] ?? 'other';
    totals.set(bucket, (totals.get(bucket) ?? 0) + time);
    all += time;
  }
  return [...totals].map(([bucket, time]): [string, number] => [bucket, time / all]).sort((a, b) => b[1] - a[1]);
}

/** The `n` functions with the most self time, as shares of the profile (`file:function`). */
export function topFunctions(profile: CpuProfile, n: number): Array<[string, number]> {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  let all = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const { functionName, url } = byNode.get(profile.samples[i]!)!.callFrame;
    const name = `${url.replace(/^.*\/(node_modules\/[^/]+|engine|operators|api|bench)\//, '$1/')}:${functionName || '(anonymous)'}`;
    const time = profile.timeDeltas[i] ?? 0;
    totals.set(name, (totals.get(name) ?? 0) + time);
    all += time;
  }
  return [...totals].map(([name, time]): [string, number] => [name, time / all]).sort((a, b) => b[1] - a[1]).slice(0, n);
}

async function main(): Promise<void> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'flock-bench-profile-'));
  const session = new Session();
  session.connect();
  let profile: CpuProfile | undefined;
  try {
    const { plan } = compilePlan(compileQueryDefinitions(realisticDefinitions()));
    const config = { profiles: PROFILES, accounts: Math.max(1, Math.round(PROFILES / 50)), end: Date.parse('2026-06-01T00:00:00Z') };
    const run = await logToChangeLog({
      kind: 'embedded',
      dir,
      events: generateEvents(workload(config, EVENTS)),
      space: SPACE,
      plan,
      resolver: (store) => new IdentityGraph({ source: store }),
      // (the writer thread, when FLOCK_CHECKPOINT_WRITER=thread, is profiled too)
      profileWriter: true,
      around: {
        start: async () => {
          await session.post('Profiler.enable');
          await session.post('Profiler.setSamplingInterval', { interval: 500 });
          await session.post('Profiler.start');
        },
        stop: async () => {
          profile = (await session.post('Profiler.stop')).profile as unknown as CpuProfile;
        },
      },
    });
    // The same events once more, without the profiler, committing in the engine's thread and through
    // the writer thread: their rates and CPU seconds side by side (what --checkpoint-writer decides).
    const modes: Array<{ mode: 'inline' | 'thread'; perSecond: number; cpu: number }> = [];
    if (process.env.FLOCK_BENCH_PROFILE_COMPARE !== '0') {
      for (const mode of ['inline', 'thread'] as const) {
        const cpu0 = process.cpuUsage();
        const r = await logToChangeLog({
          kind: 'embedded',
          dir: join(dir, mode),
          events: generateEvents(workload(config, EVENTS)),
          space: SPACE,
          plan,
          resolver: (store) => new IdentityGraph({ source: store }),
          writerThread: mode === 'thread',
        });
        const cpu = process.cpuUsage(cpu0);
        modes.push({ mode, perSecond: r.perSecond, cpu: (cpu.user + cpu.system) / 1e6 });
      }
    }
    const shares = bucketShares(profile!);
    const writerProfile = run.writerProfile as CpuProfile | undefined;
    const writerShares = writerProfile === undefined ? [] : bucketShares(writerProfile);
    const busy = (p: CpuProfile) => {
      const byNode = new Map(p.nodes.map((n) => [n.id, n.callFrame.functionName]));
      let all = 0;
      let idle = 0;
      for (let i = 0; i < p.samples.length; i++) {
        const t = p.timeDeltas[i] ?? 0;
        all += t;
        if (byNode.get(p.samples[i]!) === '(idle)') idle += t;
      }
      return (all - idle) / 1e6;
    };
    const seconds = (x: number) => `${x.toFixed(1)} s`;
    console.log(`embedded log → change log, realistic set: ${Math.round(run.perSecond).toLocaleString('en-US')} events/s (raw consume + decode ${Math.round(run.raw).toLocaleString('en-US')}/s, ${((100 * run.perSecond) / run.raw).toFixed(1)} %) in ${run.seconds.toFixed(1)} s`);
    console.log(`engine thread busy ${seconds(busy(profile!))}${writerProfile === undefined ? '' : `, writer thread busy ${seconds(busy(writerProfile))}`}`);
    console.log('engine thread:');
    for (const [bucket, share] of shares) console.log(`${(100 * share).toFixed(1).padStart(5)} %  ${bucket}`);
    console.log('top functions (self time):');
    for (const [name, share] of topFunctions(profile!, 30)) console.log(`${(100 * share).toFixed(1).padStart(5)} %  ${name}`);
    if (writerProfile !== undefined) {
      console.log('writer thread:');
      for (const [bucket, share] of writerShares) console.log(`${(100 * share).toFixed(1).padStart(5)} %  ${bucket}`);
      for (const [name, share] of topFunctions(writerProfile, 15)) console.log(`${(100 * share).toFixed(1).padStart(5)} %  ${name}`);
    }
    const rows: ResultRow[] = [
      { measurement: 'embedded log → change log, realistic set (events/s)', value: Math.round(run.perSecond).toLocaleString('en-US'), note: `${((100 * run.perSecond) / run.raw).toFixed(1)} % of raw consume + decode (${Math.round(run.raw).toLocaleString('en-US')}/s) in the same run; ${run.seconds.toFixed(1)} s` },
      { measurement: 'busy (not idle) CPU time: engine thread / writer thread', value: `${seconds(busy(profile!))} / ${writerProfile === undefined ? '–' : seconds(busy(writerProfile))}`, note: 'the writer commits checkpoints while the engine evaluates on; idle = waiting (for the writer, I/O, LMDB\'s commit thread)' },
      ...modes.map(({ mode, perSecond, cpu }): ResultRow => ({
        measurement: `--checkpoint-writer ${mode}: events/s, process CPU seconds (no profiler)`,
        value: `${Math.round(perSecond).toLocaleString('en-US')}`,
        note: `${cpu.toFixed(1)} s of CPU for ${EVENTS.toLocaleString('en-US')} events (all threads; the log fill and the floor included)`,
      })),
      ...shares.map(([bucket, share]): ResultRow => ({ measurement: `engine thread share: ${bucket}`, value: `${(100 * share).toFixed(1)} %` })),
      ...writerShares.map(([bucket, share]): ResultRow => ({ measurement: `writer thread share: ${bucket}`, value: `${(100 * share).toFixed(1)} %` })),
    ];
    writeResults('profile', 'Where the time goes, end to end (`npm run bench:profile`)', rows, {
      command: 'npm run bench:profile',
      seconds: (performance.now() - started) / 1000,
      ...(RESULTS === undefined ? {} : { file: RESULTS }),
      details: [
        `${EVENTS.toLocaleString('en-US')} events of the realistic workload over ${PROFILES.toLocaleString('en-US')} profiles, the realistic set (100 audiences, 20 computed traits), embedded log, checkpoints (${process.env.FLOCK_CHECKPOINT_WRITER === 'thread' ? 'committed by the writer thread' : 'committed in the engine\'s thread, the default'}), history and identity as in production; V8 CPU profile of the engine's thread${process.env.FLOCK_CHECKPOINT_WRITER === 'thread' ? ' and of the checkpoint writer\'s thread' : ''}, self time per bucket (by source file).`,
      ],
    });
  } finally {
    session.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
