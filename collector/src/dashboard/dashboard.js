// The collector's dashboard, a work queue for closing the loop: asks for the teammate's token
// once per browser session (kept in sessionStorage; a `#token=` link signs in and is taken out of
// the address at once), then shows the NPS with its margin of error and
// whether the last change is real, the trend, the themes people ask for, the silent accounts,
// the accounts, and the four lists to act on, where each response gets a status, an owner and
// notes; admins also manage the team's tokens. Every value from the database is set as text,
// never as markup.
'use strict';

const TOKEN_KEY = 'nps-dashboard-token';
const SEGMENTS = [
  ['promoter', 'Promoters: ask for a referral or a review'],
  ['passive', 'Passives: ask what would earn a 9 or 10'],
  ['detractor', 'Detractors: contact them'],
  ['silent', 'Silent: chase the people who never answer'],
];
// Passives first: what would earn a 9 or 10 is what the product team needs most.
const THEME_SEGMENTS = [
  ['passive', 'What passives say would earn a 9 or 10'],
  ['detractor', 'What disappointed detractors'],
  ['promoter', 'What promoters love'],
];
// The allowed values of every enumerated parameter, as the API reads them (GET /v1/choices):
// the menus are built from them, so they never drift from the collector.
let choices = null;
// Who is signed in (`{ name, role }`) and the team's names, from GET /v1/team.
let me = null;
const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const element = document.createElement(tag);
  if (text != null) {
    element.textContent = String(text);
  }
  if (className) {
    element.className = className;
  }
  return element;
}

function button(text, onClick, className) {
  const b = el('button', text, className);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

/// The query string of the filter form, plus `extra`.
function query(extra) {
  const q = new URLSearchParams();
  for (const [key, value] of new FormData($('filters'))) {
    if (value) {
      q.set(key, value);
    }
  }
  for (const key in extra) {
    if (extra[key] === '' || extra[key] == null) {
      q.delete(key);
    } else {
      q.set(key, extra[key]);
    }
  }
  return q.toString();
}

function authHeaders() {
  return { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ''}` };
}

async function api(path, extra = {}, init = {}) {
  const headers = { ...authHeaders(), ...(init.headers || {}) };
  const r = await fetch(`${path}?${query(extra)}`, { ...init, headers });
  if (r.status === 401) {
    throw Object.assign(new Error('unauthorized'), { status: 401 });
  }
  if (!r.ok) {
    const problem = await r.json().catch(() => ({}));
    throw new Error(`${path}: ${r.status} ${problem.error || ''}`);
  }
  return r;
}

/// PATCH or POST a JSON body to the read API (no filter query).
async function write(method, path, body) {
  const r = await fetch(path, {
    method,
    headers: { ...authHeaders(), 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!r.ok) {
    const problem = await r.json().catch(() => ({}));
    throw new Error(problem.error || `${r.status}`);
  }
  return r.json();
}

function announce(message) {
  $('status').textContent = message;
}

function login(message) {
  $('board').hidden = true;
  $('account-view').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('login').elements.token.focus();
}

function fmt(nps) {
  return nps == null ? '–' : (nps > 0 ? '+' : '') + nps;
}

function withMargin(figures) {
  return figures.margin_of_error == null ? fmt(figures.nps) : `${fmt(figures.nps)} ± ${figures.margin_of_error}`;
}

function shortTime(ts) {
  return ts ? ts.slice(0, 16).replace('T', ' ') : '';
}

/// The first day after `period` (`2026-11-16` a week, `2026-11` a month), as YYYY-MM-DD.
function periodEnd(period, interval) {
  if (interval === 'month') {
    const [year, month] = period.split('-').map(Number);
    const next = new Date(Date.UTC(year, month, 1));
    return next.toISOString().slice(0, 10);
  }
  const start = new Date(`${period}T00:00:00Z`);
  start.setUTCDate(start.getUTCDate() + 7);
  return start.toISOString().slice(0, 10);
}

function periodStart(period) {
  return period.length === 7 ? `${period}-01` : period;
}

/// Says in words whether the latest period's score differs from the one before by more than
/// chance, from `GET /v1/compare` over the last two periods of the trend.
async function change(summary) {
  const scored = summary.trend.filter((p) => p.answers > 0);
  if (scored.length < 2) {
    return 'Not enough periods with answers yet to tell whether the score is changing.';
  }
  const [a, b] = scored.slice(-2);
  const c = await api('/v1/compare', {
    a_from: periodStart(a.period),
    a_to: periodEnd(a.period, summary.interval),
    b_from: periodStart(b.period),
    b_to: periodEnd(b.period, summary.interval),
    from: '',
    to: '',
  }).then((r) => r.json());
  const direction = c.difference > 0 ? `up ${c.difference}` : c.difference < 0 ? `down ${-c.difference}` : 'unchanged at 0';
  const verdict = c.significant
    ? `a real change (z = ${c.z}, 95 % confidence)`
    : `within what chance alone would give (z = ${c.z}); more answers would tell`;
  return `The ${summary.interval} of ${b.period} against the ${summary.interval} of ${a.period}: ` +
    `NPS ${fmt(c.b.nps)} against ${fmt(c.a.nps)}, ${direction} points, ${verdict}.`;
}

function queueFilter() {
  const form = new FormData($('queue'));
  return { status: form.get('status'), mine: form.get('mine') === 'on' };
}

/// Who is signed in, the team's names for the owner fields, and (for admins) the Team view.
async function loadTeam() {
  const team = await api('/v1/team').then((r) => r.json());
  me = team.me;
  $('me').textContent = `Signed in as ${me.name} (${me.role})`;
  const names = $('team-names');
  names.replaceChildren(...team.team.map((t) => Object.assign(el('option'), { value: t.name })));
  fillSelect($('new-token').elements.role, team.roles.map((r) => [r, r]));
  $('team-view').hidden = me.role !== 'admin';
  $('silent-links').hidden = me.role === 'viewer';
  if (me.role === 'admin') {
    await renderTokens();
  }
}

async function renderTokens() {
  const tokens = await api('/v1/tokens').then((r) => r.json());
  const body = $('tokens').tBodies[0];
  body.textContent = '';
  for (const t of tokens) {
    const tr = el('tr');
    for (const value of [t.name, t.role, shortTime(t.created_at), t.last_used_at ? shortTime(t.last_used_at) : 'never']) {
      tr.append(el('td', value));
    }
    const cell = el('td');
    if (t.name !== me.name) {
      cell.append(button(`Revoke ${t.name}`, async () => {
        try {
          const r = await fetch(`/v1/tokens/${encodeURIComponent(t.name)}`, { method: 'DELETE', headers: authHeaders() });
          if (!r.ok) {
            throw new Error(`${r.status}`);
          }
          announce(`Revoked ${t.name}'s token`);
          await loadTeam();
        } catch (e) {
          announce(`Could not revoke the token: ${e.message}`);
        }
      }));
    }
    tr.append(cell);
    body.append(tr);
  }
}

