// Who is signed in, what the collector allows, and which of its APIs it has: read once per
// sign-in, shared by the views.
import { getJson } from './api.js';
import { $, el } from './dom.js';

export const session = {
  /// `{ name, role }`, from GET /v1/team.
  me: null,
  /// The allowed values of every enumerated parameter (GET /v1/choices): menus are built
  /// from them, so they never drift from the collector.
  choices: null,
  /// The collector's currency (`--currency`), for every money figure.
  currency: 'USD',
};

export const canWrite = () => session.me.role !== 'viewer';
export const isAdmin = () => session.me.role === 'admin';

/// Reads the session; the nav and the role-bound controls follow it.
export async function loadSession() {
  const [choices, team, revenue] = await Promise.all([
    session.choices || getJson('/v1/choices'),
    getJson('/v1/team'),
    getJson('/v1/revenue'),
  ]);
  session.choices = choices;
  session.me = team.me;
  session.team = team;
  session.currency = revenue.currency;
  $('me').textContent = `Signed in as ${team.me.name} (${team.me.role})`;
  $('team-names').replaceChildren(...team.team.map((t) => Object.assign(el('option'), { value: t.name })));
  for (const node of document.querySelectorAll('.member-only')) {
    node.hidden = !canWrite();
  }
  for (const node of document.querySelectorAll('.admin-only')) {
    node.hidden = !isAdmin();
  }
  for (const route of ['team', 'audit']) {
    document.querySelector(`#nav [data-route=${route}]`).parentElement.hidden = !isAdmin();
  }
}
