// The dashboard's addresses: `#/overview` (also the empty hash), `#/accounts`,
// `#/accounts/<id>`, `#/lists/<segment>`, `#/referrals`, `#/surveys`, `#/team`, `#/audit`.
// The router reads the hash into a route, shows that view's section (one at a time), marks the nav link
// of the current view with aria-current, then moves focus to the view's heading and says its
// name in the live region, so a keyboard or screen-reader user knows where they are. The back
// button works because every view change is a hash change.
import { $, announce } from './dom.js';
import { SEGMENTS } from './format.js';

/// `#/accounts/acme` → `{ view: 'account', param: 'acme' }`; null for an address that is no
/// view.
export function parse(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').map((p) => decodeURIComponent(p));
  const [first, second, ...rest] = parts;
  if (rest.length) {
    return null;
  }
  if (!first && second === undefined) {
    return { view: 'overview' };
  }
  if (first === 'accounts' && second) {
    return { view: 'account', param: second };
  }
  if (first === 'lists') {
    return SEGMENTS.includes(second) ? { view: 'lists', param: second } : null;
  }
  if (second !== undefined) {
    return null;
  }
  return ['overview', 'accounts', 'referrals', 'surveys', 'team', 'audit'].includes(first) ? { view: first } : null;
}

/// The address of a view (what `parse` reads).
export function address(view, param) {
  if (view === 'account') {
    return `#/accounts/${encodeURIComponent(param)}`;
  }
  return param ? `#/${view}/${encodeURIComponent(param)}` : `#/${view}`;
}

/// Which nav link a view belongs to (an account's page is under Accounts).
const NAV_OF = { account: 'accounts' };

/// The router the page started, for `refresh()`.
let active = null;

/// Shows the current view again (after a filter changed), leaving focus where it is.
export function refresh() {
  return active?.render({ quiet: true });
}

export class Router {
  /// `views`: name → `{ show(param, visit) }`; `show` fills its section and may return
  /// `{ focus, message }`: an element to focus instead of the heading, a sentence to say
  /// instead of its name. `onError(error)` handles what a view threw; when it returns true
  /// (the token was refused) the view is not shown.
  constructor(views, onError) {
    this.views = views;
    this.onError = onError;
    this.visits = 0;
    active = this;
  }

  /// Shows the view the address names (an unknown address is replaced by the overview);
  /// `quiet`: the same view again, so focus stays and nothing is announced.
  async render({ quiet = false } = {}) {
    const route = parse(location.hash);
    if (!route) {
      history.replaceState(null, '', '#/overview');
      return this.render();
    }
    const visit = ++this.visits;
    // A later hash change wins: a view asks `current()` before it draws what it fetched.
    const current = () => visit === this.visits;
    const section = document.querySelector(`.view[data-view="${route.view}"]`);
    const nav = NAV_OF[route.view] || route.view;
    for (const link of document.querySelectorAll('#nav a[data-route]')) {
      if (link.dataset.route === nav) {
        link.setAttribute('aria-current', 'page');
      } else {
        link.removeAttribute('aria-current');
      }
    }
    $('view-error').textContent = '';
    let shown = null;
    try {
      shown = await this.views[route.view].show(route.param, { current });
    } catch (e) {
      if (!current() || this.onError(e)) {
        return;
      }
      $('view-error').textContent = `Could not show this view: ${e.message}`;
    }
    if (!current()) {
      return;
    }
    for (const other of document.querySelectorAll('.view')) {
      other.hidden = other !== section;
    }
    const heading = section.querySelector('h2');
    document.title = `${heading.textContent} – NPS dashboard`;
    if (quiet && !shown) {
      return;
    }
    (shown?.focus || heading).focus();
    announce(shown?.message || heading.textContent);
  }
}
