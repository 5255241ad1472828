/**
 * The read side of history for the API: which version of a definition answers, from which instant
 * its history is complete, and explanations loaded from the engine's store and the event log.
 */
import type { ComputeDefinition, DefinitionRegistry } from '../definitions/registry.ts';
import { servingVersion, type DefinitionRecord } from '../definitions/registry-record.ts';
import { computationInputs, inputOf } from '../lifecycle/lifecycle.ts';
import type { DefinitionInput } from '../plan/plan.ts';
import type { CheckpointStore } from '../store/checkpoint-store.ts';
import { explain, type Explanation } from './explain.ts';
import type { HistoryEntry } from './history-store.ts';
import { explanationEvents, type EventSource } from './profile-events.ts';

/** A definition version whose history answers. */
export interface HistoryVersionInfo {
  readonly record: DefinitionRecord;
  readonly version: number;
  /** the version counts events from this instant (−∞: all history): its history starts there. */
  readonly since: number;
  /** the version and everything it reads, as the engine computes them; undefined when the engine does not compute it (disabled). */
  readonly inputs: readonly DefinitionInput[] | undefined;
}

/**
 * The version of `record` that answers history queries: `version`, or the serving one. `computed`:
 * the space's definitions as the engine computes them (`registry.computeSet()`), when the caller has them.
 */
export function historyVersion(registry: DefinitionRegistry, record: DefinitionRecord, version?: number, computed?: readonly ComputeDefinition[]): HistoryVersionInfo | undefined {
  const v = version ?? servingVersion(record);
  if (v === undefined || !record.versions.some((x) => x.version === v)) return undefined;
  const defs = computed ?? registry.computeSet().get(record.space) ?? [];
  const d = defs.find((x) => x.id === record.id);
  const cv = d?.versions.find((x) => x.version === v);
  if (d === undefined || cv === undefined) return { record, version: v, since: Number.NEGATIVE_INFINITY, inputs: undefined };
  return { record, version: v, since: inputOf(d, cv).since ?? Number.NEGATIVE_INFINITY, inputs: computationInputs([[d, cv]], defs) };
}

/** The instants history answers for a version: from its start and the retention horizon to the engine's watermark. */
export function historyRange(store: CheckpointStore, since: number): { readonly from: number; readonly to: number } {
  return { from: Math.max(store.history.retainedFrom(), since), to: store.meta().watermark };
}

export interface ExplanationResult {
  readonly explanation: Explanation;
  /** the history's entry at the instant (what the engine recorded). */
  readonly recorded: HistoryEntry | undefined;
  /** indexed events the log no longer holds (the explanation may then disagree with the history). */
  readonly missing: number;
}

/**
 * Explains a profile's value of a definition version at `t` from its indexed events: `inputs` are the
 * version (first) and everything it reads, as the engine computes them.
 */
export async function explainProfile(store: CheckpointStore, log: EventSource, space: string, inputs: readonly DefinitionInput[], profileId: string, t: number): Promise<ExplanationResult> {
  const [target, ...references] = inputs;
  const version = store.history.version(space, target!.id, target!.version);
  const { events, merges, missing } = await explanationEvents(store, log, space, profileId, t, version?.replayedThrough ?? 0, version?.orderedThrough ?? 0);
  const explanation = explain({ space, profileId, at: t, target: target!, references, events, merges });
  return { explanation, recorded: store.history.entryAt(space, target!.id, target!.version, profileId, t), missing };
}
