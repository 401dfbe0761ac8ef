// The card as every respondent meets it, in headless Chromium: axe-core in every state, theme
// and direction; a keyboard-only run; a strict Content-Security-Policy; a host page with hostile
// global CSS; a 320 px phone. Screenshots of each state go to docs/screenshots/ with NPS_SCREENSHOTS=1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launch, openPage, eventually, root, assertSchemaV1, sendFile, serve, screenshot, readBody } from './harness.mjs';

const STRICT_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";
const NO_WASM_CSP = "default-src 'self'; script-src 'self'; style-src 'self'";
const HOSTILE_CSS = `
* { all: unset !important; }
html { font-size: 40px !important; line-height: 3 !important; }
button, textarea, input { display: none !important; }
div, p, span, label { color: red !important; background: yellow !important; font-family: serif !important; }
nps-widget, [data-nps-widget] { display: none !important; opacity: 0 !important; position: static !important; }
:focus { outline: none !important; }
`;
const received = [];
const headersOf = new Map();
let fallbackMissing = false;
let server, base, browser;

function pageHtml(q) {
  const locale = q.get('locale') || 'en';
  const attrs = {
    endpoint: '/v1/responses', product: 'Acme', locale, theme: q.get('theme') || 'light',
    position: q.get('position') || 'bottom-right', 'contact-consent': 'true',
  };
  if (q.has('typo')) attrs.endpont = attrs.endpoint;
  let data = Object.entries(attrs).map(([k, v]) => `data-${k}="${v}"`).join(' ');
  if (q.has('config')) data += ` data-config='${q.get('config')}'`;
  return `<!doctype html>
<html lang="${locale}" dir="${locale === 'ar' ? 'rtl' : 'ltr'}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme: the host page</title>${q.has('hostile') ? '<link rel="stylesheet" href="/hostile.css">' : ''}</head>
<body><main><h1>Acme reports</h1><p>The host page's own content, which the card must never move.</p></main>
${q.has('nowasm') ? '<script>delete window.WebAssembly;</script>' : ''}
<script src="/nps-widget.js" ${data} async></script></body></html>`;
}

before(async () => {
  ({ server, base } = await serve(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/v1/responses' && req.method === 'POST') {
      const body = await readBody(req);
      const response = JSON.parse(body);
      received.push(response);
      headersOf.set(response.id, req.headers);
      res.writeHead(201, { 'Content-Type': 'application/json' }).end('{}');
      return;
    }
    if (url.pathname === '/ux') {
      const headers = { 'Content-Type': 'text/html' };
      if (url.searchParams.has('csp')) headers['Content-Security-Policy'] = STRICT_CSP;
      if (url.searchParams.has('nowasmcsp')) headers['Content-Security-Policy'] = NO_WASM_CSP;
      res.writeHead(200, headers).end(pageHtml(url.searchParams));
      return;
    }
    if (url.pathname === '/hostile.css') {
      res.writeHead(200, { 'Content-Type': 'text/css' }).end(HOSTILE_CSS);
      return;
    }
    if (url.pathname === '/favicon.ico') return res.writeHead(204).end();
    if (url.pathname.startsWith('/fallback/') && fallbackMissing) {
      return res.writeHead(404).end();
    }
    await sendFile(res, url.pathname);
  }));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

const settled = (page) => page.evaluate(() => {
  const host = document.querySelector('nps-widget');
  return host && Promise.all(host.shadowRoot.getAnimations({ subtree: true }).map((a) => a.finished));
});

async function open(query, options = {}) {
  const page = await openPage(browser, { viewport: { width: 900, height: 640 }, ...options });
  page.fetched = [];
  page.on('request', (r) => page.fetched.push(new URL(r.url()).pathname));
  await page.goto(`${base}/ux?${query}`);
  await page.locator('[role=radio]').first().waitFor();
  await settled(page);
  return page;
}

const axeSource = readFile(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

async function axe(page) {
  if (!(await page.evaluate(() => !!window.axe))) await page.addScriptTag({ content: await axeSource });
  await settled(page);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
    });
    return {
      violations: r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
      passes: r.passes.length,
    };
  });
}

