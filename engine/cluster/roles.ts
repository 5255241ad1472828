/**
 * The processes of the distributed mode (docs/scale.md): what `flock start --role identity` and
 * `--role worker` run, each until `signal` aborts. Both talk to the others only through NATS
 * JetStream — the raw event log, the resolved log, the change log — and keep their own state in
 * their data dir: the identity stage its graph (`<data-dir>/identity`), a worker its partitions'
 * profiles (`<data-dir>/worker`).
 */
import { join } from 'node:path';
import { DefinitionRegistry } from '../definitions/registry.ts';
import { Engine } from '../engine.ts';
import { IdentityGraph } from '../identity/identity-graph.ts';
import { DirectResolver } from '../identity/resolver.ts';
import type { IdentityRules } from '../identity/rules.ts';
import { CHANGE_LOG, openAppendLog, openEventLog, type StreamLimitsConfig } from '../log/open-event-log.ts';
import { compilePlan, DEFAULT_COMPILE_OPTIONS } from '../plan/compile.ts';
import type { Plan } from '../plan/plan.ts';
import { CheckpointStore } from '../store/checkpoint-store.ts';
import { IdentityStage, type IdentityStageStats } from './identity-stage.ts';
import { RESOLVED_LOG } from './resolved-records.ts';
import { ResolvedSource } from './resolved-source.ts';

export interface RoleOptions {
  readonly dataDir: string;
  readonly natsUrl: string;
  /** partitions of the raw event log and of the resolved log. */
  readonly partitions: number;
  readonly stream?: StreamLimitsConfig;
  readonly timeoutMs?: number;
  readonly tickMs?: number;
  /** told of progress every second (the process logs it). */
  readonly onStats?: (stats: Record<string, unknown>) => void;
}

export interface IdentityRoleOptions extends RoleOptions {
  readonly rules: ReadonlyMap<string, IdentityRules>;
  readonly clock: 'wall' | 'event';
}

/** The identity stage: raw log in, resolved partitions out. */
export async function runIdentityRole(o: IdentityRoleOptions, signal: AbortSignal): Promise<IdentityStageStats> {
  const eventLog = await openEventLog({ dataDir: o.dataDir, natsUrl: o.natsUrl, partitions: o.partitions, stream: o.stream, timeoutMs: o.timeoutMs });
  const resolvedLog = await openAppendLog({ dataDir: o.dataDir, natsUrl: o.natsUrl, log: RESOLVED_LOG, stream: o.stream, timeoutMs: o.timeoutMs });
  const store = CheckpointStore.open(join(o.dataDir, 'identity'));
  const stage = new IdentityStage({
    eventLog,
    resolvedLog,
    store,
    resolver: new IdentityGraph({ source: store, rules: o.rules }),
    partitions: o.partitions,
    time: o.clock,
    ...(o.tickMs === undefined ? {} : { tickMs: o.tickMs }),
  });
  const report = setInterval(() => o.onStats?.({ ...stage.stats }), 1000);
  try {
    await stage.run(signal);
    return stage.stats;
  } finally {
    clearInterval(report);
    await store.close();
    await resolvedLog.close();
    await eventLog.close();
  }
}

export interface WorkerRoleOptions extends RoleOptions {
  /** the resolved partitions this worker computes. */
  readonly owned: readonly number[];
  /** the definitions it computes: the registry's at start (a definitions file seeds it). */
  readonly registryPath: string;
  readonly checkpointMs?: number;
  readonly retentionMs?: number;
  /** told of the account definitions a worker does not compute (`registryPlans`). */
  readonly onLeftOut?: (definitions: ReadonlyArray<{ space: string; key: string }>) => void;
}

/**
 * The compiled plans of every space in the registry (the newest version of each definition), user
 * definitions only: an account's users live in many partitions, and account rollups through the log
 * are not built yet (docs/scale.md) — so account definitions are left out, and named in `leftOut`,
 * rather than computed from one partition's share of an account's users.
 */
export function registryPlans(registry: DefinitionRegistry, retentionMs = 0): { plans: Map<string, Plan>; leftOut: Array<{ space: string; key: string }> } {
  const plans = new Map<string, Plan>();
  const leftOut: Array<{ space: string; key: string }> = [];
  for (const [space, inputs] of registry.planInputs()) {
    for (const d of inputs) if (d.target === 'ACCOUNTS') leftOut.push({ space, key: d.key });
    plans.set(space, compilePlan(inputs.filter((d) => d.target !== 'ACCOUNTS'), { ...DEFAULT_COMPILE_OPTIONS, retentionMs }).plan);
  }
  return { plans, leftOut };
}

/** A worker: its partitions of the resolved log in, changes out to the change log. */
export async function runWorkerRole(o: WorkerRoleOptions, signal: AbortSignal): Promise<void> {
  const registry = DefinitionRegistry.open(o.registryPath);
  const { plans, leftOut } = registryPlans(registry, o.retentionMs ?? 0);
  await registry.close();
  if (leftOut.length > 0) o.onLeftOut?.(leftOut);
  const resolvedLog = await openAppendLog({ dataDir: o.dataDir, natsUrl: o.natsUrl, log: RESOLVED_LOG, stream: o.stream, timeoutMs: o.timeoutMs });
  const changeLog = await openAppendLog({ dataDir: o.dataDir, natsUrl: o.natsUrl, log: CHANGE_LOG, stream: o.stream, timeoutMs: o.timeoutMs });
  const store = CheckpointStore.open(join(o.dataDir, 'worker'));
  try {
    const engine = await Engine.open({
      eventLog: new ResolvedSource(resolvedLog, new Set(o.owned), o.partitions),
      transfers: resolvedLog,
      changeLog,
      store,
      plans,
      resolver: new DirectResolver(),
      time: 'event',
      partitions: o.partitions,
      ...(o.tickMs === undefined ? {} : { tickMs: o.tickMs }),
      ...(o.checkpointMs === undefined ? {} : { checkpointMs: o.checkpointMs }),
    });
    const report = setInterval(() => o.onStats?.({ ...engine.stats, retries: { ...engine.stats.retries } }), 1000);
    try {
      await engine.run(signal);
    } finally {
      clearInterval(report);
    }
  } finally {
    await store.close();
    await changeLog.close();
    await resolvedLog.close();
  }
}
