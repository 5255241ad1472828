/** Overview: every audience and computed trait with status, size, cadence and last change; progress bars and ETAs move live (server-sent events); filters and search. */
import { ago, cadence, h, notice, num, statusCell } from './lib.js';

const STATUSES = ['Preparing', 'Backfilling', 'Computing', 'Live', 'Failed', 'Disabled', 'Not Computing'];

export function overview(view) {
  const rows = new Map();
  const search = h('input', { id: 'filter-search', type: 'search', placeholder: 'name or key' });
  const kind = h('select', { id: 'filter-kind' }, h('option', { value: '' }, 'all'), h('option', { value: 'audiences' }, 'audiences'), h('option', { value: 'computed-traits' }, 'computed traits'));
  const status = h('select', { id: 'filter-status' }, h('option', { value: '' }, 'any'), STATUSES.map((s) => h('option', { value: s }, s)));
  const count = h('span.count', { 'aria-live': 'polite' });
  const tbody = h('tbody');
  const table = h(
    'table.definitions',
    { 'aria-label': 'Audiences and computed traits' },
    h('thead', {}, h('tr', {}, ['Name', 'Kind', 'Status', 'Size', 'Cadence', 'Last change'].map((t) => h('th', { scope: 'col' }, t)))),
    tbody,
  );
  const state = h('p.notice', { role: 'status' }, 'Loading…');
  view.append(
    h('h1', {}, 'Overview'),
    h(
      'form.filters',
      { role: 'search', onsubmit: (e) => e.preventDefault() },
      h('label', { for: 'filter-search' }, 'Search'), search,
      h('label', { for: 'filter-kind' }, 'Kind'), kind,
      h('label', { for: 'filter-status' }, 'Status'), status,
      count,
    ),
    state,
    table,
  );

  const visible = (d) => {
    const q = search.value.trim().toLowerCase();
    return (kind.value === '' || d.kind === kind.value) && (status.value === '' || d.status === status.value) && (q === '' || d.name.toLowerCase().includes(q) || d.key.includes(q));
  };
  const row = (d) =>
    h(
      'tr',
      { 'data-id': d.id, 'data-key': d.key },
      h('td', {}, h('a', { href: `#/definitions/${d.kind}/${encodeURIComponent(d.id)}` }, d.name), h('div.key', {}, d.key)),
      h('td', {}, d.kind === 'audiences' ? 'audience' : 'trait'),
      h('td', {}, statusCell(d), d.enabled ? '' : h('span.badge', {}, ' disabled')),
      h('td.num', {}, num(d.size)),
      h('td', {}, cadence(d.cadence)),
      h('td', { title: d.updatedAt }, ago(d.updatedAt)),
    );
  const refilter = () => {
    let shown = 0;
    for (const { data, tr } of rows.values()) {
      tr.hidden = !visible(data);
      if (!tr.hidden) shown += 1;
    }
    count.textContent = `${shown} of ${rows.size}`;
  };
  for (const control of [search, kind, status]) control.addEventListener('input', refilter);

  const source = new EventSource('/ui/live');
  source.addEventListener('definitions', (e) => {
    if (view.dataset.ready === undefined) performance.mark('overview-data');
    const { definitions } = JSON.parse(e.data);
    const fragment = document.createDocumentFragment();
    for (const d of definitions) {
      const tr = row(d);
      tr.hidden = !visible(d);
      const old = rows.get(d.id);
      if (old === undefined) fragment.append(tr);
      else old.tr.replaceWith(tr);
      rows.set(d.id, { data: d, tr });
    }
    tbody.append(fragment);
    state.textContent = rows.size === 0 ? 'No audiences or computed traits yet: create one with “New definition”.' : '';
    state.hidden = rows.size > 0;
    refilter();
    if (view.dataset.ready === undefined) performance.mark('overview-shown');
    view.dataset.ready = 'true';
  });
  source.addEventListener('removed', (e) => {
    for (const id of JSON.parse(e.data).ids) {
      rows.get(id)?.tr.remove();
      rows.delete(id);
    }
    refilter();
  });
  source.addEventListener('signed-out', () => location.assign('/'));
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) view.prepend(notice('Live updates stopped: reload the page.', 'error'));
  };
  return () => source.close();
}
