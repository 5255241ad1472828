/**
 * Recursive-descent parser for the query language (spec §1.2), producing the syntax tree of
 * `syntax.ts`. It is deliberately generic — any call may take any arguments and follow anything —
 * so that names, chains and arguments are checked by the rules with precise messages. On a syntax
 * error it reports `syntax_error` at the offending token, skips to the next `,` `)` `AND` or `OR`
 * and carries on, so one definition can report several mistakes.
 */
import type { Duration, Literal, Span } from './ast.ts';
import type { Diagnostic } from './diagnostic.ts';
import type { SugarOperator } from './functions.ts';
import { lex, type Token, type TokenKind } from './lexer.ts';
import type { ArgumentNode, CallNode, ErrorNode, Name, ObjectNode, SyntaxNode } from './syntax.ts';
import { makeDuration, parseUnit } from './units.ts';

export interface SyntaxResult {
  readonly root: SyntaxNode;
  readonly diagnostics: readonly Diagnostic[];
}

/** Parses definition text into a syntax tree; never throws. */
export function parseSyntax(source: string): SyntaxResult {
  const lexed = lex(source);
  const parser = new Parser(lexed.tokens, lexed.diagnostics);
  const root = parser.parseDefinition();
  return { root, diagnostics: parser.diagnostics };
}

// Nesting deeper than this is surely not a real definition; refusing it keeps recursion bounded.
const MAX_DEPTH = 200;
const SUGAR: ReadonlySet<TokenKind> = new Set(['=', '==', '!=', '>', '>=', '<', '<=']);
const KEYWORDS: ReadonlySet<string> = new Set(['and', 'or', 'not', 'any', 'all', 'as', 'true', 'false', 'null']);

/** Thrown inside the parser to unwind to the nearest recovery point; never leaves parseSyntax. */
class ParseFailure extends Error {
  override readonly name = 'ParseFailure';
}

class Parser {
  readonly diagnostics: Diagnostic[];
  private index = 0;
  private depth = 0;
  /** the token where the last recovery stopped; an error right there is a cascade and not reported. */
  private resyncIndex = -1;

  private readonly lexErrors: boolean;

  constructor(
    private readonly tokens: readonly Token[],
    lexDiagnostics: readonly Diagnostic[],
  ) {
    this.diagnostics = [...lexDiagnostics];
    this.lexErrors = lexDiagnostics.length > 0;
  }

  // definition = orExpr EOF
  parseDefinition(): SyntaxNode {
    if (this.at('eof')) {
      this.report('expected an expression but the definition is empty');
      return this.errorNode(this.token);
    }
    const root = this.parseOr();
    if (!this.at('eof')) {
      this.report(`expected AND, OR or the end of the definition but found ${describe(this.token)}`);
    }
    return root;
  }

  // orExpr = andExpr { "OR" andExpr }
  private parseOr(): SyntaxNode {
    const start = this.token;
    const operands = [this.parseAnd()];
    while (this.isKeyword('or')) {
      this.advance();
      operands.push(this.parseAnd());
    }
    return operands.length === 1 ? operands[0]! : { kind: 'junction', op: 'or', operands, span: this.spanFrom(start) };
  }

  // andExpr = unaryExpr { "AND" unaryExpr }
  private parseAnd(): SyntaxNode {
    const start = this.token;
    const operands = [this.parseOperand()];
    while (this.isKeyword('and')) {
      this.advance();
      operands.push(this.parseOperand());
    }
    return operands.length === 1 ? operands[0]! : { kind: 'junction', op: 'and', operands, span: this.spanFrom(start) };
  }

  /** An operand of AND/OR: the recovery point for syntax errors inside it. */
  private parseOperand(): SyntaxNode {
    const start = this.token;
    try {
      return this.parseUnary();
    } catch (error) {
      if (!(error instanceof ParseFailure)) throw error;
      this.recover(true);
      return this.errorNode(start);
    }
  }

  // unaryExpr = ( "NOT" | "ANY" | "ALL" ) unaryExpr | comparison
  private parseUnary(): SyntaxNode {
    const start = this.token;
    const op = this.isKeyword('not') ? 'not' : this.isKeyword('any') ? 'any' : this.isKeyword('all') ? 'all' : null;
    if (op === null) return this.parseComparison();
    this.advance();
    const operand = this.nested(() => this.parseUnary());
    return { kind: 'prefix', op, operand, span: this.spanFrom(start) };
  }

  // comparison = chain [ sugarOp chain ] ;  sugarOp = "=" | "==" | "!=" | ">" | ">=" | "<" | "<="
  private parseComparison(): SyntaxNode {
    const start = this.token;
    const left = this.parseChain();
    if (!SUGAR.has(this.token.kind)) return left;
    const opToken = this.advance();
    const right = this.parseChain();
    return {
      kind: 'infix',
      op: opToken.kind as SugarOperator,
      opSpan: spanOf(opToken),
      left,
      right,
      span: this.spanFrom(start),
    };
  }

