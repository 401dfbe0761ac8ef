// Delivery and robustness against a loopback server this test controls: an endpoint that is
// down keeps answers in the outbox across reloads; a bad config leaves the host page working.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, eventually, assertSchemaV1, sendFile, serve, readBody } from './harness.mjs';

const stored = new Map();
let down = true;
let refused = 0;
// While set, POSTs wait for this promise before they are stored and answered.
let hold = null;
let server, base, browser;

before(async () => {
  ({ server, base } = await serve(async (req, res) => {
    if (req.url === '/v1/reject' && req.method === 'POST') {
      // Drain the body before answering.
      await req.toArray();
      res.writeHead(422, { 'Content-Type': 'application/json' }).end('{"error":"no"}');
      return;
    }
    if (req.url === '/v1/responses' && req.method === 'POST') {
      const body = await readBody(req);
      if (down) {
        refused++;
        res.writeHead(503, { 'Retry-After': '1' }).end();
        return;
      }
      if (hold) await hold;
      const r = JSON.parse(body);
      const prev = stored.get(r.id);
      if (!prev || prev.state !== 'complete' || r.state === 'complete') stored.set(r.id, r);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      return;
    }
    await sendFile(res, req.url.split('?')[0], ['tests/e2e/pages', 'dist']);
  }));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

const outbox = (page) => page.evaluate(() =>
  Object.keys(localStorage).filter((k) => k.startsWith('nps-widget:outbox:')).length);

test('an answer given while the endpoint is down survives reloads and arrives once it is back', async () => {
  const page = await openPage(browser);
  // The 503s are expected here: the browser logs failed loads as console errors.
  await page.goto(`${base}/outbox.html`);
  await page.getByRole('radio', { name: /^9/ }).click();
  await page.getByRole('textbox').fill('Sent while the server was down');
  await page.getByRole('button', { name: 'Send' }).click();
  await eventually(() => refused >= 2);
  assert.equal(await outbox(page), 1, 'the complete state replaced the partial in the outbox');
  assert.equal(stored.size, 0);

  await page.reload();
  await eventually(async () => (await outbox(page)) === 1);
  down = false;
  await page.reload();
  const r = await eventually(() => [...stored.values()].find((x) => x.comment));
  assert.equal(r.state, 'complete');
  assert.equal(r.score, 9);
  assert.equal(r.comment, 'Sent while the server was down');
  assertSchemaV1(r);
  await eventually(async () => (await outbox(page)) === 0);
  assert.ok(page.errors.every((e) => e.includes('503')), page.errors.join('\n'));
});

test('a later state another tab writes while an earlier one is in flight is not removed by that delivery', async () => {
  down = false;
  const page = await openPage(browser);
  await page.goto(`${base}/outbox.html`);
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  let release;
  hold = new Promise((resolve) => (release = resolve));
  await page.getByRole('radio', { name: /^8/ }).click();
  const partial = await eventually(() => page.sent.find((r) => r.state === 'partial'));
  // Another tab of the site completes the same response meanwhile: its own key, its own state.
  // Tabs see each other's writes late, so the tab whose partial is answered may not see it yet;
  // whatever it saw, its 2xx must remove only the partial it sent.
  const later = { ...partial, state: 'complete', comment: 'Written by another tab' };
  const keys = await page.evaluate((body) => {
    const [partialKey] = Object.keys(localStorage).filter((k) => k.startsWith('nps-widget:outbox:'));
    const laterKey = `${partialKey.replace(/\.\d+$/, '')}.${Date.now() + 1}`;
    localStorage.setItem(laterKey, `2 ${Date.now() + 1} ${body}`);
    return [partialKey, laterKey];
  }, JSON.stringify(later));
  assert.notEqual(keys[0], keys[1]);
  hold = null;
  release();
  const r = await eventually(() => (stored.get(partial.id)?.state === 'complete' ? stored.get(partial.id) : null));
  assert.equal(r.comment, 'Written by another tab');
  await eventually(async () => (await outbox(page)) === 0);
  assert.deepEqual(page.errors, []);
});

test('a bad config logs one named error, shows nothing, and leaves the host page working', async () => {
  const page = await openPage(browser);
  await page.goto(`${base}/bad-config.html`);
  await eventually(() => page.errors.length > 0);
  await page.waitForTimeout(300);
  assert.deepEqual(page.errors, [
    'nps-widget: unknown key "endpont", did you mean "endpoint"?',
  ]);
  assert.equal(await page.locator('[data-nps-widget]').count(), 0);
  await page.getByRole('button', { name: 'Host button' }).click();
  await page.getByText('Host page still works.').waitFor();
});

test('corrupt outbox data is discarded with an error event; a 4xx is final and reported with its status', async () => {
  const page = await openPage(browser);
  // Planted on a page without the widget: a widget on this page would find the entry first
  // (at start-up, or as the page goes away) and report it here instead of on the next page.
  await page.goto(`${base}/blank.html`);
  await page.evaluate(() => {
    localStorage.clear();
    localStorage.setItem('nps-widget:outbox:default:left-by-something-else', 'not an entry');
  });
  await page.goto(`${base}/reject.html`);
  const seen = async () => `error events ${await page.evaluate(() => JSON.stringify(window.errors))}, console ${JSON.stringify(page.errors)}`;
  const discarded = await eventually(() => page.evaluate(() => window.errors.find((e) => /unreadable/.test(e.message))))
    .catch(async (e) => { throw new Error(`${e.message}; ${await seen()}`); });
  assert.equal(discarded.message, 'discarded unreadable outbox entry left-by-something-else');
  assert.equal(await outbox(page), 0);

  await page.getByRole('radio', { name: /^3/ }).click();
  const rejected = await eventually(() => page.evaluate(() => window.errors.find((e) => e.status === 422)))
    .catch(async (e) => { throw new Error(`${e.message}; ${await seen()}`); });
  assert.match(rejected.message, /^endpoint rejected response [0-9a-f-]{36} with status 422$/);
  assert.equal(await outbox(page), 0, 'a rejected response is not retried forever');
  await page.getByRole('button', { name: 'Close' }).click();
  assert.ok(page.errors.every((e) => /422|nps-widget: (discarded|endpoint rejected)/.test(e)), page.errors.join('\n'));
});
