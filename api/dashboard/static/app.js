/** The dashboard app: a hash router that renders one view at a time into `#view` and stops the previous one's live updates. */
import { CAN_MANAGE, notice } from './lib.js';
import { overview } from './overview.js';
import { builder } from './builder.js';
import { definitionPage } from './definition.js';
import { profilePage } from './profile.js';
import { systemPage } from './system.js';
import { destinationsPage } from './destinations.js';

const view = document.getElementById('view');
let stop = () => {};

const routes = [
  [/^#?\/?$/, () => (CAN_MANAGE ? overview : profilePage)],
  [/^#\/builder$/, () => builder],
  [/^#\/builder\/(audiences|computed-traits)\/([^/]+)$/, () => builder],
  [/^#\/definitions\/(audiences|computed-traits)\/([^/]+)$/, () => definitionPage],
  [/^#\/profile(?:\/(.+))?$/, () => profilePage],
  [/^#\/system$/, () => systemPage],
  [/^#\/destinations(?:\/([^/]+))?$/, () => destinationsPage],
];

async function render(event) {
  stop();
  stop = () => {};
  view.replaceChildren();
  const hash = location.hash || '#/';
  for (const [pattern, page] of routes) {
    const match = pattern.exec(hash);
    if (match === null) continue;
    const params = match.slice(1).map((p) => (p === undefined ? undefined : decodeURIComponent(p)));
    try {
      const cleanup = await page()(view, ...params);
      if (typeof cleanup === 'function') stop = cleanup;
    } catch (error) {
      view.append(notice(String(error.message ?? error), 'error'));
    }
    for (const link of document.querySelectorAll('header nav a')) {
      if (link.getAttribute('href') === hash) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    // a new page: keyboard and screen-reader focus moves to it (not on the first load)
    if (event !== undefined) view.focus({ preventScroll: true });
    return;
  }
  view.append(notice('No such page.', 'error'));
}

window.addEventListener('hashchange', render);
render();
