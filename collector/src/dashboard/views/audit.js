// The audit trail (`#/audit`, for admins): every change made with a token, newest first —
// when, who, what, to what — a page at a time ("Older" follows the keyset cursor), and the
// CSV. Every cell is text: an object or a detail is never read as HTML.
import { getPlain } from '../api.js';
import { $, row, emptyRow, announce, save } from '../dom.js';
import { shortTime } from '../format.js';
import { isAdmin } from '../session.js';

const PAGE = 50;
/// The `seq` the next page starts before, or null at the end.
let before = null;

export async function show() {
  $('audit-admins-only').hidden = isAdmin();
  $('audit-box').hidden = !isAdmin();
  if (!isAdmin()) {
    return;
  }
  $('audit').tBodies[0].textContent = '';
  before = null;
  await more();
}

/// The next page, appended.
async function more() {
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (before !== null) {
    query.set('before', String(before));
  }
  const rows = await (await getPlain(`/v1/audit?${query}`)).json();
  const body = $('audit').tBodies[0];
  if (!rows.length && !body.rows.length) {
    body.append(emptyRow('No changes yet.', 5));
  }
  for (const r of rows) {
    body.append(row([shortTime(r.at), r.actor, r.action, r.object, r.detail || '']));
  }
  before = rows.length === PAGE ? rows[rows.length - 1].seq : null;
  $('audit-older').hidden = before === null;
  return rows.length;
}

$('audit-older').addEventListener('click', async () => {
  try {
    const n = await more();
    announce(`${n} older change${n === 1 ? '' : 's'} shown`);
  } catch (e) {
    announce(`Could not read the audit trail: ${e.message}`);
  }
});
$('audit-csv').addEventListener('click', async () => {
  try {
    save(await (await getPlain('/v1/audit?format=csv&limit=1000')).blob(), 'nps-audit.csv');
  } catch (e) {
    announce(`Could not download the audit trail: ${e.message}`);
  }
});
