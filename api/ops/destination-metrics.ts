/** Per-destination metrics, read at each scrape from the destination store the delivery worker writes: delivered, failed, requests, retrying, paused, dead letters, lag. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DestinationRecord, DestinationStatus, DestinationStore } from '../../engine/index.ts';

export interface DestinationMetricSources {
  readonly destinations: DestinationStore;
  readonly changeLogLastSeq?: (() => Promise<number>) | undefined;
}

const LABELS = ['space', 'destination', 'kind'] as const;

export function registerDestinationMetrics(registry: Registry, sources: DestinationMetricSources): void {
  const each = (f: (labels: Record<(typeof LABELS)[number], string>, s: DestinationStatus, d: DestinationRecord) => void) => {
    for (const d of sources.destinations.destinations()) f({ space: d.space, destination: d.id, kind: d.settings.kind }, sources.destinations.status(d.id), d);
  };
  // totals kept by the delivery worker (counters: each scrape sets them to what it last persisted) and gauges
  const series = (kind: 'counter' | 'gauge', name: string, help: string, read: (s: DestinationStatus, d: DestinationRecord) => number) => {
    const config = { name, help, labelNames: LABELS, registers: [registry] };
    if (kind === 'counter') {
      new Counter({
        ...config,
        collect() {
          this.reset();
          each((labels, s, d) => this.inc(labels, read(s, d)));
        },
      });
    } else {
      new Gauge({
        ...config,
        collect() {
          this.reset();
          each((labels, s, d) => this.set(labels, read(s, d)));
        },
      });
    }
  };
  series('counter', 'flock_destination_delivered_total', 'events a destination acknowledged (list destinations: values)', (s) => s.delivered);
  series('counter', 'flock_destination_failed_total', 'events dead-lettered after their last attempt', (s) => s.failed);
  series('counter', 'flock_destination_requests_total', 'requests sent to a destination, every attempt counted', (s) => s.requests);
  series('gauge', 'flock_destination_retrying', 'events in batches waiting for a retry', (s) => s.retrying);
  series('gauge', 'flock_destination_paused', '1 while a destination is paused by repeated failures (until resumed)', (s, d) => (s.paused !== null && (d.resumes ?? 0) <= s.paused.resumes ? 1 : 0));
  series('gauge', 'flock_destination_dead_letters', 'dead letters waiting (list them and replay through the API)', (_, d) => sources.destinations.deadLetterCount(d.id));
  new Gauge({
    name: 'flock_destination_lag_changes',
    help: 'change-log records a destination has not delivered yet',
    labelNames: LABELS,
    registers: [registry],
    async collect() {
      this.reset();
      if (sources.changeLogLastSeq === undefined) return;
      let last: number;
      try {
        last = await sources.changeLogLastSeq();
      } catch {
        return; // the change log is unreachable: the lag is unknown (the engine's metrics say why)
      }
      each((labels, _, d) => {
        const cursor = sources.destinations.cursor(d.id);
        if (cursor !== undefined) this.set(labels, Math.max(0, last - cursor));
      });
    },
  });
}