/// `referral_asked` → `referral asked`.
function label(name) {
  return name.replace(/_/g, ' ');
}

/// Fills `select` with `options` (`[value, text]` pairs), keeping its current value.
function fillSelect(select, options) {
  const current = select.value;
  select.replaceChildren(...options.map(([value, text]) => Object.assign(el('option', text), { value })));
  if (options.some(([value]) => value === current)) {
    select.value = current;
  }
}

/// Loads the allowed values once, and builds the menus that list them.
async function loadChoices() {
  if (choices) {
    return;
  }
  choices = await api('/v1/choices').then((r) => r.json());
  fillSelect($('filters').elements.interval, choices.intervals.map((i) => [i, i]));
  fillSelect($('queue').elements.status, [
    ['open', 'open items'],
    ['', 'everything'],
    ...choices.statuses.map((s) => [s, label(s)]),
  ]);
}

async function load() {
  try {
    await loadChoices();
    await loadTeam();
    // The surveys' view and editor (dashboard-surveys.js).
    await window.loadSurveys?.();
    const queue = queueFilter();
    const [summary, accounts, silentAccounts, trend] = await Promise.all([
      api('/v1/summary').then((r) => r.json()),
      api('/v1/accounts').then((r) => r.json()),
      api('/v1/accounts', { segment: 'silent' }).then((r) => r.json()),
      api('/v1/trend.svg').then((r) => r.blob()),
    ]);
    const lists = await Promise.all(
      SEGMENTS.map(([segment]) => api('/v1/responses', {
        segment, limit: 200, status: queue.status, owner: queue.mine ? me.name : '',
      }).then((r) => r.json())),
    );
    const themes = await Promise.all(
      THEME_SEGMENTS.map(([segment]) => api('/v1/themes', { segment }).then((r) => r.json())),
    );
    const sentence = await change(summary);
    $('login').hidden = true;
    $('account-view').hidden = true;
    $('board').hidden = false;
    render(summary, sentence, accounts, silentAccounts, trend, lists, themes);
    showWanted();
  } catch (e) {
    if (e.status === 401) {
      login(sessionStorage.getItem(TOKEN_KEY) ? 'That token was refused.' : '');
    } else {
      login(e.message);
    }
  }
}

