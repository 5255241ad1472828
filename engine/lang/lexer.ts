/** Splits definition text into tokens with source positions; lexical mistakes become `syntax_error` diagnostics. */
import { parseIsoTimestamp } from '../event/iso-timestamp.ts';
import type { Diagnostic } from './diagnostic.ts';

export type Punctuator = '(' | ')' | '[' | ']' | '{' | '}' | ',' | '.' | ':';
export type OperatorToken = '=' | '==' | '!=' | '>' | '>=' | '<' | '<=';
export type TokenKind = 'identifier' | 'string' | 'number' | 'timestamp' | 'eof' | Punctuator | OperatorToken;

export interface Token {
  readonly kind: TokenKind;
  /** the token exactly as written. */
  readonly text: string;
  /** string tokens: the value with escapes resolved. */
  readonly string?: string;
  /** number tokens: the value. */
  readonly number?: number;
  /** timestamp tokens: the instant in epoch ms (NaN only after a reported error). */
  readonly ms?: number;
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly column: number;
}

export interface LexResult {
  readonly tokens: readonly Token[];
  readonly diagnostics: readonly Diagnostic[];
}

// An unquoted date or date-time (spec §1.3 `literal`): `2022-10-17`, `2023-12-07T18:50:00Z`, `…T10:00:00.5+02:00`.
const TIMESTAMP_SOURCE = String.raw`\d{4}-\d{2}-\d{2}(?:[Tt]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?`;
const TIMESTAMP = new RegExp(TIMESTAMP_SOURCE, 'y');
const WHOLE_TIMESTAMP = new RegExp(`^${TIMESTAMP_SOURCE}$`);

/** True when `text` is written as the language writes unquoted timestamps (the JSON form must match it). */
export function isTimestampText(text: string): boolean {
  return WHOLE_TIMESTAMP.test(text);
}
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/y;
const PUNCTUATORS = new Set(['(', ')', '[', ']', '{', '}', ',', '.', ':']);
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"' };

export function lex(source: string): LexResult {
  const tokens: Token[] = [];
  const diagnostics: Diagnostic[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;

  const push = (kind: TokenKind, start: number, extra: Partial<Pick<Token, 'string' | 'number' | 'ms'>> = {}) => {
    tokens.push({ kind, text: source.slice(start, i), ...extra, start, end: i, line, column: start - lineStart + 1 });
  };
  const report = (message: string, at: number) => {
    diagnostics.push({ code: 'syntax_error', message, line, column: at - lineStart + 1 });
  };
  const match = (re: RegExp): string | undefined => {
    re.lastIndex = i;
    return re.exec(source)?.[0];
  };

  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '\n' || ch === '\r') {
      i += ch === '\r' && source[i + 1] === '\n' ? 2 : 1;
      line++;
      lineStart = i;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\f' || ch === '\v' || ch === '\u00a0' || ch === '\ufeff') {
      i++;
      continue;
    }
    const start = i;
    if (ch === "'" || ch === '"') {
      const value = readString(ch);
      push('string', start, { string: value });
      continue;
    }
    const timestamp = match(TIMESTAMP);
    if (timestamp !== undefined && !isWordChar(source[i + timestamp.length])) {
      i += timestamp.length;
      const ms = parseIsoTimestamp(timestamp);
      if (ms === null) report(`'${timestamp}' is not a valid date or date-time`, start);
      push('timestamp', start, { ms: ms ?? Number.NaN });
      continue;
    }
    const number = match(NUMBER);
    if (number !== undefined) {
      i += number.length;
      const value = Number(number);
      if (!Number.isFinite(value)) report(`the number ${number} is out of range`, start);
      push('number', start, { number: Number.isFinite(value) ? value : 0 });
      continue;
    }
    const word = match(IDENTIFIER);
    if (word !== undefined) {
      i += word.length;
      push('identifier', start);
      continue;
    }
    const two = source.slice(i, i + 2);
    if (two === '==' || two === '!=' || two === '>=' || two === '<=') {
      i += 2;
      push(two, start);
      continue;
    }
    if (ch === '=' || ch === '>' || ch === '<') {
      i++;
      push(ch, start);
      continue;
    }
    if (PUNCTUATORS.has(ch)) {
      i++;
      push(ch as Punctuator, start);
      continue;
    }
    const char = String.fromCodePoint(source.codePointAt(i)!);
    report(`unexpected character '${char}'`, start);
    i += char.length;
  }
  tokens.push({ kind: 'eof', text: '', start: i, end: i, line, column: i - lineStart + 1 });
  return { tokens, diagnostics };

  // A quoted string; a raw line break ends an unterminated one so the next line still parses.
  function readString(quote: string): string {
    const start = i;
    i++;
    let value = '';
    while (i < source.length) {
      const ch = source[i]!;
      if (ch === quote) {
        i++;
        return value;
      }
      if (ch === '\n' || ch === '\r') break;
      if (ch === '\\' && i + 1 < source.length) {
        const next = source[i + 1]!;
        const simple = ESCAPES[next];
        if (simple !== undefined) {
          value += simple;
          i += 2;
          continue;
        }
        if (next === 'u') {
          const hex = /^[0-9a-fA-F]{4}/.exec(source.slice(i + 2, i + 6))?.[0];
          if (hex !== undefined) {
            value += String.fromCharCode(parseInt(hex, 16));
            i += 6;
            continue;
          }
          report('\\u must be followed by four hex digits', i);
        }
        // Any other escape keeps its backslash: `\.` is meaningful to property paths.
        value += ch + next;
        i += 2;
        continue;
      }
      value += ch;
      i++;
    }
    report(`unterminated string: expected a closing ${quote}`, start);
    return value;
  }
}

function isWordChar(ch: string | undefined): boolean {
  return ch !== undefined && /[A-Za-z0-9_]/.test(ch);
}
