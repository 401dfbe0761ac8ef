// In-app targeting in headless Chromium, as a SaaS team would set it up: the card for Pro users
// who signed up over 30 days ago, on the app's pages but not billing, after their second
// export; a track() made before the wasm has loaded; a second survey of the site waiting
// wait_days_between_surveys; first_seen_days; and debug naming the rule that held the card
// back. Each runs from the script tag and from create(), in the wasm and in the JavaScript
// fallback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, eventually, sendFile, serve, readBody, dataAttributes, person as openPerson } from './harness.mjs';

const received = [];
let server, base, browser;
const DAY = 24 * 3600e3;

const signedUp = (daysAgo) => new Date(Date.now() - daysAgo * DAY).toISOString();

/// The issue's own example, for a person with these traits.
const inApp = (traits, extra = {}) => ({
  endpoint: '/v1/responses',
  survey_id: 'in-app',
  trigger: 'event',
  events: ['report_exported'],
  event_count: 2,
  pages: ['/app/*', '!/app/billing*'],
  audience: [{ trait: 'plan', in: ['pro', 'team'] }, { trait: 'signed_up_at', older_than_days: 30 }],
  user: { id: 'u_pro', traits },
  ...extra,
});
const pro = (days = 40) => ({ plan: 'pro', signed_up_at: signedUp(days) });

