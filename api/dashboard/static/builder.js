/**
 * Builder: the query editor (highlighted, with the parser's diagnostics inline at their line and
 * column as you type), the JSON form beside it, a preview (size, sample, and for an edit who would
 * enter and exit) before saving, and create / edit (a new version) / disable / delete.
 */
import { api, ApiError, h, notice, num, spacePath } from './lib.js';
import { highlight } from './highlight.js';

const INTERVALS = ['15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function builder(view, editKind, editId) {
  const editing = editId !== undefined;
  const existing = editing ? (await api(spacePath(`/${editKind}/${encodeURIComponent(editId)}`))).data[editKind === 'audiences' ? 'audience' : 'computedTrait'] : undefined;
  let alive = true;

  const field = (id, label, control, help) => h('div.field', {}, h('label', { for: id }, label), control, help ? h('small', { id: `${id}-help` }, help) : '');
  const kind = h('select', { id: 'def-kind', disabled: editing }, h('option', { value: 'audiences' }, 'Audience'), h('option', { value: 'computed-traits' }, 'Computed trait'));
  kind.value = editKind ?? 'audiences';
  const name = h('input', { id: 'def-name', required: true, value: existing?.name ?? '' });
  const key = h('input', { id: 'def-key', pattern: '[a-z0-9_]{1,120}', disabled: editing, value: existing?.key ?? '', 'aria-describedby': 'def-key-help' });
  const target = h('select', { id: 'def-type', disabled: editing }, h('option', { value: 'USERS' }, 'users'), h('option', { value: 'ACCOUNTS' }, 'accounts'));
  target.value = existing?.definition.type ?? 'USERS';
  const historical = h('input', { id: 'def-historical', type: 'checkbox', checked: existing?.options.includeHistoricalData ?? true });
  const cadence = h('select', { id: 'def-cadence' }, h('option', { value: 'REALTIME' }, 'real-time'), INTERVALS.map((i) => h('option', { value: i }, `batch, every ${i}`)));
  cadence.value = existing?.computeCadence.type === 'BATCH' ? existing.computeCadence.interval ?? '1d' : 'REALTIME';

  const query = h('textarea', {
    id: 'def-query',
    spellcheck: 'false',
    autocomplete: 'off',
    rows: '8',
    'aria-describedby': 'diagnostics',
    value: existing?.definition.query ?? '',
  });
  const overlay = h('pre.highlight', { 'aria-hidden': 'true' });
  const diagnostics = h('ul.diagnostics', { id: 'diagnostics', 'aria-live': 'polite', 'aria-label': 'Diagnostics' });
  const jsonForm = h('pre.json-form', { id: 'json-form', tabindex: '0', 'aria-label': 'JSON form of the query' });
  const result = h('section.preview', { 'aria-live': 'polite', 'aria-label': 'Preview' });
  const message = h('div.message', { 'aria-live': 'assertive' });

  const previewButton = h('button', { type: 'button', id: 'preview' }, 'Preview');
  const saveButton = h('button', { type: 'submit', id: 'save' }, editing ? 'Save new version' : 'Create');
  const form = h(
    'form.builder',
    { 'aria-label': editing ? `Edit ${existing.name}` : 'New definition' },
    h('div.fields', {}, [
      field('def-kind', 'Kind', kind),
      field('def-name', 'Name', name),
      field('def-key', 'Key', key, 'lowercase, digits, “_”; default: from the name'),
      field('def-type', 'Profiles', target),
      h('div.field.check', {}, historical, h('label', { for: 'def-historical' }, 'Include historical data (backfill)')),
      field('def-cadence', 'Compute', cadence),
    ]),
    h(
      'div.editor-pair',
      {},
      h('div', {}, h('label', { for: 'def-query' }, 'Query'), h('div.editor', {}, overlay, query), diagnostics),
      h('div', {}, h('h2', {}, 'JSON form'), jsonForm),
    ),
    h('div.actions', {}, previewButton, saveButton),
    message,
    result,
  );
  view.append(h('h1', {}, editing ? `Edit ${existing.name}` : 'New definition'), form);

  if (editing) {
    const toggle = h('button', { type: 'button', id: 'toggle-enabled' }, existing.enabled ? 'Disable' : 'Enable');
    const remove = h('button.danger', { type: 'button', id: 'delete' }, 'Delete');
    toggle.addEventListener('click', async () => {
      try {
        await api(spacePath(`/${editKind}/${encodeURIComponent(editId)}`), { method: 'PATCH', body: { enabled: !existing.enabled } });
        location.hash = `#/definitions/${editKind}/${encodeURIComponent(editId)}`;
      } catch (error) {
        message.replaceChildren(notice(error.message, 'error'));
      }
    });
    remove.addEventListener('click', async () => {
      if (!confirm(`Delete ${existing.name}? Its key stays reserved.`)) return;
      try {
        await api(spacePath(`/${editKind}/${encodeURIComponent(editId)}`), { method: 'DELETE' });
        location.hash = '#/';
      } catch (error) {
        message.replaceChildren(notice(error.message, 'error'));
      }
    });
    form.querySelector('.actions').append(toggle, remove);
  }

  // as you type: the parser's diagnostics at their line and column, and the JSON form
  let current = [];
  let asked = 0;
  const paint = () => {
    overlay.replaceChildren(...highlight(query.value, current));
    overlay.scrollTop = query.scrollTop;
    overlay.scrollLeft = query.scrollLeft;
  };
  const showDiagnostics = (list) => {
    current = list;
    query.setAttribute('aria-invalid', String(list.length > 0));
    diagnostics.replaceChildren(
      ...list.map((d) =>
        h(
          'li',
          { 'data-code': d.code },
          h('button.link', { type: 'button', onclick: () => goTo(d) }, `line ${d.line}, column ${d.column}`),
          `: ${d.message}`,
        ),
      ),
    );
    paint();
  };
  const goTo = (d) => {
    const lines = query.value.split('\n');
    const offset = lines.slice(0, d.line - 1).reduce((n, l) => n + l.length + 1, 0) + d.column - 1;
    query.focus();
    query.setSelectionRange(offset, offset + 1);
  };
  const validate = async () => {
    const mine = ++asked;
    if (query.value.trim() === '') {
      showDiagnostics([]);
      jsonForm.textContent = '';
      return;
    }
    try {
      const body = await api(spacePath(`/${kind.value}/validations`), {
        method: 'POST',
        body: { definition: { query: query.value, type: target.value }, ...(key.value ? { key: key.value } : {}) },
      });
      if (mine !== asked || !alive) return;
      showDiagnostics(body.data.diagnostics);
      jsonForm.textContent = body.data.json === null ? '(fix the diagnostics to see the JSON form)' : JSON.stringify(body.data.json, null, 2);
    } catch (error) {
      if (mine === asked) message.replaceChildren(notice(error.message, 'error'));
    }
  };
  let timer;
  query.addEventListener('input', () => {
    paint();
    clearTimeout(timer);
    timer = setTimeout(validate, 120);
  });
  query.addEventListener('scroll', paint);
  for (const control of [kind, target]) control.addEventListener('change', validate);
  paint();
  if (query.value !== '') void validate();

  const options = () => ({ includeHistoricalData: historical.checked });
  const computeCadence = () => (cadence.value === 'REALTIME' ? { type: 'REALTIME' } : { type: 'BATCH', interval: cadence.value });
  const failed = (error) => {
    if (error instanceof ApiError && error.status === 422) {
      showDiagnostics((error.body.errors ?? []).filter((e) => e.line !== undefined).map((e) => ({ code: e.code, message: e.message, line: e.line, column: e.column })));
    }
    message.replaceChildren(notice(error.message, 'error'));
  };

  previewButton.addEventListener('click', async () => {
    message.replaceChildren();
    result.replaceChildren(h('p', { role: 'status' }, 'Computing the preview over the event log…'));
    previewButton.disabled = true;
    try {
      const started = await api(spacePath(`/${kind.value}/previews`), {
        method: 'POST',
        body: { definition: { query: query.value, type: target.value }, options: options(), ...(editing ? { compareTo: editId } : {}) },
      });
      const which = kind.value === 'audiences' ? 'audiencePreview' : 'computedTraitPreview';
      let preview = started.data[which];
      while (preview.status === 'RUNNING' && alive) {
        await sleep(250);
        preview = (await api(spacePath(`/${kind.value}/previews/${encodeURIComponent(preview.id)}`))).data[which];
      }
      if (preview.status === 'FAILED') throw new Error(`the preview failed: ${preview.failureReason ?? 'unknown reason'}`);
      result.replaceChildren(
        h('h2', {}, 'Preview'),
        h('p', { id: 'preview-size' }, `Size: ${num(preview.size?.count)}`),
        preview.difference
          ? h('p', { id: 'preview-difference' }, `Against the live version: ${num(preview.difference.enter)} would enter, ${num(preview.difference.exit)} would exit, ${num(preview.difference.changed)} would change.`)
          : '',
        h('h3', {}, 'Sample'),
        (preview.results ?? []).length === 0
          ? h('p', {}, 'no profiles')
          : h('ul.sample', {}, (preview.results ?? []).slice(0, 20).map((r) => h('li', {}, r.id, r.value === undefined ? '' : ` = ${JSON.stringify(r.value)}`))),
      );
    } catch (error) {
      result.replaceChildren();
      failed(error);
    } finally {
      previewButton.disabled = false;
    }
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.replaceChildren();
    saveButton.disabled = true;
    try {
      const path = editing ? spacePath(`/${editKind}/${encodeURIComponent(editId)}`) : spacePath(`/${kind.value}`);
      const body = editing
        ? {
            name: name.value,
            ...(query.value !== existing.definition.query ? { definition: { query: query.value } } : {}),
            ...(historical.checked !== existing.options.includeHistoricalData ? { options: options() } : {}),
            ...(JSON.stringify(computeCadence()) !== JSON.stringify(existing.computeCadence) ? { computeCadence: computeCadence() } : {}),
          }
        : { name: name.value, ...(key.value ? { key: key.value } : {}), definition: { query: query.value, type: target.value }, options: options(), computeCadence: computeCadence() };
      const saved = await api(path, { method: editing ? 'PATCH' : 'POST', body });
      const record = saved.data[kind.value === 'audiences' ? 'audience' : 'computedTrait'];
      location.hash = `#/definitions/${kind.value}/${encodeURIComponent(record.id)}`;
    } catch (error) {
      failed(error);
    } finally {
      saveButton.disabled = false;
    }
  });
  return () => {
    alive = false;
    clearTimeout(timer);
  };
}
