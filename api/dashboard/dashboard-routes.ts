/**
 * The web dashboard at `/`: sign-in (a space's management or access token → an HttpOnly,
 * SameSite=Strict session cookie), the space switch, the page shell and its static files, and the
 * session's door to the JSON APIs (`/ui/api/…`, CSRF token required on every state-changing
 * request) and to live updates (`/ui/live`, server-sent events).
 */
import type { Context, Hono } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import type { SpaceDirectory } from '../../engine/index.ts';
import { proxyTarget } from './dashboard-proxy.ts';
import { loadStaticAssets } from './static-assets.ts';
import { streamLive } from './dashboard-live.ts';
import { shellPage, signInPage } from './pages.ts';
import { newSecret, sameSecret, SESSION_COOKIE, SESSION_IDLE_MS, SessionStore, type Session, type SpaceAccess } from './sessions.ts';

export interface DashboardDeps {
  readonly spaces: SpaceDirectory;
  readonly clock: () => number;
  /** the app itself: the dashboard reads and writes through the same routes as any API client. */
  readonly fetch: (request: Request) => Response | Promise<Response>;
}

const SIGN_IN_COOKIE = 'flock_sign_in';
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};
const INTERNAL_ORIGIN = 'http://flock.internal';

export function dashboardRoutes(app: Hono, deps: DashboardDeps): void {
  const sessions = new SessionStore(deps.clock);
  const assets = loadStaticAssets();
  const secure = (c: Context) => new URL(c.req.url).protocol === 'https:';
  const sessionOf = (c: Context): Session | undefined => sessions.get(getCookie(c, SESSION_COOKIE));
  const setSession = (c: Context, session: Session) =>
    setCookie(c, SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'Strict', path: '/', secure: secure(c), maxAge: SESSION_IDLE_MS / 1000 });
  const html = (c: Context, body: string, status: 200 | 401 | 403 = 200) => c.html(body, status, SECURITY_HEADERS);
  const signInForm = (c: Context, error?: string, status: 200 | 401 | 403 = 200) => {
    const session = sessionOf(c);
    let csrf = session?.csrf;
    if (csrf === undefined) {
      csrf = newSecret();
      setCookie(c, SIGN_IN_COOKIE, csrf, { httpOnly: true, sameSite: 'Strict', path: '/ui/sign-in', secure: secure(c), maxAge: 3600 });
    }
    return html(c, signInPage({ csrf, error, adding: session !== undefined }, assets), status);
  };
  /** The form's fields, or undefined when its CSRF token is not the session's (or the sign-in form's). */
  const checkedForm = async (c: Context, session: Session | undefined, alsoSignIn = false): Promise<Record<string, string> | undefined> => {
    const form = await c.req.parseBody().catch(() => undefined);
    if (form === undefined) return undefined;
    const fields = Object.fromEntries(Object.entries(form).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const csrf = fields['csrf'];
    const ok = sameSecret(csrf, session?.csrf) || (alsoSignIn && sameSecret(csrf, getCookie(c, SIGN_IN_COOKIE)));
    return ok ? fields : undefined;
  };

  app.get('/', (c) => {
    const session = sessionOf(c);
    return session === undefined ? signInForm(c) : html(c, shellPage(session, assets));
  });
  app.get('/ui/sign-in', (c) => signInForm(c));

  app.post('/ui/sign-in', async (c) => {
    const previous = sessionOf(c);
    const form = await checkedForm(c, previous, true);
    if (form === undefined) return signInForm(c, 'The form expired: sign in again.', 403);
    const token = (form['token'] ?? '').trim();
    const extra = (form['access_token'] ?? '').trim();
    const management = token === '' ? null : ((await deps.spaces.byManagementToken?.(token)) ?? null);
    const access = management !== null || token === '' ? null : ((await deps.spaces.byAccessToken?.(token)) ?? null);
    const grant = management ?? access;
    if (grant === null) return signInForm(c, 'That token is not a management or access token of any space.', 401);
    let accessToken = access === null ? undefined : token;
    if (extra !== '') {
      const extraGrant = (await deps.spaces.byAccessToken?.(extra)) ?? null;
      if (extraGrant === null || extraGrant.space.id !== grant.space.id) return signInForm(c, 'The access token is not an access token of the same space.', 401);
      accessToken = extra;
    }
    const entry: SpaceAccess = { spaceId: grant.space.id, name: grant.space.name, managementToken: management === null ? undefined : token, accessToken };
    const session = sessions.signIn(previous, entry);
    setSession(c, session);
    deleteCookie(c, SIGN_IN_COOKIE, { path: '/ui/sign-in' });
    return c.redirect(entry.managementToken === undefined ? '/#/profile' : '/', 303);
  });

  app.post('/ui/switch', async (c) => {
    const session = sessionOf(c);
    if (session === undefined) return c.redirect('/', 303);
    const form = await checkedForm(c, session);
    if (form === undefined) return c.text('invalid CSRF token', 403, SECURITY_HEADERS);
    const switched = sessions.switchTo(session, form['space'] ?? '');
    if (switched === undefined) return c.text('this session holds no such space', 403, SECURITY_HEADERS);
    return c.redirect(switched.spaces.get(switched.current)?.managementToken === undefined ? '/#/profile' : '/', 303);
  });

  app.post('/ui/sign-out', async (c) => {
    const session = sessionOf(c);
    if (session !== undefined) {
      if ((await checkedForm(c, session)) === undefined) return c.text('invalid CSRF token', 403, SECURITY_HEADERS);
      sessions.end(session);
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/', 303);
  });

  /** A JSON route of the session's space, read with its credential: what the live stream sends. */
  const readJson = (session: Session) => async (path: string) => {
    // (ends with the session, and when it switched to another space)
    const now = sessions.get(session.id);
    if (now === undefined || now.current !== session.current) return undefined;
    const target = proxyTarget(now, path.split('?')[0]!);
    if (!target.ok) return undefined;
    const res = await deps.fetch(new Request(`${INTERNAL_ORIGIN}${path}`, { headers: { authorization: target.authorization, accept: 'application/json' } }));
    if (res.status === 401) return undefined;
    return res.ok ? ((await res.json()) as Record<string, any>) : {};
  };

  app.all('/ui/api/*', async (c) => {
    const session = sessionOf(c);
    if (session === undefined) return c.json({ errors: [{ type: 'unauthorized', message: 'sign in first' }] }, 401, SECURITY_HEADERS);
    const method = c.req.method;
    if (method !== 'GET' && method !== 'HEAD' && !sameSecret(c.req.header('x-csrf-token'), session.csrf)) {
      return c.json({ errors: [{ type: 'csrf', message: 'missing or invalid X-CSRF-Token' }] }, 403, SECURITY_HEADERS);
    }
    const url = new URL(c.req.url);
    const path = url.pathname.slice('/ui/api'.length);
    const target = proxyTarget(session, path);
    if (!target.ok) return c.json({ errors: [{ type: target.status === 403 ? 'forbidden' : 'not-found', message: target.message }] }, target.status, SECURITY_HEADERS);
    const headers: Record<string, string> = { authorization: target.authorization };
    for (const name of ['content-type', 'accept', 'accept-encoding']) {
      const value = c.req.header(name);
      if (value !== undefined) headers[name] = value;
    }
    const body = method === 'GET' || method === 'HEAD' ? undefined : await c.req.arrayBuffer();
    const res = await deps.fetch(new Request(`${INTERNAL_ORIGIN}${target.path}${url.search}`, { method, headers, ...(body === undefined ? {} : { body }) }));
    const out = new Response(res.body, res);
    out.headers.set('Cache-Control', 'no-store');
    out.headers.set('X-Content-Type-Options', 'nosniff');
    return out;
  });

  app.get('/ui/live', (c) => {
    const session = sessionOf(c);
    if (session === undefined) return c.json({ errors: [{ type: 'unauthorized', message: 'sign in first' }] }, 401);
    if (session.spaces.get(session.current)?.managementToken === undefined) return c.json({ errors: [{ type: 'forbidden', message: 'live updates need a management token' }] }, 403);
    const kind = c.req.query('kind');
    const id = c.req.query('id');
    const focus = (kind === 'audiences' || kind === 'computed-traits') && id !== undefined && /^[A-Za-z0-9_-]{1,500}$/.test(id) ? { kind, id } : undefined;
    c.header('Cache-Control', 'no-store');
    return streamSSE(c, (stream) => streamLive(stream, readJson(session), session.current, focus));
  });

  app.get('/ui/assets/:version/:file', (c) => {
    const file = assets.files.get(c.req.param('file'));
    if (file === undefined) return c.notFound();
    // (a page of an older version gets today's file, not kept)
    const cache = c.req.param('version') === assets.version ? 'public, max-age=31536000, immutable' : 'no-cache';
    return c.body(file.text, 200, { 'Content-Type': file.type, 'Cache-Control': cache, 'X-Content-Type-Options': 'nosniff' });
  });
  app.get('/ui/vendor/:file', (c) => {
    const vendor = assets.vendor.get(c.req.param('file'));
    if (vendor === undefined) return c.notFound();
    return c.body(vendor.text, 200, { 'Content-Type': vendor.type, 'Cache-Control': 'public, max-age=86400', 'X-Content-Type-Options': 'nosniff' });
  });
}
