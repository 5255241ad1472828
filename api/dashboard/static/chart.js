/** Time-series charts with uPlot (served from Flock's own node_modules): one or more series over epoch-second x values, sized to their container. */

let library;
/** uPlot's script and stylesheet, added to the page by the first chart (no page waits for them). */
function loadUplot() {
  library ??= new Promise((resolve, reject) => {
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = '/ui/vendor/uPlot.min.css';
    document.head.append(css);
    const script = document.createElement('script');
    script.src = '/ui/vendor/uPlot.iife.min.js';
    script.onload = () => resolve(window.uPlot);
    script.onerror = () => reject(new Error('the chart library did not load'));
    document.head.append(script);
  });
  return library;
}

/** A chart in `container`: `series` is [{label, values}], `xs` epoch seconds; resolves to `{update(xs, series), destroy()}`. */
export async function timeChart(container, { title, series, xs, height = 220 }) {
  const uPlot = await loadUplot();
  const make = (xs0, series0) =>
    new uPlot(
      {
        title,
        width: Math.max(320, container.clientWidth || 640),
        height,
        series: [{}, ...series0.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 2, points: { show: xs0.length < 60 } }))],
        axes: [{}, { size: 60 }],
        // (at least a minute wide: a first sample alone would span years)
        scales: { x: { time: true, range: (_u, min, max) => (min === null || max === null ? [Date.now() / 1000 - 60, Date.now() / 1000] : [Math.min(min, max - 60), max]) } },
      },
      [xs0, ...series0.map((s) => s.values)],
      container,
    );
  let plot = make(xs, series);
  container.setAttribute('role', 'img');
  container.setAttribute('aria-label', `${title}: chart`);
  return {
    update(nextXs, nextSeries) {
      if (nextSeries.length !== plot.series.length - 1) {
        plot.destroy();
        plot = make(nextXs, nextSeries);
      } else plot.setData([nextXs, ...nextSeries.map((s) => s.values)]);
    },
    destroy: () => plot.destroy(),
  };
}

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];