/// A page at `path` with the loader; `config` goes in data-config, `body` runs after the tag
/// (synchronously: what it calls on NpsWidget is queued until the wasm has loaded).
function hostPage({ config, body = '', nowasm = false, bare = false }) {
  const attrs = bare ? '' : dataAttributes({ config: JSON.stringify(config) });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>App</title></head>
<body><main><h1>App</h1><a href="#">link</a></main>${nowasm ? '<script>delete window.WebAssembly;</script>' : ''}
<script src="/nps-widget.js" ${attrs}></script><script>${body}</script></body></html>`;
}

before(async () => {
  ({ server, base } = await serve(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/v1/responses' && req.method === 'POST') {
      received.push(JSON.parse(await readBody(req)));
      return res.writeHead(201, { 'Content-Type': 'application/json' }).end('{}');
    }
    if (url.pathname.startsWith('/app/') || url.pathname === '/pricing') {
      const spec = JSON.parse(url.searchParams.get('spec') || '{}');
      return res.writeHead(200, { 'Content-Type': 'text/html' }).end(hostPage(spec));
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

async function open(page, path, spec) {
  await page.goto(`${base}${path}?spec=${encodeURIComponent(JSON.stringify(spec))}`);
  await page.waitForFunction(() => window.NpsWidget?.ready);
  await page.evaluate(() => window.NpsWidget.ready);
}

const cardShown = (page) => page.locator('nps-widget [role=radio]').first().isVisible().catch(() => false);

async function settle(page, ms = 500) {
  await page.waitForTimeout(ms);
}

for (const fallback of [false, true]) {
  const where = fallback ? ' (JavaScript fallback)' : '';

  test(`a Pro user who signed up 40 days ago sees the card after the second export on /app/reports${where}`, async () => {
    const page = await person();
    await open(page, '/app/reports', { config: inApp(pro()), nowasm: fallback });
    await settle(page);
    assert.equal(await cardShown(page), false, 'no export yet');
    await page.evaluate(() => window.NpsWidget.track('report_exported'));
    await page.evaluate(() => window.NpsWidget.track('something_else'));
    await settle(page);
    assert.equal(await cardShown(page), false, 'one export is not two; other events do not count');
    // The count is kept across page loads.
    await open(page, '/app/reports', { config: inApp(pro()), nowasm: fallback });
    await page.evaluate(() => window.NpsWidget.track('report_exported'));
    await page.locator('nps-widget [role=radio]').first().waitFor();
    if (fallback) {
      assert.ok(await page.evaluate(() => typeof WebAssembly === 'undefined'));
    }
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test('… not on /app/billing, and on an in-app route change to /app/reports it is', async () => {
  const page = await person();
  await open(page, '/app/billing/plan', { config: inApp(pro()), body: "NpsWidget.track('report_exported'); NpsWidget.track('report_exported');" });
  await settle(page);
  assert.equal(await cardShown(page), false, 'billing is excluded');
  await page.evaluate(() => history.pushState({}, '', '/app/reports'));
  await page.locator('nps-widget [role=radio]').first().waitFor();
  await page.context().close();
});

test('… not on a page outside the app', async () => {
  const page = await person();
  await open(page, '/pricing', { config: inApp(pro()), body: "NpsWidget.track('report_exported'); NpsWidget.track('report_exported');" });
  await settle(page);
  assert.equal(await cardShown(page), false);
  await page.context().close();
});

test('… not when signed up 10 days ago, nor on the free plan', async () => {
  for (const traits of [pro(10), { plan: 'free', signed_up_at: signedUp(40) }, { plan: 'pro' }]) {
    const page = await person();
    await open(page, '/app/reports', { config: inApp(traits), body: "NpsWidget.track('report_exported'); NpsWidget.track('report_exported');" });
    await settle(page);
    assert.equal(await cardShown(page), false, JSON.stringify(traits));
    await page.context().close();
  }
});

test('a track() queued before the wasm loads counts', async () => {
  const page = await person();
  // The tag is synchronous: the inline script after it runs before the wasm has loaded.
  await page.goto(`${base}/app/reports?spec=${encodeURIComponent(JSON.stringify({
    config: inApp(pro()),
    body: "window.queuedBeforeLoad = !NpsWidget.instance; NpsWidget.track('report_exported'); NpsWidget.track('report_exported');",
  }))}`);
  await page.locator('nps-widget [role=radio]').first().waitFor();
  assert.equal(await page.evaluate(() => window.queuedBeforeLoad), true);
  await page.context().close();
});

test('create() takes the same rules, and its instance tracks', async () => {
  const page = await person();
  await open(page, '/app/reports', { bare: true });
  await page.evaluate((config) => { window.w = window.NpsWidget.create(config); }, inApp(pro(), { event_count: 1 }));
  await settle(page);
  assert.equal(await cardShown(page), false);
  await page.evaluate(() => window.w.track('report_exported'));
  await page.locator('nps-widget [role=radio]').first().waitFor();
  // A bad rule is refused with its name.
  const message = await page.evaluate(() => {
    try {
      window.NpsWidget.create({ endpoint: '/v1/responses', audience: [{ trait: 'plan', equals: 'pro' }] });
      return 'no error';
    } catch (e) {
      return e.message;
    }
  });
  assert.equal(message, 'nps-widget: audience[0]: unknown operator "equals", did you mean "is"?');
  await page.context().close();
});

test('a second survey waits wait_days_between_surveys', async () => {
  const page = await person();
  const survey = (id, extra = {}) => ({ endpoint: '/v1/responses', survey_id: id, user: { id: 'u_two' }, debug: true, ...extra });
  await open(page, '/app/home', { config: survey('onboarding') });
  await page.locator('nps-widget [role=radio]').first().waitFor();
  await page.locator('[data-score="8"]').click();
  await page.locator('[data-act=skip]').click();
  await eventually(() => received.some((r) => r.survey_id === 'onboarding' && r.state === 'complete'));
  await eventually(() => page.evaluate(() => !Object.keys(localStorage).some((k) => k.startsWith('nps-widget:outbox:'))));

  await open(page, '/app/home', { config: survey('quarterly') });
  await settle(page);
  assert.equal(await cardShown(page), false, 'the other survey waits');
  assert.ok(page.infos.some((l) => /^nps-widget: not shown: wait_days_between_surveys: asked by another survey \d{4}-\d\d-\d\d, asks again after \d{4}-\d\d-\d\d$/.test(l)), page.infos.join('\n'));

  // With the wait set to 0 it asks at once; and past the default 7 days it asks too.
  await open(page, '/app/home', { config: survey('quarterly', { wait_days_between_surveys: 0, survey_id: 'no-wait' }) });
  await page.locator('nps-widget [role=radio]').first().waitFor();
  await page.context().close();

  const later = await person();
  await open(later, '/app/home', { config: survey('one') });
  await later.locator('nps-widget [role=radio]').first().waitFor();
  await later.locator('[data-act=close]').click();
  await later.clock.install({ time: Date.now() + 7 * DAY + 60e3 });
  await open(later, '/app/home', { config: survey('two') });
  await later.locator('nps-widget [role=radio]').first().waitFor();
  await later.context().close();
});

test('first_seen_days: asked only once this browser has known the person that long', async () => {
  const page = await person();
  const config = { endpoint: '/v1/responses', survey_id: 'first-seen', first_seen_days: 3, user: { id: 'u_new' } };
  await open(page, '/app/home', { config });
  await settle(page);
  assert.equal(await cardShown(page), false, 'first day');
  await page.clock.install({ time: Date.now() + 3 * DAY + 60e3 });
  await open(page, '/app/home', { config });
  await page.locator('nps-widget [role=radio]').first().waitFor();
  await page.context().close();
});

test('debug says which rule held the card back, and what showed it', async () => {
  const page = await person();
  const config = inApp({ plan: 'free', signed_up_at: signedUp(40) }, { debug: true });
  await open(page, '/app/billing/plan', { config });
  await settle(page);
  await page.evaluate(() => history.pushState({}, '', '/app/reports'));
  await settle(page, 300);
  const withPro = inApp(pro(), { debug: true });
  await open(page, '/app/reports', { config: withPro });
  await page.evaluate(() => window.NpsWidget.track('report_exported'));
  await settle(page, 300);
  await page.evaluate(() => window.NpsWidget.track('report_exported'));
  await page.locator('nps-widget [role=radio]').first().waitFor();
  const said = page.infos.filter((l) => l.startsWith('nps-widget:'));
  assert.deepEqual(said, [
    'nps-widget: not shown: page /app/billing/plan is excluded by "!/app/billing*"',
    'nps-widget: not shown: audience: trait "plan" is "free", needs one of "pro", "team"',
    'nps-widget: not shown: waiting for event_count 2 (seen 0)',
    'nps-widget: not shown: waiting for event_count 2 (seen 1)',
    'nps-widget: shown: trigger event "report_exported"',
  ]);
  // Without debug: silent. With ?nps_debug=1 on the page: the same lines.
  const quiet = await person();
  await open(quiet, '/app/billing/plan', { config: inApp(pro()) });
  await settle(quiet);
  assert.deepEqual(quiet.infos, []);
  await quiet.goto(`${base}/app/billing/plan?nps_debug=1&spec=${encodeURIComponent(JSON.stringify({ config: inApp(pro()) }))}`);
  await eventually(() => quiet.infos.includes('nps-widget: not shown: page /app/billing/plan is excluded by "!/app/billing*"'));
  assert.deepEqual(page.errors, []);
  await page.context().close();
  await quiet.context().close();
});
