/** Definition lifecycle: from the registry's wishes to the live plan — backfills, version switches, BATCH runs, previews, statuses and progress. */
import { traitKeysOf, compilePlan, type CompileOptions } from '../plan/compile.ts';
import type { DefinitionInput, Plan } from '../plan/plan.ts';
import type { ComputeDefinition, ComputeVersion, PreviewReport, StatusReport } from '../definitions/registry.ts';
import type { BatchInterval, PreviewRecord } from '../definitions/registry-record.ts';
import type { Definition } from '../lang/ast.ts';
import type { EventLog } from '../log/event-log.ts';
import type { IdentityResolver } from '../identity/resolver.ts';
import type { Change } from '../runtime/change.ts';
import { causeTag, changeId, TIME_CAUSE, type ChangeCause } from '../runtime/change.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { DefinitionCell } from '../runtime/profile-state.ts';
import { BackfillError, BackfillJob } from './backfill-job.ts';
import type { BackfilledVersion } from '../history/history-writes.ts';

/** What the lifecycle needs of the registry (the engine's side of it). */
export interface LifecycleRegistry {
  computeSet(): Map<string, ComputeDefinition[]>;
  reportStatus(id: string, version: number, report: StatusReport): Promise<unknown>;
  pendingPreviews(): Array<PreviewRecord & { readonly parsed: Definition }>;
  reportPreview(id: string, report: PreviewReport): Promise<unknown>;
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
  /** the BATCH definitions: their changes wait for their next run. */
  setBatchDefinitions(ids: ReadonlySet<string>): void;
  /** a BATCH definition's new version: its next run publishes this difference. */
  replaceHeld(space: string, definitionId: string, changes: readonly Change[]): void;
  /** a BATCH run: publishes what changed since the last one. */
  releaseHeld(space: string, definitionId: string, at: number): number;
  /** commits state and outputs (a switch is checkpointed before its version is reported Live). */
  checkpoint(): Promise<void>;
  /**
   * records a backfill's changes as its version's history (`replace`: the version is recomputed, its
   * old history goes; `orderedThrough`: the backfill replayed the log up to this position in event-time order).
   */
  recordHistory(version: BackfilledVersion, changes: readonly Change[], options: { readonly replace: boolean; readonly orderedThrough: number }): void;
  /** drops a superseded version's history. */
  compactHistory(space: string, definitionId: string, version: number): void;
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
  /** events of a space a backfill orders by event time at most (default DEFAULT_BACKFILL_MAX_EVENTS: 20 bytes each in memory). */
  readonly backfillMaxEvents?: number;
  /** a preview fails when it takes longer than this (ms) … */
  readonly previewTimeoutMs?: number;
  /** … or holds more profiles than this. */
  readonly previewMaxProfiles?: number;
  /** profiles in a preview's sample. */
  readonly previewSample?: number;
  /** test hook (the engine's probe): `backfill` after each backfill step, before a caught-up backfill switches. */
  readonly probe?: (point: 'backfill', detail: number) => void;
}

/** A definition version a backfill computes. */
interface Member {
  readonly definition: ComputeDefinition;
  readonly version: ComputeVersion;
}

/**
 * One pass over the log for every version that waited for it at one reconcile (created together):
 * the versions go Live together when it has caught up. A version dropped meanwhile (deleted, edited
 * again, disabled) leaves the pass; the others go on.
 */
interface Job {
  readonly space: string;
  members: Member[];
  readonly backfill: BackfillJob;
  lastReport: number;
}

interface PreviewJob {
  readonly preview: PreviewRecord;
  readonly backfill: BackfillJob;
}

const DAY = 86_400_000;
const INTERVAL_MS: Record<BatchInterval, number> = {
  '15m': 15 * 60_000,
  '30m': 30 * 60_000,
  '1h': 3_600_000,
  '2h': 2 * 3_600_000,
  '4h': 4 * 3_600_000,
  '6h': 6 * 3_600_000,
  '8h': 8 * 3_600_000,
  '12h': 12 * 3_600_000,
  '1d': DAY,
};