function render(summary, sentence, accounts, silentAccounts, trend, lists, themes) {
  $('nps').textContent = fmt(summary.nps);
  $('moe').textContent = summary.margin_of_error == null ? '' : `± ${summary.margin_of_error} (95 %)`;
  $('counts').textContent =
    `${summary.responses} responses: ${summary.promoters} promoters, ${summary.passives} passives, ` +
    `${summary.detractors} detractors, ${summary.silent} silent`;
  $('rate').textContent = summary.response_rate == null
    ? ''
    : `Response rate ${Math.round(summary.response_rate * 1000) / 10} % (answers of everyone asked)`;
  $('change').textContent = sentence;
  renderSplit(summary);
  const img = $('trend');
  if (img.src) {
    URL.revokeObjectURL(img.src);
  }
  img.src = URL.createObjectURL(trend);
  img.alt = `NPS by ${summary.interval}: ` + summary.trend.map((p) => `${p.period} ${withMargin(p)}`).join(', ');
  renderThemes(themes, lists);
  renderSilentAccounts(silentAccounts);
  renderAccounts(accounts);
  renderLists(lists);
}

function renderSplit(summary) {
  const split = $('split');
  split.textContent = '';
  split.setAttribute('aria-label', $('counts').textContent);
  const parts = [['promoter', summary.promoters], ['passive', summary.passives], ['detractor', summary.detractors], ['silent', summary.silent]];
  for (const [segment, n] of parts) {
    if (!n) {
      continue;
    }
    const bar = el('span', null, segment);
    bar.style.width = `${(100 * n) / summary.responses}%`;
    bar.title = `${segment}: ${n}`;
    split.append(bar);
  }
}

function renderThemes(themes, lists) {
  const box = $('themes');
  box.textContent = '';
  box.className = 'themes';
  const comments = new Map();
  for (const list of lists) {
    for (const r of list) {
      comments.set(r.id, r.comment);
    }
  }
  THEME_SEGMENTS.forEach(([segment, title], i) => {
    const column = el('div');
    column.append(el('h3', title));
    const found = themes[i];
    if (!found.themes.length) {
      column.append(el('p', 'No recurring theme yet.', 'empty'));
    } else {
      column.append(el('p', `${found.comments} comments: ${found.comments - found.other} in these themes, ${found.other} on other things.`, 'theme-total'));
    }
    const chips = el('ul', null, 'chips');
    const examples = el('ul', null, 'examples');
    for (const theme of found.themes) {
      const item = el('li');
      const open = button(`${theme.theme} (${theme.count})`, () => {
        examples.textContent = '';
        for (const id of theme.examples) {
          examples.append(el('li', comments.get(id) || `response ${id}`));
        }
        announce(`${theme.count} comments mention ${theme.theme}`);
      }, 'link');
      open.setAttribute('aria-label', `${theme.theme}: ${theme.count} comments, show them`);
      item.append(open);
      if (segment !== 'promoter') {
        const whom = segment === 'passive' ? 'passives became promoters' : 'detractors became passives';
        item.append(el('span', ` ${fmt(theme.nps_gain)} NPS if these ${theme.people} ${whom}, ${theme.accounts} accounts`, 'gain'));
      }
      chips.append(item);
    }
    column.append(chips, examples);
    box.append(column);
  });
}

function renderSilentAccounts(silentAccounts) {
  const list = $('silent-accounts');
  list.textContent = '';
  if (!silentAccounts.length) {
    list.append(el('li', 'None: every account asked has answered.', 'empty'));
  }
  for (const a of silentAccounts) {
    const item = el('li');
    item.append(button(`${a.account_id} (${a.silent} asked, last ${shortTime(a.last_answer_at) || 'never'})`, () => openAccount(a), 'link'));
    list.append(item);
  }
}

