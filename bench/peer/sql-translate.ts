/**
 * Translates user-level audiences of the query language into DuckDB SQL over the batch peer's flat
 * events table, for the kinds a batch system expresses directly: windowed counts, sums, averages,
 * extremes and distinct counts with property filters, in-between windows, custom traits, negation and
 * references to other audiences; account-level audiences over account traits, `ANY`/`ALL`/`ALL NOT`
 * and aggregates over the account's users' events. Anything else (funnels, dynamic references, modes,
 * dates) is reported as not translated, with the reason.
 */
import type { Aggregate, ComparatorArg, Comparison, Condition, Definition, EventStream, Scalar } from '../../engine/lang/ast.ts';

/** The peer's events table: one typed column per property and identify trait the generator sends. */
export const PROPERTY_COLUMNS = { product_id: 'VARCHAR', category: 'VARCHAR', price: 'DECIMAL(18,2)', quantity: 'DOUBLE', total: 'DECIMAL(18,2)', currency: 'VARCHAR', query: 'VARCHAR', page_name: 'VARCHAR' } as const;
export const TRAIT_COLUMNS = { plan: 'VARCHAR', score: 'DOUBLE', city: 'VARCHAR' } as const;
/** Account traits (group calls): the `accounts` table's `t_` columns. */
export const ACCOUNT_TRAIT_COLUMNS = { plan: 'VARCHAR', employees: 'DOUBLE', industry: 'VARCHAR' } as const;

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

/**
 * The SQL of one audience: its members' profile ids at instant `now` (epoch ms). Users come from
 * `profiles` with their newest custom traits in `traits`; accounts from `accounts` (their newest
 * group-call traits) with their users in `links`; events from `events`.
 */
export function audienceSql(key: string, catalog: ReadonlyMap<string, TranslatableDefinition>, now: number): string {
  const d = catalog.get(key);
  const b = new Builder(catalog, now, d?.target === 'ACCOUNTS' ? 'accounts' : 'users');
  return b.select(b.audience(key, new Set()));
}

class Builder {
  /** aggregate expression → its column alias in the per-profile subquery. */
  readonly aggregates = new Map<string, string>();
  readonly events = new Set<string>();
  traits = false;

  constructor(
    readonly catalog: ReadonlyMap<string, TranslatableDefinition>,
    readonly now: number,
    readonly collection: 'users' | 'accounts',
  ) {}

  /** The query selecting the profiles (users or accounts) for which `condition` holds. */
  select(condition: string): string {
    const aggregates = [...this.aggregates.entries()].map(([expr, alias]) => `${expr} AS ${alias}`);
    const events = [...this.events].map(quote).join(', ');
    const users = this.collection === 'users';
    // An account's aggregates run over the events of its users.
    const perProfile = users
      ? `SELECT e.profile_id, ${aggregates.join(', ')} FROM events e WHERE e.event IN (${events}) GROUP BY e.profile_id`
      : `SELECT l.account_id AS profile_id, ${aggregates.join(', ')} FROM links l JOIN events e ON e.profile_id = l.profile_id WHERE e.event IN (${events}) GROUP BY l.account_id`;
    return [
      users ? 'SELECT p.profile_id FROM profiles p' : 'SELECT t.profile_id FROM accounts t',
      aggregates.length === 0 ? '' : `LEFT JOIN (${perProfile}) a USING (profile_id)`,
      users && this.traits ? 'LEFT JOIN traits t USING (profile_id)' : '',
      `WHERE ${condition}`,
    ]
      .filter((line) => line !== '')
      .join('\n');
  }

  audience(key: string, seen: ReadonlySet<string>): string {
    const d = this.catalog.get(key);
    if (d === undefined || d.kind !== 'audience' || d.definition.kind !== 'audience') throw new Untranslatable(`no audience ${key}`);
    if ((d.target === 'ACCOUNTS') !== (this.collection === 'accounts')) throw new Untranslatable('a reference across users and accounts');
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
        return this.quantified(c.quantifier, c.operand);
      case 'comparison':
        return this.comparison(c, seen);
    }
  }

  /** `ANY x`: one of the account's users satisfies x; `ALL x`: it has users and all do; `ALL NOT x`: none does. */
  quantified(quantifier: 'any' | 'all', operand: Condition): string {
    if (this.collection !== 'accounts') throw new Untranslatable('ANY/ALL in a users definition');
    const none = quantifier === 'all' && operand.kind === 'not';
    const inner = new Builder(this.catalog, this.now, 'users');
    const users = inner.select(inner.condition(none && operand.kind === 'not' ? operand.operand : operand, new Set()));
    const satisfied = `EXISTS (SELECT 1 FROM links l JOIN (${users}) s USING (profile_id) WHERE l.account_id = t.profile_id)`;
    if (quantifier === 'any') return satisfied;
    if (none) return `(NOT ${satisfied})`;
    return `(EXISTS (SELECT 1 FROM links l WHERE l.account_id = t.profile_id) AND NOT EXISTS (SELECT 1 FROM links l WHERE l.account_id = t.profile_id AND l.profile_id NOT IN (${users})))`;
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
          if ((computed.target === 'ACCOUNTS') !== (this.collection === 'accounts')) throw new Untranslatable('a reference across users and accounts');
          return this.aggregate(computed.definition.value);
        }
        if (s.path.length !== 1 || !(key in (this.collection === 'users' ? TRAIT_COLUMNS : ACCOUNT_TRAIT_COLUMNS))) throw new Untranslatable(`trait ${s.path.join('.')} has no column`);
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
    // (a profile without any of the stream's events has no row in the subquery; the empty-window rule of
    // operators/README.md: count, sum and unique count are 0, avg, min and max have no value)
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
