/**
 * Test-only fault injection: `FLOCK_FAULT=committed:3` makes the engine kill its own process
 * (SIGKILL, like `kill -9`) the 3rd time it reaches that probe point, so a chaos run hits the kill
 * points that matter on purpose. Several are separated by commas; the first to be reached kills.
 */
import type { ProbePoint } from '../engine.ts';

export const PROBE_POINTS: readonly ProbePoint[] = ['applied', 'catch-up', 'merge', 'exits', 'committed', 'published', 'backfill'];

/** The delivery worker's probe point: a slice of changes acknowledged by the receiver, its cursor not yet committed. */
export type DeliveryProbePoint = 'delivered';
export const DELIVERY_PROBE_POINTS: readonly DeliveryProbePoint[] = ['delivered'];

export type Point = ProbePoint | DeliveryProbePoint;

export interface FaultSpec {
  readonly point: Point;
  /** the n-th time the point is reached (1 = the first). */
  readonly at: number;
}

/** A malformed `FLOCK_FAULT` (a test setup mistake: the process refuses to start rather than run without its fault). */
export class FaultSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultSpecError';
  }
}

/** Parses `point:n[,point:n…]`; empty or unset → no fault. */
export function parseFault(text: string | undefined): FaultSpec[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((part) => {
    const m = /^\s*([a-z-]+):(\d+)\s*$/.exec(part);
    const point = m?.[1] as Point | undefined;
    const points: readonly Point[] = [...PROBE_POINTS, ...DELIVERY_PROBE_POINTS];
    if (m === null || point === undefined || !points.includes(point) || Number(m[2]) < 1) {
      throw new FaultSpecError(`FLOCK_FAULT "${part}" is not <point>:<n> with n ≥ 1 and point one of ${points.join(', ')}`);
    }
    return { point, at: Number(m[2]) };
  });
}

/** The probe for `specs` (the engine's points, or the delivery worker's): counts each point and calls `kill` at the n-th time (default: SIGKILL this process). */
export function faultProbe(specs: readonly FaultSpec[], kill: (spec: FaultSpec) => void = () => process.kill(process.pid, 'SIGKILL')): ((point: Point) => void) | undefined {
  if (specs.length === 0) return undefined;
  const seen = new Map<Point, number>();
  return (point) => {
    const n = (seen.get(point) ?? 0) + 1;
    seen.set(point, n);
    for (const spec of specs) if (spec.point === point && spec.at === n) kill(spec);
  };
}
