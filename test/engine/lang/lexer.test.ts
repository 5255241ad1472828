/** Lexer: token kinds and positions, string escapes, numbers, unquoted timestamps, lexical errors. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lex } from '../../../engine/lang/lexer.ts';

const kinds = (source: string) => lex(source).tokens.map((t) => `${t.kind}:${t.text}`);

test('tokens of a definition, keywords and identifiers alike', () => {
  assert.equal(kinds("event('A').count() >= 1 and NOT x"), [
    'identifier:event', '(:(', "string:'A'", '):)', '.:.', 'identifier:count', '(:(', '):)', '>=:>=', 'number:1',
    'identifier:and', 'identifier:NOT', 'identifier:x', 'eof:',
  ]);
});

test('every operator, including == and !=', () => {
  assert.equal(kinds('= == != > >= < <='), ['=:=', '==:==', '!=:!=', '>:>', '>=:>=', '<:<', '<=:<=', 'eof:']);
});

test('positions are 1-based line and column, across \\n, \\r\\n and \\r', () => {
  const tokens = lex("a\n  b\r\n c\rd").tokens;
  assert.equal(tokens.map((t) => [t.text, t.line, t.column, t.start]), [
    ['a', 1, 1, 0],
    ['b', 2, 3, 4],
    ['c', 3, 2, 8],
    ['d', 4, 1, 10],
    ['', 4, 2, 11],
  ]);
});

test('single- and double-quoted strings with escapes', () => {
  const strings = (source: string) => lex(source).tokens.filter((t) => t.kind === 'string').map((t) => t.string);
  assert.equal(strings(`'it\\'s' "say \\"hi\\"" 'a\\nb\\tc' '\\u00e9' '\\\\'`), ["it's", 'say "hi"', 'a\nb\tc', 'é', '\\']);
  // An unknown escape keeps its backslash: `\.` means something to property paths.
  assert.equal(strings(`'a\\.b' 'a\\\\.b'`), ['a\\.b', 'a\\.b']);
});

test('numbers: integers, decimals, exponents, negatives; 5.x is a number then a call', () => {
  const numbers = (source: string) => lex(source).tokens.filter((t) => t.kind === 'number').map((t) => t.number);
  assert.equal(numbers('0 42 -7 2.5 1e21 1e-7 -3.25E+2'), [0, 42, -7, 2.5, 1e21, 1e-7, -325]);
  assert.equal(kinds('5.exists()').slice(0, 3), ['number:5', '.:.', 'identifier:exists']);
});

test('unquoted dates and ISO timestamps become timestamp tokens with ms (UTC without a zone)', () => {
  const stamps = (source: string) => lex(source).tokens.filter((t) => t.kind === 'timestamp').map((t) => [t.text, t.ms]);
  assert.equal(stamps('2022-10-17 2023-12-07T18:50:00Z 2022-10-17T00:00:00 2024-02-29T12:30:15.250+02:00'), [
    ['2022-10-17', Date.UTC(2022, 9, 17)],
    ['2023-12-07T18:50:00Z', Date.UTC(2023, 11, 7, 18, 50)],
    ['2022-10-17T00:00:00', Date.UTC(2022, 9, 17)],
    ['2024-02-29T12:30:15.250+02:00', Date.UTC(2024, 1, 29, 10, 30, 15, 250)],
  ]);
  assert.equal(kinds('2022-10-17T10:00:00Z.exists()').slice(0, 2), ['timestamp:2022-10-17T10:00:00Z', '.:.']);
});

test('lexical errors: unterminated string, stray character, impossible date, huge number, bad \\u', () => {
  const errors = (source: string) => lex(source).diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`);
  assert.equal(errors("x\n  'abc"), ["2:3 syntax_error unterminated string: expected a closing '"]);
  assert.equal(errors('a # b'), ["1:3 syntax_error unexpected character '#'"]);
  assert.equal(errors('2022-13-45'), ["1:1 syntax_error '2022-13-45' is not a valid date or date-time"]);
  assert.equal(errors('1e999'), ['1:1 syntax_error the number 1e999 is out of range']);
  assert.equal(errors("'\\u12'"), ['1:2 syntax_error \\u must be followed by four hex digits']);
});

test('an unterminated string stops at the end of its line', () => {
  const { tokens } = lex("'abc\nevent");
  assert.equal(tokens.map((t) => t.kind), ['string', 'identifier', 'eof']);
});

test.run();
