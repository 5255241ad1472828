/** The compiled plan: hash-consed stateful nodes shared by all definitions of a space, and the definitions in dependency order. */
import type { AggregateSpec } from '../../operators/kernels/window-aggregate.ts';
import type { FlockEvent } from '../event/model.ts';
import type { Definition, DefinitionTarget } from '../lang/ast.ts';
import type { InstanceProgram } from './compile-instances.ts';

/** A definition as the engine receives it (from the management API, a config file, a test). */
export interface DefinitionInput {
  /** stable id (`aud_…`, `tra_…`). */
  readonly id: string;
  /** the audience or trait key: the boolean/value trait it sets on profiles. */
  readonly key: string;
  readonly kind: 'audience' | 'trait';
  readonly target: DefinitionTarget;
  readonly version: number;
  readonly definition: Definition;
  /**
   * Counts only events from this instant on (epoch ms): a definition created without historical data
   * (its creation, or the instant it was enabled again), or with a backfill lookback. Its nodes are
   * then its own — `since` is part of their identity — so they never share state with nodes that
   * count the whole history; trait data is always included.
   */
  readonly since?: number;
}

/** Does an event belong to a stream (event name already matched)? */
export type EventPredicate = (event: FlockEvent) => boolean;

/** One windowed aggregate over one event stream: the unit of shared per-profile state. */
export interface AggregateNode {
  readonly index: number;
  /** canonical text; equal text = one node. */
  readonly canonical: string;
  /** state key: fingerprint of `canonical`. */
  readonly fp: string;
  readonly event: string;
  /** events before this instant are not counted (−∞: all history; see `DefinitionInput.since`). */
  readonly since: number;
  readonly filter: EventPredicate | null;
  /**
   * the raw reducer input of an event: a property or context value, or for `trait('t')` the trait
   * `t` of the profile applying the event (`traits`: its custom traits, this event's included);
   * null for count.
   */
  readonly value: ((event: FlockEvent, traits: Readonly<Record<string, unknown>>) => unknown) | null;
  /** `mode(... as array)`: an array value is one value, not one per element. */
  readonly asArray: boolean;
  readonly spec: AggregateSpec;
  /**
   * Set for streams whose `where` needs more than the event (funnels, parent or trait references):
   * the node keeps instances and decides them when read. `event`/`filter`/`value` are then unused;
   * `program.streams` says which events feed it.
   */
  readonly program: InstanceProgram | null;
  /** account-level definitions that read this node merged over an account's users. */
  readonly accountDependents: number[];
  /** indices of the definitions that read this node. */
  readonly dependents: number[];
  /**
   * Parallel to `dependents`: how a new event here can affect that definition. `1`: the definition
   * is monotone non-decreasing in this node's count, so while it is true a new event cannot make it
   * false; `-1`: non-increasing, so while false it stays false; `0`: it must be re-evaluated.
   */
  readonly polarity: number[];
}

/** What a compiled expression reads while it evaluates for one profile at one instant. */
export interface EvalContext {
  readonly now: number;
  /** value of aggregate node `index` at now. */
  aggregate(index: number): unknown;
  /** whether the profile has had a matching event for node `index` by now (a computed trait exists). */
  touched(index: number): boolean;
  /** custom trait at a path. */
  trait(path: readonly string[]): unknown;
  /** current output of definition `index` (membership boolean, trait value). */
  output(index: number): unknown;
  /** notes that the result may flip at instant `t` with no new input. */
  flipAt(t: number): void;
  /**
   * notes when a result read from aggregate `index` may flip with no new input: when `test(count)`
   * changes (a comparison on a windowed count, computed in closed form), or at the aggregate's next
   * change (`test` null: any change matters).
   */
  aggregateFlip(index: number, test: ((value: number) => boolean) | null, args: readonly unknown[]): void;
  /** (accounts) whether the account's users satisfy hidden definition `index`: any, all (and ≥ 1), none. */
  quantified(index: number, mode: 'any' | 'all' | 'none'): boolean;
}

export interface CompiledDefinition {
  readonly index: number;
  readonly input: DefinitionInput;
  /** fingerprint of the definition's meaning and key: its state and change ids are keyed by it. */
  readonly fp: string;
  /** which profiles it is evaluated on. */
  readonly collection: 'users' | 'accounts';
  /** a user-level condition under ANY/ALL of an account definition: evaluated per user, never emitted. */
  readonly hidden: boolean;
  /** (account definitions) the hidden user-level definitions it counts. */
  readonly quantifiers: readonly number[];
  /** (hidden definitions) the account definitions that count it. */
  readonly accountDependents: number[];
  readonly evaluate: (ctx: EvalContext) => unknown;
  readonly aggregates: readonly number[];
  /** first segments of custom trait paths it reads. */
  readonly traitKeys: readonly string[];
  /** definitions it reads (lower indices). */
  readonly references: readonly number[];
  /** definitions that read it (higher indices). */
  readonly dependents: number[];
  /** its polarity per aggregate node it reads (see AggregateNode.polarity). */
  readonly polarity: ReadonlyMap<number, number>;
}

export interface Plan {
  readonly aggregates: readonly AggregateNode[];
  /** topologically ordered: every definition comes after those it references. */
  readonly definitions: readonly CompiledDefinition[];
  readonly aggregatesByEvent: ReadonlyMap<string, readonly number[]>;
  readonly aggregateByFp: ReadonlyMap<string, number>;
  readonly definitionsByTrait: ReadonlyMap<string, readonly number[]>;
  readonly definitionByKey: ReadonlyMap<string, number>;
  readonly definitionByFp: ReadonlyMap<string, number>;
}