function renderAccounts(accounts) {
  const body = $('accounts').tBodies[0];
  body.textContent = '';
  for (const a of accounts) {
    const tr = el('tr');
    const name = el('td');
    name.append(button(a.account_id, () => openAccount(a), 'link'));
    tr.append(name);
    const segment = el('td');
    segment.append(el('span', a.segment, `badge ${a.segment}`));
    tr.append(segment);
    const cells = [withMargin(a), a.people, a.promoters, a.passives, a.detractors, a.silent, a.open_follow_ups, shortTime(a.last_answer_at), a.latest_comment || ''];
    for (const value of cells) {
      tr.append(el('td', value));
    }
    body.append(tr);
  }
  if (!accounts.length) {
    const tr = el('tr');
    tr.append(Object.assign(el('td', 'No responses carry an account id yet.', 'empty'), { colSpan: 11 }));
    body.append(tr);
  }
}

function statusOptions(segment) {
  const referrals = segment === 'promoter' || segment === 'passive';
  return choices.statuses.filter((s) => referrals || !choices.referral_statuses.includes(s));
}

/// `contacted by ana at 2026-11-30 10:12`, when someone changed it.
function changedBy(followUp) {
  return followUp.updated_by ? `${label(followUp.status)} by ${followUp.updated_by} at ${shortTime(followUp.updated_at)}` : '';
}

function noteLine(note) {
  return `${shortTime(note.at)}${note.author ? ` ${note.author}` : ''}: ${note.text}`;
}

/// One response's follow-up controls: status, owner, notes.
function followUpControls(r) {
  const who = (r.user && (r.user.email || r.user.id)) || r.id.slice(0, 8);
  if (me.role === 'viewer') {
    const view = el('div', label(r.follow_up.status) + (r.follow_up.owner ? ` (${r.follow_up.owner})` : ''));
    const notes = el('ul', null, 'notes');
    for (const n of r.follow_up.notes) {
      notes.append(el('li', noteLine(n)));
    }
    view.append(notes);
    return view;
  }
  const box = el('div', null, 'item-controls');
  const by = el('p', changedBy(r.follow_up), 'changed-by');
  const status = el('select');
  status.setAttribute('aria-label', `Follow-up status for ${who}`);
  for (const s of statusOptions(r.segment)) {
    const option = el('option', label(s));
    option.value = s;
    option.selected = r.follow_up.status === s;
    status.append(option);
  }
  status.addEventListener('change', async () => {
    try {
      const f = await write('PATCH', `/v1/responses/${encodeURIComponent(r.id)}/follow-up`, { status: status.value });
      r.follow_up.status = f.status;
      by.textContent = changedBy(f);
      announce(`${who}: ${label(f.status)}`);
    } catch (e) {
      announce(`Could not change the status: ${e.message}`);
    }
  });
  const owner = el('input');
  owner.value = r.follow_up.owner || '';
  owner.placeholder = 'owner';
  owner.setAttribute('list', 'team-names');
  owner.setAttribute('aria-label', `Owner for ${who}`);
  const take = button('Set owner', async () => {
    try {
      const f = await write('PATCH', `/v1/responses/${encodeURIComponent(r.id)}/follow-up`, { owner: owner.value.trim() || null });
      by.textContent = changedBy(f);
      announce(`${who}: owner ${f.owner || 'none'}`);
    } catch (e) {
      announce(`Could not set the owner: ${e.message}`);
    }
  });
  const notes = el('ul', null, 'notes');
  for (const n of r.follow_up.notes) {
    notes.append(el('li', noteLine(n)));
  }
  const text = el('input');
  text.placeholder = 'add a note';
  text.setAttribute('aria-label', `Note for ${who}`);
  const add = button('Add note', async () => {
    const value = text.value.trim();
    if (!value) {
      return;
    }
    try {
      const n = await write('POST', `/v1/responses/${encodeURIComponent(r.id)}/notes`, { text: value });
      notes.append(el('li', noteLine(n)));
      text.value = '';
      announce(`Note added for ${who}`);
    } catch (e) {
      announce(`Could not add the note: ${e.message}`);
    }
  });
  box.append(status, owner, take, text, add);
  const wrapper = el('div');
  wrapper.append(box, by, notes);
  return wrapper;
}

