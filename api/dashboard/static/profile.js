/** Profile page: look a profile up by any identifier; its traits, audiences, computed traits, external ids, events, membership timeline, and the explanation of any membership at any instant. */
import { api, CAN_PROFILES, h, notice, profilePath, when } from './lib.js';

export async function profilePage(view, identifier) {
  const input = h('input', { id: 'identifier', required: true, placeholder: 'user_id:alice, email:a@example.com or use_…', value: identifier ?? '' });
  const form = h(
    'form.lookup',
    { role: 'search', onsubmit: (e) => ((e.preventDefault(), (location.hash = `#/profile/${encodeURIComponent(input.value.trim())}`))) },
    h('label', { for: 'identifier' }, 'Identifier'),
    input,
    h('button', { type: 'submit' }, 'Look up'),
  );
  view.append(h('h1', {}, 'Profiles'), form);
  if (!CAN_PROFILES) {
    view.append(notice('Profiles need an access token of this space: use “Add a space” and give the space’s access token.', 'error'));
    return;
  }
  if (identifier === undefined || identifier === '') return;
  const path = (rest) => profilePath(identifier, rest);
  const body = h('div.profile');
  view.append(body);
  let traits;
  try {
    traits = (await api(path('/traits?limit=200'))).traits;
  } catch (error) {
    body.append(notice(error.status === 404 ? `No profile ${identifier}.` : error.message, 'error'));
    return;
  }
  const section = (id, title, ...content) => h('section', { 'aria-labelledby': `h-${id}`, id }, h('h2', { id: `h-${id}` }, title), ...content);
  const table = (headers, rows) => h('table', {}, h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows));
  const later = (promise, render) => {
    const box = h('div', {}, 'Loading…');
    promise.then((v) => box.replaceChildren(render(v))).catch((error) => box.replaceChildren(notice(error.message, 'error')));
    return box;
  };

  const audiences = api(path('/as_of?class=audience'));
  const computed = api(path('/as_of?class=computed_trait'));
  const explainOut = h('div#explanation', { 'aria-live': 'polite' });
  const explain = async (key, at) => {
    explainOut.replaceChildren('Explaining…');
    try {
      const x = await api(path(`/explain/${encodeURIComponent(key)}${at ? `?at=${encodeURIComponent(at)}` : ''}`));
      explainOut.replaceChildren(renderExplanation(x));
      explainOut.focus();
    } catch (error) {
      explainOut.replaceChildren(notice(error.message, 'error'));
    }
  };
  const explainKey = h('input', { id: 'explain-key', required: true, placeholder: 'audience or computed-trait key' });
  const explainAt = h('input', { id: 'explain-at', type: 'datetime-local', step: '1' });
  const explainForm = h(
    'form.explain',
    { onsubmit: (e) => (e.preventDefault(), explain(explainKey.value.trim(), explainAt.value ? new Date(explainAt.value).toISOString() : undefined)) },
    h('label', { for: 'explain-key' }, 'Key'), explainKey,
    h('label', { for: 'explain-at' }, 'At (empty: now)'), explainAt,
    h('button', { type: 'submit' }, 'Explain'),
  );
  explainOut.tabIndex = -1;

  body.append(
    h('h2.identifier', {}, identifier),
    h(
      'div.columns',
      {},
      section('audiences', 'Audiences', later(audiences, (v) => {
        const keys = Object.keys(v.traits).filter((k) => v.traits[k] === true);
        return keys.length === 0 ? h('p', {}, 'in no audience') : h('ul', {}, keys.map((k) => h('li', {}, k, ' ', h('button.link', { type: 'button', onclick: () => explain(k) }, 'why?'))));
      })),
      section('computed', 'Computed traits', later(computed, (v) => table(['Key', 'Value', ''], Object.entries(v.traits).map(([k, val]) => h('tr', {}, h('td', {}, k), h('td', {}, JSON.stringify(val)), h('td', {}, h('button.link', { type: 'button', onclick: () => explain(k) }, 'why?'))))))),
    ),
    section('traits', 'Traits', table(['Trait', 'Value'], Object.entries(traits).map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', {}, JSON.stringify(v)))))),
    section('external-ids', 'External ids', later(api(path('/external_ids?limit=100')), (v) => table(['Type', 'Id', 'First seen'], v.data.map((x) => h('tr', {}, h('td', {}, x.type), h('td', {}, x.id), h('td', {}, when(x.created_at))))))),
    section('timeline', 'Membership timeline', later(api(path('/timeline?limit=50')), (v) =>
      v.data.length === 0
        ? h('p', {}, 'no changes yet')
        : h('ol.timeline', {}, v.data.map((e) =>
            h('li', { 'data-kind': e.kind },
              h('time', { datetime: e.at }, when(e.at)), ' ',
              h('span.badge', { 'data-kind': e.kind }, e.kind), ' ', e.key,
              e.kind === 'trait' ? ` = ${JSON.stringify(e.value)}` : '', ' ',
              h('button.link', { type: 'button', onclick: () => explain(e.key, e.at) }, 'explain'),
            ))),
    )),
    section('explain', 'Explanation', explainForm, explainOut),
    section('events', 'Events (last 14 days)', later(api(path('/events?limit=20')), (v) =>
      v.data.length === 0 ? h('p', {}, 'no events') : table(['When', 'Type', 'Event', 'Properties'], v.data.map((e) =>
        h('tr', {}, h('td', {}, when(e.timestamp)), h('td', {}, e.type ?? ''), h('td', {}, e.event ?? ''), h('td', {}, h('code', {}, JSON.stringify(e.properties ?? e.traits ?? {}))))))),
    ),
  );
}

/** The explanation tree: each sub-condition with its value, the last change and the events behind it. */
function renderExplanation(x) {
  const node = (c) => {
    if (c.kind === 'comparison') return h('li', { 'data-result': String(c.result) }, h('code', {}, c.text), ` → ${c.result}`, c.summary ? h('span.muted', {}, ` (${c.summary})`) : '');
    const children = c.kind === 'not' ? [c.operand] : c.operands;
    return h('li', { 'data-result': String(c.result) }, `${c.kind.toUpperCase()} → ${c.result}`, h('ul', {}, children.map(node)));
  };
  return h(
    'div',
    {},
    h('p.summary', {}, h('strong', {}, x.key), ` at ${when(x.at)}: `, h('strong', {}, JSON.stringify(x.value)), x.summary ? ` — ${x.summary}` : ''),
    x.condition ? h('ul.tree', {}, node(x.condition)) : '',
    x.last_change ? h('p', {}, `Last change: ${x.last_change.kind} at ${when(x.last_change.at)}`) : h('p', {}, 'No change recorded before this instant.'),
    x.events.length > 0 ? h('details', {}, h('summary', {}, `${x.events.length} events behind it`), h('pre', {}, JSON.stringify(x.events, null, 2))) : '',
    x.consistent === false ? notice('The replay differs from what the engine recorded.', 'error') : '',
  );
}
