// The collector's dashboard in headless Chromium, over responses stored in SQLite: token
// sign-in, then its views by their addresses (#/overview, #/accounts, #/accounts/<id>,
// #/lists/<segment>, #/referrals, #/surveys, #/team), each opened by its address and from the
// keyboard, focus on its heading and its name said, the back button, a shared address that
// opens after sign-in, axe-core on every view (under the dashboard's strict CSP); the NPS and
// split, the trend, the accounts and the lists with CSV downloads; the work queue: a status
// change, a note, the filters, the silent accounts, the themes, an account's page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startCollector, launch, openPage, screenshot, axe, serve, eventually } from './harness.mjs';

const TOKEN = 'e2e-read-token-0123456789';
let collector, browser, samToken, chat;
// What the team's chat (a Slack-compatible incoming webhook) was sent.
const heard = [];
let crmReceiver;

// People's roles in their accounts (the `role` trait).
const ROLES = { 'ana@acme.example': 'decision_maker', 'bo@acme.example': 'user', 'ed@globex.example': 'decision_maker', 'fa@globex.example': 'influencer' };
// The accounts' records, as the CRM export would give them.
const RECORDS = {
  acme: { name: 'Acme Corp', arr: 120000, plan: 'pro', owner: 'sam', renewal_on: '2027-01-15', crm_url: 'https://crm.example/acme' },
  globex: { name: 'Globex', arr: 84000, plan: 'pro', owner: 'admin', renewal_on: '2026-12-20', crm_url: 'https://crm.example/globex' },
  initech: { name: 'Initech', arr: 50000, plan: 'team', owner: 'sam', renewal_on: '2027-03-01' },
  hooli: { name: 'Hooli', arr: 60000, plan: 'pro', owner: 'admin', renewal_on: '2027-02-01'},
  umbrella: { name: 'Umbrella', arr: 20000, plan: 'pro', owner: 'sam', renewal_on: '2027-06-30' },
};

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
    user: { id: `u${n}`, account_id: account, email, ...(ROLES[email] ? { traits: { role: ROLES[email] } } : {}) },
    context: { url: 'https://app.example/reports', locale: 'en' },
    shown_at: shownAt,
    answered_at: shownAt,
    completed_at: shownAt,
  };
}

before(async () => {
  chat = await serve((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      heard.push(JSON.parse(body));
      res.writeHead(200).end('ok');
    });
  });
  // A HubSpot-shaped receiver for the CRM sync: it takes companies and notes, and refuses the
  // contacts of globex.example with HubSpot's message, so the Team view has a refusal to show.
  crmReceiver = await serve((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const inputs = JSON.parse(body || '{}').inputs || [];
      const answer = (status, json) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      if (req.url.endsWith('/contacts/batch/upsert')) {
        const bad = inputs.find((i) => i.id.endsWith('@globex.example'));
        if (bad) {
          return answer(400, { status: 'error', category: 'VALIDATION_ERROR', message: `Property values were not valid: contact ${bad.id} is blocked` });
        }
        return answer(200, { results: inputs.map((i, n) => ({ id: `${n + 1}`, properties: { ...i.properties, email: i.id } })) });
      }
      if (req.url.endsWith('/notes/batch/create')) {
        return answer(201, { results: inputs.map((i, n) => ({ id: `${n + 1}`, properties: i.properties })) });
      }
      return answer(200, { results: inputs.map((i, n) => ({ id: `${n + 1}`, properties: i.properties })) });
    });
  });
  collector = await startCollector(['--token', TOKEN, '--notify', `${chat.base}/hook`, '--notify-delay', '0', '--referral-value', '12000',
    '--crm', 'hubspot', '--crm-url', crmReceiver.base, '--crm-token', 'pat-e2e', '--crm-interval-ms', '200']);
  const answers = [
    [10, 'acme', 'ana@acme.example', 'The weekly digest saves me an hour', '2026-10-06T09:00:00.000Z'],
    [9, 'acme', 'bo@acme.example', null, '2026-10-14T09:00:00.000Z'],
    [9, 'initech', 'cy@initech.example', 'Great support', '2026-10-21T09:00:00.000Z'],
    [8, 'initech', 'di@initech.example', 'Exports could be faster', '2026-11-03T09:00:00.000Z'],
    [3, 'globex', 'ed@globex.example', '<b>Too slow</b> on big projects', '2026-11-10T09:00:00.000Z'],
    [10, 'globex', 'fa@globex.example', null, '2026-11-17T09:00:00.000Z'],
    [null, 'globex', 'gu@globex.example', null, '2026-11-18T09:00:00.000Z'],
    [null, 'hooli', 'ha@hooli.example', null, '2026-11-19T09:00:00.000Z'],
    [7, 'umbrella', 'ia@umbrella.example', 'Please add export to Excel', '2026-11-20T09:00:00.000Z'],
    [8, 'umbrella', 'jo@umbrella.example', 'CSV exports for the finance team', '2026-11-21T09:00:00.000Z'],
  ];
  for (const [i, a] of answers.entries()) {
    const r = await fetch(`${collector.url}/v1/responses`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body(i + 1, ...a)),
    });
    assert.equal(r.status, 201, await r.text());
  }
  for (const [id, record] of Object.entries(RECORDS)) {
    const r = await fetch(`${collector.url}/v1/accounts/${id}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(record),
    });
    assert.equal(r.status, 200, await r.text());
  }
  // A member of the team, who works the queue with a token of her own.
  const made = await fetch(`${collector.url}/v1/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ name: 'sam', role: 'member' }),
  });
  assert.equal(made.status, 201);
  samToken = (await made.json()).token;
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await collector?.stop();
  chat?.server.close();
  crmReceiver?.server.close();
});