  // chain = primary { "." identifier callArguments }
  private parseChain(): SyntaxNode {
    const start = this.token;
    const head = this.parsePrimary();
    const calls: CallNode[] = [];
    while (this.at('.')) {
      this.advance();
      if (!this.at('identifier')) this.fail(`expected a function name after '.' but found ${describe(this.token)}`);
      const name = this.advance();
      calls.push(this.nested(() => this.parseCall(name)));
    }
    return calls.length === 0 ? head : { kind: 'chain', head, calls, span: this.spanFrom(start) };
  }

  // primary = identifier callArguments | string | number [ unit ] | timestamp | "true" | "false" | "null"
  //         | array | object | "(" orExpr ")"
  // unit    = "second" | "seconds" | "minute" | "minutes" | "hour" | "hours" | "day" | "days"   (any case)
  private parsePrimary(): SyntaxNode {
    const t = this.token;
    switch (t.kind) {
      case 'string':
        this.advance();
        return { kind: 'literal', type: 'string', value: t.string ?? '', span: spanOf(t) };
      case 'timestamp':
        this.advance();
        return { kind: 'literal', type: 'timestamp', value: t.text, ms: t.ms ?? Number.NaN, span: spanOf(t) };
      case 'number':
        return this.parseNumber();
      case '(':
        return this.nested(() => this.parseGroup());
      case '[':
        return this.nested(() => this.parseArray());
      case '{':
        return this.nested(() => this.parseObject());
      case 'identifier': {
        const word = t.text.toLowerCase();
        if (word === 'true' || word === 'false') {
          this.advance();
          return { kind: 'literal', type: 'boolean', value: word === 'true', span: spanOf(t) };
        }
        if (word === 'null') {
          this.advance();
          return { kind: 'literal', type: 'null', value: null, span: spanOf(t) };
        }
        if (KEYWORDS.has(word)) this.fail(`expected an expression but found the keyword ${t.text}`);
        if (this.peek().kind !== '(') {
          this.advance();
          this.fail(`expected '(' after ${t.text} but found ${describe(this.token)}`);
        }
        return this.nested(() => this.parseCall(this.advance()));
      }
      default:
        return this.fail(`expected an expression but found ${describe(t)}`);
    }
  }

  // number [ unit ]: `100`, `7 days`
  private parseNumber(): Literal | Duration {
    const t = this.advance();
    const value = t.number ?? 0;
    const next = this.token;
    const isUnitWord = next.kind === 'identifier' && !KEYWORDS.has(next.text.toLowerCase()) && this.peek().kind !== '(';
    if (!isUnitWord) return { kind: 'literal', type: 'number', value, span: spanOf(t) };
    const unit = parseUnit(next.text);
    if (unit === undefined) {
      this.fail(`unknown time unit '${next.text}': expected second(s), minute(s), hour(s) or day(s)`);
    }
    this.advance();
    return makeDuration(value, unit, this.spanFrom(t));
  }

  // callArguments = "(" [ argument { "," argument } ] ")"
  private parseCall(nameToken: Token): CallNode {
    if (!this.at('(')) this.fail(`expected '(' after ${nameToken.text} but found ${describe(this.token)}`);
    this.advance();
    const args = this.parseList(')', () => this.parseArgument());
    return {
      kind: 'call',
      name: nameToken.text,
      nameSpan: spanOf(nameToken),
      args,
      span: this.spanFrom(nameToken),
    };
  }

  // argument = [ identifier ":" ] orExpr [ "as" identifier ]
  private parseArgument(): ArgumentNode {
    const start = this.token;
    let label: Name | undefined;
    if (this.at('identifier') && this.peek().kind === ':') {
      label = { text: this.token.text, span: spanOf(this.advance()) };
      this.advance();
    }
    const value = this.parseOr();
    let as: Name | undefined;
    if (this.isKeyword('as')) {
      this.advance();
      if (!this.at('identifier')) this.fail(`expected a type after 'as' but found ${describe(this.token)}`);
      as = { text: this.token.text, span: spanOf(this.advance()) };
    }
    return {
      kind: 'argument',
      ...(label === undefined ? {} : { label }),
      value,
      ...(as === undefined ? {} : { as }),
      span: this.spanFrom(start),
    };
  }

  // array = "[" [ orExpr { "," orExpr } ] "]"
  private parseArray(): SyntaxNode {
    const start = this.advance();
    const items = this.parseList(']', () => this.parseOr());
    return { kind: 'array', items, span: this.spanFrom(start) };
  }

