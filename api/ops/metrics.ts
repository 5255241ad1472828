/**
 * Prometheus metrics (prom-client, one registry per app): HTTP request counts and latencies by
 * route, the engine thread's stats (events in, lag, changes out, checkpoints), definition statuses
 * and backfill progress from the registry, per-destination delivery (destination-metrics.ts), and the process defaults.
 */
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DEFINITION_STATUSES, isTransientLogError, PAUSE_REASONS, type DefinitionRegistry, type DestinationStore, type EngineStats } from '../../engine/index.ts';
import { registerDestinationMetrics } from './destination-metrics.ts';

export interface MetricsSources {
  /** the engine thread's latest stats (undefined: no engine in this process, or not ready yet). */
  readonly engineStats?: (() => EngineStats | undefined) | undefined;
  /** the event log's newest position, for the lag. */
  readonly eventLogLastSeq?: (() => Promise<number>) | undefined;
  /** whether this process's own event-log connection is up (ingest). */
  readonly logReachable?: (() => boolean) | undefined;
  readonly registry?: DefinitionRegistry | undefined;
  /** the spaces whose definitions are counted. */
  readonly spaceIds?: readonly string[] | undefined;
  /** destinations and the change log's end: per-destination metrics. */
  readonly destinations?: DestinationStore | undefined;
  readonly changeLogLastSeq?: (() => Promise<number>) | undefined;
  readonly clock?: () => number;
}

export interface Metrics {
  readonly registry: Registry;
  /** counts and times every request by method, matched route and status. */
  readonly middleware: MiddlewareHandler;
}

