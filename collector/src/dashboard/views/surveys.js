// The surveys (`#/surveys`): the surveys the team manages on this collector, and an editor
// for one: its name, every text the card says (per language, the built-in text shown as each
// field's placeholder), who is asked, where and when; beside it a live preview that is the real
// widget (inline, forced, posting nowhere), redrawn as the form changes. Save makes a new
// version (refused with the collector's words next to the field at fault, or when someone saved
// since); Activate, Pause and Resume; a version history with what changed and a Revert, which
// saves the old definition as a new version. Every value is set as text, never as markup.
import { call } from '../api.js';
import { $, el, button, fillSelect, announce } from '../dom.js';
import { shortTime } from '../format.js';
import { session, isAdmin } from '../session.js';

// The survey open in the editor (as the collector last gave it), and the preview widget.
let open = null;
let preview = null;
let redraw = 0;
const form = $('survey-form');
// The keys of the card's texts, in the order the card shows them.
const textKeys = () => session.choices.text_keys;

function label(key) {
  return key.charAt(0).toUpperCase() + key.slice(1).replace(/_/g, ' ');
}

/// The text fields, once: one per text the card shows.
function buildTextFields() {
  if ($('text-fields').childElementCount) {
    return;
  }
  fillSelect($('survey-locale'), [['', 'every language'], ...Object.keys(session.choices.texts).map((l) => [l, l])]);
  for (const key of textKeys()) {
    const p = el('p', null, 'field');
    const l = el('label', label(key));
    const input = el(key.endsWith('prompt') || key.endsWith('thanks') ? 'textarea' : 'input');
    input.name = `text:${key}`;
    input.dataset.key = 'strings';
    if (input.tagName === 'TEXTAREA') {
      input.rows = 2;
    }
    l.append(input);
    p.append(l, el('span', null, 'field-error'));
    $('text-fields').append(p);
  }
  const fill = (name, values, first) => fillSelect(form.elements[name], [['', first], ...values.map((v) => [v, v])]);
  fill('trigger', session.choices.triggers, 'load (the default)');
  fill('position', session.choices.positions.filter((p) => p !== 'inline'), 'bottom-right (the default)');
  fill('theme', session.choices.themes, 'auto (the default)');
}

/// The strings of the language chosen in the form (`""`: every language).
function stringsOf(definition, locale) {
  const strings = definition.strings || {};
  return locale ? strings[locale] || {} : strings;
}

function showTexts() {
  const locale = $('survey-locale').value;
  const texts = stringsOf(open.edited, locale);
  const builtIn = session.choices.texts[locale] || session.choices.texts.en;
  for (const key of textKeys()) {
    const input = form.elements[`text:${key}`];
    input.value = typeof texts[key] === 'string' ? texts[key] : '';
    input.placeholder = builtIn[key];
  }
}

/// The definition the form says, over the one being edited (other languages' texts stay).
function definitionOfForm() {
  const d = structuredClone(open.edited);
  const locale = $('survey-locale').value;
  const strings = d.strings || {};
  const target = locale ? (strings[locale] = { ...(strings[locale] || {}) }) : strings;
  for (const key of textKeys()) {
    const value = form.elements[`text:${key}`].value;
    if (value.trim()) {
      target[key] = value;
    } else {
      delete target[key];
    }
  }
  if (locale && !Object.keys(target).length) {
    delete strings[locale];
  }
  if (Object.keys(strings).length) {
    d.strings = strings;
  } else {
    delete d.strings;
  }
  const list = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);
  const number = (text) => (text.trim() === '' || Number.isNaN(Number(text)) ? text.trim() : Number(text));
  const fields = {
    trigger: (v) => v,
    events: list,
    event_count: number,
    pages: list,
    sample_rate: number,
    recontact_days: number,
    position: (v) => v,
    theme: (v) => v,
  };
  for (const [name, read] of Object.entries(fields)) {
    const raw = form.elements[name].value;
    const value = raw.trim() === '' ? undefined : read(raw);
    if (value === undefined || (Array.isArray(value) && !value.length)) {
      delete d[name];
    } else {
      d[name] = value;
    }
  }
  const audience = form.elements.audience.value.trim();
  if (audience) {
    try {
      d.audience = JSON.parse(audience);
    } catch {
      d.audience = audience;
    }
  } else {
    delete d.audience;
  }
  const referral = form.elements.referral.value.trim();
  if (referral) {
    d.referral = { ...(typeof d.referral === 'object' && d.referral ? d.referral : {}), url: referral };
  } else {
    delete d.referral;
  }
  return d;
}

