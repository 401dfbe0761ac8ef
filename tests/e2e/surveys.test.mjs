// Surveys the team manages on the collector, in headless Chromium: a site's page embeds one by
// data-survey-url (another origin than the collector's), shows the definition's text, picks up
// an edit on the next visit without a deploy, shows nothing while the survey is paused, keeps
// asking from its last copy while the collector is down, and every answer says which version
// of the survey it saw.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCollector, launch, eventually, sendFile, serve, dataAttributes, person as openPerson, axe, screenshot } from './harness.mjs';

let host, collector, browser;

function hostPage(attrs, pre = '') {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><main><h1>Shop</h1></main><script>${pre}</script><script src="/nps-widget.js" ${dataAttributes(attrs)} async></script></body></html>`;
}

before(async () => {
  host = await serve(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/page') {
      return res.writeHead(200, { 'Content-Type': 'text/html' }).end(hostPage(JSON.parse(url.searchParams.get('attrs')), url.searchParams.get('pre') || ''));
    }
    if (url.pathname === '/favicon.ico') return res.writeHead(204).end();
    await sendFile(res, url.pathname);
  });
  collector = await startCollector(['--allow-origin', host.base]);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await collector?.stop();
  host?.server.close();
});

async function api(c, method, path, body) {
  const r = await fetch(`${c.url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${c.token}` },
    body: body && JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}

/// A survey made and activated on collector `c`, with this definition.
async function survey(c, id, definition) {
  await api(c, 'POST', '/v1/surveys', { id, name: id, definition });
  return api(c, 'PUT', `/v1/surveys/${id}`, { status: 'active' });
}

async function visit(page, c, id, user, query = '') {
  const attrs = {
    endpoint: `${c.url}/v1/responses`,
    'survey-url': `${c.url}/v1/surveys/${id}/definition`,
    'user-id': user,
  };
  await page.goto(`${host.base}/page?attrs=${encodeURIComponent(JSON.stringify(attrs))}${query}`);
}

test('a page embedding data-survey-url shows the definition\'s text, and an edit on the next visit', async () => {
  await survey(collector, 'shop', { strings: { question: 'Would you recommend Acme Shop to a friend?' }, position: 'bottom-left' });
  const page = await openPerson(browser);
  await visit(page, collector, 'shop', 'u_shop');
  await page.getByText('Would you recommend Acme Shop to a friend?').waitFor();
  assert.equal(await page.locator('nps-widget').getAttribute('data-position'), 'bottom-left');
  // The team edits the question; the page, unchanged, asks the new one on the next visit.
  await api(collector, 'PUT', '/v1/surveys/shop', { definition: { strings: { question: 'How likely are you to recommend our shop?' } } });
  const other = await openPerson(browser);
  await visit(other, collector, 'shop', 'u_shop_2');
  await other.getByText('How likely are you to recommend our shop?').waitFor();
  // The answer says which survey and which version it saw.
  await other.locator('[data-score="9"]').click();
  const stored = await eventually(async () => (await collector.responses()).find((r) => r.user?.id === 'u_shop_2'));
  assert.equal(stored.survey_id, 'shop');
  assert.equal(stored.survey_version, 3, 'made (1), activated (2), edited (3)');
  assert.deepEqual(page.errors, []);
  assert.deepEqual(other.errors, []);
  await page.context().close();
  await other.context().close();
});

test('who answers, set by identify() while the definition is on its way, is who the answer names', async () => {
  await survey(collector, 'early', { strings: { question: 'Asked after identify?' } });
  const page = await openPerson(browser);
  const pre = "window.NpsWidget = { q: [['identify', [{ id: 'u_identified', account_id: 'acct_9' }]]] };";
  await visit(page, collector, 'early', 'u_page', `&pre=${encodeURIComponent(pre)}`);
  await page.getByText('Asked after identify?').waitFor();
  await page.locator('[data-score="10"]').click();
  const stored = await eventually(async () => (await collector.responses()).find((r) => r.survey_id === 'early'));
  assert.deepEqual(stored.user, { id: 'u_identified', account_id: 'acct_9' });
  await page.context().close();
});

test('after an answer, the next page view of a managed survey requests only the loader', async () => {
  await survey(collector, 'quiet-managed', { strings: { question: 'Asked once?' } });
  const page = await openPerson(browser);
  await visit(page, collector, 'quiet-managed', 'u_quiet_managed');
  await page.getByText('Asked once?').waitFor();
  await page.locator('[data-score="9"]').click();
  await page.locator('[data-act=skip]').click();
  await eventually(async () => (await collector.responses()).some((r) => r.survey_id === 'quiet-managed' && r.state === 'complete'));
  await eventually(() => page.evaluate(() => !Object.keys(localStorage).some((k) => k.startsWith('nps-widget:outbox:'))));
  page.requests.length = 0;
  await visit(page, collector, 'quiet-managed', 'u_quiet_managed');
  await page.waitForTimeout(800);
  const paths = page.requests.map((r) => r.replace(/\?.*$/, '')).filter((p) => p !== '/favicon.ico');
  assert.deepEqual(paths, ['/page', '/nps-widget.js'], 'no module, no wasm, no definition');
  await page.context().close();
});

test('a paused survey shows nothing, and shows again when resumed', async () => {
  await survey(collector, 'paused', { strings: { question: 'Paused question?' } });
  await api(collector, 'PUT', '/v1/surveys/paused', { status: 'paused' });
  const page = await openPerson(browser);
  await visit(page, collector, 'paused', 'u_paused');
  await eventually(() => page.evaluate(() => window.NpsWidget?.instance !== undefined));
  await page.waitForTimeout(800);
  assert.equal(await page.locator('nps-widget').count(), 0);
  assert.deepEqual(page.errors, [], 'silently');
  await api(collector, 'PUT', '/v1/surveys/paused', { status: 'active' });
  await visit(page, collector, 'paused', 'u_paused');
  await page.getByText('Paused question?').waitFor();
  await page.context().close();
});

test('with the collector stopped, a visit that had loaded the definition before still shows it', async () => {
  const own = await startCollector(['--allow-origin', host.base]);
  await survey(own, 'offline', { strings: { question: 'Asked from the last copy?' } });
  const page = await openPerson(browser);
  await visit(page, own, 'offline', 'u_offline');
  await page.getByText('Asked from the last copy?').waitFor();
  await page.locator('[data-act=close]').click();
  await eventually(async () => (await own.responses()).length === 1);
  // The next view asks again (revalidated by the browser with the ETag it has) and shows it.
  const asked = [];
  page.on('request', (r) => { if (r.url().endsWith('/v1/surveys/offline/definition')) asked.push(r.method()); });
  await visit(page, own, 'offline', 'u_offline_1');
  await page.getByText('Asked from the last copy?').waitFor();
  assert.deepEqual(asked, ['GET'], 'one request per view');
  const url = own.url;
  await own.stop();
  // A new person in the same browser (the close above keeps the first one quiet).
  await visit(page, { url }, 'offline', 'u_offline_2');
  await page.getByText('Asked from the last copy?').waitFor();
  // No copy at all: no card, and one error naming the URL.
  const fresh = await openPerson(browser);
  await visit(fresh, { url }, 'offline', 'u_offline_3');
  const message = `nps-widget: could not load the survey definition from "${url}/v1/surveys/offline/definition"`;
  await eventually(() => fresh.errors.includes(message));
  assert.equal(await fresh.locator('nps-widget').count(), 0);
  await page.context().close();
  await fresh.context().close();
});

test('a draft is not served: no card, one error', async () => {
  await api(collector, 'POST', '/v1/surveys', { id: 'draft', name: 'draft', definition: {} });
  const page = await openPerson(browser);
  await visit(page, collector, 'draft', 'u_draft');
  await eventually(() => page.errors.some((e) => e.includes('could not load the survey definition')));
  assert.equal(await page.locator('nps-widget').count(), 0);
  await page.context().close();
});

test('the team edits a survey in the dashboard: the preview redraws as a field changes, errors sit by their field, save, activate, history and revert', async () => {
  const page = await openPerson(browser);
  await page.setViewportSize({ width: 1200, height: 1000 });
  await page.goto(`${collector.url}/dashboard#token=${collector.token}`);
  await page.locator('#nav').getByRole('link', { name: 'Surveys' }).click();
  await page.locator('#surveys-view').waitFor();
  assert.equal(new URL(page.url()).hash, '#/surveys');
  // A new survey from the form opens in the editor, the preview beside it.
  await page.locator('#new-survey [name=id]').fill('quarterly');
  await page.locator('#new-survey [name=name]').fill('Quarterly NPS');
  await page.getByRole('button', { name: 'Make a survey' }).click();
  await page.locator('#editor-h', { hasText: 'Survey quarterly' }).waitFor();
  const preview = page.locator('#survey-preview nps-widget');
  await preview.getByText('How likely are you to recommend us to a friend or colleague?').waitFor();
  // Each field's placeholder is the built-in text it replaces.
  const question = page.locator('[name="text:question"]');
  assert.equal(await question.getAttribute('placeholder'), 'How likely are you to recommend {product} to a friend or colleague?');
  // Typing redraws the preview: the real widget.
  await question.fill('Would you recommend Acme to a colleague?');
  await preview.getByText('Would you recommend Acme to a colleague?').waitFor();
  await page.locator('[name=sample_rate]').fill('2');
  const error = page.locator('[data-for=sample_rate]');
  await error.getByText('"sample_rate" must be a number from 0 to 1, got 2').waitFor();
  await page.locator('[name=sample_rate]').fill('0.5');
  await eventually(async () => (await error.textContent()) === '');
  // Per language: the French text, with the built-in French as its placeholder.
  await page.locator('#survey-locale').selectOption('fr');
  const frQuestion = page.locator('[name="text:question"]');
  assert.match(await frQuestion.getAttribute('placeholder'), /recommandiez/);
  await frQuestion.fill('Recommanderiez-vous Acme ?');
  await preview.getByText('Recommanderiez-vous Acme ?').waitFor();
  await page.locator('#survey-locale').selectOption('');
  assert.equal(await question.inputValue(), 'Would you recommend Acme to a colleague?', 'every language keeps its own text');
  // (The preview is redrawn 150 ms after the last change and its card fades in: axe and the
  // screenshot read it once the redraw is done and drawn.)
  const drawn = async () => {
    await page.waitForTimeout(400);
    await page.evaluate(() => Promise.all([...document.querySelectorAll('#survey-preview nps-widget')]
      .map((host) => Promise.all(host.shadowRoot.getAnimations().map((a) => a.finished)))));
  };
  await drawn();
  assert.deepEqual(await axe(page), [], 'axe on the editor');
  await page.locator('#survey-editor').evaluate((e) => e.scrollIntoView());
  await drawn();
  await screenshot(page, 'survey-editor.png');

  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('#survey-state', { hasText: 'draft, version 2' }).waitFor();
  await page.getByRole('button', { name: 'Activate' }).click();
  await page.locator('#survey-state', { hasText: 'active, version 3' }).waitFor();
  const saved = await api(collector, 'GET', '/v1/surveys/quarterly');
  assert.deepEqual(saved.definition, {
    strings: { question: 'Would you recommend Acme to a colleague?', fr: { question: 'Recommanderiez-vous Acme ?' } },
    sample_rate: 0.5,
  });
  // A site's page that embeds it asks what was just saved in the dashboard (previewed: the
  // survey now samples half of the people).
  const visitor = await openPerson(browser);
  await visit(visitor, collector, 'quarterly', 'u_quarterly', '&nps_preview=1');
  await visitor.getByText('Would you recommend Acme to a colleague?').waitFor();
  await visitor.context().close();
  // The history says what changed; a revert saves the old definition as a new version.
  const rows = page.locator('#survey-versions tbody tr');
  await eventually(async () => (await rows.count()) === 3);
  assert.deepEqual(await rows.nth(1).locator('td').nth(4).textContent(), 'sample_rate, strings');
  assert.deepEqual(await rows.nth(0).locator('td').nth(4).textContent(), 'status → active');
  await page.getByRole('button', { name: 'Revert to version 1' }).click();
  await page.locator('#survey-state', { hasText: 'active, version 4' }).waitFor();
  assert.deepEqual((await api(collector, 'GET', '/v1/surveys/quarterly')).definition, {});
  await preview.getByText('How likely are you to recommend us to a friend or colleague?').waitFor();
  // A bad definition from the collector: its sentence beside the field.
  await page.locator('[name=events]').fill('report_exported');
  await page.locator('[name=trigger]').selectOption('event');
  await page.locator('[name=audience]').fill('[{"trait": "plan", "equals": "pro"}]');
  await page.locator('[data-for=audience]').getByText('audience[0]: unknown operator "equals", did you mean "is"?').waitFor();
  // Two editors at once: the one who saved second is told, nothing is overwritten.
  await api(collector, 'PUT', '/v1/surveys/quarterly', { name: 'Renamed elsewhere' });
  await page.locator('[name=audience]').fill('');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('#survey-error', { hasText: 'the survey changed since: it is at version 5 now' }).waitFor();
  assert.equal((await api(collector, 'GET', '/v1/surveys/quarterly')).name, 'Renamed elsewhere');
  await drawn();
  assert.deepEqual(await axe(page), [], 'axe with the errors shown');
  await page.context().close();
});
