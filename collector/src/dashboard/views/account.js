// One account (`#/accounts/<id>`): its record (name, ARR, plan, owner, renewal, a link to its
// CRM record), which members edit; its people by role, who stayed silent and who would make a
// good reference; its people's answers over time with their follow-ups; and what happened at
// the account (annotations).
import { getJson, write } from '../api.js';
import { $, el, row, announce } from '../dom.js';
import { withMargin, shortTime, label, money } from '../format.js';
import { session, canWrite } from '../session.js';
import { changedBy, noteLine } from './lists.js';
import { accountName } from './accounts.js';
import { annotationLine } from './overview.js';

/// The account open now (its row, as the collector last gave it).
let open = null;

export async function show(id, visit) {
  const [account, responses, people, annotations] = await Promise.all([
    getJson(`/v1/accounts/${encodeURIComponent(id)}`, { interval: '' }),
    getJson('/v1/responses', { account_id: id, limit: 1000 }),
    getJson(`/v1/accounts/${encodeURIComponent(id)}/people`, { interval: '' }),
    getJson('/v1/annotations', { account_id: id, survey_id: '', interval: '' }),
  ]);
  if (!visit.current()) {
    return;
  }
  open = account;
  $('account-h').textContent = `Account ${accountName(account)}`;
  $('account-figures').textContent =
    `${account.segment}, NPS ${withMargin(account)}, ${account.people} people answered, ` +
    `${account.silent} silent, ${account.open_follow_ups} open follow-ups`;
  renderRecord(account);
  renderPeople(people);
  renderResponses(responses);
  renderAnnotations(annotations);
}

/// A CRM link only when it is http(s): a `javascript:` URL in an imported record must not run.
function safeUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

function renderRecord(a) {
  const record = $('account-record');
  record.hidden = false;
  $('account-edit').hidden = !canWrite();
  record.textContent = '';
  const fields = [
    ['Account id', a.account_id],
    ['Name', a.name || 'no record yet'],
    ['ARR', a.arr == null ? 'unknown' : money(a.arr, session.currency)],
    ['Plan', a.plan || '–'],
    ['Owner', a.owner || '–'],
    ['Renewal', a.renewal_on || '–'],
  ];
  for (const [term, value] of fields) {
    record.append(el('dt', term), el('dd', value));
  }
  const crm = a.crm_url ? safeUrl(a.crm_url) : null;
  if (crm) {
    const link = el('a', 'Open in the CRM');
    link.href = crm;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    const dd = el('dd');
    dd.append(link);
    record.append(el('dt', 'CRM'), dd);
  }
  const form = $('account-edit').elements;
  form.name.value = a.name || '';
  form.arr.value = a.arr ?? '';
  form.plan.value = a.plan || '';
  form.owner.value = a.owner || '';
  form.renewal_on.value = a.renewal_on || '';
  form.crm_url.value = a.crm_url || '';
  $('account-edit-error').textContent = '';
}

/// A role's heading: `decision_maker` → `Decision makers`.
function roleTitle(role) {
  if (!role) {
    return 'No role';
  }
  const words = label(role);
  return `${words.charAt(0).toUpperCase()}${words.slice(1)}s`;
}

/// The people grouped by role (the collector's order within: references first), "no role"
/// last; the silent ones and the references marked in words, not colour alone.
function renderPeople(people) {
  $('account-people-box').hidden = !people;
  if (!people) {
    return;
  }
  const box = $('account-people');
  box.textContent = '';
  if (!people.length) {
    box.append(el('p', 'Nobody at this account was asked yet.', 'empty'));
    return;
  }
  const roles = new Map();
  for (const p of people) {
    const role = p.role || '';
    if (!roles.has(role)) {
      roles.set(role, []);
    }
    roles.get(role).push(p);
  }
  // Roles in a stable order (decision makers, influencers, users read as the practice lists
  // them), "no role" last.
  const order = [...roles.keys()].filter((r) => r).sort().concat(roles.has('') ? [''] : []);
  for (const role of order) {
    const members = roles.get(role);
    // References first, whatever order the answer had.
    members.sort((x, y) => Number(y.reference) - Number(x.reference));
    const group = el('section', null, 'people-group');
    const h = el('h4', `${roleTitle(role)} (${members.length})`);
    const list = el('ul', null, 'people');
    for (const p of members) {
      const item = el('li');
      item.append(el('span', p.email || p.user_id, 'person'));
      if (p.silent) {
        item.append(el('span', '?', 'score silent-mark'), el('span', ' did not answer', 'note'));
      } else {
        item.append(el('span', ` ${p.score} `, 'score'), el('span', p.segment, `badge ${p.segment}`));
      }
      if (p.reference) {
        item.append(el('span', 'reference', 'badge reference'));
        item.classList.add('reference');
      }
      const asked = p.last_answered_at ? `answered ${shortTime(p.last_answered_at)}` : p.last_asked_at ? `asked ${shortTime(p.last_asked_at)}` : '';
      if (asked) {
        item.append(el('span', ` ${asked}`, 'note'));
      }
      list.append(item);
    }
    group.append(h, list);
    box.append(group);
  }
}

function renderResponses(responses) {
  const body = $('account-responses').tBodies[0];
  body.textContent = '';
  const oldestFirst = [...responses].reverse();
  for (const r of oldestFirst) {
    const u = r.user || {};
    const tr = row([shortTime(r.answered_at || r.shown_at), u.email || u.id || '', r.score ?? '', r.segment, r.comment || '']);
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
}

function renderAnnotations(annotations) {
  $('account-annotations-box').hidden = !annotations;
  if (!annotations) {
    return;
  }
  const list = $('account-annotations');
  list.replaceChildren(...annotations.map((a) => el('li', annotationLine(a))));
  if (!annotations.length) {
    list.append(el('li', 'Nothing noted for this account.', 'empty'));
  }
}

/// The edit form as a PUT body: every field, an empty one as null (which clears it).
function recordOfForm(form) {
  const text = (name) => form[name].value.trim() || null;
  const arr = form.arr.value.trim();
  return {
    name: text('name'),
    arr: arr === '' ? null : Number(arr),
    plan: text('plan'),
    owner: text('owner'),
    renewal_on: text('renewal_on'),
    crm_url: text('crm_url'),
  };
}

$('account-edit').addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = recordOfForm(e.target.elements);
  if (Number.isNaN(body.arr)) {
    $('account-edit-error').textContent = 'ARR must be a number, like 84000';
    return;
  }
  try {
    const saved = await write('PUT', `/v1/accounts/${encodeURIComponent(open.account_id)}`, body);
    open = { ...open, ...saved };
    renderRecord(open);
    $('account-h').textContent = `Account ${accountName(open)}`;
    announce(`Saved the record of ${accountName(open)}`);
  } catch (err) {
    $('account-edit-error').textContent = err.message;
  }
});
