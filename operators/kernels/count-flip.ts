/** When does `count() <comparator> <args>` over a sliding window next change its truth? Closed form, so a profile wakes only when a result can flip. */
import type { AggregateSpec, AggregateState } from './window-aggregate.ts';
import { nextChange } from './window-aggregate.ts';

/**
 * For a `within(N)` count with no events from the future, the count only falls: from `n` now to
 * `n − j − 1` at the expiry `t[lo + j] + N` of its j-th oldest event. A predicate on the count can
 * only change where the count crosses one of its arguments, so the first flip is the largest count
 * `c < n` (among the counts next to each argument, and `n − 1`) whose truth differs from now's:
 * it happens at the expiry that brings the count to `c`. Other windows, reducers and states fall
 * back to the aggregate's next change (any change may flip).
 */
export function nextCountFlip(
  spec: AggregateSpec,
  st: AggregateState,
  test: (count: number) => boolean,
  args: readonly unknown[],
): number {
  const w = spec.window;
  if (spec.reducer.kind !== 'count' || w.kind !== 'range' || w.from !== 0 || st.hi !== st.t.length) return nextChange(spec, st);
  const n = st.n;
  if (n === 0) return Number.POSITIVE_INFINITY; // no event will leave, none will come without input
  const now = test(n);
  let best = n - 1 >= 0 && test(n - 1) !== now ? n - 1 : -1;
  for (let i = 0; i < args.length && best < n - 1; i++) {
    const a = args[i];
    const x = typeof a === 'number' ? a : typeof a === 'string' ? Number(a) : Number.NaN;
    if (!Number.isFinite(x)) continue;
    const f = Math.floor(x);
    // The largest count below n on the other side of this argument (candidates descending).
    for (let c = Math.min(Math.ceil(x) + 1, n - 1); c >= f - 1 && c > best; c--) {
      if (c >= 0 && test(c) !== now) {
        best = c;
        break;
      }
    }
  }
  if (best < 0 && test(0) !== now) best = 0;
  if (best < 0) return Number.POSITIVE_INFINITY;
  // The count becomes `best` when its (n − best)-th oldest event expires.
  return st.t[st.lo + (n - 1 - best)]! + w.to;
}