function renderLists(lists) {
  const box = $('lists');
  box.textContent = '';
  SEGMENTS.forEach(([segment, title], i) => {
    const rows = lists[i];
    const section = el('section', null, 'list');
    const h = el('h3');
    h.append(el('span', null, `dot ${segment}`), el('span', `${title} (${rows.length})`));
    h.append(button(`Download ${segment}s as CSV`, () => download('/v1/responses', { segment, format: 'csv' }, `nps-${segment}s.csv`)));
    if (me.role !== 'viewer') {
      h.append(button(`Personal links for ${segment}s (CSV)`, () => mailMerge(segment)));
    }
    section.append(h);
    if (!rows.length) {
      section.append(el('p', 'Nobody here.', 'empty'));
    } else {
      const table = el('table');
      const head = el('tr');
      for (const c of ['User', 'Account', 'Score', 'Comment', 'May contact', 'Date', 'Follow-up']) {
        head.append(el('th', c));
      }
      const thead = el('thead');
      thead.append(head);
      table.append(thead);
      const tbody = el('tbody');
      for (const r of rows) {
        const tr = el('tr');
        const u = r.user || {};
        const cells = [u.email || u.id || '', u.account_id || '', r.score ?? '', r.comment || '', r.contact_consent ? 'yes' : '', shortTime(r.answered_at || r.shown_at)];
        for (const value of cells) {
          tr.append(el('td', value));
        }
        const controls = el('td');
        controls.append(followUpControls(r));
        if (me.role !== 'viewer' && (u.id || u.email)) {
          controls.append(button(`Personal link for ${u.email || u.id}`, () => personalLink(r)));
        }
        tr.append(controls);
        tr.dataset.id = r.id;
        tbody.append(tr);
      }
      table.append(tbody);
      section.append(table);
    }
    box.append(section);
  });
}

/// The filter form's survey and dates, as the body of a write (`from`, `to`, `survey_id`).
function filterBody() {
  const body = {};
  for (const [key, value] of new FormData($('filters'))) {
    if (value && ['survey_id', 'from', 'to'].includes(key)) {
      body[key] = value;
    }
  }
  return body;
}

