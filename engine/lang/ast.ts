/** The readonly AST of Segment's query language; the text form and the JSON form both parse to it. */

/** Where a node came from in the source text (1-based line and column; 0-based offsets). */
export interface Span {
  readonly line: number;
  readonly column: number;
  readonly start: number;
  readonly end: number;
}

export type TimeUnit = 'second' | 'minute' | 'hour' | 'day';

export interface Duration {
  readonly kind: 'duration';
  readonly amount: number;
  readonly unit: TimeUnit;
  /** the duration in milliseconds. */
  readonly ms: number;
  readonly span?: Span;
}

/**
 * A literal value. `timestamp` literals (unquoted `2023-12-07T18:50:00Z`, or dates `2022-10-17`)
 * keep their text and carry `ms`, the instant they denote (UTC when no zone is given).
 */
export type Literal =
  | { readonly kind: 'literal'; readonly type: 'string'; readonly value: string; readonly span?: Span }
  | { readonly kind: 'literal'; readonly type: 'number'; readonly value: number; readonly span?: Span }
  | { readonly kind: 'literal'; readonly type: 'boolean'; readonly value: boolean; readonly span?: Span }
  | { readonly kind: 'literal'; readonly type: 'null'; readonly value: null; readonly span?: Span }
  | {
      readonly kind: 'literal';
      readonly type: 'timestamp';
      readonly value: string;
      readonly ms: number;
      readonly span?: Span;
    };

/** `trait('a.b')`: a profile trait, a computed trait or another audience (resolved by the compiler). */
export interface TraitRef {
  readonly kind: 'trait';
  /** the dotted path split into segments; `\.` in the source is a literal dot inside a segment. */
  readonly path: readonly string[];
  readonly span?: Span;
}

/** `property('a.b')` or `property(parent: 'a')`: a property of the event being filtered (or its funnel parent). */
export interface PropertyRef {
  readonly kind: 'property';
  readonly path: readonly string[];
  readonly parent: boolean;
  readonly span?: Span;
}

/** `context('page.url')`: a context field of the event being filtered. */
export interface ContextRef {
  readonly kind: 'context';
  readonly path: readonly string[];
  readonly parent: boolean;
  readonly span?: Span;
}

export type EventValueRef = PropertyRef | ContextRef;

/**
 * What a reducer reads from each event of its stream: a field of the event, or — in ACCOUNTS
 * definitions only — `trait('email')`, the trait of the user the event belongs to, as it is when
 * the event is applied (`mode(trait('email'), 1)`: the email of the most active user).
 */
export type ReducerArgument = EventValueRef | TraitRef;

export type Window =
  | { readonly kind: 'within'; readonly duration: Duration; readonly parent: boolean; readonly span?: Span }
  | { readonly kind: 'between'; readonly from: Duration; readonly to: Duration; readonly span?: Span }
  | { readonly kind: 'expires_after'; readonly duration: Duration; readonly span?: Span };

export type Filter =
  | { readonly kind: 'where'; readonly condition: Condition; readonly span?: Span }
  | { readonly kind: 'sources'; readonly exclude: readonly string[]; readonly span?: Span }
  | Window;

/** `event('Order Completed')` (or `entity('orders')`, parsed but refused by the compiler) with its filters in order. */
export interface EventStream {
  readonly kind: 'stream';
  readonly source: 'event' | 'entity';
  readonly name: string;
  readonly filters: readonly Filter[];
  readonly span?: Span;
}

export type ValueType = 'number' | 'string' | 'array';

/** A reducer; its `span` covers the call (`sum(property('p'))`, or `unique(…).count()` as a whole). */
export type Reducer =
  | { readonly kind: 'count'; readonly span?: Span }
  | { readonly kind: 'sum' | 'avg'; readonly of: ReducerArgument; readonly span?: Span }
  | { readonly kind: 'min' | 'max'; readonly of: ReducerArgument; readonly as: 'number' | 'string'; readonly span?: Span }
  | {
      readonly kind: 'mode';
      readonly of: ReducerArgument;
      readonly as: ValueType;
      readonly minFrequency: number;
      readonly span?: Span;
    }
  | { readonly kind: 'first' | 'last'; readonly of: ReducerArgument; readonly span?: Span }
  /** `unique(p)` is a list; `unique(p).count()` sets `count`. */
  | { readonly kind: 'unique'; readonly of: ReducerArgument; readonly count: boolean; readonly span?: Span };

/** A stream reduced to a scalar (or, for `unique` without `.count()`, a list). */
export interface Aggregate {
  readonly kind: 'aggregate';
  readonly stream: EventStream;
  readonly reducer: Reducer;
  readonly span?: Span;
}

export type Scalar = Literal | TraitRef | PropertyRef | ContextRef | Aggregate;

/** Canonical comparator names; sugar (`=`, `>=` …) and legacy aliases (`eq`, `gte`, `is_set` …) map onto these. */
export const COMPARATORS = [
  'equals',
  'differs',
  'absent',
  'exists',
  'greater_than',
  'at_least',
  'less_than',
  'at_most',
  'contains',
  'omits',
  'starts_with',
  'ends_with',
  'one_of',
  'none_of',
  'before_date',
  'after_date',
  'within_last',
  'before_last',
  'after_next',
  'within_next',
] as const;
export type ComparatorName = (typeof COMPARATORS)[number];

/** An argument of a comparator: a value, a reference (dynamic comparison) or, for the relative date comparators, a duration. */
export type ComparatorArg = Literal | TraitRef | PropertyRef | ContextRef | Duration;

export interface Comparison {
  readonly kind: 'comparison';
  readonly subject: Scalar;
  readonly comparator: ComparatorName;
  readonly args: readonly ComparatorArg[];
  readonly span?: Span;
}

export interface And {
  readonly kind: 'and';
  readonly operands: readonly Condition[];
  readonly span?: Span;
}
export interface Or {
  readonly kind: 'or';
  readonly operands: readonly Condition[];
  readonly span?: Span;
}
export interface Not {
  readonly kind: 'not';
  readonly operand: Condition;
  readonly span?: Span;
}
/** Account audiences: `ANY x` (at least one user), `ALL x` (every user, and at least one). `ALL NOT x` is `all` of a `not`. */
export interface Quantified {
  readonly kind: 'quantified';
  readonly quantifier: 'any' | 'all';
  readonly operand: Condition;
  readonly span?: Span;
}

/** A boolean expression. */
export type Condition = Comparison | And | Or | Not | Quantified;

export type DefinitionTarget = 'USERS' | 'ACCOUNTS';

/** A parsed definition: an audience ends in a boolean, a computed trait in a scalar. */
export type Definition =
  | { readonly kind: 'audience'; readonly target: DefinitionTarget; readonly condition: Condition }
  | { readonly kind: 'trait'; readonly target: DefinitionTarget; readonly value: Aggregate };
