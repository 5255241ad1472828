/** Rule comparison-subject (invalid_chain for a unique() list compared directly; only the JSON form can express it). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Definition } from '../../../../engine/lang/ast.ts';
import { LineMap } from '../../../../engine/lang/line-map.ts';
import { RuleContext } from '../../../../engine/lang/rule-context.ts';
import { comparisonSubject } from '../../../../engine/lang/rules/comparison-subject.ts';
import { USERS_AUDIENCE } from '../../../support/query-lang.ts';

function check(definition: Definition): string[] {
  const context = new RuleContext(USERS_AUDIENCE, new LineMap(''));
  comparisonSubject(definition, context);
  return context.diagnostics.map((d) => `${d.code} ${d.message}`);
}

const unique = (count: boolean): Definition => ({
  kind: 'audience',
  target: 'USERS',
  condition: {
    kind: 'comparison',
    subject: {
      kind: 'aggregate',
      stream: { kind: 'stream', source: 'event', name: 'E', filters: [] },
      reducer: { kind: 'unique', of: { kind: 'property', path: ['p'], parent: false }, count },
    },
    comparator: 'greater_than',
    args: [{ kind: 'literal', type: 'number', value: 1 }],
  },
});

test('a unique() list cannot be compared', () => {
  assert.equal(check(unique(false)), ['invalid_chain a unique() list cannot be compared; only .count() may follow unique()']);
});

test('passes unique().count()', () => {
  assert.equal(check(unique(true)), []);
});

test.run();
