/** System page: events in, lag, changes out, checkpoints and backfills, charted from the same figures `/metrics` serves (sampled every two seconds). */
import { h, notice, SPACE } from './lib.js';
import { timeChart } from './chart.js';

const SAMPLE_MS = 2000;
const KEEP = 150;

/** Prometheus text → [{name, labels, value}]. */
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const labels = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

const sum = (metrics, name, filter = () => true) => metrics.filter((m) => m.name === name && filter(m.labels)).reduce((n, m) => n + m.value, 0);

export function systemPage(view) {
  const charts = [
    { id: 'chart-events', title: 'Events in per second', series: [{ label: 'events/s', rate: 'flock_engine_events_in_total' }] },
    { id: 'chart-changes', title: 'Changes out per second', series: [{ label: 'changes/s', rate: 'flock_engine_changes_out_total' }] },
    { id: 'chart-lag', title: 'Lag', series: [{ label: 'events behind', gauge: 'flock_engine_lag_events' }, { label: 'watermark lag (s)', gauge: 'flock_engine_watermark_lag_seconds' }] },
    { id: 'chart-checkpoints', title: 'Checkpoints per minute', series: [{ label: 'checkpoints/min', rate: 'flock_engine_checkpoints_total', per: 60 }] },
    { id: 'chart-http', title: 'HTTP requests per second', series: [{ label: 'requests/s', rate: 'flock_http_requests_total' }] },
  ];
  const boxes = charts.map((c) => h('div.chart', { id: c.id }));
  const backfills = h('ul#backfills', { 'aria-live': 'polite' });
  const statuses = h('p#definition-statuses');
  const error = h('div');
  view.append(
    h('h1', {}, 'System'),
    h('p.muted', {}, 'From /metrics, sampled every 2 s while this page is open.'),
    error,
    h('div.grid', {}, boxes),
    h('section', { 'aria-labelledby': 'h-backfills' }, h('h2#h-backfills', {}, 'Backfills'), statuses, backfills),
  );
  const xs = [];
  const values = charts.map((c) => c.series.map(() => []));
  let previous;
  let plots = [];
  let timer;
  const sample = async () => {
    let metrics;
    try {
      const res = await fetch('/metrics', { credentials: 'same-origin' });
      metrics = parseMetrics(await res.text());
      error.replaceChildren();
    } catch (e) {
      error.replaceChildren(notice(`metrics unavailable: ${e.message}`, 'error'));
      return;
    }
    const now = Date.now();
    if (previous !== undefined) {
      const dt = (now - previous.at) / 1000;
      xs.push(now / 1000);
      charts.forEach((c, i) =>
        c.series.forEach((s, j) => {
          const v = s.rate !== undefined ? Math.max(0, (sum(metrics, s.rate) - sum(previous.metrics, s.rate)) / dt) * (s.per ?? 1) : sum(metrics, s.gauge);
          values[i][j].push(Math.round(v * 100) / 100);
        }),
      );
      if (xs.length > KEEP) {
        xs.shift();
        for (const list of values.flat()) list.shift();
      }
      if (plots.length === 0) plots = await Promise.all(charts.map((c, i) => timeChart(boxes[i], { title: c.title, xs, series: c.series.map((s, j) => ({ label: s.label, values: values[i][j] })) })));
      else plots.forEach((p, i) => p.update(xs, charts[i].series.map((s, j) => ({ label: s.label, values: values[i][j] }))));
      view.dataset.samples = String(xs.length);
    }
    previous = { at: now, metrics };
    // (this space's definitions only: /metrics counts every space)
    const byStatus = metrics.filter((m) => m.name === 'flock_definitions' && m.labels.space === SPACE && m.value > 0).map((m) => `${m.labels.kind} ${m.labels.status}: ${m.value}`);
    statuses.textContent = byStatus.length === 0 ? 'no definitions' : `Definitions by status — ${byStatus.join(', ')}`;
    const running = metrics.filter((m) => m.name === 'flock_definition_backfill_progress' && m.labels.space === SPACE);
    backfills.replaceChildren(
      ...(running.length === 0
        ? [h('li', {}, 'none running')]
        : running.map((m) => {
            const label = `${m.labels.key} v${m.labels.version}`;
            return h('li', {}, `${label} `, h('progress', { max: '100', value: String(Math.round(m.value * 100)), 'aria-label': `${label} backfill` }), ` ${Math.round(m.value * 100)}%`);
          })),
    );
  };
  const loop = async () => {
    await sample();
    timer = setTimeout(loop, SAMPLE_MS);
  };
  void loop();
  return () => {
    clearTimeout(timer);
    for (const p of plots) p.destroy();
  };
}
