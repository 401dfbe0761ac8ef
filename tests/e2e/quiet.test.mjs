// The quiet path in headless Chromium: after the widget has concluded that this person will not
// be asked for a while (answered, closed the card, outside the sample), the next page view of
// the site requests the loader and nothing else, while the API still works; and the files a
// CDN caches forever: every hashed name the loader references exists in dist/, and the
// collector serves the loader short-lived and the hashed files immutable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, eventually, sendFile, serve, root, startCollector, readBody, dataAttributes, person as openPerson } from './harness.mjs';

const received = [];
let server, base, browser;

function scriptPage(attrs, nowasm) {
  const data = dataAttributes({ endpoint: '/v1/responses', product: 'Acme', 'user-id': 'u_quiet', ...attrs });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title></head>
<body><main><h1>Host page</h1></main>${nowasm ? '<script>delete window.WebAssembly;</script>' : ''}
<script src="/nps-widget.js" ${data} async></script></body></html>`;
}

before(async () => {
  ({ server, base } = await serve(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/v1/responses' && req.method === 'POST') {
      const body = await readBody(req);
      received.push(JSON.parse(body));
      return res.writeHead(201, { 'Content-Type': 'application/json' }).end('{}');
    }
    if (url.pathname === '/page') {
      const attrs = JSON.parse(url.searchParams.get('attrs') || '{}');
      return res.writeHead(200, { 'Content-Type': 'text/html' }).end(scriptPage(attrs, url.searchParams.has('nowasm')));
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

const person = () => openPerson(browser);

/// Opens the page and returns what it requested (paths), after the loader had time to act.
async function view(page, attrs, query = '') {
  page.requests.length = 0;
  await page.goto(`${base}/page?attrs=${encodeURIComponent(JSON.stringify(attrs))}${query}`);
  await page.waitForTimeout(800);
  return page.requests.map((r) => r.replace(/\?.*$/, '')).filter((p) => p !== '/favicon.ico');
}

const ONLY_THE_LOADER = ['/page', '/nps-widget.js'];
const loadsWidget = (requests) => requests.some((p) => /^\/nps_widget(_bg)?\.[0-9a-f]{8}\.(js|wasm)$/.test(p));

async function answerAndWait(page, survey) {
  await page.locator('[data-score="9"]').click();
  await page.locator('[data-act=skip]').click();
  await eventually(() => received.some((r) => r.survey_id === survey && r.state === 'complete'));
  await sent(page);
}

/// The outbox has emptied: an entry still waiting would make the next view load, to send it.
async function sent(page) {
  await eventually(() => page.evaluate(() => !Object.keys(localStorage).some((k) => k.startsWith('nps-widget:outbox:'))));
}

test('after an answer, the next page view of the site requests only the loader, and the API still works', async () => {
  const page = await person();
  const attrs = { 'survey-id': 'quiet-answer' };
  const first = await view(page, attrs);
  assert.ok(loadsWidget(first), `the first view loads the widget: ${first}`);
  await page.locator('[role=radio]').first().waitFor();
  await answerAndWait(page, 'quiet-answer');
  const memory = await page.evaluate(() => localStorage.getItem('nps-widget:memory:quiet-answer:u_quiet'));
  const until = Number(/;q=(\d+)/.exec(memory)[1]);
  assert.ok(until > Date.now() && until <= Date.now() + 24 * 3600e3 + 1000, `the gate holds at most a day: ${memory}`);

  const quiet = await view(page, attrs);
  assert.deepEqual(quiet, ONLY_THE_LOADER, 'every request of the quiet view');
  assert.equal(await page.locator('nps-widget').count(), 0);
  assert.deepEqual(await page.evaluate(() => ['show', 'hide', 'identify', 'on', 'off', 'create'].map((m) => typeof window.NpsWidget[m])),
    ['function', 'function', 'function', 'function', 'function', 'function']);
  // A plain show() is what targeting would refuse anyway: still nothing loads.
  await page.evaluate(() => window.NpsWidget.show());
  await page.waitForTimeout(400);
  assert.ok(!loadsWidget(page.requests), 'show() without force loads nothing');

  // show({ force: true }) loads the widget then and shows the card.
  await page.evaluate(() => window.NpsWidget.show({ force: true }));
  await page.locator('[role=radio]').first().waitFor();
  assert.ok(loadsWidget(page.requests), 'the forced show loaded the widget');
  assert.equal(await page.evaluate(async () => (await window.NpsWidget.ready) === window.NpsWidget.instance), true);
  assert.deepEqual(page.errors, []);

  // (The card now open would leave a silent response in the outbox, which the next view would
  // load to send: close it and let it go out.)
  await page.locator('[data-act=close]').click();
  await sent(page);

  // identify() of someone the gate does not hold loads the widget, which asks them.
  const other = await view(page, attrs);
  assert.deepEqual(other, ONLY_THE_LOADER);
  await page.evaluate(() => window.NpsWidget.identify({ id: 'u_someone_else' }));
  await page.locator('[role=radio]').first().waitFor();
  assert.ok(loadsWidget(page.requests));
  await page.context().close();
});

test('create() on a quiet page loads the widget and resolves to it', async () => {
  const page = await person();
  const attrs = { 'survey-id': 'quiet-create', 'sample-rate': '0' };
  await view(page, attrs);
  assert.deepEqual(await view(page, attrs), ONLY_THE_LOADER, 'sampled out: quiet');
  const started = await page.evaluate(async () => {
    const widget = await window.NpsWidget.create({ endpoint: '/v1/responses', survey_id: 'quiet-create-2', trigger: 'manual' });
    return typeof widget.show;
  });
  assert.equal(started, 'function');
  assert.ok(loadsWidget(page.requests));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a dismissed card and a sampled-out person are quiet too; preview, force and debug always load', async () => {
  const page = await person();
  const dismissed = { 'survey-id': 'quiet-dismiss' };
  await view(page, dismissed);
  await page.locator('[data-act=close]').click();
  await eventually(() => received.some((r) => r.survey_id === 'quiet-dismiss' && r.silent_reason === 'dismissed'));
  await sent(page);
  assert.deepEqual(await view(page, dismissed), ONLY_THE_LOADER, 'within the cooldown');
  assert.ok(loadsWidget(await view(page, { ...dismissed, debug: 'true' })), 'debug loads');
  assert.ok(page.infos.some((line) => /^nps-widget: quiet until \d{4}-\d\d-\d\dT/.test(line)), `debug says until when: ${page.infos}`);
  await page.context().close();
  const another = await person();
  await view(another, dismissed);
  await another.locator('[data-act=close]').click();
  await sent(another);
  assert.deepEqual(await view(another, dismissed), ONLY_THE_LOADER);

  const sampledOut = { 'survey-id': 'quiet-sample', 'sample-rate': '0' };
  assert.ok(loadsWidget(await view(another, sampledOut)), 'the first view decides the sampling');
  assert.deepEqual(await view(another, sampledOut), ONLY_THE_LOADER, 'outside the sample');

  assert.ok(loadsWidget(await view(another, dismissed, '&nps_preview=1')), '?nps_preview=1 loads');
  await another.locator('[role=radio]').first().waitFor();
  assert.ok(loadsWidget(await view(another, { ...dismissed, force: 'true' })), 'force loads');
  assert.deepEqual(another.errors, []);
  await another.context().close();
});

test('with the clock moved past the gate the widget loads again', async () => {
  const page = await person();
  const attrs = { 'survey-id': 'quiet-clock' };
  await view(page, attrs);
  await page.locator('[role=radio]').first().waitFor();
  await answerAndWait(page, 'quiet-clock');
  assert.deepEqual(await view(page, attrs), ONLY_THE_LOADER);
  // A day and a minute later: the gate (at most a day ahead) has passed. The widget loads, finds
  // the answer within recontact_days, shows nothing and writes the next day's gate.
  await page.clock.install({ time: Date.now() + 24 * 3600e3 + 60e3 });
  const later = await view(page, attrs);
  assert.ok(loadsWidget(later), `past the gate the widget loads: ${later}`);
  assert.equal(await page.locator('nps-widget').count(), 0, 'still within recontact_days: no card');
  await page.context().close();
});

test('the JavaScript fallback honours the gate the same way', async () => {
  const page = await person();
  const attrs = { 'survey-id': 'quiet-fallback' };
  const first = await view(page, attrs, '&nowasm');
  assert.ok(first.some((p) => /^\/fallback\/nps_widget\.[0-9a-f]{8}\.js$/.test(p)), `the fallback ran: ${first}`);
  await page.locator('[role=radio]').first().waitFor();
  await answerAndWait(page, 'quiet-fallback');
  assert.deepEqual(await view(page, attrs, '&nowasm'), ONLY_THE_LOADER);
  await page.context().close();
});

test('every hashed name the loader references exists in dist/, and the collector caches them forever', async () => {
  const loader = readFileSync(join(root, 'dist/nps-widget.js'), 'utf8');
  const names = [...loader.matchAll(/"((?:fallback\/)?nps_widget(?:_bg)?\.[0-9a-f]{8}\.(?:js|wasm))"/g)].map((m) => m[1]);
  assert.equal(names.length, 3, `the glue, the wasm and the fallback: ${names}`);
  // The locale files share one hash, which the module and the fallback were built with.
  const localeHash = (name) => readFileSync(join(root, 'dist', name), 'utf8').match(/locales\/\$\{\w+\}\.([0-9a-f]{8})\.json/)?.[1];
  const glue = names.find((n) => n.startsWith('nps_widget.'));
  const fallback = names.find((n) => n.startsWith('fallback/'));
  assert.ok(localeHash(glue), 'the module names the locale files by their hash');
  assert.equal(localeHash(fallback), localeHash(glue), 'the fallback fetches the same set');
  const locales = ['es', 'fr', 'de', 'pt', 'ja', 'ar'].flatMap((tag) =>
    [`locales/${tag}.${localeHash(glue)}.json`, `fallback/locales/${tag}.${localeHash(glue)}.json`]);
  for (const name of [...names, ...locales]) {
    assert.ok(existsSync(join(root, 'dist', name)), `dist/${name} exists`);
  }

  const collector = await startCollector();
  try {
    const cache = async (path) => (await fetch(`${collector.url}/${path}`)).headers.get('cache-control');
    assert.equal(await cache('nps-widget.js'), 'public, max-age=300');
    for (const name of [...names, locales[0]]) {
      assert.equal(await cache(name), 'public, max-age=31536000, immutable', name);
    }
  } finally {
    await collector.stop();
  }
});
