/** CSV cells: RFC 4180 quoting parsed back by a real CSV parser, and the formula-injection rule. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { CRLF, isFormulaLike, jsonCell, textCell, valueCell } from '../../../engine/export/csv-cell.ts';

const parseLine = (line: string): string[] => (parse(line, { relax_quotes: false }) as string[][])[0] ?? [];

test('text cells round-trip through csv-parse: quotes, commas, CR, LF; formula-like text gets one leading apostrophe', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', ',', '"', '\r', '\n', '=', '+', '-', '@', '\t', ' ', 'é', '{') }), { minLength: 1, maxLength: 6 }), (texts) => {
      const line = texts.map(textCell).join(',') + CRLF;
      const back = parseLine(line);
      assert.equal(back, texts.map((t) => (isFormulaLike(t) ? `'${t}` : t)));
    }),
    { numRuns: 500 },
  );
});

test('injection-prone cells are neutralised; numbers Flock writes and JSON cells are not', () => {
  for (const [input, out] of [
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ['+1', "'+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['\rx', `"'\rx"`],
    ['plain', 'plain'],
    ['', ''],
  ] as const) {
    assert.is(textCell(input), out, JSON.stringify(input));
  }
  assert.is(valueCell(-5), '-5');
  assert.is(valueCell('-5'), "'-5");
  assert.is(valueCell(true), 'true');
  assert.is(valueCell(null), '');
  assert.is(valueCell({ a: '=1' }), '"{""a"":""=1""}"');
  assert.equal(JSON.parse(parseLine(jsonCell({ email: ['=x@y', 'a,"b"'] }))[0]!), { email: ['=x@y', 'a,"b"'] });
});

test.run();
