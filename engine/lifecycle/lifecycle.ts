/** Definition lifecycle: from the registry's wishes to the live plan — backfills, version switches, statuses and progress. */
import { traitKeysOf, compilePlan, type CompileOptions } from '../plan/compile.ts';
import type { DefinitionInput, Plan } from '../plan/plan.ts';
import type { ComputeDefinition, ComputeVersion, StatusReport } from '../definitions/registry.ts';
import type { EventLog } from '../log/event-log.ts';
import type { IdentityResolver } from '../identity/resolver.ts';
import type { Change } from '../runtime/change.ts';
import { changeId } from '../runtime/change.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { DefinitionCell } from '../runtime/profile-state.ts';
import { BackfillError, BackfillJob } from './backfill-job.ts';

/** What the lifecycle needs of the registry (the engine's side of it). */
export interface LifecycleRegistry {
  computeSet(): Map<string, ComputeDefinition[]>;
  reportStatus(id: string, version: number, report: StatusReport): Promise<unknown>;
}

/** What it needs of the engine it drives. */
export interface LifecycleEngine {
  readonly runtime: Runtime;
  readonly position: number;
  /** replaces a space's live plan (between batches). */
  setPlan(space: string, plan: Plan): void;
  /** emits changes the lifecycle computed (a switch's difference, a new audience's members). */
  announce(changes: readonly Change[]): void;
  /** what consumers have been told of a definition (profile id → membership `true` or trait value). */
  publishedOutputs(space: string, definitionId: string): Map<string, unknown>;
}

export interface LifecycleOptions {
  readonly registry: LifecycleRegistry;
  readonly engine: LifecycleEngine;
  readonly eventLog: EventLog;
  readonly resolver: IdentityResolver;
  readonly clock: () => number;
  readonly compile?: CompileOptions;
  /** events a backfill replays per step (the engine interleaves steps with live batches). */
  readonly stepEvents?: number;
  /** reports a failure that is not a definition's (logging). */
  readonly onError?: (error: unknown) => void;
}

interface Job {
  readonly definition: ComputeDefinition;
  readonly version: ComputeVersion;
  readonly backfill: BackfillJob;
  lastReport: number;
}

const DAY = 86_400_000;

/**
 * Each enabled definition answers with its live version. A new version:
 * - without historical data: goes live at once (its nodes are its own — salted — so it counts only
 *   events from its creation on);
 * - with historical data: a backfill replays the log (from `backfillEventDataDays` ago when set)
 *   in the background while the previous version keeps answering; when it has caught up, the live
 *   runtime adopts its states at one batch boundary, the plan switches to it, and only the
 *   difference is announced — for a new audience, its members (at the instant each entered).
 * Statuses: `Preparing` → `Backfilling` (progress, ETA) → `Live`; `Failed` with a reason.
 * A backfill interrupted by a restart starts over.
 */
export class Lifecycle {
  readonly #o: LifecycleOptions;
  readonly #jobs = new Map<string, Job>();
  /** per space, the inputs of the live plan by definition id. */
  readonly #live = new Map<string, Map<string, DefinitionInput>>();
  #wanted = new Map<string, ComputeDefinition[]>();

  constructor(options: LifecycleOptions) {
    this.#o = options;
  }

  /** Backfills in progress (for stats and metrics). */
  get backfills(): number {
    return this.#jobs.size;
  }