/**
 * Each enabled definition answers with its live version. A new version is computed by a backfill
 * that replays the log in the background while the previous version keeps answering (counting events
 * from `since` when it has no historical data or a lookback — trait data always included); when it
 * has caught up, the live runtime adopts its states at one batch boundary, the plan switches to it,
 * and only the difference is announced — for a new definition, its members at the instants they
 * entered. Statuses: `Preparing` → `Backfilling` (progress, ETA) → `Live`; `Failed` with a reason.
 *
 * Disabled definitions leave the plan: nothing is computed or emitted, their published outputs stay
 * as they were (frozen). Enabled again, the live version is recomputed the same way and only the
 * difference to the frozen outputs is announced. BATCH definitions are computed continuously but
 * publish only at their runs (every `interval` from their version's creation): the difference since
 * the previous run, at the run's instant; an edit takes effect at the next run. A backfill or
 * preview interrupted by a restart starts over.
 */
export class Lifecycle {
  readonly #o: LifecycleOptions;
  /** each version being computed (`<id>@<version>`) → the pass computing it (one pass may hold many). */
  readonly #jobs = new Map<string, Job>();
  readonly #previews = new Map<string, PreviewJob>();
  /** per space, the inputs of the live plan by definition id. */
  readonly #live = new Map<string, Map<string, DefinitionInput>>();
  /** live BATCH definitions: the next run (epoch ms) by definition id. */
  readonly #runs = new Map<string, { space: string; anchor: number; interval: number; next: number }>();
  #wanted = new Map<string, ComputeDefinition[]>();
  #reconcileWanted = true;

  constructor(options: LifecycleOptions) {
    this.#o = options;
  }

  /** Versions being backfilled (for stats and metrics). */
  get backfills(): number {
    return this.#jobs.size;
  }

  /** Passes over the log in progress (each computes every version that waited for it together). */
  get passes(): number {
    return this.#passes().length;
  }

