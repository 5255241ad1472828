/** The limits of a size series request, shared by the explorer's and the history's size routes. */
import { HttpError } from '../http-error.ts';

export const MAX_POINTS = 10_080;

/** A 400 naming the field unless `start` ≤ `end` and the range holds at most `MAX_POINTS` steps. */
export function checkSizeRange(start: number, end: number, stepMs: number): void {
  const invalid = (message: string, field: string) => new HttpError(400, 'input-validation', message, {}, { issues: [{ message, field }] });
  if (start > end) throw invalid('start is after end', 'start');
  if ((end - start) / stepMs > MAX_POINTS) throw invalid(`more than ${MAX_POINTS} points: narrow the range or use a coarser granularity`, 'granularity');
}