  /** Reads the registry and brings the live plans and the backfills in line with it. */
  async reconcile(): Promise<void> {
    this.#wanted = this.#o.registry.computeSet();
    const reports: Array<[string, number, StatusReport]> = [];
    const spaces = new Set([...this.#wanted.keys(), ...this.#live.keys()]);
    for (const space of spaces) {
      const defs = this.#wanted.get(space) ?? [];
      const live = new Map<string, DefinitionInput>();
      for (const d of defs) {
        const newest = d.versions[d.versions.length - 1]!;
        const current = d.liveVersion === null ? undefined : d.versions.find((v) => v.version === d.liveVersion);
        if (!d.options.includeHistoricalData) {
          // No history: the newest version answers at once, from its creation on.
          live.set(d.id, inputOf(d, newest));
          if (newest.status !== 'Live') reports.push([d.id, newest.version, { status: 'Live', progress: 1 }]);
          continue;
        }
        if (current !== undefined) live.set(d.id, inputOf(d, current));
        if (newest !== current) {
          const key = `${d.id}@${newest.version}`;
          if (!this.#jobs.has(key)) {
            try {
              this.#jobs.set(key, this.#startJob(space, d, newest, defs));
              reports.push([d.id, newest.version, { status: 'Backfilling', progress: 0 }]);
            } catch (err) {
              if (!(err instanceof BackfillError)) throw err;
              reports.push([d.id, newest.version, { status: 'Failed', failureReason: err.message }]);
            }
          }
        }
      }
      // Jobs for versions no longer wanted (deleted, disabled, superseded by a newer edit) stop.
      for (const [key, job] of this.#jobs) {
        if (job.definition.space !== space) continue;
        const d = defs.find((x) => x.id === job.definition.id);
        if (d === undefined || d.versions[d.versions.length - 1]!.version !== job.version.version) this.#jobs.delete(key);
      }
      this.#setLive(space, live, reports);
    }
    for (const [id, version, report] of reports) await this.#o.registry.reportStatus(id, version, report);
  }

  /** One step of every backfill (the engine calls this between live batches); finishes those that caught up. */
  async step(): Promise<void> {
    const engine = this.#o.engine;
    for (const [key, job] of [...this.#jobs]) {
      const until = engine.position;
      await job.backfill.step(this.#o.stepEvents ?? 5000, until);
      if (job.backfill.position >= until) {
        this.#jobs.delete(key);
        await this.#switch(job);
        continue;
      }
      const now = this.#o.clock();
      if (now - job.lastReport >= 1000) {
        job.lastReport = now;
        const { fraction, eta } = job.backfill.progress(until);
        await this.#o.registry.reportStatus(job.definition.id, job.version.version, { status: 'Backfilling', progress: fraction, ...(eta === undefined ? {} : { eta }) });
      }
    }
  }

  #startJob(space: string, d: ComputeDefinition, v: ComputeVersion, defs: readonly ComputeDefinition[]): Job {
    // The version and everything it reads (transitively), each at its live version, from scratch.
    const byKey = new Map(defs.map((x) => [x.key, x]));
    const inputs = new Map<string, DefinitionInput>([[d.id, inputOf(d, v)]]);
    const queue = [inputOf(d, v)];
    while (queue.length > 0) {
      const input = queue.pop()!;
      for (const key of traitKeysOf(input)) {
        const ref = byKey.get(key);
        if (ref === undefined || inputs.has(ref.id)) continue;
        const refVersion = ref.versions.find((x) => x.version === ref.liveVersion) ?? ref.versions[ref.versions.length - 1]!;
        const refInput = inputOf(ref, refVersion);
        inputs.set(ref.id, refInput);
        queue.push(refInput);
      }
    }
    const days = d.options.backfillEventDataDays;
    const backfill = new BackfillJob({
      space,
      inputs: [...inputs.values()],
      targets: new Set([d.id]),
      eventLog: this.#o.eventLog,
      resolver: this.#o.resolver,
      clock: this.#o.clock,
      cutoff: days === undefined ? Number.NEGATIVE_INFINITY : this.#o.clock() - days * DAY,
      ...(this.#o.compile === undefined ? {} : { compile: this.#o.compile }),
    });
    return { definition: d, version: v, backfill, lastReport: 0 };
  }

  /** The live plan of a space from its inputs; compile failures are reported `Failed`. */
  #setLive(space: string, live: Map<string, DefinitionInput>, reports: Array<[string, number, StatusReport]>): void {
    const previous = this.#live.get(space);
    if (previous !== undefined && sameInputs(previous, live)) return;
    const { plan, failures } = compilePlan([...live.values()], this.#o.compile);
    for (const [id, error] of failures) {
      const input = live.get(id);
      if (input !== undefined) reports.push([id, input.version, { status: 'Failed', failureReason: error.message }]);
    }
    this.#live.set(space, live);
    this.#o.engine.setPlan(space, plan);
  }

  /**
   * The backfill caught up with the live engine (same log position): it moves to the live watermark,
   * the live runtime adopts its states, the plan switches to the new version, and the difference to
   * the previous version is announced.
   */
  async #switch(job: Job): Promise<void> {
    const engine = this.#o.engine;
    const space = job.definition.space;
    const d = job.definition;
    const v = job.version;
    // the open instant's changes are emitted first, so what was published is complete.
    engine.runtime.close();
    const now = engine.runtime.watermark;
    job.backfill.finishAt(now);
    const previous = this.#live.get(space)?.get(d.id);
    const before = previous === undefined ? new Map<string, unknown>() : engine.publishedOutputs(space, d.id);
    // The new version replaces the old one in the live plan and adopts the backfill's states…
    const live = new Map(this.#live.get(space) ?? []);
    live.set(d.id, inputOf(d, v));
    const reports: Array<[string, number, StatusReport]> = [];
    this.#setLive(space, live, reports);
    const adopted = engine.runtime.adopt(space, job.backfill.runtime, job.backfill.targetFps);
    // …and only the difference is announced.
    engine.announce(difference(d, v, space, now, previous === undefined, before, adopted, [...job.backfill.targetFps][0]!));
    await this.#o.registry.reportStatus(d.id, v.version, { status: 'Live', progress: 1 });
    for (const [id, version, report] of reports) await this.#o.registry.reportStatus(id, version, report);
  }
}

/** The plan input of one version; a definition without historical data salts its nodes with its creation. */
function inputOf(d: ComputeDefinition, v: ComputeVersion): DefinitionInput {
  return {
    id: d.id,
    key: d.key,
    kind: d.kind,
    target: d.target,
    version: v.version,
    definition: v.definition,
    ...(d.options.includeHistoricalData ? {} : { salt: v.createdAt }),
  };
}

function sameInputs(a: ReadonlyMap<string, DefinitionInput>, b: ReadonlyMap<string, DefinitionInput>): boolean {
  if (a.size !== b.size) return false;
  for (const [id, x] of a) {
    const y = b.get(id);
    if (y === undefined || y.version !== x.version || y.salt !== x.salt) return false;
  }
  return true;
}

/**
 * What consumers hear at a switch. A new audience (no previous version): an enter per member at the
 * instant it entered (a trait: its value, at the instant it took it). An edit: only the difference,
 * at the switch instant.
 */
function difference(
  d: ComputeDefinition,
  v: ComputeVersion,
  space: string,
  now: number,
  fresh: boolean,
  before: ReadonlyMap<string, unknown>,
  adopted: ReadonlyMap<string, ReadonlyMap<string, DefinitionCell>>,
  fp: string,
): Change[] {
  const after = new Map<string, DefinitionCell>();
  for (const [profileId, cells] of adopted) {
    const cell = cells.get(fp);
    if (cell !== undefined) after.set(profileId, cell);
  }
  const changes: Change[] = [];
  const collection = d.target === 'ACCOUNTS' ? 'accounts' : 'users';
  const base = (profileId: string, at: number, dir: 'e' | 'x' | 't') => ({
    id: changeId(d.id, v.version, profileId, at, dir),
    space,
    collection,
    definitionId: d.id,
    version: v.version,
    profileId,
    at,
  }) as const;
  const ids = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const profileId of ids) {
    const old = before.get(profileId);
    const cell = after.get(profileId);
    const value = cell?.v;
    const at = fresh && cell !== undefined ? cell.at : now;
    if (d.kind === 'audience') {
      const wasIn = old === true;
      const isIn = value === true;
      if (wasIn !== isIn) changes.push({ ...base(profileId, at, isIn ? 'e' : 'x'), kind: isIn ? 'enter' : 'exit', audienceKey: d.key });
    } else if (JSON.stringify(old) !== JSON.stringify(value)) {
      changes.push({ ...base(profileId, at, 't'), kind: 'trait', traitKey: d.key, value, previous: old });
    }
  }
  return changes;
}