test('axe-core finds no violations in any state, theme or direction', async () => {
  const report = [];
  for (const [theme, locale] of [['light', 'en'], ['dark', 'en'], ['light', 'ar'], ['dark', 'ar']]) {
    for (const position of ['bottom-right', 'modal']) {
      const page = await open(`theme=${theme}&locale=${locale}&position=${position}`);
      const states = [['ask', async () => {}],
        ['follow-up (detractor, consent box)', async () => {
          await page.locator('[data-score="3"]').click();
          await page.locator('textarea').waitFor();
        }],
        ['thanks', async () => {
          await page.locator('textarea').fill('Too slow');
          await page.locator('[data-act=submit]').click();
          await page.locator('p.t').waitFor();
        }]];
      for (const [state, go] of states) {
        await go();
        const { violations, passes } = await axe(page);
        report.push(`${state}, ${theme}, ${locale}, ${position}: ${violations.length} violations, ${passes} rules passed`);
        assert.deepEqual(violations, [], `${state} ${theme} ${locale} ${position}`);
      }
      assert.deepEqual(page.errors, []);
      await page.context().close();
    }
  }
  console.log(`axe-core results:\n${report.join('\n')}`);
});

test('the whole flow works from the keyboard alone', async () => {
  const page = await open('theme=light&locale=en');
  const focused = () => page.evaluate(() => {
    const a = document.activeElement?.shadowRoot?.activeElement;
    return a ? a.getAttribute('data-score') ?? a.getAttribute('data-act') ?? a.id ?? a.tagName : null;
  });
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'close', 'the close button comes first');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), '0', 'then the scale, as one tab stop');
  for (let i = 0; i < 9; i++) await page.keyboard.press('ArrowRight');
  assert.equal(await focused(), '9');
  await page.keyboard.press('Space');
  await eventually(async () => (await focused()) === 'c');
  await page.keyboard.type('Chosen, written and sent without a mouse');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'skip');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'submit');
  await page.keyboard.press('Enter');
  await page.locator('p.t').waitFor();
  assert.equal(await page.getByRole('status').textContent(), "Thank you! We're glad you enjoy Acme.");
  const r = await eventually(() => received.find((x) => x.comment === 'Chosen, written and sent without a mouse'));
  assert.equal(r.score, 9);
  assert.equal(r.segment, 'promoter');
  assert.equal(r.state, 'complete');
  assertSchemaV1(r);
  await page.keyboard.press('Escape');
  await page.locator('nps-widget').waitFor({ state: 'detached' });
  assert.deepEqual(page.errors, []);
});

// What the card looks like, element by element: compared between pages.
const looks = (page) => page.evaluate(() => {
  const host = document.querySelector('nps-widget');
  const props = ['display', 'position', 'width', 'height', 'font-size', 'font-family', 'font-weight', 'color',
    'background-color', 'border-radius', 'padding-top', 'opacity', 'visibility', 'z-index', 'outline-style'];
  const pick = (e) => { const s = getComputedStyle(e); return Object.fromEntries(props.map((p) => [p, s.getPropertyValue(p)])); };
  const out = { host: pick(host) };
  for (const sel of ['.card', '.q', '.scale', '[data-score="5"]', '.ends span', '.x']) out[sel] = pick(host.shadowRoot.querySelector(sel));
  const r = host.shadowRoot.querySelector('.card').getBoundingClientRect();
  out.rect = [Math.round(r.x), Math.round(r.y), Math.round(r.width), Math.round(r.height)];
  return out;
});

