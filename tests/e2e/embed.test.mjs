// Embedding and targeting in headless Chromium: the script tag (async, defer, data-config, the
// call queue), the ES module, two widgets on a page, destroy, in-app navigation, triggers,
// sampling, the recontact and dismissal waits, previews, and every bad config leaving the page
// working with one named console error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, eventually, sendFile, serve, memoryOverCycles, readBody, dataAttributes } from './harness.mjs';

const received = [];
let server, base, browser;

/// A host page: `attrs` become the script tag's data- attributes; `pre` runs before it.
function scriptPage({ attrs = {}, pre = '', mode = 'async', long = false, bare = false }) {
  const data = dataAttributes(bare ? attrs : { endpoint: '/v1/responses', product: 'Acme', ...attrs });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title></head>
<body><main><h1>Host page</h1><button id="host-button" type="button">Host button</button><p id="out"></p>
${long ? '<div style="height:4000px">Long content</div>' : ''}</main>
<script>document.getElementById('host-button').onclick = () => { document.getElementById('out').textContent = 'Host page still works.'; };</script>
${pre ? `<script>${pre}</script>` : ''}
<script src="/nps-widget.js" ${data} ${mode}></script></body></html>`;
}

/// A page that uses the ES module; `body` is the module code after `init()`.
function modulePage(body, pre = '') {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Module host</title></head>
<body><main><h1>Module host</h1></main>${pre ? `<script>${pre}</script>` : ''}
<script type="module">import init, { NpsWidget } from '/nps_widget.js'; await init(); window.NpsModule = NpsWidget; ${body}; window.started = true;</script>
</body></html>`;
}

before(async () => {
  ({ server, base } = await serve(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/v1/responses' && req.method === 'POST') {
      const body = await readBody(req);
      received.push(JSON.parse(body));
      return res.writeHead(201, { 'Content-Type': 'application/json' }).end('{}');
    }
    const spec = url.searchParams.get('spec');
    if (url.pathname === '/page' || url.pathname.startsWith('/spa/')) {
      return res.writeHead(200, { 'Content-Type': 'text/html' }).end(scriptPage(JSON.parse(spec || '{}')));
    }
    if (url.pathname === '/module') {
      const { body, pre } = JSON.parse(spec);
      return res.writeHead(200, { 'Content-Type': 'text/html' }).end(modulePage(body, pre));
    }
    if (url.pathname === '/favicon.ico') return res.writeHead(204).end();
    await sendFile(res, url.pathname);
  }));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

const url = (path, spec) => `${base}${path}?spec=${encodeURIComponent(JSON.stringify(spec))}`;
const cards = (page) => page.locator('nps-widget:not([data-leaving])').count();
async function noCard(page, ms = 1200) {
  await page.waitForTimeout(ms);
  assert.equal(await cards(page), 0, 'no card');
}
async function answer(page, score, comment) {
  await page.locator(`[data-score="${score}"]`).first().click();
  if (comment) await page.locator('textarea').fill(comment);
  await page.locator(comment ? '[data-act=submit]' : '[data-act=skip]').click();
  await page.locator('p.t').waitFor();
}

