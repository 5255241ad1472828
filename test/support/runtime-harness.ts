/** Test support: definitions from query text, and a runtime over them that records its changes (space `spa_test`). */
import * as assert from 'uvu/assert';
import { parseDefinition } from '../../engine/lang/index.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import type { Change } from '../../engine/runtime/change.ts';
import { Runtime } from '../../engine/runtime/runtime.ts';

/** A definition parsed from `query` (a failed parse fails the test with its diagnostics). */
export function defineQuery(key: string, query: string, kind: 'audience' | 'trait' = 'audience', target: 'USERS' | 'ACCOUNTS' = 'USERS'): DefinitionInput {
  const r = parseDefinition(query, { kind, target });
  assert.ok(r.definition, `${query}: ${JSON.stringify(r.diagnostics)}`);
  return { id: `${kind === 'audience' ? 'aud' : 'tra'}_${key}`, key, kind, target, version: 1, definition: r.definition! };
}

/** A runtime computing `defs` in space `spa_test` (every definition must compile), and the changes it emitted. */
export function recordingRuntime(defs: readonly DefinitionInput[]): { rt: Runtime; changes: Change[] } {
  const { plan, failures } = compilePlan(defs);
  assert.is(failures.size, 0, [...failures.values()].map((f) => f.message).join('; '));
  const changes: Change[] = [];
  const rt = new Runtime({ plans: new Map([['spa_test', plan]]), onChange: (c) => changes.push(c) });
  return { rt, changes };
}
