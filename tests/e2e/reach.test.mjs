// Personal links in headless Chromium: a person clicks a score button in an email, the
// hosted page opens on that score's follow-up and records the partial and the complete as the
// link's person; a second visit shows the thanks; a page in a hidden tab (a scanner's) records
// nothing until it is shown; axe-core finds nothing on the hosted page; the email block renders.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCollector, launch, openPage, eventually, screenshot, axe } from './harness.mjs';

let collector, browser;

before(async () => {
  collector = await startCollector(['--product', 'Acme']);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await collector?.stop();
});

async function newLink(user, extra = {}) {
  const r = await fetch(`${collector.url}/v1/links`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${collector.token}` },
    body: JSON.stringify({ user, ...extra }),
  });
  const text = await r.text();
  assert.equal(r.status, 201, text);
  return JSON.parse(text);
}

test('a person clicks 3 in the email, says what went wrong, and a second visit shows the thanks', async () => {
  const link = await newLink({ id: 'u_42', account_id: 'acct_7', email: 'ana@example.com' });
  const page = await openPage(browser, { viewport: { width: 390, height: 800 } });
  await page.goto(`${link.url}?score=3`);
  // The card opens inline on the detractor's follow-up, as if the 3 had been clicked there.
  await page.locator('label', { hasText: 'We\'re sorry. What disappointed you, and what should we fix first?' }).waitFor();
  const partial = await eventually(async () => (await collector.responses()).find((r) => r.state === 'partial'));
  assert.equal(partial.score, 3);
  assert.equal(partial.segment, 'detractor');
  assert.deepEqual(partial.user, { id: 'u_42', account_id: 'acct_7', email: 'ana@example.com' });
  assert.deepEqual(await axe(page), [], 'axe on the hosted page');
  await screenshot(page, 'hosted-page.png');

  await page.getByRole('textbox').fill('The export to Excel broke twice this week');
  await page.getByRole('button', { name: 'Send' }).click();
  const complete = await eventually(async () => (await collector.responses()).find((r) => r.state === 'complete'));
  assert.equal(complete.id, partial.id, 'one link, one response');
  assert.equal(complete.comment, 'The export to Excel broke twice this week');
  assert.equal((await collector.responses()).length, 1);

  await page.goto(link.url);
  await page.getByText('Thank you for telling us. We\'ll work on it.').waitFor();
  assert.equal(await page.locator('#nps-link').count(), 0, 'no survey on a second visit');
  assert.deepEqual(await axe(page), [], 'axe on the thanks page');
  assert.deepEqual(page.errors, []);
});

test('a page in a hidden tab records nothing until it is shown', async () => {
  const link = await newLink({ id: 'u_43', email: 'bo@example.com' }, { locale: 'fr' });
  const before = (await collector.responses()).length;
  const page = await openPage(browser);
  // What a scanner's headless browser or a background tab reports.
  await page.addInitScript(() => {
    Object.defineProperty(document, 'visibilityState', { get: () => window.__visibility || 'hidden', configurable: true });
  });
  await page.goto(`${link.url}?score=9`);
  await page.waitForTimeout(1500);
  assert.equal((await collector.responses()).length, before, 'nothing recorded while hidden');
  assert.equal(await page.locator('#nps').innerHTML(), '', 'the widget did not start');
  await page.evaluate(() => {
    window.__visibility = 'visible';
    document.dispatchEvent(new Event('visibilitychange'));
  });
  // Shown: the French card, on the promoter's follow-up.
  await page.locator('label', { hasText: 'Qu\'appréciez-vous le plus dans Acme ?' }).waitFor();
  const partial = await eventually(async () => (await collector.responses()).find((r) => r.user?.id === 'u_43'));
  assert.equal(partial.score, 9);
  assert.equal(partial.context.locale, 'fr');
  assert.deepEqual(page.errors, []);
});

test('the email block renders its eleven buttons, light and dark', async () => {
  const link = await newLink({ email: 'cy@example.com' });
  for (const scheme of ['light', 'dark']) {
    const page = await openPage(browser, { viewport: { width: 620, height: 260 }, colorScheme: scheme });
    // The dashboard's preview: the block as the API gave it, in a page of the collector's.
    await page.goto(`${collector.url}${link.preview_url}`);
    const buttons = page.getByRole('link');
    assert.equal(await buttons.count(), 11);
    assert.equal(await buttons.nth(7).getAttribute('href'), `${link.url}?score=7`);
    await screenshot(page, `email-block-${scheme}.png`);
    assert.deepEqual(await axe(page), [], `axe on the email block (${scheme})`);
  }
  const preview = await fetch(`${collector.url}${link.preview_url}`);
  assert.ok(!(await preview.text()).includes('<script'), 'no script in the preview');
});