  // object = "{" [ entry { "," ( entry | orExpr ) } ] "}" ;  entry = identifier ":" orExpr
  // A value without a key belongs to the key before it: `{exclude: 'a', 'b'}`.
  private parseObject(): ObjectNode {
    const start = this.advance();
    const entries: { key: Name; values: SyntaxNode[] }[] = [];
    this.parseList('}', () => {
      if (this.at('identifier') && this.peek().kind === ':') {
        const key = { text: this.token.text, span: spanOf(this.advance()) };
        this.advance();
        entries.push({ key, values: [this.parseOr()] });
      } else {
        const last = entries.at(-1);
        if (last === undefined) this.fail(`expected a key such as exclude: but found ${describe(this.token)}`);
        last.values.push(this.parseOr());
      }
      return null;
    });
    return { kind: 'object', entries, span: this.spanFrom(start) };
  }

  // group = "(" orExpr ")"
  private parseGroup(): SyntaxNode {
    const start = this.advance();
    const inner = this.parseOr();
    this.expect(')');
    return { kind: 'group', inner, span: this.spanFrom(start) };
  }

  /** `item { "," item } close` after the opening bracket; recovers inside the list on a bad separator. */
  private parseList<T>(close: ')' | ']' | '}', item: () => T): T[] {
    const items: T[] = [];
    if (this.token.kind === close) {
      this.advance();
      return items;
    }
    for (;;) {
      items.push(item());
      if (this.at(',')) {
        this.advance();
        continue;
      }
      if (this.token.kind === close) {
        this.advance();
        return items;
      }
      this.report(`expected ',' or '${close}' but found ${describe(this.token)}`);
      this.recover(false);
      if (this.at(',')) {
        this.advance();
      } else if (this.token.kind === close) {
        this.advance();
        return items;
      } else {
        throw new ParseFailure();
      }
    }
  }

  private nested<T>(parse: () => T): T {
    if (this.depth >= MAX_DEPTH) this.fail(`the definition is nested more than ${MAX_DEPTH} levels deep`);
    this.depth++;
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  /**
   * Skips to the next token that can continue the enclosing construct — `,` or a closing bracket,
   * and with `atJunction` also AND / OR — ignoring anything inside brackets opened on the way.
   */
  private recover(atJunction: boolean): void {
    let depth = 0;
    while (!this.at('eof')) {
      const kind = this.token.kind;
      if (depth === 0) {
        if (kind === ',' || kind === ')' || kind === ']' || kind === '}') break;
        if (atJunction && (this.isKeyword('and') || this.isKeyword('or'))) break;
      }
      if (kind === '(' || kind === '[' || kind === '{') depth++;
      else if (kind === ')' || kind === ']' || kind === '}') depth--;
      this.advance();
    }
    this.resyncIndex = this.index;
  }

  private at(kind: TokenKind): boolean {
    return this.token.kind === kind;
  }

  private get token(): Token {
    return this.tokens[this.index]!;
  }

  private peek(): Token {
    return this.tokens[Math.min(this.index + 1, this.tokens.length - 1)]!;
  }

  private advance(): Token {
    const t = this.token;
    if (t.kind !== 'eof') this.index++;
    return t;
  }

  private isKeyword(word: string): boolean {
    return this.at('identifier') && this.token.text.toLowerCase() === word;
  }

  private expect(kind: TokenKind): Token {
    if (this.token.kind !== kind) this.fail(`expected '${kind}' but found ${describe(this.token)}`);
    return this.advance();
  }

  /** Records a syntax error at the current token unless it is a cascade of one already reported. */
  private report(message: string): void {
    const t = this.token;
    if (this.index === this.resyncIndex) return;
    // A lexical error (an unterminated string, a stray character) explains what follows at its place and at the end.
    if (this.diagnostics.some((d) => d.line === t.line && d.column === t.column)) return;
    if (t.kind === 'eof' && this.lexErrors) return;
    this.diagnostics.push({ code: 'syntax_error', message, line: t.line, column: t.column });
  }

  private fail(message: string): never {
    this.report(message);
    throw new ParseFailure(message);
  }

  /** A span from `start` to the end of the last consumed token. */
  private spanFrom(start: Token | Span): Span {
    const previous = this.tokens[this.index - 1];
    const end = previous === undefined ? start.start : Math.max(previous.end, start.start);
    return { line: start.line, column: start.column, start: start.start, end };
  }

  private errorNode(start: Token): ErrorNode {
    return { kind: 'error', span: this.spanFrom(start) };
  }
}

function spanOf(t: Token): Span {
  return { line: t.line, column: t.column, start: t.start, end: t.end };
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'the end of the definition';
  return t.kind === 'string' ? t.text : `'${t.text}'`;
}