function fillForm() {
  const d = open.edited;
  form.elements.name.value = open.name;
  showTexts();
  const text = (value) => (value == null ? '' : Array.isArray(value) ? value.join(', ') : String(value));
  for (const name of ['trigger', 'events', 'event_count', 'pages', 'sample_rate', 'recontact_days', 'position', 'theme']) {
    form.elements[name].value = text(d[name]);
  }
  form.elements.audience.value = d.audience ? JSON.stringify(d.audience) : '';
  form.elements.referral.value = d.referral?.url || '';
}

/// The collector's (or the widget's) sentence, beside the field it names.
function showError(message, field) {
  for (const span of form.querySelectorAll('.field-error')) {
    span.textContent = '';
  }
  $('survey-error').textContent = '';
  if (!message) {
    return;
  }
  const key = (field || '').replace(/^definition\./, '').split(/[.[]/)[0];
  const input = key ? form.querySelector(`[data-key="${CSS.escape(key)}"]`) : null;
  const span = input?.closest('.field')?.querySelector('.field-error');
  (span || $('survey-error')).textContent = message;
  input?.setAttribute('aria-invalid', 'true');
}

/// The key a widget's error sentence names (`"trigger" must be …`, `audience[0]: …`).
function keyOf(message) {
  const m = /^nps-widget: (?:"([a-z_]+)|unknown key "([a-z_]+)|([a-z_]+)\[)/.exec(message);
  return m ? m[1] || m[2] || m[3] : '';
}

/// Loads the widget once (its script tag's loader, bare: the page creates the widget; under
/// the dashboard's CSP it runs its JavaScript build), then draws the form's definition.
async function drawPreview() {
  const mine = ++redraw;
  if (!window.NpsWidget) {
    const script = document.createElement('script');
    script.src = '/nps-widget.js';
    script.async = true;
    const loaded = new Promise((resolve, reject) => {
      script.addEventListener('load', resolve);
      script.addEventListener('error', reject);
    });
    document.head.append(script);
    try {
      await loaded;
      await window.NpsWidget.ready;
    } catch {
      $('preview-note').textContent = 'The widget is not served here: start the collector with --static dist to preview.';
      return;
    }
  }
  if (mine !== redraw) {
    return;
  }
  const definition = definitionOfForm();
  const locale = $('survey-locale').value;
  preview?.destroy();
  preview = null;
  $('survey-preview').textContent = '';
  try {
    preview = window.NpsWidget.create({
      ...definition,
      ...(locale ? { locale } : {}),
      endpoint: '/v1/preview',
      survey_id: `preview-${open.id}`,
      position: 'inline',
      target: '#survey-preview',
      trigger: 'manual',
      force: true,
      delay_ms: 0,
    });
    preview.show({ force: true });
    $('preview-note').textContent = '';
    showError('');
  } catch (e) {
    showError(String(e.message).replace(/^nps-widget: /, ''), keyOf(e.message));
    $('preview-note').textContent = 'The preview shows the last definition the widget could read.';
  }
}

function scheduleRedraw() {
  clearTimeout(scheduleRedraw.timer);
  scheduleRedraw.timer = setTimeout(drawPreview, 150);
}

function showState() {
  $('editor-h').textContent = `Survey ${open.id}`;
  $('survey-state').textContent = `${open.status}, version ${open.version}, saved ${shortTime(open.changed_at)} by ${open.changed_by}`;
  $('survey-status').textContent = open.status === 'active' ? 'Pause' : open.status === 'paused' ? 'Resume' : 'Activate';
}

/// What changed from `before` to `after`: the keys whose values differ, and name or status.
function changes(before, after) {
  if (!before) {
    return 'made';
  }
  const keys = new Set([...Object.keys(before.definition), ...Object.keys(after.definition)]);
  const changed = [...keys].filter((k) => JSON.stringify(before.definition[k]) !== JSON.stringify(after.definition[k]));
  if (before.name !== after.name) {
    changed.push('name');
  }
  if (before.status !== after.status) {
    changed.push(`status → ${after.status}`);
  }
  return changed.length ? changed.join(', ') : 'nothing';
}

async function showVersions() {
  const r = await call('GET', `/v1/surveys/${encodeURIComponent(open.id)}/versions`);
  const body = $('survey-versions').tBodies[0];
  body.textContent = '';
  const versions = r.ok ? r.body : [];
  versions.forEach((v, i) => {
    const tr = el('tr');
    for (const value of [v.version, shortTime(v.changed_at), v.changed_by, v.status, changes(versions[i + 1], v)]) {
      tr.append(el('td', value));
    }
    const cell = el('td');
    if (v.version !== open.version && isAdmin()) {
      cell.append(button(`Revert to version ${v.version}`, () => save({ name: v.name, definition: v.definition }, `Reverted to version ${v.version}`), 'link'));
    }
    tr.append(cell);
    body.append(tr);
  });
}

async function edit(id) {
  const r = await call('GET', `/v1/surveys/${encodeURIComponent(id)}`);
  if (!r.ok) {
    announce(`Could not open ${id}: ${r.body.error || r.status}`);
    return;
  }
  open = { ...r.body, edited: r.body.definition };
  buildTextFields();
  $('survey-editor').hidden = false;
  fillForm();
  showState();
  showError('');
  await showVersions();
  drawPreview();
  form.elements.name.focus();
}

/// Saves `change` as a new version, if nobody saved since the one open.
async function save(change, done) {
  const r = await call('PUT', `/v1/surveys/${encodeURIComponent(open.id)}`, change, { 'If-Match': `"${open.version}"` });
  if (!r.ok) {
    showError(r.status === 412 ? `${r.body.error}` : r.body.error || `${r.status}`, r.status === 412 ? '' : r.body.field);
    announce(`Not saved: ${r.body.error || r.status}`);
    return;
  }
  open = { ...r.body, edited: r.body.definition };
  fillForm();
  showState();
  showError('');
  announce(`${done}: version ${open.version}`);
  await showVersions();
  await renderSurveys();
  drawPreview();
}

async function renderSurveys() {
  const r = await call('GET', '/v1/surveys');
  const body = $('surveys').tBodies[0];
  body.textContent = '';
  for (const s of r.ok ? r.body : []) {
    const tr = el('tr');
    for (const value of [s.id, s.name, s.status, s.version, shortTime(s.changed_at)]) {
      tr.append(el('td', value));
    }
    const cell = el('td');
    cell.append(button(`Open ${s.id}`, () => edit(s.id), 'link'));
    tr.append(cell);
    body.append(tr);
  }
  if (!body.childElementCount) {
    const tr = el('tr');
    const td = el('td', 'No surveys yet.', 'empty');
    td.colSpan = 6;
    tr.append(td);
    body.append(tr);
  }
}

export async function show() {
  await renderSurveys();
}

form.addEventListener('input', (e) => {
  if (e.target.name !== 'locale') {
    open.edited = definitionOfForm();
    scheduleRedraw();
  }
});
$('survey-locale').addEventListener('change', () => {
  showTexts();
  scheduleRedraw();
});
form.addEventListener('submit', (e) => {
  e.preventDefault();
  save({ name: form.elements.name.value.trim(), definition: definitionOfForm() }, 'Saved');
});
$('survey-status').addEventListener('click', () => {
  const status = open.status === 'active' ? 'paused' : 'active';
  save({ status }, status === 'active' ? 'Active' : 'Paused');
});
$('survey-close').addEventListener('click', () => {
  preview?.destroy();
  preview = null;
  open = null;
  $('survey-editor').hidden = true;
});
$('new-survey').addEventListener('submit', async (e) => {
  e.preventDefault();
  const fields = e.target.elements;
  const r = await call('POST', '/v1/surveys', { id: fields.id.value.trim(), name: fields.name.value.trim(), definition: {} });
  $('new-survey-error').textContent = r.ok ? '' : r.body.error || `${r.status}`;
  if (r.ok) {
    fields.id.value = '';
    fields.name.value = '';
    await renderSurveys();
    await edit(r.body.id);
  }
});
