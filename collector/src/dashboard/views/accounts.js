// The accounts (`#/accounts`): the silent accounts (asked, nobody answered: the most at risk)
// and every account with its segment, NPS and people, and, when the collector keeps account
// records, its name, ARR, plan, owner and renewal, filtered by owner, plan and renewal,
// sorted by NPS, ARR or renewal, or only the upsell opportunities with their gap. Each row
// opens the account's own view (`#/accounts/<id>`); CSV downloads of both lists.
import { get, getJson, postForBlob, filterBody } from '../api.js';
import { $, el, viewLink, emptyRow, announce, save } from '../dom.js';
import { withMargin, shortTime, money } from '../format.js';
import { session } from '../session.js';
import { address, refresh } from '../router.js';

/// The account filter form as query parameters.
function accountQuery() {
  const form = $('account-filters').elements;
  const upsell = form.upsell.checked;
  return {
    owner: form.owner.value.trim(),
    plan: form.plan.value.trim(),
    renewal_before: form.renewal_before.value,
    sort: upsell ? '' : form.sort.value === 'nps' ? '' : form.sort.value,
    opportunity: upsell ? 'upsell' : '',
  };
}

/// The name an account goes by: its record's, else its id.
export function accountName(a) {
  return a.name || a.account_id;
}

export async function show(_param, visit) {
  const extra = accountQuery();
  const [rows, silent] = await Promise.all([
    getJson('/v1/accounts', extra),
    getJson('/v1/accounts', { segment: 'silent' }),
  ]);
  if (!visit.current()) {
    return;
  }
  const orders = { '': '(lowest NPS first)', arr: '(largest ARR first)', renewal_on: '(soonest renewal first)' };
  $('accounts-order').textContent = extra.opportunity ? '(upsell: largest gap first)' : orders[extra.sort || ''];
  renderSilent(silent);
  renderTable(rows, Boolean(extra.opportunity));
}

function renderSilent(silent) {
  const list = $('silent-accounts');
  list.textContent = '';
  if (!silent.length) {
    list.append(el('li', 'None: every account asked has answered.', 'empty'));
  }
  for (const a of silent) {
    const item = el('li');
    item.append(viewLink(`${accountName(a)} (${a.silent} asked, last ${shortTime(a.last_answer_at) || 'never'})`, address('account', a.account_id), 'chip'));
    list.append(item);
  }
}

function renderTable(rows, upsell) {
  const columns = ['Account', 'Segment', 'NPS', 'ARR', 'Plan', 'Owner', 'Renewal'];
  if (upsell) {
    columns.push('Gap');
  }
  columns.push('People', 'Promoters', 'Passives', 'Detractors', 'Silent', 'Open follow-ups', 'Last answer', 'Latest comment');
  const table = $('accounts');
  table.tHead.rows[0].replaceChildren(...columns.map((c) => el('th', c)));
  const body = table.tBodies[0];
  body.textContent = '';
  for (const a of rows) {
    const tr = el('tr');
    const name = el('td');
    name.append(viewLink(accountName(a), address('account', a.account_id)));
    tr.append(name);
    const segment = el('td');
    segment.append(el('span', a.segment, `badge ${a.segment}`));
    tr.append(segment);
    const cells = [withMargin(a), money(a.arr, session.currency), a.plan || '', a.owner || '', a.renewal_on || ''];
    if (upsell) {
      cells.push(money(a.gap, session.currency));
    }
    cells.push(a.people, a.promoters, a.passives, a.detractors, a.silent, a.open_follow_ups, shortTime(a.last_answer_at), a.latest_comment || '');
    for (const value of cells) {
      tr.append(el('td', value));
    }
    body.append(tr);
  }
  if (!rows.length) {
    body.append(emptyRow(upsell ? 'No upsell opportunity among these accounts.' : 'No responses carry an account id yet.', columns.length));
  }
}

async function download(extra, name) {
  try {
    save(await (await get('/v1/accounts', { ...extra, format: 'csv' })).blob(), name);
  } catch (e) {
    announce(`Could not download: ${e.message}`);
  }
}

$('account-filters').addEventListener('submit', (e) => {
  e.preventDefault();
  refresh();
});
$('silent-csv').addEventListener('click', () => download({ segment: 'silent' }, 'nps-silent-accounts.csv'));
$('accounts-csv').addEventListener('click', () => download(accountQuery(), 'nps-accounts.csv'));
$('silent-links').addEventListener('click', async () => {
  try {
    save(await postForBlob('/v1/links/bulk', { ...filterBody(), segment: 'silent' }), 'nps-links-silent.csv');
    announce('Personal links for the silent list downloaded');
  } catch (e) {
    announce(`Could not make the links: ${e.message}`);
  }
});
