// The vertical slice, as a visitor and a site owner see it: the demo page, a real collector
// with SQLite, headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCollector, seedDemoSurvey, launch, openPage, eventually, assertSchemaV1, screenshot } from './harness.mjs';

let collector, browser;
before(async () => {
  collector = await startCollector();
  await seedDemoSurvey(collector);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await collector?.stop();
});

async function ask(page) {
  await page.goto(`${collector.url}/#token=${collector.token}`);
  const scale = page.getByRole('radiogroup', {
    name: 'How likely are you to recommend Acme Analytics to a friend or colleague?',
  });
  await scale.waitFor();
  return scale;
}

test('a promoter answer with a comment lands once, complete, in SQLite', async () => {
  const page = await openPage(browser);
  const scale = await ask(page);
  await page.evaluate(() => Promise.all(
    document.querySelector('nps-widget').shadowRoot.getAnimations().map((a) => a.finished),
  ));
  await screenshot(page, 'demo-ask.png');
  const radios = scale.getByRole('radio');
  assert.equal(await radios.count(), 11);
  for (let n = 0; n <= 10; n++) {
    const name = await radios.nth(n).getAttribute('aria-label');
    assert.ok(name.startsWith(String(n)), `radio ${n} is named "${name}"`);
  }
  await page.getByRole('radio', { name: /^9/ }).click();
  const box = page.getByRole('textbox', { name: 'What do you love most about Acme Analytics?' });
  await box.waitFor();
  await box.fill('The weekly digest <b>saves</b> me an hour');
  await page.getByRole('button', { name: 'Send' }).click();
  const thanks = "Thank you! We're glad you enjoy Acme Analytics.";
  await page.locator('p.t', { hasText: thanks }).waitFor();
  assert.equal(await page.getByRole('status').textContent(), thanks, 'thanks announced politely');

  const stored = await eventually(async () => {
    const list = await collector.responses();
    return list.some((r) => r.state === 'complete') && list;
  });
  assert.equal(stored.length, 1, 'one row per response id');
  const [r] = stored;
  assert.equal(r.score, 9);
  assert.equal(r.segment, 'promoter');
  assert.equal(r.state, 'complete');
  assert.equal(r.comment, 'The weekly digest <b>saves</b> me an hour');
  assert.equal(r.user.id, 'demo-user');
  assert.equal(r.user.account_id, 'demo-account');
  assert.equal(r.context.url, `${collector.url}/`);
  assert.match(r.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  // The panel renders the comment as text, never as markup.
  await page.getByRole('cell', { name: 'The weekly digest <b>saves</b> me an hour' }).waitFor();
  await screenshot(page, 'demo.png');
  assert.deepEqual(page.sent.map((b) => b.state), ['partial', 'complete']);
  assert.ok(page.sent.every((b) => b.id === r.id), 'both deliveries under one id');
  page.sent.forEach(assertSchemaV1);
  assert.deepEqual(page.errors, []);
});

test('each segment gets its own follow-up prompt and is stored with that segment', async () => {
  const cases = [
    [0, 'detractor', "We're sorry. What disappointed you, and what should we fix first?"],
    [6, 'detractor', "We're sorry. What disappointed you, and what should we fix first?"],
    [7, 'passive', 'What would we need to do to earn a 9 or 10 from you next time?'],
    [8, 'passive', 'What would we need to do to earn a 9 or 10 from you next time?'],
    [10, 'promoter', 'What do you love most about Acme Analytics?'],
  ];
  for (const [score, segment, prompt] of cases) {
    const page = await openPage(browser);
    await ask(page);
    await page.getByRole('radio', { name: new RegExp(`^${score}(,|$)`) }).click();
    await page.getByRole('textbox', { name: prompt }).waitFor();
    if (segment === 'detractor') {
      await page.getByRole('checkbox', { name: 'You may contact me about this' }).check();
      await page.getByRole('button', { name: 'Send' }).click();
    } else {
      await page.getByRole('button', { name: 'Skip' }).click();
    }
    const row = await eventually(async () => (await collector.responses(`?segment=${segment}`))
      .find((r) => r.score === score && r.state === 'complete'));
    assert.equal(row.segment, segment);
    if (segment === 'detractor') assert.equal(row.contact_consent, true);
    else assert.equal(row.comment, null);
    page.sent.forEach(assertSchemaV1);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});

test('closing the card before a score stores a silent, dismissed response', async () => {
  const before = (await collector.responses('?segment=silent')).length;
  const page = await openPage(browser);
  await ask(page);
  await page.getByRole('button', { name: 'Close' }).click();
  await page.locator('nps-widget').waitFor({ state: 'detached' });
  const silent = await eventually(async () => {
    const list = await collector.responses('?segment=silent');
    return list.length > before && list;
  });
  const r = silent.find((x) => x.silent_reason === 'dismissed');
  assert.ok(r, 'a dismissed response');
  assert.equal(r.score, null);
  assert.equal(r.state, 'complete');
  page.sent.forEach(assertSchemaV1);
  assert.deepEqual(page.errors, []);
});

test('the schema check itself refuses a body whose segment contradicts its score', () => {
  const good = {
    schema: 1, id: '0b6e3c1a-5f7d-4c2e-9a8b-1d2e3f4a5b6c', survey_id: 'default', score: 3,
    segment: 'detractor', comment: null, contact_consent: null, state: 'partial', user: {},
    context: { url: 'https://example.com/', locale: 'en' }, shown_at: '2026-11-23T10:00:00.000Z',
    answered_at: '2026-11-23T10:00:01.000Z', completed_at: null,
  };
  assertSchemaV1(good);
  assert.throws(() => assertSchemaV1({ ...good, segment: 'promoter' }), /schema v1/);
  assert.throws(() => assertSchemaV1({ ...good, score: 11 }), /schema v1/);
  assert.throws(() => assertSchemaV1({ ...good, extra: 1 }), /schema v1/);
});
