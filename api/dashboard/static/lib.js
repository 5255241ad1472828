/** Shared browser helpers: the session's space and CSRF token, JSON calls through `/ui/api`, element building and formatting. */

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
export const SPACE = meta('flock-space');
export const CSRF = meta('flock-csrf');
export const CAN_MANAGE = meta('flock-manage') === 'true';
export const CAN_PROFILES = meta('flock-profiles') === 'true';

/** An API error: the status and the first message the route gave. */
export class ApiError extends Error {
  constructor(status, body) {
    const first = body?.errors?.[0] ?? body?.error ?? {};
    super(first.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** Calls a JSON route of the current space through the session (`path` starts with `/spaces/…` or `/v1/…`). */
export async function api(path, options = {}) {
  const init = { method: options.method ?? 'GET', headers: { accept: 'application/json' }, credentials: 'same-origin' };
  if (init.method !== 'GET') init.headers['x-csrf-token'] = CSRF;
  if (options.body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  const res = await fetch(`/ui/api${path}`, init);
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) location.assign('/');
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

export const spacePath = (rest) => `/spaces/${encodeURIComponent(SPACE)}${rest}`;
export const profilePath = (identifier, rest) => `/v1/spaces/${encodeURIComponent(SPACE)}/collections/users/profiles/${encodeURIComponent(identifier).replaceAll('%3A', ':')}${rest}`;

/** `h('tag.class', {attrs}, ...children)`: an element; strings become text (never HTML). */
export function h(spec, attrs = {}, ...children) {
  const [, tag, id, classes] = /^([a-z0-9]*)(?:#([\w-]+))?((?:\.[\w-]+)*)$/.exec(spec) ?? [];
  const el = document.createElement(tag || 'div');
  if (id) el.id = id;
  if (classes) el.className = classes.slice(1).replaceAll('.', ' ');
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'value') el.value = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null && child !== false) el.append(child instanceof Node ? child : String(child));
  return el;
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
export const ago = (iso) => {
  if (!iso) return '—';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
};
export const num = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString());
export const cadence = (c) => (c?.type === 'BATCH' ? `batch ${c.interval ?? ''}`.trim() : 'real-time');
export const kindNoun = (kind) => (kind === 'audiences' ? 'audience' : 'computed trait');

/** The status cell: text, and while a version computes a progress bar with its ETA. */
export function statusCell(d) {
  const cell = h('span.status', { 'data-status': d.status }, d.status);
  if (d.progress !== null && d.progress !== undefined && d.status !== 'Live') {
    const pct = Math.round(d.progress * 100);
    cell.append(
      ' ',
      h('progress', { max: '100', value: String(pct), 'aria-label': `${d.name ?? d.key} backfill ${pct}%` }),
      h('span.eta', {}, ` ${pct}%${d.eta ? `, ETA ${new Date(d.eta).toLocaleTimeString()}` : ''}`),
    );
  }
  return cell;
}

/** A message in the view (errors get role=alert). */
export function notice(text, kind = 'info') {
  return h(`p.notice.${kind}`, kind === 'error' ? { role: 'alert' } : {}, text);
}
