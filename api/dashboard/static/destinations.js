/**
 * Destinations: every destination of the space with its state (paused and why), lag, delivered /
 * retrying / failed counts and last error, refreshed every two seconds; one destination's
 * connections and dead letters (replay), resume after a pause, and a small form for a webhook.
 * Secrets are never shown: the API leaves them out.
 */
import { api, ago, h, notice, num, spacePath } from './lib.js';

export const REFRESH_MS = 2000;

const destinationPath = (id, rest = '') => spacePath(`/destinations/${encodeURIComponent(id)}${rest}`);
const definitionLink = (definitionId) => `#/definitions/${definitionId.startsWith('tra_') ? 'computed-traits' : 'audiences'}/${encodeURIComponent(definitionId)}`;
const seconds = (s) => (s === null || s === undefined ? '—' : s < 1 ? '0 s' : `${Math.round(s).toLocaleString()} s`);

/** A destination's status with its state (paused: and why), status being the status route's answer. */
export async function destinationStatus(id) {
  return (await api(destinationPath(id, '/status'))).data.status;
}

/** The state cell: the state, and for a paused destination its reason. */
export function stateCell(status) {
  return h('span.dest-state', { 'data-state': status.state }, status.state, status.pauseReason ? h('span.muted', {}, ` — ${status.pauseReason}`) : '');
}

/** The lag cell: changes behind and how long the cursor has waited. */
export const lagText = (status) => (status.lag.changes === null ? '—' : `${num(status.lag.changes)} changes, ${seconds(status.lag.seconds)}`);

/** Every destination of the space with its status (fetched side by side). */
async function destinationsWithStatus() {
  const list = (await api(spacePath('/destinations'))).data.destinations;
  return Promise.all(list.map(async (d) => ({ d, status: await destinationStatus(d.id) })));
}

/** Polls `load` every REFRESH_MS until the returned stop is called (a failed poll shows its error in `errorBox` and goes on). */
function poll(load, errorBox) {
  let alive = true;
  let timer;
  const tick = async () => {
    try {
      await load();
      errorBox.replaceChildren();
    } catch (error) {
      errorBox.replaceChildren(notice(String(error.message ?? error), 'error'));
    }
    if (alive) timer = setTimeout(tick, REFRESH_MS);
  };
  const first = tick();
  return {
    first,
    stop: () => {
      alive = false;
      clearTimeout(timer);
    },
  };
}