test('a strict CSP page and a page with hostile global CSS show the very same card', async () => {
  const plain = await open('theme=light&locale=en');
  const want = await looks(plain);
  const layout = () => plain.evaluate(() => [...document.querySelectorAll('h1, p')]
    .map((e) => JSON.stringify(e.getBoundingClientRect())).join());
  const withCard = await layout();
  await plain.evaluate(() => window.NpsWidget.hide());
  assert.equal(await layout(), withCard, 'the floating card does not move the host page');
  assert.equal(want['.card']['border-radius'], '12px', 'the card is styled');
  assert.equal(want['[data-score="5"]']['display'], 'block');

  const strict = await open('theme=light&locale=en&csp');
  assert.deepEqual(await looks(strict), want, 'styled under style-src \'self\'');
  assert.deepEqual(strict.errors, [], 'no CSP violation');

  const hostile = await open('theme=light&locale=en&hostile');
  assert.equal(await hostile.evaluate(() => getComputedStyle(document.querySelector('h1')).fontSize), '40px',
    'the hostile rules do apply to the host page');
  assert.deepEqual(await looks(hostile), want, 'and change nothing in the card');
  await hostile.locator('[data-score="8"]').click();
  await hostile.locator('textarea').waitFor();
  assert.deepEqual(hostile.errors, []);
  for (const p of [plain, strict, hostile]) await p.context().close();
});

test('on a 320 px phone the scale fits without scrolling sideways, with 24 px targets', async () => {
  const page = await open('theme=light&locale=en', { viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true });
  const m = await page.evaluate(() => {
    const root = document.querySelector('nps-widget').shadowRoot;
    const card = root.querySelector('.card').getBoundingClientRect();
    const radios = [...root.querySelectorAll('[role=radio]')].map((r) => r.getBoundingClientRect());
    return {
      scrollWidth: document.documentElement.scrollWidth,
      card: [card.left, card.right],
      smallest: Math.min(...radios.map((r) => Math.min(r.width, r.height))),
      rows: new Set(radios.map((r) => Math.round(r.top))).size,
      ends: [...root.querySelectorAll('.ends span')].map((s) => s.getBoundingClientRect().left),
    };
  });
  assert.ok(m.scrollWidth <= 320, `page is ${m.scrollWidth} px wide`);
  assert.ok(m.card[0] >= 0 && m.card[1] <= 320, `card spans ${m.card}`);
  assert.ok(m.smallest >= 24, `smallest target ${m.smallest} px`);
  assert.equal(m.rows, 2, 'the scale wraps into two rows');
  assert.ok(m.ends[0] < m.ends[1], 'the low label stays left of the high one');
  await screenshot(page, 'phone.png');
  await page.context().close();
});

test('screenshots of each state: light, dark, right-to-left', async () => {
  const light = await open('theme=light&locale=en');
  await screenshot(light, 'light.png');
  const dark = await open('theme=dark&locale=en');
  await dark.locator('[data-score="2"]').click();
  await dark.locator('textarea').fill('The export timed out twice this week.');
  await settled(dark);
  await screenshot(dark, 'dark-follow-up.png');
  const ar = await open('theme=light&locale=ar');
  const order = await ar.evaluate(() => [...document.querySelector('nps-widget').shadowRoot.querySelectorAll('[role=radio]')]
    .map((r) => r.getBoundingClientRect().left));
  assert.ok(order[0] > order[10], '0 is at the right: the scale reads 0 → 10 right to left');
  assert.ok(ar.fetched.some((p) => /^\/locales\/ar\.[0-9a-f]{8}\.json$/.test(p)), `the Arabic strings are fetched (by their hashed name), not built in: ${ar.fetched}`);
  assert.equal(await ar.locator('.q').textContent(), 'ما مدى احتمال أن توصي بـAcme لصديق أو زميل؟');
  await screenshot(ar, 'ar.png');
  for (const p of [light, dark, ar]) {
    assert.deepEqual(p.errors, []);
    await p.context().close();
  }
});

