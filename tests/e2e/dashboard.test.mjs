// The collector's dashboard in headless Chromium: token sign-in, the NPS and split, the trend
// chart, the accounts table and the lists with CSV downloads, over responses stored in SQLite.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startCollector, launch, openPage, root } from './harness.mjs';

const TOKEN = 'e2e-read-token';
let collector, browser;

function body(n, score, account, email, comment, shownAt) {
  const segment = score == null ? 'silent' : score >= 9 ? 'promoter' : score >= 7 ? 'passive' : 'detractor';
  return {
    schema: 1,
    id: `5a1e0000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    survey_id: 'default',
    score,
    segment,
    ...(score == null ? { silent_reason: 'dismissed' } : {}),
    comment,
    contact_consent: segment === 'detractor' ? true : null,
    state: 'complete',
    user: { id: `u${n}`, account_id: account, email },
    context: { url: 'https://app.example/reports', locale: 'en' },
    shown_at: shownAt,
    answered_at: shownAt,
    completed_at: shownAt,
  };
}

before(async () => {
  collector = await startCollector(['--token', TOKEN]);
  const answers = [
    [10, 'acme', 'ana@acme.example', 'The weekly digest saves me an hour', '2026-10-06T09:00:00.000Z'],
    [9, 'acme', 'bo@acme.example', null, '2026-10-14T09:00:00.000Z'],
    [9, 'initech', 'cy@initech.example', 'Great support', '2026-10-21T09:00:00.000Z'],
    [8, 'initech', 'di@initech.example', 'Exports could be faster', '2026-11-03T09:00:00.000Z'],
    [3, 'globex', 'ed@globex.example', '<b>Too slow</b> on big projects', '2026-11-10T09:00:00.000Z'],
    [10, 'globex', 'fa@globex.example', null, '2026-11-17T09:00:00.000Z'],
    [null, 'globex', 'gu@globex.example', null, '2026-11-18T09:00:00.000Z'],
  ];
  for (const [i, a] of answers.entries()) {
    const r = await fetch(`${collector.url}/v1/responses`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body(i + 1, ...a)),
    });
    assert.equal(r.status, 201, await r.text());
  }
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await collector?.stop();
});

test('the dashboard asks for the token, then shows the score, trend, accounts and lists', async () => {
  const page = await openPage(browser, { viewport: { width: 1100, height: 1500 }, acceptDownloads: true });
  await page.goto(`${collector.url}/dashboard`);
  const token = page.getByLabel('Token');
  await token.fill('wrong');
  await page.getByRole('button', { name: 'Open the dashboard' }).click();
  await page.getByText('That token was refused.').waitFor();

  await token.fill(TOKEN);
  await page.getByRole('button', { name: 'Open the dashboard' }).click();
  await page.locator('#nps').filter({ hasText: '+50' }).waitFor();
  assert.equal(
    await page.locator('#counts').textContent(),
    '7 responses: 4 promoters, 1 passives, 1 detractors, 1 silent',
  );
  const rows = page.locator('#accounts tbody tr');
  assert.equal(await rows.count(), 3);
  assert.equal(await rows.first().locator('td').first().textContent(), 'globex', 'lowest NPS first');
  await page.getByRole('cell', { name: '<b>Too slow</b> on big projects' }).first().waitFor();
  assert.equal(await page.locator('b').count(), 0, 'comments are text, never markup');
  await page.waitForFunction(() => document.getElementById('trend').naturalWidth > 0);
  assert.match(await page.locator('#trend').getAttribute('alt'), /^NPS by week: 2026-10-05 \+100/);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download detractors as CSV' }).click(),
  ]);
  const csv = await readFile(await download.path(), 'utf8');
  const lines = csv.trim().split('\r\n');
  assert.equal(lines.length, 2, csv);
  assert.match(lines[1], /,detractor,3,<b>Too slow<\/b> on big projects,true,u5,globex,ed@globex\.example,/);

  await page.screenshot({ path: join(root, 'docs/screenshots/dashboard.png'), fullPage: true });
  assert.deepEqual(page.errors.filter((e) => !e.includes('401')), []);
});
