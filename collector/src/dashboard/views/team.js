// The team (`#/team`, for admins): the tokens with their roles and when each was last used, a
// form to make one (shown once), Revoke; and the digest sent to the team's chat now.
import { getJson, write } from '../api.js';
import { $, el, button, row, fillSelect, announce } from '../dom.js';
import { shortTime } from '../format.js';
import { session, isAdmin, loadSession } from '../session.js';

export async function show() {
  $('team-admins-only').hidden = isAdmin();
  $('team-box').hidden = !isAdmin();
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