/// The views and their addresses, with the heading each shows (the account's and the list's
/// name their subject).
const VIEWS = [
  ['#/overview', 'Overview', 'overview'],
  ['#/accounts', 'Accounts', 'accounts'],
  ['#/accounts/globex', 'Account Globex', 'accounts'],
  ['#/lists/promoter', 'Promoters to act on', 'lists'],
  ['#/lists/passive', 'Passives to act on', 'lists'],
  ['#/lists/detractor', 'Detractors to act on', 'lists'],
  ['#/lists/silent', 'Silent people to act on', 'lists'],
  ['#/referrals', 'Referrals', 'referrals'],
  ['#/surveys', /^Surveys/, 'surveys'],
  ['#/team', 'Team', 'team'],
];

/// The view shown now: its heading is focused, its name was said, its nav link is current.
async function inView(page, heading, nav) {
  const h = page.locator('.view:not([hidden]) h2').first();
  if (typeof heading === 'string') {
    await h.filter({ hasText: new RegExp(`^${heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }).waitFor();
  } else {
    await h.filter({ hasText: heading }).waitFor();
  }
  await eventually(() => page.evaluate(() => document.activeElement?.matches('.view:not([hidden]) h2')));
  assert.equal(await page.locator('.view:not([hidden])').count(), 1, 'one view at a time');
  const text = await h.textContent();
  await page.getByRole('status').filter({ hasText: text }).waitFor();
  assert.equal(await page.locator('#nav [aria-current=page]').getAttribute('data-route'), nav);
  assert.equal(await page.title(), `${text} – NPS dashboard`);
}

/// Follows a link from the keyboard: focus it, press Enter.
async function press(page, locator) {
  await locator.focus();
  await page.keyboard.press('Enter');
}

async function signIn(page, token = TOKEN, hash = '') {
  await page.goto(`${collector.url}/dashboard${hash}`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Open the dashboard' }).click();
  await page.locator('#board').waitFor();
}

const go = (page, hash) => page.evaluate((h) => { location.hash = h; }, hash);

test('the dashboard asks for the token, then shows the overview, the accounts and the lists', async () => {
  const page = await openPage(browser, { viewport: { width: 1100, height: 1500 }, acceptDownloads: true });
  await page.goto(`${collector.url}/dashboard`);
  const token = page.getByLabel('Token');
  await token.fill('wrong');
  await page.getByRole('button', { name: 'Open the dashboard' }).click();
  await page.getByText('That token was refused.').waitFor();

  await token.fill(TOKEN);
  await page.getByRole('button', { name: 'Open the dashboard' }).click();
  await page.locator('#nps').filter({ hasText: '+37.5' }).waitFor();
  await inView(page, 'Overview', 'overview');
  assert.equal(
    await page.locator('#counts').textContent(),
    '10 responses: 4 promoters, 3 passives, 1 detractors, 2 silent',
  );
  assert.equal(await page.locator('#moe').textContent(), '± 42.5 (95 %)');
  await page.waitForFunction(() => document.getElementById('trend').naturalWidth > 0);
  assert.match(await page.locator('#trend').getAttribute('alt'), /^NPS by week: 2026-10-05 \+100/);
  await screenshot(page, 'dashboard.png', { fullPage: true });

  await press(page, page.locator('#nav').getByRole('link', { name: 'Accounts' }));
  await inView(page, 'Accounts', 'accounts');
  const rows = page.locator('#accounts tbody tr');
  assert.equal(await rows.count(), 5);
  assert.equal(await rows.first().locator('td').first().textContent(), 'Globex', 'lowest NPS first');
  await page.getByRole('cell', { name: '<b>Too slow</b> on big projects' }).first().waitFor();
  assert.equal(await page.locator('b').count(), 0, 'comments are text, never markup');
  await screenshot(page, 'dashboard-accounts.png', { fullPage: true });

  await press(page, page.locator('#nav').getByRole('link', { name: 'Lists to act on' }));
  await inView(page, 'Promoters to act on', 'lists');
  await press(page, page.locator('#lists-view nav').getByRole('link', { name: 'Detractors' }));
  await inView(page, 'Detractors to act on', 'lists');
  assert.equal(await page.locator('#lists-view nav [aria-current=page]').textContent(), 'Detractors');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download detractors as CSV' }).click(),
  ]);
  const csv = await readFile(await download.path(), 'utf8');
  const lines = csv.trim().split('\r\n');
  assert.equal(lines.length, 2, csv);
  assert.match(lines[1], /,detractor,3,<b>Too slow<\/b> on big projects,true,u5,globex,ed@globex\.example,/);
  assert.deepEqual(page.errors.filter((e) => !e.includes('401')), []);
});

test('every view opens by its address, from the keyboard and with the back button, with no axe violation', async () => {
  const page = await openPage(browser, { viewport: { width: 1200, height: 1400 } });
  await signIn(page);
  await inView(page, 'Overview', 'overview');
  for (const [hash, heading, nav] of VIEWS) {
    await page.goto(`${collector.url}/dashboard${hash}`);
    await inView(page, heading, nav);
    assert.equal(new URL(page.url()).hash, hash);
    assert.deepEqual(await axe(page), [], `axe on ${hash}`);
    const name = hash.slice(2).replace(/\//g, '-');
    if (hash !== '#/overview' && hash !== '#/accounts') {
      await screenshot(page, `dashboard-${name}.png`, { fullPage: true });
    }
  }
  // An address that is no view is the overview's.
  await page.goto(`${collector.url}/dashboard#/nowhere`);
  await inView(page, 'Overview', 'overview');

  // From the keyboard: the nav, a row's link to its account; then back, and back again.
  await press(page, page.locator('#nav').getByRole('link', { name: 'Accounts' }));
  await inView(page, 'Accounts', 'accounts');
  await press(page, page.locator('#accounts').getByRole('link', { name: 'Umbrella' }));
  await inView(page, 'Account Umbrella', 'accounts');
  assert.equal(new URL(page.url()).hash, '#/accounts/umbrella');
  await press(page, page.getByRole('link', { name: 'All accounts' }));
  await inView(page, 'Accounts', 'accounts');
  await page.goBack();
  await inView(page, 'Account Umbrella', 'accounts');
  await page.goBack();
  await inView(page, 'Accounts', 'accounts');
  await page.goBack();
  await inView(page, 'Overview', 'overview');
  // Tab from the heading reaches the view's controls, not a hidden view's.
  await press(page, page.locator('#nav').getByRole('link', { name: 'Lists to act on' }));
  await inView(page, 'Promoters to act on', 'lists');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Promoters');
  assert.deepEqual(page.errors.filter((e) => !e.includes('401')), []);
});

test('an address shared before sign-in opens after it', async () => {
  const page = await openPage(browser, { viewport: { width: 1200, height: 1400 } });
  await page.goto(`${collector.url}/dashboard#/accounts/acme`);
  await page.getByLabel('Token').waitFor();
  assert.ok(await page.locator('#board').isHidden(), 'nothing shows before the token');
  assert.ok(await page.locator('#nav').isHidden());
  await page.getByLabel('Token').fill(TOKEN);
  await page.keyboard.press('Enter');
  await inView(page, 'Account Acme Corp', 'accounts');
  assert.equal(new URL(page.url()).hash, '#/accounts/acme');
  assert.match(await page.locator('#account-figures').textContent(), /^promoter, NPS \+100/);
  assert.deepEqual(page.errors.filter((e) => !e.includes('401')), []);
});

test('the work queue: status, owner and notes per response, filters, silent accounts, themes, account page', async () => {
  const page = await openPage(browser, { viewport: { width: 1200, height: 1800 } });
  await signIn(page, samToken);
  await page.getByText('Signed in as sam (member)').waitFor();
  assert.ok(await page.locator('#nav').getByRole('link', { name: 'Team' }).isHidden(), 'the Team view is for admins');
  assert.deepEqual(await axe(page), [], 'axe on the overview');
  assert.match(await page.locator('#change').textContent(), /^The week of 2026-11-16 against the week of 2026-11-09: NPS .* points, within what chance alone would give \(z = -?[\d.]+\); more answers would tell\.$/);

  // Themes: what passives ask for comes first, and opens its comments.
  await page.getByRole('button', { name: 'exports: 3 comments, show them' }).click();
  await page.locator('.examples li', { hasText: 'CSV exports for the finance team' }).waitFor();
  await page.getByRole('status').filter({ hasText: '3 comments mention exports' }).waitFor();
  // What fixing it is worth, against the NPS of every answer (8): 3 passives moving up, and
  // the ARR of their 2 accounts (whatever records the earlier tests gave them).
  await page.locator('#themes .gain').filter({ hasText: /\+37\.5 NPS, 2 accounts, \S+ ARR if these 3 passives became promoters/ }).waitFor();

  // Silent accounts are a list of their own; globex had a silent person but answers too.
  await go(page, '#/accounts');
  await inView(page, 'Accounts', 'accounts');
  const silent = page.locator('#silent-accounts');
  assert.equal(await silent.getByRole('link').count(), 1);
  await silent.getByRole('link', { name: /^Hooli/ }).waitFor();

  // The detractor is called: status and owner from the keyboard, then a note.
  await go(page, '#/lists/detractor');
  await inView(page, 'Detractors to act on', 'lists');
  const status = page.getByLabel('Follow-up status for ed@globex.example');
  await status.focus();
  await status.selectOption('contacted');
  await page.getByRole('status').filter({ hasText: 'ed@globex.example: contacted' }).waitFor();
  await page.getByLabel('Owner for ed@globex.example').fill('sam');
  await page.getByRole('row', { name: /ed@globex\.example/ }).getByRole('button', { name: 'Set owner' }).click();
  await page.getByRole('status').filter({ hasText: 'owner sam' }).waitFor();
  await page.getByRole('row', { name: /ed@globex\.example/ }).getByText(/^contacted by sam at /).waitFor();
  const note = page.getByLabel('Note for ed@globex.example');
  await note.fill('<i>Called</i>: big projects time out, fix planned');
  await note.press('Tab');
  await page.keyboard.press('Enter');
  await page.getByText('<i>Called</i>: big projects time out, fix planned', { exact: false }).waitFor();
  assert.equal(await page.locator('i').count(), 0, 'notes are text, never markup');
  // Promoters can be asked for a referral; detractors cannot.
  const statuses = await status.locator('option').allTextContents();
  assert.deepEqual(statuses, ['new', 'contacted', 'resolved']);
  await go(page, '#/lists/promoter');
  await inView(page, 'Promoters to act on', 'lists');
  const promoterStatus = page.getByLabel('Follow-up status for ana@acme.example');
  assert.ok((await promoterStatus.locator('option').allTextContents()).includes('referral asked'));

  // It is stored: the API says so, and a reload shows it.
  const stored = await (await fetch(`${collector.url}/v1/responses?status=contacted`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json();
  assert.equal(stored.length, 1);
  assert.equal(stored[0].follow_up.owner, 'sam');
  assert.equal(stored[0].follow_up.updated_by, 'sam', 'who changed it comes from the token');
  assert.equal(stored[0].follow_up.notes[0].text, '<i>Called</i>: big projects time out, fix planned');
  assert.equal(stored[0].follow_up.notes[0].author, 'sam');

  // Filters: only mine (asked of the API: owner=sam) shows the one item sam owns; resolved
  // items leave the open queue. The filter stays as the tabs change.
  await page.getByLabel('Only mine').check();
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.locator('#lists').getByText('Promoters: ask for a referral or a review (0)').waitFor();
  await go(page, '#/lists/detractor');
  await page.locator('#lists').getByText('Detractors: contact them (1)').waitFor();
  await page.getByLabel('Follow-up status for ed@globex.example').selectOption('resolved');
  await page.getByRole('status').filter({ hasText: 'ed@globex.example: resolved' }).waitFor();
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.locator('#lists').getByText('Detractors: contact them (0)').waitFor();
  await page.getByLabel('Only mine').uncheck();
  await page.locator('#queue select[name=status]').selectOption('resolved');
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.locator('#lists').getByText('Detractors: contact them (1)').waitFor();
  await screenshot(page, 'dashboard-queue.png', { fullPage: true });

  // An account's view: its people, their scores over time, comments and follow-ups.
  await go(page, '#/accounts');
  await inView(page, 'Accounts', 'accounts');
  await page.locator('#accounts').getByRole('link', { name: 'Globex' }).click();
  await inView(page, 'Account Globex', 'accounts');
  assert.match(await page.locator('#account-figures').textContent(), /^detractor, NPS 0 ± \d+(\.\d)?, 2 people answered, 1 silent, 2 open follow-ups$/);
  const history = page.locator('#account-responses tbody tr');
  assert.equal(await history.count(), 3);
  assert.match(await history.first().textContent(), /2026-11-10.*ed@globex\.example.*3.*detractor.*Too slow.*resolved \(sam\).*<i>Called<\/i>: big projects time out/);
  assert.deepEqual(await axe(page), [], 'axe on the account view');
  await screenshot(page, 'dashboard-account.png', { fullPage: true });
  await page.goBack();
  await inView(page, 'Accounts', 'accounts');
  // The 401s are the page asking before it had the token.
  assert.deepEqual(page.errors.filter((e) => !e.includes('401')), []);
});

test('an admin signs in from the printed link and manages the team', async () => {
  const page = await openPage(browser, { viewport: { width: 1200, height: 1800 } });
  await page.goto(`${collector.url}/dashboard#token=${TOKEN}`);
  await page.locator('#nps').filter({ hasText: '+37.5' }).waitFor();
  assert.equal(new URL(page.url()).hash, '', 'the token leaves the address bar');
  await page.getByText('Signed in as admin (admin)').waitFor();
  await press(page, page.locator('#nav').getByRole('link', { name: 'Team' }));
  await inView(page, 'Team', 'team');
  const team = page.locator('#team-view');
  await team.getByRole('cell', { name: 'sam', exact: true }).waitFor();
  await team.getByLabel('Name').fill('vi');
  await team.getByLabel('Role').selectOption('viewer');
  await team.getByRole('button', { name: 'Make a token' }).click();
  await team.getByRole('cell', { name: 'vi', exact: true }).waitFor();
  const shown = await page.locator('#new-token-value').textContent();
  assert.match(shown, /^nps_[A-Za-z0-9_-]{43}$/, 'the new token, shown once');
  // The CRM sync: its state, and the contacts the CRM refused, in its words, as text.
  await press(page, page.locator('#nav').getByRole('link', { name: 'Overview' }));
  await eventually(async () => {
    const crm = await (await fetch(`${collector.url}/v1/crm`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json();
    return crm.backlog === 0 && crm.refused >= 2;
  }, { timeout: 20000 });
  await press(page, page.locator('#nav').getByRole('link', { name: 'Team' }));
  await page.locator('#crm-state').filter({ hasText: /^Sending to HubSpot: 0 waiting; last sent .+; last error .*refused; see the Team view\.$/ }).waitFor();
  await page.locator('#crm-refused').getByRole('cell', { name: 'contact ed@globex.example is blocked' }).first().waitFor();
  assert.deepEqual(await axe(page), [], 'axe on the Team view');
  await screenshot(page, 'dashboard-team.png', { fullPage: true });

  // The viewer reads but cannot change follow-ups; once revoked, the token is refused.
  const asViewer = (path, init = {}) => fetch(`${collector.url}${path}`, { ...init, headers: { ...(init.headers || {}), Authorization: `Bearer ${shown}` } });
  assert.equal((await asViewer('/v1/summary')).status, 200);
  const list = await (await asViewer('/v1/responses?segment=detractor')).json();
  const refused = await asViewer(`/v1/responses/${list[0].id}/follow-up`, {
    method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ status: 'contacted' }),
  });
  assert.equal(refused.status, 403);
  assert.match((await refused.json()).error, /needs the member role/);
  await team.getByRole('button', { name: 'Revoke vi' }).click();
  await page.getByRole('status').filter({ hasText: "Revoked vi's token" }).waitFor();
  assert.equal((await asViewer('/v1/summary')).status, 401);

  // The audit trail: the token made and revoked, by whom, newest first; the viewer's refused
  // change is not in it. An object is shown as text, never read as HTML.
  await press(page, page.locator('#nav').getByRole('link', { name: 'Audit' }));
  await inView(page, 'Audit', 'audit');
  const trail = page.locator('#audit tbody tr');
  await trail.first().waitFor();
  const first = await trail.first().locator('td').allTextContents();
  assert.deepEqual(first.slice(1, 4), ['admin', 'DELETE /v1/tokens/{name}', '/v1/tokens/vi']);
  await page.locator('#audit').getByRole('cell', { name: 'POST /v1/tokens', exact: true }).first().waitFor();
  const actors = await page.locator('#audit tbody tr td:nth-child(2)').allTextContents();
  assert.ok(actors.includes('sam') && !actors.includes('vi'), `the viewer's refused change left no row: ${actors}`);
  assert.deepEqual(await axe(page), [], 'axe on the Audit view');
  await screenshot(page, 'dashboard-audit.png', { fullPage: true });
  assert.deepEqual(page.errors.filter((e) => !e.includes('401')), []);
});

test('a member reaches people outside the site: a personal link with its email block, a mail merge, and the alert link', async () => {
  const page = await openPage(browser, { viewport: { width: 1200, height: 1800 }, acceptDownloads: true });
  // The detractor's alert reached the chat; its link opens the dashboard on that response, in
  // its list, after sign-in, even though it was resolved since (the list then shows
  // everything).
  const alert = await eventually(() => heard.find((m) => m.text.includes('ed@globex.example')));
  assert.match(alert.text, /^Detractor \(3\/10\) from globex \(ed@globex\.example\): “&lt;b&gt;Too slow&lt;\/b&gt; on big projects”/);
  const id = alert.text.match(/#response=([0-9a-f-]+)\|/)[1];
  assert.equal(heard.filter((m) => m.text.startsWith('Detractor')).length, 1, 'one detractor, one alert');
  await page.goto(`${collector.url}/dashboard#response=${id}`);
  await page.getByLabel('Token').fill(samToken);
  await page.getByRole('button', { name: 'Open the dashboard' }).click();
  await page.locator(`#lists tr.wanted[data-id="${id}"]`).waitFor();
  assert.equal(new URL(page.url()).hash, '#/lists/detractor');
  await eventually(() => page.evaluate((id) => document.activeElement.dataset.id === id, id));
  await page.getByRole('status').filter({ hasText: 'The response from the alert is highlighted in its list' }).waitFor();

  // One person's link: the URL, the email block ready to copy, and its preview.
  await press(page, page.locator('#lists-view nav').getByRole('link', { name: 'Silent people' }));
  await inView(page, 'Silent people to act on', 'lists');
  await page.getByRole('button', { name: 'Personal link for gu@globex.example' }).click();
  // The view shows once the link is made (the API answers first).
  await page.locator('#link-view').waitFor();
  const url = await page.getByLabel('Link', { exact: true }).inputValue();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/s\/[\w-]+\.[\w-]+$/);
  assert.match(await page.getByLabel(/Email block/).inputValue(), /\?score=10"/);
  const preview = page.frameLocator('#link-preview');
  await preview.getByRole('link', { name: '7', exact: true }).waitFor();
  assert.deepEqual(await axe(page), [], 'axe with the link shown');
  await screenshot(page.locator('#link-view'), 'dashboard-link.png');

  // The silent people's mail merge, for the team's email tool.
  await go(page, '#/accounts');
  await inView(page, 'Accounts', 'accounts');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Personal links for silent people (CSV)' }).click(),
  ]);
  const csv = (await readFile(await download.path(), 'utf8')).trim().split(/\r?\n/);
  assert.equal(csv[0], 'email,user_id,account_id,url');
  assert.deepEqual(csv.slice(1).map((line) => line.split(',')[0]), ['gu@globex.example', 'ha@hooli.example']);
  assert.deepEqual(page.errors.filter((e) => !e.includes('401')), []);
});

test('an admin sends the digest to the chat now', async () => {
  const page = await openPage(browser, { viewport: { width: 1200, height: 1800 } });
  await signIn(page, TOKEN, '#/team');
  await inView(page, 'Team', 'team');
  const before = heard.length;
  await page.getByRole('button', { name: 'Send digest now' }).click();
  await page.getByRole('status').filter({ hasText: 'Digest sent to 1 chat' }).waitFor();
  assert.equal(heard.length, before + 1);
  assert.match(heard.at(-1).text, /^\*Weekly NPS digest\*/);
  assert.match(await page.locator('#digest-text').textContent(), /Open follow-ups: \d+/);
});

test('the money beside the score: revenue and notes on the trend, records and people, upsell, a referral followed to the won deal', async () => {
  const page = await openPage(browser, { viewport: { width: 1200, height: 1600 }, acceptDownloads: true });
  await signIn(page, samToken);
  await inView(page, 'Overview', 'overview');
  // At risk: Globex (a detractor account, $84,000) and Hooli (silent, $60,000).
  await page.locator('#at-risk').filter({ hasText: /^ARR at risk: \$144,000 \(1 detractor and 1 silent accounts\)$/ }).waitFor();
  const revenue = await (await fetch(`${collector.url}/v1/revenue`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json();
  assert.equal(await page.locator('#coverage').textContent(), `${Math.round(revenue.coverage * 100)} % of ARR answered, target 80 %`);
  assert.match(await page.locator('#weighted-nps').textContent(), /^Revenue-weighted NPS [+-]?[\d.]+ /);

  // A member notes what happened to the business, under the trend.
  const note = page.locator('#new-annotation');
  await note.getByLabel('Date').fill('2026-11-12');
  await note.getByLabel('What happened').fill('Pricing <em>change</em>');
  await note.getByLabel('What happened').press('Enter');
  await page.locator('#annotations li').filter({ hasText: '2026-11-12: Pricing <em>change</em> (sam)' }).waitFor();
  assert.equal(await page.locator('em').count(), 0, 'annotations are text, never markup');
  assert.deepEqual(await axe(page), [], 'axe on the overview with the money');
  await screenshot(page, 'dashboard-overview.png', { fullPage: true });

  // Accounts by ARR, by owner, and the upsell list with its gap.
  await go(page, '#/accounts');
  await inView(page, 'Accounts', 'accounts');
  const filters = page.locator('#account-filters');
  await filters.getByLabel('Sort by').selectOption('arr');
  await filters.getByRole('button', { name: 'Show accounts' }).click();
  await page.locator('#accounts-order').filter({ hasText: '(largest ARR first)' }).waitFor();
  const first = page.locator('#accounts tbody tr').first();
  assert.equal(await first.locator('td').first().textContent(), 'Acme Corp');
  assert.equal(await first.locator('td').nth(3).textContent(), '$120,000');
  await filters.getByLabel('Owner').fill('sam');
  await filters.getByRole('button', { name: 'Show accounts' }).click();
  await eventually(async () => (await page.locator('#accounts tbody tr').count()) === 3);
  assert.deepEqual(await page.locator('#accounts tbody tr td:nth-child(6)').allTextContents(), ['sam', 'sam', 'sam']);
  await filters.getByLabel('Owner').fill('');
  await filters.getByRole('checkbox', { name: /Upsell/ }).check();
  await filters.getByRole('button', { name: 'Show accounts' }).click();
  await page.locator('#accounts thead th', { hasText: 'Gap' }).waitFor();
  assert.deepEqual(await axe(page), [], 'axe on the upsell list');
  await filters.getByRole('checkbox', { name: /Upsell/ }).uncheck();

  // An account's record, its CRM link, its people by role; a member edits the record.
  await go(page, '#/accounts/acme');
  await inView(page, 'Account Acme Corp', 'accounts');
  const record = page.locator('#account-record');
  await record.getByText('$120,000').waitFor();
  const crm = record.getByRole('link', { name: 'Open in the CRM' });
  assert.equal(await crm.getAttribute('href'), 'https://crm.example/acme');
  assert.equal(await crm.getAttribute('rel'), 'noopener noreferrer');
  const groups = page.locator('#account-people h4');
  assert.deepEqual(await groups.allTextContents(), ['Decision makers (1)', 'Users (1)']);
  await page.locator('#account-people li.reference', { hasText: 'ana@acme.example' }).getByText('reference').waitFor();
  const edit = page.locator('#account-edit');
  await edit.getByLabel('Plan').fill('enterprise');
  await edit.getByRole('button', { name: 'Save the record' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved the record of Acme Corp' }).waitFor();
  await record.getByText('enterprise').waitFor();
  const saved = await (await fetch(`${collector.url}/v1/accounts/acme`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json();
  assert.equal(saved.plan, 'enterprise');
  assert.equal(saved.arr, 120000, 'the other fields stay');
  // The silent person is marked, under "No role", last; a CRM link that is not http(s) is
  // not a link.
  await go(page, '#/accounts/globex');
  await inView(page, 'Account Globex', 'accounts');
  assert.deepEqual(await groups.allTextContents(), ['Decision makers (1)', 'Influencers (1)', 'No role (1)']);
  assert.match(await page.locator('#account-people section').last().textContent(), /gu@globex\.example\?.*did not answer/);
  assert.deepEqual(await axe(page), [], 'axe on the account with its people');
  await screenshot(page, 'dashboard-account-people.png', { fullPage: true });
  await go(page, '#/accounts/hooli');
  await inView(page, 'Account Hooli', 'accounts');
  assert.equal(await page.locator('#account-record a').count(), 0);

  // A promoter referred a colleague: recorded from the list, followed to the won deal.
  await go(page, '#/lists/promoter');
  await inView(page, 'Promoters to act on', 'lists');
  const ana = page.getByRole('row', { name: /ana@acme\.example/ });
  await press(page, ana.getByText('Record a referral from ana@acme.example'));
  await ana.getByLabel('Name', { exact: true }).fill('Wu Li');
  await ana.getByLabel('Company').fill('Wayne Enterprises');
  await ana.getByLabel('Email').fill('wu@wayne.example');
  await ana.getByLabel('Note', { exact: true }).fill('<b>CTO</b>, wants a demo');
  assert.deepEqual(await axe(page), [], 'axe with the referral form open');
  await ana.getByRole('button', { name: 'Record the referral' }).click();
  await page.getByRole('status').filter({ hasText: 'Referral of Wu Li from ana@acme.example recorded' }).waitFor();

  await press(page, page.locator('#nav').getByRole('link', { name: 'Referrals' }));
  await inView(page, 'Referrals', 'referrals');
  const funnel = page.locator('#referral-funnel tbody tr', { hasText: 'promoters' });
  assert.equal(await funnel.locator('td').nth(3).textContent(), '1', 'one referral from promoters');
  const wu = page.getByRole('row', { name: /Wu Li/ });
  await wu.getByRole('cell', { name: '<b>CTO</b>, wants a demo' }).waitFor();
  assert.equal(await page.locator('b').count(), 0);
  const stage = wu.getByLabel('Status of the referral of Wu Li');
  await stage.selectOption('opportunity');
  await page.getByRole('status').filter({ hasText: 'The referral of Wu Li: opportunity' }).waitFor();
  await stage.selectOption('won');
  // Won asks for the value first: focus is in its field.
  await eventually(() => page.evaluate(() => document.activeElement.closest('form.won') !== null));
  await page.keyboard.type('15000');
  await page.keyboard.press('Enter');
  await page.getByRole('status').filter({ hasText: 'The referral of Wu Li: won' }).waitFor();
  await wu.getByRole('cell', { name: '$15,000' }).waitFor();
  const [referral] = await (await fetch(`${collector.url}/v1/referrals`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json();
  assert.equal(referral.status, 'won');
  assert.equal(referral.value, 15000);
  assert.equal(referral.updated_by, 'sam');
  await page.reload();
  await inView(page, 'Referrals', 'referrals');
  assert.equal(await funnel.locator('td').nth(5).textContent(), '1', 'one won');
  assert.equal(await funnel.locator('td').nth(6).textContent(), '$15,000');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download referrals as CSV' }).click(),
  ]);
  assert.match(await readFile(await download.path(), 'utf8'), /Wu Li/);
  assert.deepEqual(await axe(page), [], 'axe on the referrals');
  await screenshot(page, 'dashboard-referrals.png', { fullPage: true });
  assert.deepEqual(page.errors.filter((e) => !e.includes('401')), []);
});