export function createMetrics(sources: MetricsSources = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'flock_' });
  const clock = sources.clock ?? Date.now;
  const stats = () => sources.engineStats?.();

  const requests = new Counter({ name: 'flock_http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'flock_http_request_duration_seconds',
    help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  // The engine's counters are totals kept by the engine thread: each scrape sets them to its last report.
  const engineCounter = (name: string, help: string, read: (s: EngineStats) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const s = stats();
        if (s === undefined) return;
        this.reset();
        this.inc(read(s));
      },
    });
  engineCounter('flock_engine_events_in_total', 'events the engine applied', (s) => s.eventsIn);
  engineCounter('flock_engine_events_skipped_total', 'events the engine skipped (no profile, invalid)', (s) => s.eventsSkipped);
  engineCounter('flock_engine_changes_out_total', 'changes the engine published to the change log', (s) => s.changesOut);
  engineCounter('flock_engine_checkpoints_total', 'checkpoints committed', (s) => s.checkpoints);
  engineCounter('flock_engine_merges_total', 'profile merges identity resolution performed', (s) => s.merges);
  engineCounter('flock_engine_dropped_values_total', 'values mode/unique traits dropped at their distinct-value cap', (s) => s.droppedValues);
  engineCounter('flock_engine_overflowed_values_total', 'reads of a sum beyond the number range (±1.8e308), which then has no value', (s) => s.overflowedValues);
  new Gauge({
    name: 'flock_log_reachable',
    help: '1 while ingest and the engine reach their logs, 0 while a log is unreachable (NATS down)',
    registers: [registry],
    collect() {
      this.set(sources.logReachable?.() === false || stats()?.paused === 'log_unreachable' ? 0 : 1);
    },
  });
  new Gauge({
    name: 'flock_engine_paused',
    help: '1 while the engine waits (retrying) for this reason: log_unreachable, disk_full',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const s = stats();
      if (s === undefined) return;
      for (const reason of PAUSE_REASONS) this.set({ reason }, s.paused === reason ? 1 : 0);
    },
  });
  new Counter({
    name: 'flock_engine_retries_total',
    help: 'failed log or store operations the engine retried, by reason',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const s = stats();
      if (s === undefined) return;
      this.reset();
      for (const reason of PAUSE_REASONS) this.inc({ reason }, s.retries[reason]);
    },
  });
  new Gauge({
    name: 'flock_engine_profiles',
    help: 'profiles the engine holds in memory',
    registers: [registry],
    collect() {
      const s = stats();
      if (s !== undefined) this.set(s.profiles);
    },
  });
  new Gauge({
    name: 'flock_engine_up',
    help: '1 when an engine thread reports stats in this process',
    registers: [registry],
    collect() {
      this.set(stats() === undefined ? 0 : 1);
    },
  });
  new Gauge({
    name: 'flock_engine_checkpoint_duration_seconds',
    help: 'duration of the last checkpoint (commit, publish, input commit)',
    registers: [registry],
    collect() {
      const s = stats();
      if (s !== undefined) this.set(s.lastCheckpointMs / 1000);
    },
  });
  new Gauge({
    name: 'flock_engine_position',
    help: 'last event-log position the engine checkpointed',
    registers: [registry],
    collect() {
      const s = stats();
      if (s !== undefined) this.set(s.position);
    },
  });
  new Gauge({
    name: 'flock_engine_lag_events',
    help: 'events in the log the engine has not checkpointed yet',
    registers: [registry],
    async collect() {
      const s = stats();
      if (s === undefined || sources.eventLogLastSeq === undefined) return;
      let last: number;
      try {
        last = await sources.eventLogLastSeq();
      } catch (error) {
        // The log is unreachable (NATS down): the lag is unknown (NaN), and the scrape must still
        // answer — flock_log_reachable and flock_engine_paused say why.
        if (!isTransientLogError(error)) throw error;
        this.set(Number.NaN);
        return;
      }
      this.set(Math.max(0, last - s.position));
    },
  });
  new Gauge({
    name: 'flock_engine_watermark_lag_seconds',
    help: "how far the engine's clock (watermark) is behind the wall clock",
    registers: [registry],
    collect() {
      const s = stats();
      if (s !== undefined && Number.isFinite(s.watermark)) this.set(Math.max(0, (clock() - s.watermark) / 1000));
    },
  });

  new Gauge({
    name: 'flock_definitions',
    help: 'audiences and computed traits by space, kind and status',
    labelNames: ['space', 'kind', 'status'],
    registers: [registry],
    collect() {
      this.reset();
      if (sources.registry === undefined) return;
      for (const space of sources.spaceIds ?? []) {
        const counts = new Map<string, number>();
        for (const r of sources.registry.all(space)) counts.set(`${r.kind}\u0000${r.status}`, (counts.get(`${r.kind}\u0000${r.status}`) ?? 0) + 1);
        for (const kind of ['audience', 'trait']) {
          for (const status of DEFINITION_STATUSES) this.set({ space, kind, status }, counts.get(`${kind}\u0000${status}`) ?? 0);
        }
      }
    },
  });
  new Gauge({
    name: 'flock_definition_backfill_progress',
    help: 'progress (0…1) of each version the engine is backfilling or computing',
    labelNames: ['space', 'id', 'key', 'version'],
    registers: [registry],
    collect() {
      this.reset();
      if (sources.registry === undefined) return;
      for (const space of sources.spaceIds ?? []) {
        for (const r of sources.registry.all(space)) {
          for (const v of r.versions) {
            if ((v.status === 'Backfilling' || v.status === 'Computing') && v.progress !== undefined) this.set({ space, id: r.id, key: r.key, version: String(v.version) }, v.progress);
          }
        }
      }
    },
  });

  if (sources.destinations !== undefined) registerDestinationMetrics(registry, { destinations: sources.destinations, changeLogLastSeq: sources.changeLogLastSeq });

  const middleware: MiddlewareHandler = async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      // the route pattern, not the path: ids in paths would make one series per profile
      const handler = matchedRoutes(c).findLast((r) => r.method !== 'ALL');
      const route = handler?.path ?? 'unmatched';
      const method = c.req.method;
      requests.inc({ method, route, status: String(c.res.status) });
      latency.observe({ method, route }, (performance.now() - started) / 1000);
    }
  };
  return { registry, middleware };
}
