// The collector's dashboard: asks for the read token once per browser session (kept in
// sessionStorage), then shows the NPS, the segment split, the trend, the accounts and the four
// lists to act on, each with a CSV download. Every value from the database is set as text.
'use strict';

const KEY = 'nps-dashboard-token';
const SEGMENTS = [
  ['promoter', 'Promoters: ask for a referral or a review'],
  ['passive', 'Passives: ask what would earn a 9 or 10'],
  ['detractor', 'Detractors: contact them'],
  ['silent', 'Silent: chase the accounts that never answer'],
];
const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text != null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function query(extra) {
  const form = new FormData($('filters'));
  const q = new URLSearchParams();
  for (const [k, v] of form) if (v) q.set(k, v);
  for (const k in extra) q.set(k, extra[k]);
  return q.toString();
}

async function api(path, extra = {}) {
  const r = await fetch(`${path}?${query(extra)}`, {
    headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY) || ''}` },
  });
  if (r.status === 401) throw Object.assign(new Error('unauthorized'), { status: 401 });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${(await r.json().catch(() => ({}))).error || ''}`);
  return r;
}

function login(message) {
  $('board').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('login').elements.token.focus();
}

function fmt(nps) {
  return nps == null ? '–' : (nps > 0 ? '+' : '') + nps;
}

function when(ts) {
  return ts ? ts.slice(0, 16).replace('T', ' ') : '';
}

async function load() {
  try {
    const [summary, accounts, trend] = await Promise.all([
      api('/v1/summary').then((r) => r.json()),
      api('/v1/accounts').then((r) => r.json()),
      api('/v1/trend.svg').then((r) => r.blob()),
    ]);
    const lists = await Promise.all(SEGMENTS.map(([s]) => api('/v1/responses', { segment: s, limit: 200 }).then((r) => r.json())));
    $('login').hidden = true;
    $('board').hidden = false;
    render(summary, accounts, trend, lists);
  } catch (e) {
    if (e.status === 401) login(sessionStorage.getItem(KEY) ? 'That token was refused.' : '');
    else login(e.message);
  }
}

function render(summary, accounts, trend, lists) {
  $('nps').textContent = fmt(summary.nps);
  $('counts').textContent =
    `${summary.responses} responses: ${summary.promoters} promoters, ${summary.passives} passives, ` +
    `${summary.detractors} detractors, ${summary.silent} silent`;
  const split = $('split');
  split.textContent = '';
  split.setAttribute('aria-label', $('counts').textContent);
  for (const [s, n] of [['promoter', summary.promoters], ['passive', summary.passives], ['detractor', summary.detractors], ['silent', summary.silent]]) {
    if (!n) continue;
    const bar = el('span', null, s);
    bar.style.width = `${(100 * n) / summary.responses}%`;
    bar.title = `${s}: ${n}`;
    split.append(bar);
  }
  const img = $('trend');
  if (img.src) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(trend);
  img.alt = `NPS by ${summary.interval}: ` + summary.trend.map((p) => `${p.period} ${fmt(p.nps)}`).join(', ');

  const body = $('accounts').tBodies[0];
  body.textContent = '';
  for (const a of accounts) {
    const tr = el('tr');
    for (const v of [a.account_id, fmt(a.nps), a.promoters, a.passives, a.detractors, a.silent, when(a.last_answer_at), a.latest_comment || '']) tr.append(el('td', v));
    body.append(tr);
  }
  if (!accounts.length) {
    const tr = el('tr');
    tr.append(Object.assign(el('td', 'No responses carry an account id yet.', 'empty'), { colSpan: 8 }));
    body.append(tr);
  }

  const box = $('lists');
  box.textContent = '';
  SEGMENTS.forEach(([segment, title], i) => {
    const rows = lists[i];
    const section = el('section', null, 'list');
    const h = el('h3');
    h.append(el('span', null, `dot ${segment}`), el('span', `${title} (${rows.length})`));
    const download = el('button', `Download ${segment}s as CSV`);
    download.type = 'button';
    download.addEventListener('click', () => csv(segment));
    h.append(download);
    section.append(h);
    if (!rows.length) section.append(el('p', 'Nobody yet.', 'empty'));
    else {
      const t = el('table');
      const head = el('tr');
      for (const c of ['User', 'Account', 'Score', 'Comment', 'May contact', 'Date']) head.append(el('th', c));
      const thead = el('thead');
      thead.append(head);
      t.append(thead);
      const tb = el('tbody');
      for (const r of rows) {
        const tr = el('tr');
        const u = r.user || {};
        for (const v of [u.email || u.id || '', u.account_id || '', r.score ?? '', r.comment || '', r.contact_consent ? 'yes' : '', when(r.answered_at || r.shown_at)]) tr.append(el('td', v));
        tb.append(tr);
      }
      t.append(tb);
      section.append(t);
    }
    box.append(section);
  });
}

async function csv(segment) {
  const blob = await (await api('/v1/responses', { segment, format: 'csv' })).blob();
  const a = el('a');
  a.href = URL.createObjectURL(blob);
  a.download = `nps-${segment}s.csv`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(KEY, e.target.elements.token.value.trim());
  load();
});
$('filters').addEventListener('submit', (e) => {
  e.preventDefault();
  load();
});
load();
