/**
 * Whether an event identifies nobody under its space's identity rules, and why: the one decision
 * behind both the tracking API's refusal (it answers the rejection) and the engine's skip (it logs
 * it), so an accepted event is always applied.
 */
import type { FlockEvent } from '../event/model.ts';
import type { Rejection } from '../event/rejection.ts';
import { extractIdentifiers, identifierProblem, MAX_IDENTIFIER_LENGTH, type EventIdentifiers, type IdentifierProblem } from './extract-identifiers.ts';
import type { IdentityRules } from './rules.ts';

const WHY: Readonly<Record<Exclude<IdentifierProblem, 'absent'>, string>> = {
  not_text: 'is neither a string nor a number',
  too_long: `is longer than ${MAX_IDENTIFIER_LENGTH} characters`,
  disabled: "is of a type the space's identity rules disable",
  blocked: "is a value the space's identity rules block",
};

/**
 * Null when `event` has an identifier left once the rules have dropped blocked values, disabled
 * types and values over 500 characters (`extractIdentifiers`); else the rejection saying why:
 * `no_user_anon_id` (nothing to identify by), `id_too_long`, or `blocked_identifier` (every
 * identifier blocked or disabled). `identifiers` are the event's, when the caller extracted them.
 */
export function unidentified(event: FlockEvent, rules: IdentityRules, identifiers: EventIdentifiers = extractIdentifiers(event, rules)): Rejection | null {
  if (identifiers.users.length > 0) return null;
  const problems: string[] = [];
  let tooLong = false;
  for (const [field, type, value] of [
    ['userId', 'user_id', event.userId],
    ['anonymousId', 'anonymous_id', event.anonymousId],
  ] as const) {
    const problem = identifierProblem(rules, type, value);
    if (problem === null || problem === 'absent') continue;
    if (problem === 'too_long') tooLong = true;
    problems.push(problem === 'blocked' ? `${field} "${String(value)}" is a value the space's identity rules block` : `${field} ${WHY[problem]}`);
  }
  if (problems.length === 0) return { code: 'no_user_anon_id', message: 'the call has no userId, anonymousId or other identifier' };
  const message = `the call identifies nobody: ${problems.join(', ')}, and it has no other identifier`;
  return { code: tooLong ? 'id_too_long' : 'blocked_identifier', message };
}
