/** Readable definitions for property-test failure reports. */
import type { DefinitionInput } from '../../engine/plan/plan.ts';

export function printDefinitionsForReport(defs: readonly DefinitionInput[]): string {
  return defs.map((d) => `${d.key}: ${JSON.stringify(d.definition, (k, v) => (k === 'span' ? undefined : v))}`).join('\n');
}
