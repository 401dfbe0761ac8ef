// The collector's dashboard, a work queue for closing the loop, in views with addresses (see
// router.js). It asks for the teammate's token once per browser session (a `#token=` link
// signs in and is taken out of the address at once); an address opened before signing in
// (a shared `#/accounts/acme`) is the view shown after. A `#response=<id>` link (a chat
// alert's) opens that response in its list.
import { getJson, setToken, token } from './api.js';
import { $ } from './dom.js';
import { address, refresh, Router } from './router.js';
import { loadSession } from './session.js';
import * as overview from './views/overview.js';
import * as accounts from './views/accounts.js';
import * as account from './views/account.js';
import * as lists from './views/lists.js';
import * as referrals from './views/referrals.js';
import * as surveys from './views/surveys.js';
import * as team from './views/team.js';
import * as audit from './views/audit.js';

const router = new Router({ overview, accounts, account, lists, referrals, surveys, team, audit }, refused);

function login(message) {
  $('board').hidden = true;
  $('nav').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('login').elements.token.focus();
}

/// What a view threw: a refused token signs in again (true: the view is not shown).
function refused(e) {
  if (e.status === 401) {
    login(token() ? 'That token was refused.' : '');
    return true;
  }
  return false;
}

/// A `#response=<id>` address becomes the list that holds the response.
async function responseAddress() {
  const id = decodeURIComponent(location.hash.slice('#response='.length));
  const all = await getJson('/v1/responses', { limit: 1000 });
  const found = all.find((r) => r.id === id);
  if (found) {
    lists.want(id);
  }
  history.replaceState(null, '', found ? address('lists', found.segment) : '#/overview');
}

async function open() {
  if (!token()) {
    login('');
    return;
  }
  try {
    await loadSession();
    if (location.hash.startsWith('#response=')) {
      await responseAddress();
    }
  } catch (e) {
    if (!refused(e)) {
      login(e.message);
    }
    return;
  }
  $('login').hidden = true;
  $('board').hidden = false;
  $('nav').hidden = false;
  await router.render();
}

// A link with `#token=…` (the one the collector prints) signs in; the token leaves the
// address bar and the history at once.
if (location.hash.startsWith('#token=')) {
  setToken(decodeURIComponent(location.hash.slice('#token='.length)));
  history.replaceState(null, '', location.pathname + location.search);
}
$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  setToken(e.target.elements.token.value.trim());
  open();
});
$('filters').addEventListener('submit', (e) => {
  e.preventDefault();
  refresh();
});
window.addEventListener('hashchange', () => {
  if (!$('board').hidden) {
    router.render();
  }
});
open();
