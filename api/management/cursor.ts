/** Opaque pagination cursors: base64url JSON bound to the list they came from, so a cursor of another list or space is refused. */
import { z } from 'zod';
import { HttpError } from '../http-error.ts';

/** Which list a cursor belongs to: its space and a name (e.g. `audience`, `members:aud_…@2`). */
export interface CursorScope {
  readonly space: string;
  readonly list: string;
}

const cursorSchema = z.object({ s: z.string(), l: z.string(), p: z.record(z.string(), z.union([z.string(), z.number()])) });

export function encodeCursor(scope: CursorScope, position: Readonly<Record<string, string | number>>): string {
  return Buffer.from(JSON.stringify({ s: scope.space, l: scope.list, p: position })).toString('base64url');
}

/**
 * The position a cursor holds, or a 400 naming `field` when it is not a cursor of this list:
 * malformed, from another space, or from another list.
 */
export function decodeCursor(text: string, scope: CursorScope, field: string): Readonly<Record<string, string | number>> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw cursorError(field, 'is not a cursor this API returned');
  }
  const parsed = cursorSchema.safeParse(json);
  if (!parsed.success) throw cursorError(field, 'is not a cursor this API returned');
  if (parsed.data.s !== scope.space || parsed.data.l !== scope.list) throw cursorError(field, 'belongs to another list');
  return parsed.data.p;
}

function cursorError(field: string, problem: string): HttpError {
  return new HttpError(400, 'input-validation', `${field} ${problem}`, {}, { issues: [{ message: `${field} ${problem}`, field }] });
}

/** One page of a Public API list: the position its `pagination.cursor` holds, and the `pagination` object of the answer. */
export interface PageCursor {
  readonly position: Readonly<Record<string, string | number>>;
  /** this page's cursor (the one given, or the first page's). */
  readonly current: string;
  /** the answer's `pagination`: `next`/`previous` are the positions of the neighbouring pages, or null. */
  pagination(next: Readonly<Record<string, string | number>> | null, previous?: Readonly<Record<string, string | number>> | null): { current: string; next: string | null; previous: string | null };
}

export function pageCursor(scope: CursorScope, cursor: string | undefined): PageCursor {
  const current = cursor ?? encodeCursor(scope, {});
  return {
    position: cursor === undefined ? {} : decodeCursor(cursor, scope, 'pagination.cursor'),
    current,
    pagination: (next, previous = null) => ({ current, next: next === null ? null : encodeCursor(scope, next), previous: previous === null ? null : encodeCursor(scope, previous) }),
  };
}