/// A mail merge of one list: every person of it with an email, and their personal link, as
/// CSV for the team's email tool (POST /v1/links/bulk).
async function mailMerge(segment) {
  try {
    const r = await fetch('/v1/links/bulk', {
      method: 'POST',
      headers: { ...authHeaders(), 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...filterBody(), segment }),
    });
    if (!r.ok) {
      const problem = await r.json().catch(() => ({}));
      throw new Error(problem.error || `${r.status}`);
    }
    const a = el('a');
    a.href = URL.createObjectURL(await r.blob());
    a.download = `nps-links-${segment}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    announce(`Personal links for the ${segment} list downloaded`);
  } catch (e) {
    announce(`Could not make the links: ${e.message}`);
  }
}

/// One person's link: the URL and the email block with the score buttons, ready to copy, and
/// a preview of the block as an email shows it (a frame of the collector's own page, with no
/// script).
async function personalLink(r) {
  const u = r.user || {};
  try {
    const link = await write('POST', '/v1/links', {
      survey_id: r.survey_id || 'default',
      user: { id: u.id || null, account_id: u.account_id || null, email: u.email || null },
      locale: (r.context && r.context.locale) || null,
    });
    $('link-for').textContent = `Personal link for ${u.email || u.id}, valid until ${shortTime(link.expires_at)}`;
    $('link-url').value = link.url;
    $('link-html').value = link.email_html;
    $('link-preview').src = link.preview_url;
    $('link-view').hidden = false;
    $('link-url').focus();
    announce(`Made a personal link for ${u.email || u.id}`);
  } catch (e) {
    announce(`Could not make the link: ${e.message}`);
  }
}

async function copy(id, what) {
  try {
    await navigator.clipboard.writeText($(id).value);
    announce(`${what} copied`);
  } catch {
    $(id).select();
    announce(`Select and copy the ${what.toLowerCase()} (the browser did not allow copying)`);
  }
}

/// POST /v1/digest: the digest goes to the team's chat now; its text is shown here too.
async function sendDigest() {
  try {
    const sent = await write('POST', '/v1/digest', {});
    $('digest-text').textContent = sent.digest.text;
    $('digest-text').hidden = false;
    announce(`Digest sent to ${sent.sent_to} chat${sent.sent_to === 1 ? '' : 's'}`);
  } catch (e) {
    announce(`Could not send the digest: ${e.message}`);
    $('digest-text').textContent = e.message;
    $('digest-text').hidden = false;
  }
}

/// A `#response=<id>` link (a chat alert's) shows that response in its list.
let wanted = null;

function showWanted() {
  if (!wanted) {
    return;
  }
  const row = [...document.querySelectorAll('#lists tr[data-id]')].find((tr) => tr.dataset.id === wanted);
  const status = $('queue').elements.status;
  if (!row && status.value !== '') {
    // Closed since the alert, or not the teammate's: look in everything once.
    status.value = '';
    $('queue').elements.mine.checked = false;
    load();
    return;
  }
  if (row) {
    row.classList.add('wanted');
    row.tabIndex = -1;
    row.scrollIntoView({ block: 'center' });
    row.focus();
    announce('The response from the alert is highlighted in its list');
  } else {
    announce('The response from the alert is not in the lists');
  }
  wanted = null;
}

/// One account's page: its figures, then its people's responses over time with follow-ups.
async function openAccount(account) {
  try {
    const responses = await api('/v1/responses', { account_id: account.account_id, limit: 1000 }).then((r) => r.json());
    $('board').hidden = true;
    $('account-view').hidden = false;
    $('account-h').textContent = `Account ${account.account_id}`;
    $('account-figures').textContent =
      `${account.segment}, NPS ${withMargin(account)}, ${account.people} people answered, ` +
      `${account.silent} silent, ${account.open_follow_ups} open follow-ups`;
    const body = $('account-responses').tBodies[0];
    body.textContent = '';
    const oldestFirst = [...responses].reverse();
    for (const r of oldestFirst) {
      const tr = el('tr');
      const u = r.user || {};
      const cells = [shortTime(r.answered_at || r.shown_at), u.email || u.id || '', r.score ?? '', r.segment, r.comment || ''];
      for (const value of cells) {
        tr.append(el('td', value));
      }
      const followUp = el('td', label(r.follow_up.status) + (r.follow_up.owner ? ` (${r.follow_up.owner})` : ''));
      if (r.follow_up.updated_by) {
        followUp.append(el('p', changedBy(r.follow_up), 'changed-by'));
      }
      if (r.follow_up.notes.length) {
        const notes = el('ul', null, 'notes');
        for (const n of r.follow_up.notes) {
          notes.append(el('li', noteLine(n)));
        }
        followUp.append(notes);
      }
      tr.append(followUp);
      body.append(tr);
    }
    $('back').focus();
  } catch (e) {
    announce(`Could not open the account: ${e.message}`);
  }
}

async function download(path, extra, name) {
  const blob = await (await api(path, extra)).blob();
  const a = el('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, e.target.elements.token.value.trim());
  load();
});
$('filters').addEventListener('submit', (e) => {
  e.preventDefault();
  load();
});
$('queue').addEventListener('submit', (e) => {
  e.preventDefault();
  load();
});
$('new-token').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = e.target.elements;
  try {
    const made = await write('POST', '/v1/tokens', { name: form.name.value.trim(), role: form.role.value });
    $('new-token-value').textContent = made.token;
    $('new-token-shown').hidden = false;
    form.name.value = '';
    announce(`Made a ${made.role} token for ${made.name}`);
    await loadTeam();
  } catch (err) {
    announce(`Could not make the token: ${err.message}`);
  }
});
// A link with `#token=…` (the one the collector prints) signs in; the token leaves the
// address bar and the history at once.
if (location.hash.startsWith('#token=')) {
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(location.hash.slice('#token='.length)));
  history.replaceState(null, '', location.pathname + location.search);
} else if (location.hash.startsWith('#response=')) {
  wanted = decodeURIComponent(location.hash.slice('#response='.length));
}
$('silent-csv').addEventListener('click', () => download('/v1/accounts', { segment: 'silent', format: 'csv' }, 'nps-silent-accounts.csv'));
$('accounts-csv').addEventListener('click', () => download('/v1/accounts', { format: 'csv' }, 'nps-accounts.csv'));
$('silent-links').addEventListener('click', () => mailMerge('silent'));
$('copy-url').addEventListener('click', () => copy('link-url', 'Link'));
$('copy-html').addEventListener('click', () => copy('link-html', 'Email block'));
$('close-link').addEventListener('click', () => {
  $('link-view').hidden = true;
});
$('send-digest').addEventListener('click', sendDigest);
$('back').addEventListener('click', () => {
  $('account-view').hidden = true;
  $('board').hidden = false;
});
load();
