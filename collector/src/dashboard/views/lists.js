// The lists to act on (`#/lists/<segment>`, one segment per view, tabs for the four): every
// response with its follow-up (status, owner, notes), filtered by open, status or "only
// mine"; a personal link per person and a mail merge of the list; for promoters and passives
// a form to record the referral they gave. Viewers read the follow-ups, members change them.
import { getJson, get, write, postForBlob, filterBody } from '../api.js';
import { $, el, button, fillSelect, announce, save } from '../dom.js';
import { shortTime, label, SEGMENT_TITLES, LIST_NAMES } from '../format.js';
import { session, canWrite } from '../session.js';
import { refresh } from '../router.js';

/// The response a `#response=<id>` link asked for, highlighted once its list is shown.
let wanted = null;

export function want(id) {
  wanted = id;
}

/// `contacted by ana at 2026-11-30 10:12`, when someone changed it.
export function changedBy(followUp) {
  return followUp.updated_by ? `${label(followUp.status)} by ${followUp.updated_by} at ${shortTime(followUp.updated_at)}` : '';
}

export function noteLine(note) {
  return `${shortTime(note.at)}${note.author ? ` ${note.author}` : ''}: ${note.text}`;
}

function queueFilter() {
  const form = new FormData($('queue'));
  return { status: form.get('status'), mine: form.get('mine') === 'on' };
}

let menusBuilt = false;

function buildMenus() {
  if (menusBuilt) {
    return;
  }
  fillSelect($('queue').elements.status, [
    ['open', 'open items'],
    ['', 'everything'],
    ...session.choices.statuses.map((s) => [s, label(s)]),
  ]);
  menusBuilt = true;
}

export async function show(segment, visit) {
  buildMenus();
  const queue = queueFilter();
  const rows = await getJson('/v1/responses', {
    segment, limit: 200, status: queue.status, owner: queue.mine ? session.me.name : '',
  });
  if (!visit.current()) {
    return null;
  }
  $('list-h').textContent = `${LIST_NAMES[segment]} to act on`;
  for (const tab of document.querySelectorAll('#lists-view [data-segment]')) {
    if (tab.dataset.segment === segment) {
      tab.setAttribute('aria-current', 'page');
    } else {
      tab.removeAttribute('aria-current');
    }
  }
  $('link-view').hidden = true;
  renderList(segment, rows);
  return showWanted(segment, visit);
}

/// The row of the `#response=` link, focused; if the open queue hides it (closed since the
/// alert, or not the teammate's), the list is shown with everything once.
async function showWanted(segment, visit) {
  if (!wanted) {
    return null;
  }
  const tr = [...document.querySelectorAll('#lists tr[data-id]')].find((r) => r.dataset.id === wanted);
  const status = $('queue').elements.status;
  if (!tr && status.value !== '') {
    status.value = '';
    $('queue').elements.mine.checked = false;
    return show(segment, visit);
  }
  wanted = null;
  if (!tr) {
    return { message: 'The response from the alert is not in the lists' };
  }
  tr.classList.add('wanted');
  tr.tabIndex = -1;
  tr.scrollIntoView({ block: 'center' });
  return { focus: tr, message: 'The response from the alert is highlighted in its list' };
}

function statusOptions(segment) {
  const referrals = segment === 'promoter' || segment === 'passive';
  return session.choices.statuses.filter((s) => referrals || !session.choices.referral_statuses.includes(s));
}

