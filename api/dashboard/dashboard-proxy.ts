/**
 * Which JSON route a dashboard request may reach, with which credential: `/ui/api/<path>` forwards
 * to the management API (`/spaces/<space>/` audiences, computed-traits or destinations, the
 * session's management token) or the Profile API (`/v1/spaces/<space>/collections/…`, its access
 * token) — only for the space the session shows.
 */
import type { Session } from './sessions.ts';

export type ProxyTarget =
  | { readonly ok: true; readonly path: string; readonly authorization: string }
  | { readonly ok: false; readonly status: 403 | 404; readonly message: string };

const MANAGEMENT = /^\/spaces\/([A-Za-z0-9_-]{1,64})\/(?:audiences|computed-traits|destinations)(?:\/|$)/;
const PROFILES = /^\/v1\/spaces\/([A-Za-z0-9_-]{1,64})\/collections\/(?:users|accounts)\/profiles\//;

/** The route and credential for `path` (already normalized by URL parsing), or why not. */
export function proxyTarget(session: Session, path: string): ProxyTarget {
  const management = MANAGEMENT.exec(path);
  const profiles = management === null ? PROFILES.exec(path) : null;
  const space = management?.[1] ?? profiles?.[1];
  if (space === undefined) return { ok: false, status: 404, message: 'the dashboard reaches only the management and Profile APIs' };
  if (space !== session.current) return { ok: false, status: 403, message: `this page shows space "${session.current}": switch spaces to see another` };
  const access = session.spaces.get(space);
  if (management !== null) {
    if (access?.managementToken === undefined) return { ok: false, status: 403, message: 'sign in with a management token of this space to manage definitions' };
    return { ok: true, path, authorization: `Bearer ${access.managementToken}` };
  }
  if (access?.accessToken === undefined) return { ok: false, status: 403, message: 'sign in with an access token of this space to see profiles' };
  return { ok: true, path, authorization: `Basic ${Buffer.from(`${access.accessToken}:`).toString('base64')}` };
}
