/**
 * Definition page: status with a live progress bar, size over time (minute/hour/day), the members
 * explorer (search, paging), recent enters and exits as they happen, versions, references, the
 * destinations connected with their status (and connecting one), and a CSV export.
 */
import { api, cadence, h, kindNoun, notice, num, spacePath, statusCell, when } from './lib.js';
import { timeChart } from './chart.js';
import { destinationStatus, lagText, REFRESH_MS, stateCell } from './destinations.js';

const RANGE_MS = { minute: 2 * 3_600_000, hour: 48 * 3_600_000, day: 30 * 86_400_000 };
const PAGE = 50;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function definitionPage(view, kind, id) {
  const base = spacePath(`/${kind}/${encodeURIComponent(id)}`);
  const one = kind === 'audiences' ? 'audience' : 'computedTrait';
  let d = (await api(base)).data[one];
  let alive = true;

  const status = h('div.status-line', { id: 'status' });
  const facts = h('dl.facts');
  const renderHead = (s) => {
    status.replaceChildren(statusCell(s));
    facts.replaceChildren(
      h('dt', {}, 'Key'), h('dd', {}, d.key),
      h('dt', {}, 'Size'), h('dd', { id: 'size' }, num(s.size?.count ?? s.size)),
      h('dt', {}, 'Compute'), h('dd', {}, cadence(d.computeCadence)),
      h('dt', {}, 'Version'), h('dd', {}, `${d.version} (live: ${d.liveVersion ?? '—'})`),
      h('dt', {}, 'Enabled'), h('dd', {}, d.enabled ? 'yes' : 'no'),
    );
  };
  renderHead(d);

  // size over time
  const granularity = h('select', { id: 'granularity' }, ['minute', 'hour', 'day'].map((g) => h('option', { value: g }, g)));
  granularity.value = 'hour';
  const chartBox = h('div.chart', { id: 'size-chart' });
  let chart;
  const loadSize = async () => {
    const end = Date.now();
    const start = end - RANGE_MS[granularity.value];
    const body = await api(`${base}/size-history?granularity=${granularity.value}&start=${new Date(start).toISOString()}&end=${new Date(end).toISOString()}`);
    const xs = body.data.points.map((p) => Date.parse(p.at) / 1000);
    const series = [{ label: 'members', values: body.data.points.map((p) => p.count) }];
    // (the chart is a promise, so overlapping loads make one chart)
    if (chart === undefined) chart = timeChart(chartBox, { title: `Size by ${granularity.value}`, xs, series });
    else (await chart).update(xs, series);
  };
  granularity.addEventListener('change', () => {
    void chart?.then((c) => c.destroy());
    chart = undefined;
    chartBox.replaceChildren();
    void loadSize();
  });

  // members explorer: pages forward by cursor (kept to go back); search over every member on the server
  // (an identifier such as email:alice@example.com finds its profile; anything else is a profile id prefix)
  const memberRows = h('tbody');
  const pageInfo = h('span', { 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', id: 'members-prev', disabled: true }, 'Previous');
  const next = h('button', { type: 'button', id: 'members-next', disabled: true }, 'Next');
  const search = h('input', { id: 'members-search', type: 'search', placeholder: 'email:…, user_id:… or a profile id prefix' });
  const cursors = [undefined];
  let pageIndex = 0;
  let members = [];
  const showMembers = () => {
    memberRows.replaceChildren(
      ...members.map((m) =>
        h(
          'tr',
          {},
          h('td', {}, h('a', { href: `#/profile/${encodeURIComponent(`${m.profileId}`)}` }, m.profileId)),
          h('td', {}, JSON.stringify(m.value)),
          h('td', {}, when(m.since)),
        ),
      ),
    );
  };
  const loadMembers = async () => {
    const cursor = cursors[pageIndex];
    const t0 = performance.now();
    const q = search.value.trim();
    const body = await api(`${base}/members?pagination.count=${PAGE}${cursor ? `&pagination.cursor=${encodeURIComponent(cursor)}` : ''}${q === '' ? '' : `&search=${encodeURIComponent(q)}`}`);
    members = body.data.members;
    cursors[pageIndex + 1] = body.data.pagination.next ?? undefined;
    prev.disabled = pageIndex === 0;
    next.disabled = !body.data.pagination.next;
    const total = body.data.pagination.totalEntries ?? 0;
    pageInfo.textContent = q === '' ? `page ${pageIndex + 1} of ${Math.max(1, Math.ceil(total / PAGE))} · ${num(total)} members` : `page ${pageIndex + 1} · ${members.length === 0 ? 'no member matches' : `matches of ${num(total)} members`}`;
    showMembers();
    view.dataset.membersMs = String(Math.round(performance.now() - t0));
  };
  prev.addEventListener('click', () => ((pageIndex = Math.max(0, pageIndex - 1)), loadMembers()));
  next.addEventListener('click', () => ((pageIndex += 1), loadMembers()));
  let searching;
  search.addEventListener('input', () => {
    clearTimeout(searching);
    searching = setTimeout(() => {
      cursors.length = 1;
      pageIndex = 0;
      loadMembers().catch((error) => memberRows.replaceChildren(h('tr', {}, h('td', { colspan: 3 }, error.message))));
    }, 250);
  });

  // recent changes, live
  const changes = h('ol.changes', { id: 'changes', 'aria-live': 'polite', 'aria-label': 'Recent enters and exits' });
  const addChanges = (list) => {
    for (const ch of list) {
      changes.prepend(
        h(
          'li',
          { 'data-kind': ch.kind },
          h('span.badge', { 'data-kind': ch.kind }, ch.kind),
          ' ',
          h('a', { href: `#/profile/${encodeURIComponent(`${ch.profileId}`)}` }, ch.profileId),
          ch.kind === 'trait' ? ` = ${JSON.stringify(ch.value)}` : '',
          h('time', { datetime: ch.at }, ` ${when(ch.at)}`),
        ),
      );
    }
    while (changes.children.length > 100) changes.lastElementChild.remove();
  };

  // versions and references
  const versions = h('tbody');
  const renderVersions = () =>
    versions.replaceChildren(
      ...[...d.versions].reverse().map((v) =>
        h('tr', {}, h('td', {}, String(v.version)), h('td', {}, h('code', {}, v.query)), h('td', {}, statusCell({ ...v, name: `version ${v.version}` })), h('td', {}, when(v.createdAt))),
      ),
    );
  renderVersions();
  const refs = h('ul#references');
  api(`${base}/audience-references`)
    .then((body) => {
      const all = [...body.data.audiences.map((r) => ['audiences', r]), ...body.data.computedTraits.map((r) => ['computed-traits', r])];
      refs.replaceChildren(...(all.length === 0 ? [h('li', {}, 'none')] : all.map(([k, r]) => h('li', {}, h('a', { href: `#/definitions/${k}/${encodeURIComponent(r.id)}` }, r.name)))));
    })
    .catch((error) => refs.replaceChildren(h('li', {}, error.message)));

  // CSV export
  const exportButton = h('button', { type: 'button', id: 'export' }, 'Export CSV');
  const exportState = h('span#export-state', { 'aria-live': 'polite' });
  exportButton.addEventListener('click', async () => {
    exportButton.disabled = true;
    exportState.replaceChildren('starting…');
    try {
      let job = (await api(`${base}/exports`, { method: 'POST', body: {} })).data.export;
      while (job.status !== 'SUCCESS' && job.status !== 'FAILED' && alive) {
        exportState.replaceChildren(`${Math.round((job.progress ?? 0) * 100)}%`);
        await sleep(300);
        job = (await api(`${base}/exports/${encodeURIComponent(job.exportId)}`)).data.export;
      }
      if (job.status === 'FAILED') throw new Error(job.error?.message ?? 'the export failed');
      exportState.replaceChildren(h('a', { href: `/ui/api${job.urls[0]}`, download: `${d.key}.csv`, id: 'export-link' }, `Download ${d.key}.csv`), ` (${num(job.members)} rows)`);
    } catch (error) {
      exportState.replaceChildren(notice(error.message, 'error'));
    } finally {
      exportButton.disabled = false;
    }
  });

  // destinations connected to this definition, their status (every REFRESH_MS), and connecting one
  const destinationRows = h('tbody');
  const destinationsError = h('div');
  const connectTo = h('select', { id: 'connect-destination' });
  const connectForm = h(
    'form.actions',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await api(spacePath(`/destinations/${encodeURIComponent(connectTo.value)}/connections`), { method: 'POST', body: { definitionId: id } });
          await loadDestinations();
        } catch (error) {
          destinationsError.replaceChildren(notice(`Connect: ${error.message}`, 'error'));
        }
      },
    },
    h('label', { for: 'connect-destination' }, 'Connect to '), connectTo, h('button', { type: 'submit' }, 'Connect'),
  );
  const destinationsBox = h(
    'div#destinations',
    {},
    destinationsError,
    h('table', {}, h('thead', {}, h('tr', {}, ['Destination', 'Kind', 'State', 'Lag', 'Delivered', 'Failed', 'Last error'].map((t) => h('th', { scope: 'col' }, t)))), destinationRows),
    connectForm,
  );
  const loadDestinations = async () => {
    const all = (await api(spacePath('/destinations'))).data.destinations;
    const connected = (
      await Promise.all(all.map(async (dest) => ((await api(spacePath(`/destinations/${encodeURIComponent(dest.id)}/connections`))).data.connections.some((c) => c.definitionId === id) ? dest : undefined)))
    ).filter((x) => x !== undefined);
    const statuses = await Promise.all(connected.map((dest) => destinationStatus(dest.id)));
    destinationRows.replaceChildren(
      ...(connected.length === 0
        ? [h('tr', {}, h('td', { colspan: '7' }, 'Not connected to any destination.'))]
        : connected.map((dest, i) =>
            h(
              'tr',
              { 'data-id': dest.id },
              h('td', {}, h('a', { href: `#/destinations/${encodeURIComponent(dest.id)}` }, dest.name)),
              h('td', {}, dest.kind),
              h('td', {}, stateCell(statuses[i])),
              h('td', {}, lagText(statuses[i])),
              h('td.num.delivered', {}, num(statuses[i].delivered)),
              h('td.num', {}, num(statuses[i].failed)),
              h('td', {}, statuses[i].lastError?.message ?? '—'),
            ),
          )),
    );
    const open = all.filter((dest) => !connected.includes(dest) && !(dest.kind === 'list' && kind !== 'audiences'));
    const chosen = connectTo.value;
    connectTo.replaceChildren(...open.map((dest) => h('option', { value: dest.id }, `${dest.name} (${dest.kind})`)));
    if (open.some((dest) => dest.id === chosen)) connectTo.value = chosen;
    connectForm.hidden = open.length === 0;
    destinationsError.replaceChildren();
  };
  let destinationsTimer;
  const pollDestinations = async () => {
    await loadDestinations().catch((e) => destinationsError.replaceChildren(notice(e.message, 'error')));
    if (alive) destinationsTimer = setTimeout(pollDestinations, REFRESH_MS);
  };

  view.append(
    h('h1', {}, d.name, h('small', {}, ` ${kindNoun(kind)}`)),
    h('div.actions', {}, h('a.button', { href: `#/builder/${kind}/${encodeURIComponent(id)}` }, 'Edit'), exportButton, exportState),
    status,
    facts,
    h('section', { 'aria-labelledby': 'h-size' }, h('h2#h-size', {}, 'Size over time'), h('label', { for: 'granularity' }, 'Step '), granularity, chartBox),
    h(
      'div.columns',
      {},
      h(
        'section',
        { 'aria-labelledby': 'h-members' },
        h('h2#h-members', {}, kind === 'audiences' ? 'Members' : 'Profiles with a value'),
        h('div.toolbar', {}, h('label', { for: 'members-search' }, 'Search members '), search, prev, next, pageInfo),
        h('table.members', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Profile'), h('th', { scope: 'col' }, 'Value'), h('th', { scope: 'col' }, 'Since'))), memberRows),
      ),
      h('section', { 'aria-labelledby': 'h-changes' }, h('h2#h-changes', {}, 'Recent changes (live)'), changes),
    ),
    h('section', { 'aria-labelledby': 'h-versions' }, h('h2#h-versions', {}, 'Versions'), h('table', {}, h('thead', {}, h('tr', {}, ['Version', 'Query', 'Status', 'Created'].map((t) => h('th', { scope: 'col' }, t)))), versions)),
    h('section', { 'aria-labelledby': 'h-refs' }, h('h2#h-refs', {}, 'Used by'), refs),
    h('section', { 'aria-labelledby': 'h-destinations' }, h('h2#h-destinations', {}, 'Destinations'), destinationsBox),
  );
  void pollDestinations();
  await Promise.all([loadSize().catch((e) => chartBox.replaceChildren(notice(e.message, 'error'))), loadMembers().catch((e) => memberRows.replaceChildren(h('tr', {}, h('td', { colspan: '3' }, e.message))))]);

  const source = new EventSource(`/ui/live?kind=${kind}&id=${encodeURIComponent(id)}`);
  source.addEventListener('definitions', async (e) => {
    const mine = JSON.parse(e.data).definitions.find((x) => x.id === id);
    if (mine === undefined) return;
    renderHead(mine);
    view.dataset.status = mine.status;
    if (mine.version !== d.version || mine.liveVersion !== d.liveVersion || mine.status !== d.status) {
      d = (await api(base)).data[one];
      // (the facts show d's version and live version: drawn again with the new d)
      renderHead(mine);
      renderVersions();
      if (mine.status === 'Live') void loadMembers();
    }
  });
  let refresh;
  source.addEventListener('changes', (e) => {
    const { changes: fresh, full } = JSON.parse(e.data);
    addChanges(fresh);
    if (!full && fresh.length > 0) {
      // the members page and the size chart follow (at most once a second)
      clearTimeout(refresh);
      refresh = setTimeout(() => void Promise.all([loadMembers(), loadSize()]).catch(() => {}), 1000);
    }
    view.dataset.changes = String(changes.children.length);
  });
  source.addEventListener('signed-out', () => location.assign('/'));
  return () => {
    alive = false;
    clearTimeout(refresh);
    clearTimeout(destinationsTimer);
    source.close();
    void chart?.then((c) => c.destroy());
  };
}