test('the script tag works async and defer, with data-config under data- attributes', async () => {
  for (const mode of ['async', 'defer']) {
    const page = await openPage(browser);
    await page.goto(url('/page', {
      mode,
      attrs: { config: JSON.stringify({ product: 'Configured', theme: 'dark', position: 'bottom-left' }), theme: 'light' },
    }));
    const host = page.locator('nps-widget');
    await host.waitFor();
    assert.equal(await host.getAttribute('data-theme'), 'light', 'an attribute overrides data-config');
    assert.equal(await host.getAttribute('data-position'), 'bottom-left', 'data-config applies');
    // data-product="Acme" (an attribute) wins over data-config's product too.
    await page.getByRole('radiogroup', { name: 'How likely are you to recommend Acme to a friend or colleague?' }).waitFor();
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});

test('calls made before the wasm loaded are queued and replayed in order', async () => {
  const page = await openPage(browser);
  const pre = "window.NpsWidget = { q: [['identify', [{ id: 'queued-user', account_id: 'acct-q' }]], ['on', ['shown', (d) => { window.shownFor = d.survey_id; }]]] };";
  await page.goto(url('/page', { attrs: { 'survey-id': 'queue' }, pre }));
  await answer(page, 9, 'queued before load');
  const r = await eventually(() => received.find((x) => x.comment === 'queued before load' && x.state === 'complete'));
  assert.equal(r.user.id, 'queued-user');
  assert.equal(r.user.account_id, 'acct-q');
  assert.equal(r.survey_id, 'queue');
  assert.equal(await page.evaluate(() => window.shownFor), 'queue');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the ES module: two surveys on one page do not interfere', async () => {
  const page = await openPage(browser);
  await page.goto(url('/module', {
    body: `
      window.events = [];
      for (const id of ['first', 'second']) {
        const w = NpsWidget.create({ endpoint: '/v1/responses', product: id, survey_id: id, trigger: 'manual', position: 'inline', target: '#' + id });
        w.on('complete', (d) => window.events.push([id, d.survey_id, d.score]));
        w.show({ force: true });
      }`,
    pre: "document.addEventListener('DOMContentLoaded', () => { for (const id of ['first', 'second']) { const d = document.createElement('div'); d.id = id; document.querySelector('main').append(d); } });",
  }));
  await page.waitForFunction(() => window.started);
  assert.equal(await cards(page), 2);
  // The page kept no reference to either widget: they must survive garbage collection.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  await page.waitForTimeout(200);
  await page.locator('#first [data-score="3"]').click();
  await page.locator('#first [data-act=skip]').click();
  await page.locator('#second [data-score="10"]').click();
  await page.locator('#second [data-act=skip]').click();
  const events = await eventually(() => page.evaluate(() => window.events.length === 2 && window.events));
  assert.deepEqual(events.sort(), [['first', 'first', 3], ['second', 'second', 10]]);
  const first = await eventually(() => received.find((x) => x.survey_id === 'first' && x.state === 'complete'));
  const second = await eventually(() => received.find((x) => x.survey_id === 'second' && x.state === 'complete'));
  assert.equal(first.segment, 'detractor');
  assert.equal(second.segment, 'promoter');
  assert.notEqual(first.id, second.id);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('destroy leaves the page\'s DOM and listeners as they were', async () => {
  const page = await openPage(browser);
  // Counts the listeners on window and document that are still added (Playwright's own, which it
  // adds while driving the page, are left out: the widget never listens to contextmenu).
  const pre = `
    window.live = new Map();
    const add = EventTarget.prototype.addEventListener, remove = EventTarget.prototype.removeEventListener;
    const ignored = (type, f) => type === 'contextmenu' || type.startsWith('__playwright') || String(f).includes('_hitTargetInterceptor');
    const key = (t, type, f) => !ignored(type, f) && (t === window || t === document) && [t === window ? 'window' : 'document', type, f];
    EventTarget.prototype.addEventListener = function (type, f, o) { const k = key(this, type, f); if (k) window.live.set(f, k); return add.call(this, type, f, o); };
    EventTarget.prototype.removeEventListener = function (type, f, o) { if (key(this, type, f)) window.live.delete(f); return remove.call(this, type, f, o); };`;
  await page.goto(url('/module', {
    pre,
    body: `
      window.before = { html: document.body.innerHTML, listeners: window.live.size };
      window.w = NpsWidget.create({ endpoint: '/v1/responses', survey_id: 'destroy', trigger: 'exit_intent', delay_ms: 100000 });
      window.w.show({ force: true });
      window.during = window.live.size;`,
  }));
  await page.waitForFunction(() => window.started);
  assert.equal(await cards(page), 1);
  assert.ok(await page.evaluate(() => window.during > window.before.listeners), 'the widget listens while alive');
  await page.evaluate(() => window.w.destroy());
  const after = await page.evaluate(() => ({ html: document.body.innerHTML, listeners: window.live.size }));
  const before = await page.evaluate(() => window.before);
  assert.equal(after.listeners, before.listeners, 'every listener it added is removed');
  assert.equal(after.html.replace(/<script[\s\S]*?<\/script>/g, ''), before.html.replace(/<script[\s\S]*?<\/script>/g, ''));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the page going online during start-up delays neither ready nor the trigger', async () => {
  // The start-up wake once shared the retry timer's slot: an `online` flush in the same task
  // replaced it, and then `ready` never came and the load trigger never looked.
  const page = await openPage(browser);
  await page.goto(url('/module', {
    body: `
      const w = NpsWidget.create({ endpoint: '/v1/responses', survey_id: 'online-at-start', force: true });
      w.on('ready', (d) => { window.readyFor = d.survey_id; });
      dispatchEvent(new Event('online'));`,
  }));
  await eventually(() => page.evaluate(() => window.readyFor));
  assert.equal(await page.evaluate(() => window.readyFor), 'online-at-start');
  await eventually(async () => (await cards(page)) === 1);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('in-app navigation counts as page views for the page_views trigger', async () => {
  const page = await openPage(browser);
  await page.goto(url('/page', { attrs: { 'survey-id': 'spa', trigger: 'page_views', 'page-views': '3' } }));
  await page.evaluate(() => window.NpsWidget.ready);
  await noCard(page, 500);
  await page.evaluate(() => history.pushState({}, '', '/spa/reports'));
  await noCard(page, 500);
  await page.evaluate(() => history.pushState({}, '', '/spa/settings'));
  await page.locator('nps-widget').waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('scroll depth and exit intent triggers wait for their moment', async () => {
  const scroll = await openPage(browser);
  await scroll.goto(url('/page', { long: true, attrs: { 'survey-id': 'scroll', trigger: 'scroll', 'scroll-depth': '0.5' } }));
  await scroll.evaluate(() => window.NpsWidget.ready);
  await noCard(scroll, 500);
  await scroll.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await scroll.locator('nps-widget').waitFor();
  await scroll.context().close();

  const exit = await openPage(browser);
  await exit.goto(url('/page', { attrs: { 'survey-id': 'exit', trigger: 'exit_intent' } }));
  await exit.evaluate(() => window.NpsWidget.ready);
  await exit.mouse.move(400, 300);
  await noCard(exit, 500);
  // The pointer leaves the window through the top edge.
  await exit.evaluate(() => document.documentElement.dispatchEvent(
    new MouseEvent('mouseout', { bubbles: true, clientX: 400, clientY: -2, relatedTarget: null })));
  await exit.locator('nps-widget').waitFor();
  assert.deepEqual(exit.errors, []);
  await exit.context().close();
});

test('who answered or dismissed is not asked again too soon; previews and force skip the rules', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const answered = url('/page', { attrs: { 'survey-id': 'recontact', 'user-id': 'u-1' } });
  await page.goto(answered);
  await answer(page, 8);
  await page.reload();
  await noCard(page);
  await page.goto(`${answered}&nps_preview=1`);
  await page.locator('nps-widget').waitFor();

  const dismissed = url('/page', { attrs: { 'survey-id': 'cooldown' } });
  await page.goto(dismissed);
  await page.locator('[data-act=close]').click();
  await page.reload();
  await noCard(page);

  const unsampled = url('/page', { attrs: { 'survey-id': 'sampled-out', 'sample-rate': '0' } });
  await page.goto(unsampled);
  await noCard(page);
  await page.evaluate(() => window.NpsWidget.show({ force: true }));
  await page.locator('nps-widget').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('one card per page, however many surveys want to show', async () => {
  const page = await openPage(browser);
  await page.goto(url('/module', {
    body: `for (const id of ['one', 'two']) NpsWidget.create({ endpoint: '/v1/responses', survey_id: id })`,
  }));
  await page.locator('nps-widget').first().waitFor();
  await page.waitForTimeout(800);
  assert.equal(await cards(page), 1);
  await page.context().close();
});

test('each bad config leaves the page working with one console error naming the problem', async () => {
  const cases = [
    [{ endpont: '/v1/responses' }, 'unknown key "endpont", did you mean "endpoint"?'],
    [{ 'sample-rate': '2' }, '"sample_rate" must be a number from 0 to 1, got "2"'],
    [{ position: 'top' }, '"position" must be "bottom-right", "bottom-left", "modal" or "inline", got "top"'],
    [{ endpoint: 'javascript:alert(1)' }, '"endpoint" must be an http(s) URL or a path, got "javascript:alert(1)"'],
    [{ config: '{not json' }, '"data-config" must be valid JSON'],
    [{ position: 'inline' }, '"target" is required'],
    [{ 'timeout-ms': '5' }, '"timeout_ms" must be a whole number from 100 to 120000, got "5"'],
    [{ trigger: 'page_views', 'page-views': '0' }, '"page_views" must be a whole number from 1 to 10000, got "0"'],
  ];
  for (const [attrs, message] of cases) {
    const page = await openPage(browser);
    await page.goto(url('/page', { attrs }));
    await eventually(() => page.errors.length > 0);
    await page.waitForTimeout(300);
    assert.deepEqual(page.errors, [`nps-widget: ${message}`], JSON.stringify(attrs));
    assert.equal(await cards(page), 0);
    await page.getByRole('button', { name: 'Host button' }).click();
    await page.getByText('Host page still works.').waitFor();
    await page.context().close();
  }
});

test('a script tag with config but no endpoint, or a misspelled key, says so once; a bare tag stays quiet', async () => {
  const cases = [
    [{ endpont: '/collect', product: 'Acme' }, /^nps-widget: unknown key "endpont", did you mean "endpoint"\?$/],
    [{ product: 'Acme' }, /^nps-widget: .*"endpoint"/],
    [{ 'survey-idd': 'beta', endpoint: '/v1/responses' }, /^nps-widget: unknown key "survey_idd", did you mean "survey_id"\?$/],
  ];
  for (const [attrs, message] of cases) {
    const page = await openPage(browser);
    await page.goto(url('/page', { attrs, bare: true }));
    await eventually(() => page.errors.length > 0);
    await page.waitForTimeout(300);
    assert.equal(page.errors.length, 1, `${JSON.stringify(attrs)}: ${page.errors}`);
    assert.match(page.errors[0], message, JSON.stringify(attrs));
    assert.equal(await cards(page), 0);
    await page.context().close();
  }
  // No config at all: the page calls NpsWidget.create itself.
  const page = await openPage(browser);
  await page.goto(url('/page', { attrs: {}, bare: true }));
  await page.waitForFunction(() => window.NpsWidget && window.NpsWidget.create);
  await noCard(page, 500);
  assert.deepEqual(page.errors, []);
  await page.evaluate(() => window.NpsWidget.create({ endpoint: '/v1/responses', product: 'Acme', force: true }));
  await page.locator('nps-widget').first().waitFor();
  await page.context().close();
});

test('enumerable additions to Object.prototype and Array.prototype change nothing', async () => {
  received.length = 0;
  const pre = 'Object.prototype.extend = function () {}; Array.prototype.last = function () {};';
  const config = JSON.stringify({ user: { traits: { plan: 'pro' } }, headers: { 'X-Site': 'old' }, strings: { submit: 'Send' } });
  const page = await openPage(browser);
  await page.goto(url('/page', { attrs: { 'user-id': 'u_old', 'account-id': 'acct_old', 'user-hash': 'c0ffee', config, force: 'true' }, pre }));
  await page.locator('nps-widget').first().waitFor();
  await page.locator('[data-score="9"]').first().click();
  assert.equal(await page.locator('[data-act=submit]').textContent(), 'Send');
  await page.locator('[data-act=submit]').click();
  await eventually(() => received.some((r) => r.state === 'complete' && r.user.id === 'u_old'));
  // This page's response (a page of an earlier test may still be delivering to the server).
  const r = received.find((x) => x.state === 'complete' && x.user.id === 'u_old');
  assert.deepEqual(r.user, { id: 'u_old', account_id: 'acct_old', hash: 'c0ffee', traits: { plan: 'pro' } }, 'data-user-hash travels with the response');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('100 show/destroy cycles do not grow memory', async () => {
  const page = await openPage(browser);
  await page.goto(url('/module', { body: 'window.wasm = await init()' }));
  await page.waitForFunction(() => window.started);
  const { warm, after } = await memoryOverCycles(page);
  console.log(`memory: wasm ${warm.wasm} -> ${after.wasm} B, JS heap ${warm.heap} -> ${after.heap} B over 100 cycles`);
  assert.equal(after.wasm, warm.wasm, 'the wasm heap reuses its blocks');
  assert.ok(after.heap - warm.heap < 512 * 1024, `JS heap grew by ${after.heap - warm.heap} B`);
  assert.equal(await page.locator('nps-widget').count(), 0);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
