/**
 * Translates user-level audiences of the query language into DuckDB SQL over the batch peer's flat
 * events table, for the kinds a batch system expresses directly: windowed counts, sums, averages,
 * extremes and distinct counts with property filters, in-between windows, custom traits, negation and
 * references to other audiences. Anything else (funnels, dynamic references, modes, dates, accounts)
 * is reported as not translated, with the reason.
 */
import type { Aggregate, ComparatorArg, Comparison, Condition, Definition, EventStream, Scalar } from '../../engine/lang/ast.ts';

/** The peer's events table: one typed column per property and identify trait the generator sends. */
export const PROPERTY_COLUMNS = { product_id: 'VARCHAR', category: 'VARCHAR', price: 'DECIMAL(18,2)', quantity: 'DOUBLE', total: 'DECIMAL(18,2)', currency: 'VARCHAR', query: 'VARCHAR', page_name: 'VARCHAR' } as const;
export const TRAIT_COLUMNS = { plan: 'VARCHAR', score: 'DOUBLE', city: 'VARCHAR' } as const;

/** A definition the translator may read: the audience to translate and the catalog its `trait('k')` references resolve in. */
export interface TranslatableDefinition {
  readonly key: string;
  readonly kind: 'audience' | 'trait';
  readonly target: 'USERS' | 'ACCOUNTS';
  readonly definition: Definition;
}

export class Untranslatable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Untranslatable';
  }
}

const OPERATORS: Partial<Record<Comparison['comparator'], string>> = { equals: '=', greater_than: '>', at_least: '>=', less_than: '<', at_most: '<=' };

/** The SQL of one audience: its members' profile ids at instant `now` (epoch ms), from `profiles`, `events` and `traits`. */
export function audienceSql(key: string, catalog: ReadonlyMap<string, TranslatableDefinition>, now: number): string {
  const b = new Builder(catalog, now);
  const condition = b.audience(key, new Set());
  const aggregates = [...b.aggregates.entries()].map(([expr, alias]) => `${expr} AS ${alias}`);
  const events = [...b.events].map(quote).join(', ');
  return [
    'SELECT p.profile_id FROM profiles p',
    aggregates.length === 0 ? '' : `LEFT JOIN (SELECT profile_id, ${aggregates.join(', ')} FROM events e WHERE e.event IN (${events}) GROUP BY profile_id) a USING (profile_id)`,
    b.traits ? 'LEFT JOIN traits t USING (profile_id)' : '',
    `WHERE ${condition}`,
  ]
    .filter((line) => line !== '')
    .join('\n');
}

class Builder {
  /** aggregate expression → its column alias in the per-profile subquery. */
  readonly aggregates = new Map<string, string>();
  readonly events = new Set<string>();
  traits = false;

  constructor(
    readonly catalog: ReadonlyMap<string, TranslatableDefinition>,
    readonly now: number,
  ) {}

  audience(key: string, seen: ReadonlySet<string>): string {
    const d = this.catalog.get(key);
    if (d === undefined || d.kind !== 'audience' || d.definition.kind !== 'audience') throw new Untranslatable(`no audience ${key}`);
    if (d.target !== 'USERS') throw new Untranslatable('account-level audience');
    if (seen.has(key)) throw new Untranslatable(`reference cycle through ${key}`);
    return this.condition(d.definition.condition, new Set([...seen, key]));
  }

  condition(c: Condition, seen: ReadonlySet<string>): string {
    switch (c.kind) {
      case 'and':
      case 'or':
        return `(${c.operands.map((o) => this.condition(o, seen)).join(c.kind === 'and' ? ' AND ' : ' OR ')})`;
      case 'not':
        return `(NOT ${this.condition(c.operand, seen)})`;
      case 'quantified':
        throw new Untranslatable('ANY/ALL');
      case 'comparison':
        return this.comparison(c, seen);
    }
  }

  comparison(c: Comparison, seen: ReadonlySet<string>): string {
    const s = c.subject;
    // trait('audience') = true: the referenced audience's own condition, inlined.
    if (s.kind === 'trait' && this.catalog.get(s.path[0]!)?.kind === 'audience') {
      const arg = c.args[0];
      if (c.comparator !== 'equals' || c.args.length !== 1 || arg?.kind !== 'literal' || arg.value !== true) throw new Untranslatable('audience reference other than = true');
      return this.audience(s.path[0]!, seen);
    }
    return atom(c, this.scalar(s));
  }