export async function destinationsPage(view, id) {
  if (id !== undefined) return destinationPage(view, id);
  const tbody = h('tbody');
  const state = h('p.notice', { role: 'status' }, 'Loading…');
  const errorBox = h('div');
  const created = h('p', { 'aria-live': 'polite' });
  const name = h('input', { id: 'dest-name', required: true, maxlength: '200' });
  const url = h('input', { id: 'dest-url', type: 'url', required: true, placeholder: 'https://…' });
  const secret = h('input', { id: 'dest-secret', type: 'password', autocomplete: 'off' });
  const form = h(
    'form#new-destination.filters',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const body = { name: name.value, kind: 'webhook', settings: { url: url.value }, ...(secret.value === '' ? {} : { secret: secret.value }) };
          const d = (await api(spacePath('/destinations'), { method: 'POST', body })).data.destination;
          form.reset();
          created.replaceChildren('Created ', h('a', { href: `#/destinations/${encodeURIComponent(d.id)}` }, d.name), ': connect it from an audience or computed trait page.');
          await load();
        } catch (error) {
          created.replaceChildren(notice(error.message, 'error'));
        }
      },
    },
    h('label', { for: 'dest-name' }, 'Name'), name,
    h('label', { for: 'dest-url' }, 'Webhook URL'), url,
    h('label', { for: 'dest-secret' }, 'Signing secret (optional)'), secret,
    h('button', { type: 'submit' }, 'Create webhook'),
  );
  view.append(
    h('h1', {}, 'Destinations'),
    h('p.muted', {}, `Refreshed every ${REFRESH_MS / 1000} s while this page is open.`),
    errorBox,
    state,
    h(
      'table.destinations',
      { 'aria-label': 'Destinations' },
      h('thead', {}, h('tr', {}, ['Name', 'Kind', 'State', 'Lag', 'Delivered', 'Retrying', 'Failed', 'Dead letters', 'Last error'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody,
    ),
    h('section', { 'aria-labelledby': 'h-new-destination' }, h('h2#h-new-destination', {}, 'New webhook destination'), form, created),
  );
  const load = async () => {
    const rows = await destinationsWithStatus();
    tbody.replaceChildren(
      ...rows.map(({ d, status }) =>
        h(
          'tr',
          { 'data-id': d.id, 'data-state': status.state },
          h('td', {}, h('a', { href: `#/destinations/${encodeURIComponent(d.id)}` }, d.name), h('div.key', {}, d.settings.url ?? '')),
          h('td', {}, d.kind),
          h('td', {}, stateCell(status), d.enabled ? '' : h('span.badge', {}, ' disabled')),
          h('td', {}, lagText(status)),
          h('td.num.delivered', {}, num(status.delivered)),
          h('td.num', {}, num(status.retrying)),
          h('td.num', {}, num(status.failed)),
          h('td.num', {}, num(status.deadLetters)),
          h('td.last-error', { title: status.lastError?.at ?? '' }, status.lastError === null ? '—' : `${status.lastError.message} (${ago(status.lastError.at)})`),
        ),
      ),
    );
    state.textContent = rows.length === 0 ? 'No destinations yet: create one below.' : '';
    state.hidden = rows.length > 0;
    view.dataset.ready = 'true';
  };
  const refresh = poll(load, errorBox);
  return refresh.stop;
}

/** One destination: its status (resume when paused), connections, and dead letters with replay. */
async function destinationPage(view, id) {
  const d = (await api(destinationPath(id))).data.destination;
  const errorBox = h('div');
  const facts = h('dl#destination-status.facts');
  const actions = h('div.actions');
  const connections = h('tbody');
  const letters = h('tbody');
  const lettersInfo = h('p#dead-letter-count', { 'aria-live': 'polite' });
  const settings = Object.entries(d.settings).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ');
  view.append(
    h('h1', {}, d.name, h('small', {}, ` ${d.kind} destination`)),
    h('p.muted', {}, settings, d.hasSecret ? ' (a secret is set; it is never shown)' : ''),
    errorBox,
    actions,
    facts,
    h(
      'section',
      { 'aria-labelledby': 'h-connections' },
      h('h2#h-connections', {}, 'Connections'),
      h('table.connections', {}, h('thead', {}, h('tr', {}, ['Audience or trait', 'Sends', 'Backfill', 'Connected'].map((t) => h('th', { scope: 'col' }, t)))), connections),
    ),
    h(
      'section',
      { 'aria-labelledby': 'h-dead-letters' },
      h('h2#h-dead-letters', {}, 'Dead letters'),
      lettersInfo,
      h('table.dead-letters', {}, h('thead', {}, h('tr', {}, ['#', 'Error', 'Attempts', 'Messages', 'At', ''].map((t) => h('th', { scope: 'col' }, t)))), letters),
    ),
  );
  const act = async (label, call) => {
    try {
      await call();
      await load();
    } catch (error) {
      errorBox.replaceChildren(notice(`${label}: ${error.message}`, 'error'));
    }
  };
  const replay = (ids) => act('Replay', () => api(destinationPath(id, '/dead-letters/replay'), { method: 'POST', body: ids === undefined ? {} : { ids } }));
  const load = async () => {
    const [status, conns, dead] = await Promise.all([
      destinationStatus(id),
      api(destinationPath(id, '/connections')),
      api(destinationPath(id, '/dead-letters?limit=50')),
    ]);
    view.dataset.state = status.state;
    facts.replaceChildren(
      h('dt', {}, 'State'), h('dd', {}, stateCell(status)),
      h('dt', {}, 'Lag'), h('dd', {}, lagText(status)),
      h('dt', {}, 'Delivered'), h('dd#delivered', {}, num(status.delivered)),
      h('dt', {}, 'Retrying'), h('dd', {}, num(status.retrying)),
      h('dt', {}, 'Failed'), h('dd', {}, num(status.failed)),
      h('dt', {}, 'Requests'), h('dd', {}, num(status.requests)),
      h('dt', {}, 'Last error'), h('dd', {}, status.lastError === null ? '—' : `${status.lastError.message} (${ago(status.lastError.at)})`),
      h('dt', {}, 'Last delivery'), h('dd', {}, ago(status.lastAdvancedAt)),
    );
    actions.replaceChildren(
      ...(status.state === 'paused' ? [h('button', { type: 'button', onclick: () => act('Resume', () => api(destinationPath(id, '/resume'), { method: 'POST' })) }, 'Resume')] : []),
      ...(dead.data.total > 0 ? [h('button', { type: 'button', onclick: () => replay(undefined) }, `Replay all ${num(dead.data.total)} dead letters`)] : []),
    );
    connections.replaceChildren(
      ...(conns.data.connections.length === 0
        ? [h('tr', {}, h('td', { colspan: '4' }, 'Not connected: connect it from an audience or computed trait page.'))]
        : conns.data.connections.map((c) =>
            h(
              'tr',
              { 'data-definition': c.definitionId },
              h('td', {}, h('a', { href: definitionLink(c.definitionId) }, c.definitionId)),
              h('td', {}, ['identify', 'track', 'group'].filter((k) => c[k]).join(', ') || 'list'),
              h('td', {}, c.backfillState === null ? (c.backfill ? 'waiting' : 'none') : c.backfillState.done ? 'done' : 'running'),
              h('td', {}, ago(c.createdAt)),
            ),
          )),
    );
    lettersInfo.textContent = dead.data.total === 0 ? 'None: every batch was delivered or is still being tried.' : `${num(dead.data.total)} batches failed their last attempt${dead.data.total > 50 ? ' (the oldest 50 shown)' : ''}.`;
    letters.replaceChildren(
      ...dead.data.deadLetters.map((l) =>
        h(
          'tr',
          { 'data-id': String(l.id) },
          h('td', {}, String(l.id)),
          h('td', {}, l.error),
          h('td.num', {}, num(l.attempts)),
          h('td.num', {}, num(l.messages.length)),
          h('td', { title: l.at }, ago(l.at)),
          h('td', {}, h('button', { type: 'button', 'aria-label': `Replay dead letter ${l.id}`, onclick: () => replay([l.id]) }, 'Replay')),
        ),
      ),
    );
    view.dataset.ready = 'true';
  };
  const refresh = poll(load, errorBox);
  await refresh.first;
  return refresh.stop;
}