  /** The passes over the log in progress, each computing one or more versions. */
  #passes(): Job[] {
    return [...new Set(this.#jobs.values())];
  }

  /** The registry changed: reconcile at the next step. */
  requestReconcile(): void {
    this.#reconcileWanted = true;
  }

  /** Whether `step` has work: a reconcile, a backfill or preview, a BATCH run due. */
  pending(): boolean {
    if (this.#reconcileWanted || this.#jobs.size > 0 || this.#previews.size > 0) return true;
    const now = this.#o.engine.runtime.watermark;
    for (const run of this.#runs.values()) if (run.next <= now) return true;
    return false;
  }

  /** Reads the registry and brings the live plans, the backfills and the previews in line with it. */
  async reconcile(): Promise<void> {
    this.#reconcileWanted = false;
    this.#wanted = this.#o.registry.computeSet();
    const reports: Array<[string, number, StatusReport]> = [];
    const spaces = new Set([...this.#wanted.keys(), ...this.#live.keys()]);
    const batch = new Set<string>();
    for (const space of spaces) {
      const defs = this.#wanted.get(space) ?? [];
      const live = new Map<string, DefinitionInput>();
      const waiting: Member[] = [];
      for (const d of defs) {
        const newest = d.versions[d.versions.length - 1]!;
        const current = d.liveVersion === null ? undefined : d.versions.find((v) => v.version === d.liveVersion);
        // enabled again after being disabled: the live version is recomputed (its outputs stay frozen meanwhile)
        const stale = current !== undefined && current.status !== 'Live';
        if (current !== undefined && !stale) {
          live.set(d.id, inputOf(d, current));
          if (d.computeCadence.type === 'BATCH') batch.add(d.id);
        }
        if (newest === current && !stale) continue;
        if (!this.#jobs.has(`${d.id}@${newest.version}`)) waiting.push({ definition: d, version: newest });
      }
      // Versions no longer wanted (deleted, disabled, superseded by a newer edit) leave their pass.
      for (const job of this.#passes()) {
        if (job.space !== space) continue;
        job.members = job.members.filter((m) => {
          const d = defs.find((x) => x.id === m.definition.id);
          const wanted = d !== undefined && d.versions[d.versions.length - 1]!.version === m.version.version;
          if (!wanted) this.#jobs.delete(`${m.definition.id}@${m.version.version}`);
          return wanted;
        });
      }
      // Every version waiting now joins one pass over the log (one replay for all of them).
      if (waiting.length > 0) this.#startPass(space, waiting, defs, reports);
      this.#setLive(space, live, reports);
    }
    this.#setBatch(batch);
    this.#startPreviews();
    for (const [id, version, report] of reports) await this.#o.registry.reportStatus(id, version, report);
  }

  /**
   * One pass for `members`; a pass that cannot compile one of them (its failure names it) is split:
   * each version on its own, so only the failing ones are reported Failed.
   */
  #startPass(space: string, members: readonly Member[], defs: readonly ComputeDefinition[], reports: Array<[string, number, StatusReport]>): void {
    const start = (group: readonly Member[]) => {
      const job: Job = { space, members: [...group], backfill: this.#backfill(space, group.map((m) => [m.definition, m.version] as const), defs, true), lastReport: 0 };
      for (const m of group) {
        this.#jobs.set(`${m.definition.id}@${m.version.version}`, job);
        reports.push([m.definition.id, m.version.version, { status: 'Backfilling', progress: 0 }]);
      }
    };
    try {
      start(members);
    } catch (err) {
      if (!(err instanceof BackfillError)) throw err;
      if (members.length > 1) for (const m of members) this.#startPass(space, [m], defs, reports);
      else reports.push([members[0]!.definition.id, members[0]!.version.version, { status: 'Failed', failureReason: err.message }]);
    }
  }

  /** One step of every backfill pass and preview (the engine calls this between live batches), and the BATCH runs due. */
  async step(): Promise<void> {
    if (this.#reconcileWanted) await this.reconcile();
    const engine = this.#o.engine;
    for (const job of this.#passes()) {
      const until = engine.position;
      const keys = job.members.map((m) => `${m.definition.id}@${m.version.version}`);
      if (keys.length === 0) continue;
      try {
        await job.backfill.step(this.#o.stepEvents ?? 5000, until);
      } catch (err) {
        if (!(err instanceof BackfillError)) throw err;
        for (const key of keys) this.#jobs.delete(key);
        for (const m of job.members) await this.#o.registry.reportStatus(m.definition.id, m.version.version, { status: 'Failed', failureReason: err.message });
        continue;
      }
      this.#o.probe?.('backfill', job.backfill.position);
      if (job.backfill.caughtUp(until)) {
        for (const key of keys) this.#jobs.delete(key);
        await this.#switch(job);
        continue;
      }
      const now = this.#o.clock();
      if (now - job.lastReport >= 1000) {
        job.lastReport = now;
        const { fraction, eta } = job.backfill.progress(until);
        for (const m of job.members) await this.#o.registry.reportStatus(m.definition.id, m.version.version, { status: 'Backfilling', progress: fraction, ...(eta === undefined ? {} : { eta }) });
      }
    }
    for (const [id, job] of [...this.#previews]) await this.#stepPreview(id, job);
    const at = engine.runtime.watermark;
    for (const [id, run] of this.#runs) {
      if (run.next > at) continue;
      engine.releaseHeld(run.space, id, at);
      run.next = nextRun(run.anchor, run.interval, at);
    }
  }

  /** A backfill of `versions` (definition, version) with everything they read, each at its live version. */
  #backfill(space: string, versions: ReadonlyArray<readonly [ComputeDefinition, ComputeVersion]>, defs: readonly ComputeDefinition[], history = false): BackfillJob {
    return new BackfillJob({
      space,
      inputs: computationInputs(versions, defs),
      targets: new Set(versions.map(([d]) => d.id)),
      eventLog: this.#o.eventLog,
      resolver: this.#o.resolver,
      clock: this.#o.clock,
      history,
      ...(this.#o.compile === undefined ? {} : { compile: this.#o.compile }),
      ...(this.#o.backfillMaxEvents === undefined ? {} : { maxEvents: this.#o.backfillMaxEvents }),
    });
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

  /** The live BATCH definitions, each with its run schedule (kept across reconciles). */
  #setBatch(ids: ReadonlySet<string>): void {
    const at = this.#o.engine.runtime.watermark;
    for (const id of [...this.#runs.keys()]) if (!ids.has(id)) this.#runs.delete(id);
    for (const defs of this.#wanted.values()) {
      for (const d of defs) {
        if (!ids.has(d.id)) continue;
        const v = d.versions.find((x) => x.version === d.liveVersion)!;
        const anchor = Date.parse(v.createdAt);
        const interval = INTERVAL_MS[d.computeCadence.interval ?? '8h'];
        const run = this.#runs.get(d.id);
        if (run === undefined || run.anchor !== anchor || run.interval !== interval) this.#runs.set(d.id, { space: d.space, anchor, interval, next: nextRun(anchor, interval, at) });
      }
    }
    this.#o.engine.setBatchDefinitions(ids);
  }

  /**
   * The backfill caught up with the live engine (same log position): it moves to the live watermark,
   * the live runtime adopts its states, the plan switches to the new version, and the difference to
   * what was published is announced (a BATCH definition's is published by its next run).
   */
  async #switch(job: Job): Promise<void> {
    const engine = this.#o.engine;
    const space = job.space;
    const members = job.members;
    // the open instant's changes are emitted first, so what was published is complete.
    engine.runtime.close();
    const now = engine.runtime.watermark;
    job.backfill.finishAt(now);
    const before = members.map((m) => engine.publishedOutputs(space, m.definition.id));
    // The new versions replace the old ones in the live plan and adopt the backfill's states…
    const live = new Map(this.#live.get(space) ?? []);
    for (const { definition: d, version: v } of members) live.set(d.id, inputOf(d, v));
    const reports: Array<[string, number, StatusReport]> = [];
    this.#setLive(space, live, reports);
    const ids = new Set(members.map((m) => m.definition.id));
    const adopted = engine.runtime.adopt(space, job.backfill.runtime, job.backfill.adoptFpsOf(ids));
    for (const [i, { definition: d, version: v }] of members.entries()) {
      const fp = job.backfill.targetFp(d.id)!;
      const after = new Map<string, DefinitionCell>();
      for (const [profileId, cells] of adopted) {
        const cell = cells.get(fp);
        if (cell !== undefined) after.set(profileId, cell);
      }
      // …and only the difference is announced: a new definition's members at the instants they entered.
      const history = job.backfill.history.filter((c) => c.definitionId === d.id);
      const fresh = d.liveVersion === null;
      const changes = difference(d, v.version, space, now, fresh, before[i]!, after, causes(fresh, history, d.liveVersion ?? v.version));
      // History: the backfill's changes at their true instants. A recomputed version (enabled again)
      // replaces its own; an older version goes when the new one's history reaches as far back.
      engine.recordHistory({ space, definitionId: d.id, version: v.version, kind: d.kind, key: d.key }, history, { replace: d.liveVersion === v.version, orderedThrough: job.backfill.cut });
      const old = d.versions.find((x) => x.version === d.liveVersion);
      if (old !== undefined && old !== v && (inputOf(d, v).since ?? Number.NEGATIVE_INFINITY) <= (inputOf(d, old).since ?? Number.NEGATIVE_INFINITY)) {
        engine.compactHistory(space, d.id, old.version);
      }
      if (d.computeCadence.type === 'BATCH' && !fresh) engine.replaceHeld(space, d.id, changes);
      else engine.announce(changes);
    }
    // readers that see the versions Live see their outputs
    await engine.checkpoint();
    for (const { definition: d, version: v } of members) await this.#o.registry.reportStatus(d.id, v.version, { status: 'Live', progress: 1 });
    for (const [id, version, report] of reports) await this.#o.registry.reportStatus(id, version, report);
    const batchMembers = members.filter((m) => m.definition.computeCadence.type === 'BATCH');
    if (batchMembers.length > 0) {
      const batch = new Set(this.#runs.keys());
      for (const m of batchMembers) batch.add(m.definition.id);
      this.#wanted = this.#o.registry.computeSet();
      this.#setBatch(batch);
    }
  }

  // previews ------------------------------------------------------------------------------------

  #startPreviews(): void {
    for (const preview of this.#o.registry.pendingPreviews()) {
      if (this.#previews.has(preview.id)) continue;
      const defs = this.#wanted.get(preview.space) ?? [];
      const existing = preview.compareTo === undefined ? undefined : defs.find((x) => x.id === preview.compareTo);
      const d: ComputeDefinition = {
        id: preview.id,
        space: preview.space,
        kind: preview.kind,
        key: existing?.key ?? preview.id,
        target: preview.definition.type,
        options: preview.options,
        computeCadence: { type: 'REALTIME' },
        liveVersion: null,
        versions: [],
      };
      // (its `since` follows from its options and creation, as a definition's would)
      const v: ComputeVersion = { version: 1, query: preview.definition.query, definition: preview.parsed, fingerprint: '', status: 'Preparing', createdAt: preview.createdAt };
      try {
        // (an edit's preview reads the other definitions as they are, never the one it would replace)
        const others = defs.filter((x) => x.id !== preview.compareTo);
        this.#previews.set(preview.id, { preview, backfill: this.#backfill(preview.space, [[d, v]], others) });
      } catch (err) {
        if (!(err instanceof BackfillError)) throw err;
        void this.#o.registry.reportPreview(preview.id, { status: 'FAILED', failureReason: err.message });
      }
    }
  }

  async #stepPreview(id: string, job: PreviewJob): Promise<void> {
    const until = this.#o.engine.position;
    const { preview, backfill } = job;
    try {
      await backfill.step(this.#o.stepEvents ?? 5000, until);
    } catch (err) {
      if (!(err instanceof BackfillError)) throw err;
      this.#previews.delete(id);
      await this.#o.registry.reportPreview(id, { status: 'FAILED', failureReason: err.message });
      return;
    }
    const elapsed = this.#o.clock() - backfill.startedAt;
    const failure =
      elapsed > (this.#o.previewTimeoutMs ?? 120_000)
        ? `the preview took longer than ${Math.round((this.#o.previewTimeoutMs ?? 120_000) / 1000)} s (${Math.round(backfill.progress(until).fraction * 100)} % of the log replayed): narrow it with backfillEventDataDays`
        : backfill.runtime.size > (this.#o.previewMaxProfiles ?? 1_000_000)
          ? `the preview holds more than ${this.#o.previewMaxProfiles ?? 1_000_000} profiles: narrow it with backfillEventDataDays`
          : undefined;
    if (failure !== undefined) {
      this.#previews.delete(id);
      await this.#o.registry.reportPreview(id, { status: 'FAILED', failureReason: failure });
      return;
    }
    if (!backfill.caughtUp(until)) return;
    this.#previews.delete(id);
    backfill.finishAt(this.#o.engine.runtime.watermark);
    const outputs = backfill.outputs();
    const members = [...outputs].filter(([, cell]) => preview.kind === 'trait' || cell.v === true).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const sample = members.slice(0, this.#o.previewSample ?? 10).map(([profileId, cell]) => (preview.kind === 'trait' ? { profileId, value: cell.v } : { profileId }));
    let report: PreviewReport = { status: 'COMPLETED', size: members.length, results: sample };
    if (preview.compareTo !== undefined) {
      const before = this.#o.engine.publishedOutputs(preview.space, preview.compareTo);
      const after = new Map(members.map(([profileId, cell]) => [profileId, cell.v]));
      let enter = 0;
      let exit = 0;
      let changed = 0;
      for (const [profileId, value] of after) {
        const old = before.get(profileId);
        if (old === undefined) enter++;
        else if (JSON.stringify(old) !== JSON.stringify(value)) changed++;
      }
      for (const profileId of before.keys()) if (!after.has(profileId)) exit++;
      report = { ...report, difference: { enter, exit, changed } };
    }
    await this.#o.registry.reportPreview(id, report);
  }
}

/** The first run at `anchor + k·interval` strictly after `at`. */
function nextRun(anchor: number, interval: number, at: number): number {
  if (at < anchor) return anchor;
  return anchor + (Math.floor((at - anchor) / interval) + 1) * interval;
}

/** The inputs that compute `versions` (definition, version): them, and everything they read (transitively), each at its live version. */
export function computationInputs(versions: ReadonlyArray<readonly [ComputeDefinition, ComputeVersion]>, defs: readonly ComputeDefinition[]): DefinitionInput[] {
  const byKey = new Map(defs.map((x) => [x.key, x]));
  const inputs = new Map<string, DefinitionInput>();
  for (const [d, v] of versions) inputs.set(d.id, inputOf(d, v));
  const queue = [...inputs.values()];
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
  return [...inputs.values()];
}

/**
 * The plan input of one version. Without historical data it counts events from its creation (or
 * from when it was enabled again); with a lookback, from that many days before its creation.
 */
export function inputOf(d: ComputeDefinition, v: ComputeVersion): DefinitionInput {
  const base = { id: d.id, key: d.key, kind: d.kind, target: d.target, version: v.version, definition: v.definition };
  const created = Date.parse(v.createdAt);
  if (!d.options.includeHistoricalData) {
    const enabled = d.enabledAt === undefined ? Number.NEGATIVE_INFINITY : Date.parse(d.enabledAt);
    return { ...base, since: Math.max(created, enabled) };
  }
  const days = d.options.backfillEventDataDays;
  return days === undefined ? base : { ...base, since: created - days * DAY };
}

function sameInputs(a: ReadonlyMap<string, DefinitionInput>, b: ReadonlyMap<string, DefinitionInput>): boolean {
  if (a.size !== b.size) return false;
  for (const [id, x] of a) {
    const y = b.get(id);
    if (y === undefined || y.version !== x.version || y.since !== x.since) return false;
  }
  return true;
}

/**
 * The causes of a switch's announced changes: a new definition's member entered for the reason its
 * history says (the backfill's change at that instant); otherwise the change is the version switch.
 */
function causes(fresh: boolean, history: readonly Change[], from: number): (profileId: string, at: number) => ChangeCause {
  if (!fresh) {
    const cause: ChangeCause = { type: 'version', from };
    return () => cause;
  }
  const byInstant = new Map(history.map((c) => [`${c.profileId}\u0000${c.at}`, c.cause]));
  return (profileId, at) => byInstant.get(`${profileId}\u0000${at}`) ?? TIME_CAUSE;
}

/**
 * What consumers hear at a switch. A new definition (`fresh`): an enter per member at the instant it
 * entered (a trait: its value, at the instant it took it). Otherwise only the difference to what was
 * published, at the switch instant.
 */
function difference(
  d: ComputeDefinition,
  version: number,
  space: string,
  now: number,
  fresh: boolean,
  before: ReadonlyMap<string, unknown>,
  after: ReadonlyMap<string, DefinitionCell>,
  causeAt: (profileId: string, at: number) => ChangeCause,
): Change[] {
  const changes: Change[] = [];
  const collection = d.target === 'ACCOUNTS' ? 'accounts' : 'users';
  const base = (profileId: string, at: number, dir: 'e' | 'x' | 't') => {
    const cause = causeAt(profileId, at);
    return { id: changeId(d.id, version, profileId, at, dir, causeTag(cause)), space, collection, definitionId: d.id, version, profileId, at, cause } as const;
  };
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
