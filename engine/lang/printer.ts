/**
 * Prints the AST as canonical text: infix sugar for the six comparators that have it, canonical
 * names otherwise, single-quoted strings, the fewest parentheses that keep the tree (AND binds
 * tighter than OR; a nested AND/OR of the same kind keeps its parentheses so the tree survives a
 * round trip), defaults (`as number` for min/max, `as string` for mode) left out.
 * `parseDefinition(printDefinition(d))` gives `d` back, spans aside.
 */
import type { ComparatorArg, Condition, Definition, EventStream, Filter, Literal, Reducer, Scalar } from './ast.ts';
import { SUGAR_OF } from './functions.ts';
import { joinPath } from './path.ts';
import { printDuration } from './units.ts';

export function printDefinition(definition: Definition): string {
  return definition.kind === 'audience' ? printCondition(definition.condition) : printScalar(definition.value);
}

export function printCondition(condition: Condition): string {
  switch (condition.kind) {
    case 'or':
      return condition.operands.map((o) => (o.kind === 'or' ? `(${printCondition(o)})` : printCondition(o))).join(' OR ');
    case 'and':
      return condition.operands
        .map((o) => (o.kind === 'or' || o.kind === 'and' ? `(${printCondition(o)})` : printCondition(o)))
        .join(' AND ');
    case 'not':
    case 'quantified': {
      const keyword = condition.kind === 'not' ? 'NOT' : condition.quantifier.toUpperCase();
      const operand = condition.operand;
      const inner = printCondition(operand);
      return operand.kind === 'and' || operand.kind === 'or' ? `${keyword} (${inner})` : `${keyword} ${inner}`;
    }
    case 'comparison': {
      const subject = printScalar(condition.subject);
      const sugar = SUGAR_OF[condition.comparator];
      const [only] = condition.args;
      if (sugar !== undefined && only !== undefined && condition.args.length === 1) {
        return `${subject} ${sugar} ${printArgument(only)}`;
      }
      return `${subject}.${condition.comparator}(${condition.args.map(printArgument).join(', ')})`;
    }
  }
}

export function printScalar(scalar: Scalar): string {
  switch (scalar.kind) {
    case 'literal':
      return printLiteral(scalar);
    case 'trait':
      return `trait(${quote(joinPath(scalar.path))})`;
    case 'property':
    case 'context':
      return `${scalar.kind}(${scalar.parent ? 'parent: ' : ''}${quote(joinPath(scalar.path))})`;
    case 'aggregate':
      return `${printStream(scalar.stream)}.${printReducer(scalar.reducer)}`;
  }
}

export function printStream(stream: EventStream): string {
  return `${stream.source}(${quote(stream.name)})${stream.filters.map((f) => `.${printFilter(f)}`).join('')}`;
}

function printFilter(filter: Filter): string {
  switch (filter.kind) {
    case 'where':
      return `where(${printCondition(filter.condition)})`;
    case 'sources':
      return `sources({exclude: ${filter.exclude.length === 0 ? '[]' : filter.exclude.map(quote).join(', ')}})`;
    case 'within':
      return `within(${filter.parent ? 'parent: ' : ''}${printDuration(filter.duration)})`;
    case 'between':
      return `between(${printDuration(filter.from)}, ${printDuration(filter.to)})`;
    case 'expires_after':
      return `expires_after(${printDuration(filter.duration)})`;
  }
}

function printReducer(reducer: Reducer): string {
  switch (reducer.kind) {
    case 'count':
      return 'count()';
    case 'sum':
    case 'avg':
    case 'first':
    case 'last':
      return `${reducer.kind}(${printScalar(reducer.of)})`;
    case 'min':
    case 'max':
      return `${reducer.kind}(${printScalar(reducer.of)}${reducer.as === 'number' ? '' : ` as ${reducer.as}`})`;
    case 'mode':
      return `mode(${printScalar(reducer.of)}${reducer.as === 'string' ? '' : ` as ${reducer.as}`}, ${printNumber(reducer.minFrequency)})`;
    case 'unique':
      return `unique(${printScalar(reducer.of)})${reducer.count ? '.count()' : ''}`;
  }
}

function printArgument(arg: ComparatorArg): string {
  return arg.kind === 'duration' ? printDuration(arg) : printScalar(arg);
}

function printLiteral(literal: Literal): string {
  switch (literal.type) {
    case 'string':
      return quote(literal.value);
    case 'number':
      return printNumber(literal.value);
    case 'boolean':
      return String(literal.value);
    case 'null':
      return 'null';
    case 'timestamp':
      return literal.value;
  }
}

function printNumber(n: number): string {
  return Object.is(n, -0) ? '0' : String(n);
}

/** A single-quoted string with `\\`, `\'` and control characters escaped. */
export function quote(text: string): string {
  let out = "'";
  for (const ch of text) {
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch < ' ' || ch === '\u2028' || ch === '\u2029') out += `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}'`;
}
