/** Property tests of the front end: print/parse round trips of random valid ASTs, and no input ever throws. */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  definitionToJson,
  parseDefinition,
  parseDefinitionJson,
  printDefinition,
  stripSpans,
  type ParseOptions,
  type ParseResult,
} from '../../../engine/lang/index.ts';
import { mutatedArb, tokenSoupArb, validDefinitionArb } from '../../support/query-lang.ts';

const optionsArb = fc.record({
  kind: fc.constantFrom('audience' as const, 'trait' as const),
  target: fc.constantFrom('USERS' as const, 'ACCOUNTS' as const),
});

/** What every result must satisfy, whatever the input. */
function assertWellFormed(result: ParseResult, source?: string): void {
  assert.is(result.definition === null, result.diagnostics.length > 0, 'definition is null exactly when there are diagnostics');
  let previous = { line: 0, column: 0 };
  const lines = source === undefined ? Infinity : source.split(/\r\n|\r|\n/).length;
  for (const d of result.diagnostics) {
    assert.ok(d.line >= 1 && d.column >= 1, `1-based position: ${JSON.stringify(d)}`);
    assert.ok(d.line <= lines, `line within the source: ${JSON.stringify(d)}`);
    assert.ok(d.message.length > 0);
    assert.ok(d.line > previous.line || (d.line === previous.line && d.column >= previous.column), 'sorted by position');
    previous = d;
  }
}

test('text round trip: AST → print → parse gives the same AST, and print is a fixed point', () => {
  fc.assert(
    fc.property(validDefinitionArb, (definition) => {
      const text = printDefinition(definition);
      const result = parseDefinition(text, { kind: definition.kind, target: definition.target });
      assert.equal(result.diagnostics, [], text);
      assert.ok(result.definition !== null);
      assert.equal(stripSpans(result.definition), definition, text);
      assert.is(printDefinition(result.definition), text);
    }),
    { numRuns: 500 },
  );
});

test('JSON round trip: AST → JSON → parseDefinitionJson gives the same AST', () => {
  fc.assert(
    fc.property(validDefinitionArb, (definition) => {
      const json = JSON.parse(JSON.stringify(definitionToJson(definition)));
      const result = parseDefinitionJson(json, { kind: definition.kind, target: definition.target });
      assert.equal(result.diagnostics, []);
      assert.equal(result.definition, definition);
    }),
    { numRuns: 300 },
  );
});

test('text and JSON of the same definition give equal ASTs', () => {
  fc.assert(
    fc.property(validDefinitionArb, (definition) => {
      const options = { kind: definition.kind, target: definition.target };
      const fromText = parseDefinition(printDefinition(definition), options).definition;
      assert.ok(fromText !== null);
      const fromJson = parseDefinitionJson(definitionToJson(fromText), options).definition;
      assert.equal(fromJson, stripSpans(fromText));
    }),
    { numRuns: 200 },
  );
});

test('random strings never throw', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 80 }), optionsArb, (source, options) => {
      assertWellFormed(parseDefinition(source, options), source);
    }),
    { numRuns: 1000 },
  );
});

test('token soup never throws', () => {
  fc.assert(
    fc.property(tokenSoupArb, optionsArb, (source, options) => {
      assertWellFormed(parseDefinition(source, options), source);
    }),
    { numRuns: 3000 },
  );
});

test('edited valid definitions never throw', () => {
  const printed = validDefinitionArb.map(printDefinition);
  fc.assert(
    fc.property(mutatedArb(printed), optionsArb, (source, options) => {
      assertWellFormed(parseDefinition(source, options), source);
    }),
    { numRuns: 2000 },
  );
});

test('random JSON never throws', () => {
  const options: ParseOptions = { kind: 'audience', target: 'USERS' };
  fc.assert(
    fc.property(fc.jsonValue(), (json) => {
      assertWellFormed(parseDefinitionJson(json, options));
    }),
    { numRuns: 500 },
  );
});

test('valid JSON with a random subtree replaced never throws', () => {
  const replaced = fc.tuple(validDefinitionArb, fc.nat(), fc.jsonValue()).map(([definition, at, junk]) => {
    const json = JSON.parse(JSON.stringify(definitionToJson(definition)));
    const slots: [Record<string, unknown>, string][] = [];
    const collect = (v: unknown) => {
      if (v === null || typeof v !== 'object') return;
      for (const [k, child] of Object.entries(v)) {
        slots.push([v as Record<string, unknown>, k]);
        collect(child);
      }
    };
    collect(json);
    const slot = slots[at % slots.length];
    if (slot !== undefined) slot[0][slot[1]] = junk;
    return { json, kind: definition.kind, target: definition.target };
  });
  fc.assert(
    fc.property(replaced, ({ json, kind, target }) => {
      assertWellFormed(parseDefinitionJson(json, { kind, target }));
    }),
    { numRuns: 1000 },
  );
});

test('pathological nesting is refused, not a stack overflow', () => {
  for (const source of ['('.repeat(100_000), 'NOT '.repeat(100_000) + "trait('a').exists()", '['.repeat(50_000), `${"event('A').where(".repeat(5_000)}`]) {
    const result = parseDefinition(source, { kind: 'audience', target: 'USERS' });
    assertWellFormed(result, source);
    assert.is(result.diagnostics[0]?.code, 'syntax_error');
  }
  let json: unknown = { kind: 'comparison', subject: { kind: 'trait', path: ['a'] }, comparator: 'exists', args: [] };
  for (let i = 0; i < 100_000; i++) json = { kind: 'not', operand: json };
  const deep = parseDefinitionJson({ kind: 'audience', target: 'USERS', condition: json }, { kind: 'audience', target: 'USERS' });
  assert.equal(deep.diagnostics.map((d) => d.code), ['invalid_json']);
  const cyclic: Record<string, unknown> = { kind: 'audience', target: 'USERS' };
  cyclic['condition'] = cyclic;
  assert.is(parseDefinitionJson(cyclic, { kind: 'audience', target: 'USERS' }).diagnostics[0]?.code, 'invalid_json');
});

test.run();