  scalar(s: Scalar): string {
    switch (s.kind) {
      case 'trait': {
        const key = s.path[0]!;
        const computed = this.catalog.get(key);
        if (computed?.kind === 'trait' && computed.definition.kind === 'trait') {
          if (computed.target !== 'USERS') throw new Untranslatable('account-level trait');
          return this.aggregate(computed.definition.value);
        }
        if (s.path.length !== 1 || !(key in TRAIT_COLUMNS)) throw new Untranslatable(`trait ${s.path.join('.')} has no column`);
        this.traits = true;
        return `t.t_${key}`;
      }
      case 'aggregate':
        return this.aggregate(s);
      default:
        throw new Untranslatable(`${s.kind} as a subject`);
    }
  }

  aggregate(a: Aggregate): string {
    const filter = this.stream(a.stream);
    const r = a.reducer;
    let expr: string;
    let zero = false;
    switch (r.kind) {
      case 'count':
        expr = `count(*) FILTER (WHERE ${filter})`;
        zero = true;
        break;
      case 'sum':
        expr = `sum(${property(r.of)}) FILTER (WHERE ${filter})`;
        zero = true;
        break;
      case 'avg':
        expr = `avg(${property(r.of)}) FILTER (WHERE ${filter})`;
        break;
      case 'min':
      case 'max':
        if (r.as !== 'number') throw new Untranslatable(`${r.kind} as ${r.as}`);
        expr = `${r.kind}(${property(r.of)}) FILTER (WHERE ${filter})`;
        break;
      case 'unique':
        if (!r.count) throw new Untranslatable('unique list');
        expr = `count(DISTINCT ${property(r.of)}) FILTER (WHERE ${filter})`;
        zero = true;
        break;
      default:
        throw new Untranslatable(`${r.kind}()`);
    }
    let alias = this.aggregates.get(expr);
    if (alias === undefined) this.aggregates.set(expr, (alias = `a${this.aggregates.size}`));
    // (a profile without any of the stream's events has no row in the subquery)
    return zero ? `coalesce(a.${alias}, 0)` : `a.${alias}`;
  }

  /** The row filter of a stream: its event name, window and `where` conditions. */
  stream(s: EventStream): string {
    if (s.source !== 'event') throw new Untranslatable('entity()');
    this.events.add(s.name);
    const parts = [`e.event = ${quote(s.name)}`];
    for (const f of s.filters) {
      switch (f.kind) {
        case 'within':
          if (f.parent) throw new Untranslatable('funnel window');
          parts.push(`e.ts > ${this.now - f.duration.ms}`, `e.ts <= ${this.now}`);
          break;
        case 'between':
          parts.push(`e.ts > ${this.now - f.to.ms}`, `e.ts <= ${this.now - f.from.ms}`);
          break;
        case 'where':
          parts.push(this.eventCondition(f.condition));
          break;
        default:
          throw new Untranslatable(`${f.kind}()`);
      }
    }
    return parts.join(' AND ');
  }

  /** A `where` condition over the event's own properties. */
  eventCondition(c: Condition): string {
    switch (c.kind) {
      case 'and':
      case 'or':
        return `(${c.operands.map((o) => this.eventCondition(o)).join(c.kind === 'and' ? ' AND ' : ' OR ')})`;
      case 'not':
        return `(NOT ${this.eventCondition(c.operand)})`;
      case 'quantified':
        throw new Untranslatable('ANY/ALL in where()');
      case 'comparison':
        if (c.subject.kind !== 'property') throw new Untranslatable(`${c.subject.kind} in where()`);
        return atom(c, property(c.subject));
    }
  }
}

/** A comparison as two-valued SQL (an absent value compares false, as in the engine). */
function atom(c: Comparison, subject: string): string {
  const values = c.args.map(literal);
  if (c.comparator === 'one_of') return `coalesce(${subject} IN (${values.join(', ')}), false)`;
  const op = OPERATORS[c.comparator];
  if (op === undefined || values.length !== 1) throw new Untranslatable(`comparator ${c.comparator}`);
  return `coalesce(${subject} ${op} ${values[0]}, false)`;
}

function property(ref: Scalar | ComparatorArg): string {
  if (ref.kind !== 'property' || ref.parent || ref.path.length !== 1 || !(ref.path[0]! in PROPERTY_COLUMNS)) throw new Untranslatable(`value ${JSON.stringify(ref)} has no column`);
  return `e.p_${ref.path[0]!}`;
}

function literal(arg: ComparatorArg): string {
  if (arg.kind !== 'literal') throw new Untranslatable(`${arg.kind} as a comparator argument`);
  if (arg.type === 'string') return quote(arg.value);
  if (arg.type === 'number') return String(arg.value);
  throw new Untranslatable(`${arg.type} literal`);
}

function quote(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