/// One response's follow-up controls: status, owner, notes.
function followUpControls(r, who) {
  const notes = el('ul', null, 'notes');
  for (const n of r.follow_up.notes) {
    notes.append(el('li', noteLine(n)));
  }
  if (!canWrite()) {
    const view = el('div', label(r.follow_up.status) + (r.follow_up.owner ? ` (${r.follow_up.owner})` : ''));
    view.append(notes);
    return view;
  }
  const patch = (body) => write('PATCH', `/v1/responses/${encodeURIComponent(r.id)}/follow-up`, body);
  const box = el('div', null, 'item-controls');
  const by = el('p', changedBy(r.follow_up), 'changed-by');
  const status = el('select');
  status.setAttribute('aria-label', `Follow-up status for ${who}`);
  fillSelect(status, statusOptions(r.segment).map((s) => [s, label(s)]));
  status.value = r.follow_up.status;
  status.addEventListener('change', async () => {
    try {
      const f = await patch({ status: status.value });
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
      const f = await patch({ owner: owner.value.trim() || null });
      by.textContent = changedBy(f);
      announce(`${who}: owner ${f.owner || 'none'}`);
    } catch (e) {
      announce(`Could not set the owner: ${e.message}`);
    }
  });
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

/// "Record a referral": who the promoter (or passive) referred, POSTed to the response.
function referralForm(r, who) {
  const details = el('details', null, 'referral');
  details.append(el('summary', `Record a referral from ${who}`));
  const form = el('form');
  const field = (name, text, type = 'text') => {
    const l = el('label', text);
    const input = el('input');
    input.name = name;
    input.type = type;
    l.append(input);
    form.append(l);
    return input;
  };
  const name = field('name', 'Name');
  name.required = true;
  field('company', 'Company');
  field('email', 'Email', 'email');
  field('note', 'Note');
  const submit = el('button', 'Record the referral');
  submit.type = 'submit';
  form.append(submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = (key) => form.elements[key].value.trim() || null;
    try {
      const made = await write('POST', `/v1/responses/${encodeURIComponent(r.id)}/referrals`, {
        name: value('name'), company: value('company'), email: value('email'), note: value('note'),
      });
      form.reset();
      details.open = false;
      announce(`Referral of ${made.name} from ${who} recorded`);
    } catch (err) {
      announce(`Could not record the referral: ${err.message}`);
    }
  });
  details.append(form);
  return details;
}

function renderList(segment, rows) {
  const box = $('lists');
  box.textContent = '';
  const section = el('section', null, 'list');
  const h = el('h3');
  h.append(el('span', null, `dot ${segment}`), el('span', `${SEGMENT_TITLES[segment]} (${rows.length})`));
  h.append(button(`Download ${segment}s as CSV`, () => download(segment)));
  if (canWrite()) {
    h.append(button(`Personal links for ${segment}s (CSV)`, () => mailMerge(segment)));
  }
  section.append(h);
  if (!rows.length) {
    section.append(el('p', 'Nobody here.', 'empty'));
    box.append(section);
    return;
  }
  const table = el('table');
  const head = el('tr');
  for (const c of ['User', 'Account', 'Score', 'Comment', 'May contact', 'Date', 'Follow-up']) {
    head.append(el('th', c));
  }
  const thead = el('thead');
  thead.append(head);
  const tbody = el('tbody');
  const referrals = canWrite() && (segment === 'promoter' || segment === 'passive');
  for (const r of rows) {
    const tr = el('tr');
    const u = r.user || {};
    const who = u.email || u.id || r.id.slice(0, 8);
    const cells = [u.email || u.id || '', u.account_id || '', r.score ?? '', r.comment || '', r.contact_consent ? 'yes' : '', shortTime(r.answered_at || r.shown_at)];
    for (const value of cells) {
      tr.append(el('td', value));
    }
    const controls = el('td');
    controls.append(followUpControls(r, who));
    if (canWrite() && (u.id || u.email)) {
      controls.append(button(`Personal link for ${u.email || u.id}`, () => personalLink(r)));
    }
    if (referrals) {
      controls.append(referralForm(r, who));
    }
    tr.append(controls);
    tr.dataset.id = r.id;
    tbody.append(tr);
  }
  table.append(thead, tbody);
  section.append(table);
  box.append(section);
}

async function download(segment) {
  try {
    save(await (await get('/v1/responses', { segment, format: 'csv' })).blob(), `nps-${segment}s.csv`);
  } catch (e) {
    announce(`Could not download: ${e.message}`);
  }
}

/// A mail merge of one list: every person of it with an email, and their personal link, as
/// CSV for the team's email tool (POST /v1/links/bulk).
async function mailMerge(segment) {
  try {
    save(await postForBlob('/v1/links/bulk', { ...filterBody(), segment }), `nps-links-${segment}.csv`);
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

$('queue').addEventListener('submit', (e) => {
  e.preventDefault();
  refresh();
});
$('copy-url').addEventListener('click', () => copy('link-url', 'Link'));
$('copy-html').addEventListener('click', () => copy('link-html', 'Email block'));
$('close-link').addEventListener('click', () => {
  $('link-view').hidden = true;
});