test('passives are asked for a referral after their thanks when the site says so', async () => {
  const asks = JSON.stringify({ referral: { url: 'https://reviews.example/acme', text: 'Refer a colleague', segments: ['promoter', 'passive'] } });
  const page = await open(`theme=light&locale=en&config=${encodeURIComponent(asks)}`);
  await page.locator('[data-score="8"]').click();
  await page.locator('textarea').fill('Faster exports would earn a 10');
  await page.locator('[data-act=submit]').click();
  await page.locator('p.t').waitFor();
  const link = page.getByRole('link', { name: 'Refer a colleague' });
  await link.waitFor();
  const complete = await eventually(() => received.find((r) => r.score === 8 && r.comment === 'Faster exports would earn a 10' && r.state === 'complete'));
  await page.context().route('https://reviews.example/**', (route) => route.fulfill({ body: 'thanks' }));
  const [popup] = await Promise.all([page.waitForEvent('popup'), link.click()]);
  await popup.close();
  const clicked = await eventually(() => received.find((r) => r.id === complete.id && r.referral_clicked === true));
  assert.equal(clicked.segment, 'passive');
  assertSchemaV1(clicked);
  assert.deepEqual(page.errors, []);
  await page.context().close();

  // By default only promoters are asked.
  const promotersOnly = JSON.stringify({ referral: { url: 'https://reviews.example/acme', text: 'Refer a colleague' } });
  const other = await open(`theme=light&locale=en&config=${encodeURIComponent(promotersOnly)}`);
  await other.locator('[data-score="7"]').click();
  await other.locator('[data-act=skip]').click();
  await other.locator('p.t').waitFor();
  assert.equal(await other.getByRole('link', { name: 'Refer a colleague' }).count(), 0);
  assert.deepEqual(other.errors, []);
  await other.context().close();
});

test('a promoter\'s referral click is recorded under the same id; configured headers go along', async () => {
  const referral = JSON.stringify({
    referral: { url: 'https://reviews.example/acme', text: 'Review Acme' },
    headers: { 'X-Site-Token': 't0k3n', 'X-Tenant': 'acme' },
  });
  const page = await open(`theme=light&locale=en&config=${encodeURIComponent(referral)}`);
  await page.locator('[data-score="10"]').click();
  await page.locator('[data-act=submit]').click();
  const link = page.getByRole('link', { name: 'Review Acme' });
  assert.equal(await link.getAttribute('href'), 'https://reviews.example/acme');
  assert.equal(await link.getAttribute('target'), '_blank');
  assert.equal(await link.getAttribute('rel'), 'noopener');
  const complete = await eventually(() => received.find((r) => r.score === 10 && r.state === 'complete' && !r.referral_clicked));
  await page.context().route('https://reviews.example/**', (route) => route.fulfill({ body: 'thanks' }));
  const [popup] = await Promise.all([page.waitForEvent('popup'), link.click()]);
  await popup.close();
  const clicked = await eventually(() => received.find((r) => r.id === complete.id && r.referral_clicked === true));
  assert.equal(clicked.state, 'complete');
  assert.equal(clicked.segment, 'promoter');
  assertSchemaV1(clicked);
  assert.equal(headersOf.get(clicked.id)['x-site-token'], 't0k3n');
  assert.equal(headersOf.get(clicked.id)['x-tenant'], 'acme');
  assert.equal(headersOf.get(clicked.id)['content-type'], 'application/json');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('leaving the page with the card unanswered delivers a silent, ignored response', async () => {
  const page = await open('theme=light&locale=en');
  const before = received.length;
  await page.goto('about:blank');
  const r = await eventually(() => received.slice(before).find((x) => x.silent_reason === 'ignored'));
  assert.equal(r.segment, 'silent');
  assert.equal(r.score, null);
  assert.equal(r.state, 'complete');
  assertSchemaV1(r);
  await page.context().close();
});

// The flow for each segment and a dismissal, checked at the endpoint.
async function everySegment(page) {
  const ids = [];
  for (const [score, comment, consent] of [[10, 'Fast and simple', false], [7, null, false], [2, 'Exports time out', true]]) {
    await page.evaluate(() => window.NpsWidget.show({ force: true }));
    await page.locator(`[data-score="${score}"]`).click();
    if (comment) await page.locator('textarea').fill(comment);
    if (consent) await page.locator('#k').check();
    await page.locator(comment ? '[data-act=submit]' : '[data-act=skip]').click();
    await page.locator('p.t').waitFor();
    const r = await eventually(() => received.find((x) => x.score === score && x.state === 'complete' && !ids.includes(x.id) &&
      x.comment === comment));
    assert.equal(r.segment, score >= 9 ? 'promoter' : score >= 7 ? 'passive' : 'detractor');
    if (consent) assert.equal(r.contact_consent, true);
    assertSchemaV1(r);
    ids.push(r.id);
    await page.locator('[data-act=close]').click();
    await page.locator('nps-widget').waitFor({ state: 'detached' });
  }
  await page.evaluate(() => window.NpsWidget.show({ force: true }));
  await page.locator('[data-act=close]').click();
  const silent = await eventually(() => received.find((x) => x.silent_reason === 'dismissed' && !ids.includes(x.id)));
  ids.push(silent.id);
  return ids;
}

test('where a CSP forbids WebAssembly, the JavaScript fallback runs the whole flow', async () => {
  const page = await open('theme=light&locale=en&nowasmcsp');
  assert.ok(page.fetched.some((p) => p.startsWith('/fallback/')), 'the fallback was fetched');
  // The loader sees the CSP before fetching anything of the WebAssembly build.
  assert.deepEqual(page.fetched.filter((p) => /^\/nps_widget/.test(p)), [], 'no wasm build fetched');
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('nps-widget').shadowRoot.querySelector('.card')).borderRadius), '12px');
  await page.locator('[data-act=close]').click();
  await page.locator('nps-widget').waitFor({ state: 'detached' });
  assert.equal((await everySegment(page)).length, 4);
  // The browser reports the refused compile once; nothing else may go wrong.
  assert.deepEqual(page.errors.filter((e) => !/WebAssembly|wasm-unsafe-eval|unsafe-eval/.test(e)), []);
  await page.context().close();
});

