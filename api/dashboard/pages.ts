/** The dashboard's two server-rendered pages: the sign-in form and the shell the browser app runs in (its session's spaces, CSRF token and navigation). */
import type { StaticAssets } from './static-assets.ts';
import type { Session } from './sessions.ts';

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

const head = (title: string, assets: StaticAssets): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Flock</title>
<link rel="stylesheet" href="/ui/assets/${assets.version}/style.css">`;

/** The sign-in form; `csrf` is the pre-session token (or the session's, when adding a space). */
export function signInPage(options: { csrf: string; error?: string | undefined; adding: boolean }, assets: StaticAssets): string {
  return `${head('Sign in', assets)}
</head>
<body class="sign-in">
<main>
<h1>Flock</h1>
<form method="post" action="/ui/sign-in" aria-describedby="sign-in-help">
  <input type="hidden" name="csrf" value="${escape(options.csrf)}">
  <p id="sign-in-help">${options.adding ? 'Add a space: it becomes a switch in the header; each space shows only its own data.' : 'Sign in with a space’s management token. An access token alone gives a read-only view of profiles.'}</p>
  ${options.error === undefined ? '' : `<p class="error" role="alert">${escape(options.error)}</p>`}
  <label for="token">Management or access token</label>
  <input id="token" name="token" type="password" autocomplete="off" required autofocus>
  <label for="access_token">Access token, for profiles (optional)</label>
  <input id="access_token" name="access_token" type="password" autocomplete="off">
  <button type="submit">Sign in</button>
  ${options.adding ? '<p><a href="/">Back</a></p>' : ''}
</form>
</main>
</body>
</html>`;
}

/** The shell: header (space switch, add a space, sign out), navigation, and the view the browser app fills. */
export function shellPage(session: Session, assets: StaticAssets): string {
  const current = session.spaces.get(session.current)!;
  const options = [...session.spaces.values()]
    .map((s) => `<option value="${escape(s.spaceId)}"${s.spaceId === session.current ? ' selected' : ''}>${escape(s.name)} (${escape(s.spaceId)})</option>`)
    .join('');
  const manage = current.managementToken !== undefined;
  // every module fetched at once (no import waterfall); uPlot is loaded by the first chart
  const preload = assets.modules.map((m) => `<link rel="modulepreload" href="/ui/assets/${assets.version}/${m}">`).join('\n');
  return `${head(current.name, assets)}
<meta name="flock-csrf" content="${escape(session.csrf)}">
<meta name="flock-space" content="${escape(current.spaceId)}">
<meta name="flock-manage" content="${manage}">
<meta name="flock-profiles" content="${current.accessToken !== undefined}">
${preload}
<script type="module" src="/ui/assets/${assets.version}/app.js"></script>
</head>
<body>
<header>
  <a class="brand" href="#/">Flock</a>
  <nav aria-label="Pages">
    ${manage ? '<a href="#/">Overview</a><a href="#/builder">New definition</a><a href="#/destinations">Destinations</a>' : ''}
    <a href="#/profile">Profiles</a>
    <a href="#/system">System</a>
  </nav>
  <form method="post" action="/ui/switch" class="switch">
    <input type="hidden" name="csrf" value="${escape(session.csrf)}">
    <label for="space-switch">Space</label>
    <select id="space-switch" name="space">${options}</select>
    <button type="submit">Switch</button>
  </form>
  <a href="/ui/sign-in">Add a space</a>
  <form method="post" action="/ui/sign-out">
    <input type="hidden" name="csrf" value="${escape(session.csrf)}">
    <button type="submit">Sign out</button>
  </form>
</header>
<main id="view" tabindex="-1" aria-live="polite"></main>
</body>
</html>`;
}
