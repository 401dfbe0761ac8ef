// The team (`#/team`, for admins): the tokens with their roles and when each was last used, a
// form to make one (shown once), Revoke; the digest sent to the team's chat now; and the CRM
// sync's state, with the items the CRM refused.
import { getJson, write } from '../api.js';
import { $, el, button, row, fillSelect, announce } from '../dom.js';
import { shortTime } from '../format.js';
import { session, isAdmin, loadSession } from '../session.js';

export async function show() {
  $('team-admins-only').hidden = isAdmin();
  $('team-box').hidden = !isAdmin();
  await renderCrm();
  if (!isAdmin()) {
    return;
  }
  fillSelect($('new-token').elements.role, session.team.roles.map((r) => [r, r]));
  await renderTokens();
}

async function renderTokens() {
  const tokens = await getJson('/v1/tokens');
  const body = $('tokens').tBodies[0];
  body.textContent = '';
  for (const t of tokens) {
    const tr = row([t.name, t.role, shortTime(t.created_at), t.last_used_at ? shortTime(t.last_used_at) : 'never']);
    const cell = el('td');
    if (t.name !== session.me.name) {
      cell.append(button(`Revoke ${t.name}`, async () => {
        try {
          await write('DELETE', `/v1/tokens/${encodeURIComponent(t.name)}`);
          announce(`Revoked ${t.name}'s token`);
          await changed();
        } catch (e) {
          announce(`Could not revoke the token: ${e.message}`);
        }
      }));
    }
    tr.append(cell);
    body.append(tr);
  }
}

/// GET /v1/crm: whether the CRM sync runs, its backlog, last success and error, and the items
/// the CRM refused with its words (all text, never HTML).
async function renderCrm() {
  const crm = await getJson('/v1/crm');
  const state = $('crm-state');
  const table = $('crm-refused');
  if (!crm.crm) {
    state.textContent = 'No CRM sync: start the collector with --crm hubspot or --crm salesforce.';
    table.hidden = true;
    return;
  }
  const parts = [
    `Sending to ${crm.crm === 'hubspot' ? 'HubSpot' : 'Salesforce'}: ${crm.backlog} waiting`,
    crm.last_success_at ? `last sent ${shortTime(crm.last_success_at)}` : 'nothing sent yet',
  ];
  if (crm.last_error) {
    parts.push(`last error ${crm.last_error_at ? shortTime(crm.last_error_at) : ''}: ${crm.last_error}`);
  }
  state.textContent = `${parts.join('; ')}.`;
  const body = table.tBodies[0];
  body.textContent = '';
  for (const r of crm.refused_items) {
    body.append(row([r.kind, r.item, r.error]));
  }
  table.hidden = crm.refused_items.length === 0;
}

/// After a token was made or revoked: the team's names (for the owner fields) and the table.
async function changed() {
  await loadSession();
  await renderTokens();
}

/// POST /v1/digest: the digest goes to the team's chat now; its text is shown here too.
async function sendDigest() {
  const text = $('digest-text');
  try {
    const sent = await write('POST', '/v1/digest', {});
    text.textContent = sent.digest.text;
    announce(`Digest sent to ${sent.sent_to} chat${sent.sent_to === 1 ? '' : 's'}`);
  } catch (e) {
    announce(`Could not send the digest: ${e.message}`);
    text.textContent = e.message;
  }
  text.hidden = false;
}

$('new-token').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = e.target.elements;
  try {
    const made = await write('POST', '/v1/tokens', { name: form.name.value.trim(), role: form.role.value });
    $('new-token-value').textContent = made.token;
    $('new-token-shown').hidden = false;
    form.name.value = '';
    announce(`Made a ${made.role} token for ${made.name}`);
    await changed();
  } catch (err) {
    announce(`Could not make the token: ${err.message}`);
  }
});
$('send-digest').addEventListener('click', sendDigest);