test('where WebAssembly is missing, the fallback runs too; where it runs, no fallback is fetched', async () => {
  const page = await open('theme=light&locale=en&nowasm');
  assert.equal(await page.evaluate(() => typeof WebAssembly), 'undefined');
  assert.ok(page.fetched.some((p) => p.startsWith('/fallback/')), 'the fallback was fetched');
  await page.locator('[data-act=close]').click();
  await page.locator('nps-widget').waitFor({ state: 'detached' });
  assert.equal((await everySegment(page)).length, 4);
  assert.deepEqual(page.errors, []);
  await page.context().close();

  // The fallback's strings of a locale that is not built in come from fallback/locales/, by
  // their hashed name.
  const ar = await open('theme=light&locale=ar&nowasm');
  assert.ok(ar.fetched.some((p) => /^\/fallback\/locales\/ar\.[0-9a-f]{8}\.json$/.test(p)), `the fallback fetches its own locale file: ${ar.fetched}`);
  assert.equal(await ar.locator('.q').textContent(), 'ما مدى احتمال أن توصي بـAcme لصديق أو زميل؟');
  assert.deepEqual(ar.errors, []);
  await ar.context().close();

  const normal = await open('theme=light&locale=en');
  await normal.locator('[data-score="9"]').click();
  await normal.locator('textarea').waitFor();
  assert.ok(normal.fetched.some((p) => /^\/nps_widget_bg\.[0-9a-f]{8}\.wasm$/.test(p)), `${normal.fetched}`);
  assert.deepEqual(normal.fetched.filter((p) => p.startsWith('/fallback/')), [], 'no fallback file on a normal page');
  await normal.context().close();
});

test('the fallback validates config the same way, and when nothing can run one error says why', async () => {
  const typo = await openPage(browser);
  await typo.goto(`${base}/ux?nowasm&typo`);
  await eventually(() => typo.errors.length > 0);
  await typo.waitForTimeout(300);
  assert.deepEqual(typo.errors, ['nps-widget: unknown key "endpont", did you mean "endpoint"?']);
  await typo.context().close();

  const broken = await openPage(browser);
  fallbackMissing = true;
  await broken.goto(`${base}/ux?nowasm`);
  await eventually(() => broken.errors.some((e) => e.startsWith('nps-widget:')));
  await broken.waitForTimeout(300);
  const ours = broken.errors.filter((e) => e.startsWith('nps-widget:'));
  assert.equal(ours.length, 1, ours.join('\n'));
  assert.match(ours[0], /^nps-widget: WebAssembly cannot run here \(WebAssembly is not available\) and the JavaScript fallback did not load/);
  assert.equal(await broken.locator('nps-widget').count(), 0);
  assert.equal(await broken.evaluate(() => document.querySelector('h1').textContent), 'Acme reports', 'the page is unharmed');
  fallbackMissing = false;
  await broken.context().close();
});
