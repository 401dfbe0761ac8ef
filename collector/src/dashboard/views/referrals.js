// The referrals (`#/referrals`): per segment, the funnel from the ask to the won deal (asked,
// clicked, referrals, opportunities, won, won value, rate), and every referral with its
// status, which members move along (a won deal asks for its value); a CSV of them all.
import { get, getJson, write } from '../api.js';
import { $, el, row, emptyRow, announce, save } from '../dom.js';
import { shortTime, money, percent } from '../format.js';
import { canWrite } from '../session.js';

const STATUSES = ['referred', 'opportunity', 'won', 'lost'];
/// The next page of the referrals list (its `Link: <…>; rel="next"`), if any.
let next = null;

export async function show(_param, visit) {
  const [summary, first] = await Promise.all([
    getJson('/v1/referrals/summary', { interval: '' }),
    get('/v1/referrals', { limit: 100, interval: '' }),
  ]);
  const referrals = await first.json();
  if (!visit.current()) {
    return;
  }
  renderFunnel(summary);
  $('referrals').tBodies[0].textContent = '';
  addRows(referrals, summary.currency);
  setNext(first, summary.currency);
}

function renderFunnel(summary) {
  const body = $('referral-funnel').tBodies[0];
  body.textContent = '';
  for (const [segment, f] of Object.entries(summary.by_segment)) {
    body.append(row([
      `${segment}s`, f.asked, f.clicked, f.referrals, f.opportunities, f.won,
      money(f.won_value, summary.currency), f.rate == null ? '–' : percent(f.rate),
    ]));
  }
}

/// The `rel="next"` URL of a `Link` header.
function nextOf(response) {
  const link = response.headers.get('Link') || '';
  const m = /<([^>]+)>;\s*rel="next"/.exec(link);
  return m ? m[1] : null;
}

function setNext(response, currency) {
  next = nextOf(response);
  const more = $('referrals-more');
  more.hidden = !next;
  more.onclick = async () => {
    try {
      const url = new URL(next, location.href);
      const page = await get(url.pathname, Object.fromEntries(url.searchParams));
      addRows(await page.json(), currency);
      setNext(page, currency);
      announce('More referrals shown');
    } catch (e) {
      announce(`Could not show more: ${e.message}`);
    }
  };
}

function addRows(referrals, currency) {
  const body = $('referrals').tBodies[0];
  if (!referrals.length && !body.childElementCount) {
    body.append(emptyRow('No referral recorded yet: record one from a promoter or passive in their list.', 8));
    return;
  }
  for (const r of referrals) {
    const from = `${r.referrer_email || r.referrer_user_id || 'someone'} (${r.referrer_segment})`;
    const tr = row([shortTime(r.created_at), r.name || r.email || '', r.company || '', from, r.account_id || '', r.note || '']);
    const status = el('td');
    const value = el('td', money(r.value, currency));
    status.append(canWrite() ? statusControl(r, value, currency) : document.createTextNode(r.status));
    tr.append(status, value);
    body.append(tr);
  }
}

/// The status select; moving to won asks for the deal's value first.
function statusControl(r, valueCell, currency) {
  const box = el('div', null, 'item-controls');
  const who = r.name || r.email || r.id;
  const select = el('select');
  select.setAttribute('aria-label', `Status of the referral of ${who}`);
  for (const s of STATUSES) {
    select.append(Object.assign(el('option', s), { value: s }));
  }
  select.value = r.status;
  const won = el('form', null, 'won');
  won.hidden = true;
  const l = el('label', 'Won value');
  const amount = el('input');
  amount.inputMode = 'decimal';
  amount.required = true;
  l.append(amount);
  const confirm = el('button', 'Mark as won');
  confirm.type = 'submit';
  won.append(l, confirm);
  const patch = async (body) => {
    try {
      const saved = await write('PATCH', `/v1/referrals/${encodeURIComponent(r.id)}`, body);
      r.status = saved.status;
      r.value = saved.value;
      valueCell.textContent = money(saved.value, currency);
      won.hidden = true;
      announce(`The referral of ${who}: ${saved.status}`);
    } catch (e) {
      select.value = r.status;
      announce(`Could not change the referral: ${e.message}`);
    }
  };
  select.addEventListener('change', () => {
    if (select.value === 'won') {
      won.hidden = false;
      amount.focus();
      announce(`Say what the deal with ${who} is worth, then mark it as won`);
      return;
    }
    won.hidden = true;
    patch({ status: select.value });
  });
  won.addEventListener('submit', (e) => {
    e.preventDefault();
    const n = Number(amount.value.trim());
    if (amount.value.trim() === '' || Number.isNaN(n)) {
      announce('The won value must be a number, like 12000');
      return;
    }
    patch({ status: 'won', value: n });
  });
  box.append(select, won);
  return box;
}

$('referrals-csv').addEventListener('click', async () => {
  try {
    save(await (await get('/v1/referrals', { format: 'csv', interval: '' })).blob(), 'nps-referrals.csv');
  } catch (e) {
    announce(`Could not download: ${e.message}`);
  }
});
