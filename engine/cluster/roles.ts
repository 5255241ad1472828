/**
 * The processes of the distributed mode (docs/scale.md): what `flock start --role identity` and
 * `--role worker` run, each until `signal` aborts. Both talk to the others only through NATS
 * JetStream — the raw event log, the resolved log, the change log — and keep their own state in
 * their data dir: the identity stage its graph (`<data-dir>/identity`), a worker its partitions'
 * profiles (`<data-dir>/worker`).
 */
import { DefinitionRegistry } from '../definitions/registry.ts';
import type { IdentityRules } from '../identity/rules.ts';
import type { StreamLimitsConfig } from '../log/open-event-log.ts';
import { compilePlan, DEFAULT_COMPILE_OPTIONS } from '../plan/compile.ts';
import type { Plan } from '../plan/plan.ts';
import { runIdentityNode, type IdentityNodeStats } from './identity-node.ts';
import { runWorkerGroup } from './worker-group.ts';
import { runWorkerNode } from './worker-node.ts';

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
  readonly onError?: (error: unknown) => void;
  readonly rules: ReadonlyMap<string, IdentityRules>;
  readonly clock: 'wall' | 'event';
}

/**
 * The identity stage: raw log in, resolved partitions out — while this process holds the identity
 * lease; a standby otherwise, which takes over when the owner stops renewing (identity-node.ts).
 */
export function runIdentityRole(o: IdentityRoleOptions, signal: AbortSignal): Promise<IdentityNodeStats> {
  return runIdentityNode(
    {
      natsUrl: o.natsUrl,
      dataDir: o.dataDir,
      partitions: o.partitions,
      rules: o.rules,
      clock: o.clock,
      ...(o.stream === undefined ? {} : { stream: o.stream }),
      ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
      ...(o.tickMs === undefined ? {} : { tickMs: o.tickMs }),
      onState: (stats) => o.onStats?.({ ...stats, stage: stats.stage === null ? null : { ...stats.stage } }),
      ...(o.onError === undefined ? {} : { onError: o.onError }),
    },
    signal,
  );
}

export interface WorkerRoleOptions extends RoleOptions {
  /** the resolved partitions this worker computes, or `auto`: its share of the sets among the live workers (worker-group.ts). */
  readonly owned: readonly number[] | 'auto';
  /** `auto`: consecutive partitions per set (default 4). */
  readonly setSize?: number;
  /** standbys keep their sets warm (warm-standby.ts; default false: cold). */
  readonly warm?: boolean;
  /** where a holder's checkpoints are committed (worker-node.ts; default inline). */
  readonly checkpointWriter?: 'inline' | 'thread';
  /** the definitions it computes: the registry's at start (a definitions file seeds it). */
  readonly registryPath: string;
  readonly checkpointMs?: number;
  readonly retentionMs?: number;
  /** failures the worker rides out (a snapshot upload, an engine failure that hands its set on). */
  readonly onError?: (error: unknown) => void;
  /** told of the definitions a worker does not compute (`registryPlans`), each with the code of why. */
  readonly onLeftOut?: (definitions: readonly LeftOut[]) => void;
}

/** A definition a worker leaves out, and why (a stable code for the log line). */
export interface LeftOut {
  readonly space: string;
  readonly key: string;
  readonly code: string;
}

/**
 * The compiled plans of every space in the registry (the newest version of each definition), and
 * the definitions a worker cannot compute, named in `leftOut` rather than computed wrongly: none at
 * present — account definitions run, each account where its partition is, over shadows of its
 * users (docs/scale.md §8; they were left out, `accounts_not_partitioned`, until rollups through the
 * log were built).
 */
export function registryPlans(registry: DefinitionRegistry, retentionMs = 0): { plans: Map<string, Plan>; leftOut: LeftOut[] } {
  const plans = new Map<string, Plan>();
  const leftOut: LeftOut[] = [];
  for (const [space, inputs] of registry.planInputs()) plans.set(space, compilePlan(inputs, { ...DEFAULT_COMPILE_OPTIONS, retentionMs }).plan);
  return { plans, leftOut };
}

/**
 * A worker: its partition set of the resolved log in, changes out to the change log — while it
 * holds the set's lease; a standby otherwise, which takes the set over (restoring its snapshot from
 * the object store) when the holder stops renewing (worker-node.ts). While it computes, it answers the
 * API role's reads of its partitions (query-responder.ts).
 */
export async function runWorkerRole(o: WorkerRoleOptions, signal: AbortSignal): Promise<void> {
  const registry = DefinitionRegistry.open(o.registryPath);
  try {
    const { plans, leftOut } = registryPlans(registry, o.retentionMs ?? 0);
    if (leftOut.length > 0) o.onLeftOut?.(leftOut);
    const node = {
      natsUrl: o.natsUrl,
      dataDir: o.dataDir,
      partitionCount: o.partitions,
      plans,
      // (kept open: the API role's profile reads are answered with the definitions computed here)
      registry,
      warm: o.warm === true,
      checkpointWriter: o.checkpointWriter ?? 'inline',
      ...(o.stream?.replicas === undefined ? {} : { replicas: o.stream.replicas }),
      engine: { ...(o.tickMs === undefined ? {} : { tickMs: o.tickMs }), ...(o.checkpointMs === undefined ? {} : { checkpointMs: o.checkpointMs }) },
      ...(o.onError === undefined ? {} : { onError: o.onError }),
    };
    if (o.owned === 'auto') {
      await runWorkerGroup({ ...node, ...(o.setSize === undefined ? {} : { setSize: o.setSize }), onState: (stats) => o.onStats?.({ worker: stats.worker, live: stats.live, handedOver: stats.handedOver, sets: Object.fromEntries(Object.entries(stats.sets).map(([set, s]) => [set, { state: s.state, position: s.position, checkpointed: s.checkpointed, fence: s.fence, takeovers: s.takeovers, ...(s.paused === null ? {} : { paused: s.paused }), ...(s.waiting === undefined ? {} : { waiting: s.waiting }) }])) }) }, signal);
      return;
    }
    await runWorkerNode({ ...node, partitions: o.owned.join(','), onState: (stats) => o.onStats?.({ ...stats }) }, signal);
  } finally {
    await registry.close();
  }
}
