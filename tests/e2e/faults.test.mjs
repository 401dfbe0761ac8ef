// Fault injection: the widget's endpoint sits behind a loopback proxy this test controls, in
// front of the real collector (SQLite). The proxy is first down, then flaky (500, 503, 429 with
// Retry-After, answers slower than the widget's timeout, dropped connections), then healthy.
// Meanwhile the test answers the survey many times in two tabs of one site, with reloads in the
// middle of answers. Once the proxy is healthy every answer must be stored exactly once, in its
// final state, with its comment; both tabs' outboxes must end empty.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { launch, eventually, startCollector, assertSchemaV1, sendFile, serve, readBody } from './harness.mjs';


// A small seeded generator, so a failing run can be replayed with the same faults.
function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const seed = Number(process.env.NPS_FAULT_SEED || 20261123);
const random = mulberry32(seed);

let stats;
const inFlight = new Map();
let phase = 'down';
let collector, server, base, browser;

function forward(body, res) {
  const target = new URL('/v1/responses', collector.url);
  const up = request(target, { method: 'POST', headers: { 'Content-Type': 'application/json' } }, (r) => {
    let out = '';
    r.on('data', (c) => (out += c));
    r.on('end', () => {
      if (!res.destroyed) res.writeHead(r.statusCode, { 'Content-Type': 'application/json' }).end(out);
    });
  });
  up.on('error', () => res.destroyed || res.writeHead(502).end());
  up.end(body);
  stats.forwarded++;
}

function fault(req, res, body) {
  stats.attempts++;
  const { id, state } = JSON.parse(body);
  const key = `${id} ${state}`;
  if (inFlight.get(key)) stats.concurrent++;
  inFlight.set(key, (inFlight.get(key) || 0) + 1);
  res.on('close', () => inFlight.set(key, inFlight.get(key) - 1));
  const r = phase === 'healthy' ? 1 : phase === 'down' ? random() * 0.6 : random();
  if (r < 0.15) {
    stats[500]++;
    res.writeHead(500).end();
  } else if (r < 0.3) {
    stats[503]++;
    res.writeHead(503).end();
  } else if (r < 0.4) {
    stats[429]++;
    res.writeHead(429, { 'Retry-After': '1' }).end();
  } else if (r < 0.5) {
    // Slower than the widget's 1 s timeout: the widget gives up, the collector still stores
    // it, and the retry must not make a second row.
    stats.slow++;
    setTimeout(() => forward(body, res), 1500);
  } else if (r < 0.6) {
    stats.dropped++;
    req.socket.destroy();
  } else {
    forward(body, res);
  }
}

before(async () => {
  collector = await startCollector();
  ({ server, base } = await serve(async (req, res) => {
    if (req.url === '/v1/responses' && req.method === 'POST') {
      const body = await readBody(req);
      fault(req, res, body);
      return;
    }
    await sendFile(res, req.url.split('?')[0], ['tests/e2e/pages', 'dist']);
  }));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
  await collector?.stop();
});

async function open(context, surveyId) {
  const page = await context.newPage();
  page.crashes = [];
  page.on('pageerror', (e) => page.crashes.push(String(e)));
  page.on('console', (m) => {
    // Failed POSTs are logged by the browser itself; anything else is a bug.
    if (m.type() === 'error' && !/Failed to load resource|net::ERR_/.test(m.text())) page.crashes.push(m.text());
  });
  await page.goto(`${base}/faults.html?${surveyId}`);
  await page.evaluate(() => window.NpsWidget.ready);
  return page;
}

/// Shows a fresh card and returns its response id.
async function show(page) {
  const before = await page.evaluate(() => window.log.filter((e) => e[0] === 'shown').length);
  await page.evaluate(() => window.NpsWidget.show({ force: true }));
  return eventually(() => page.evaluate((n) => {
    const shown = window.log.filter((e) => e[0] === 'shown');
    return shown.length > n && shown[shown.length - 1][1];
  }, before));
}

const outboxKeys = (page) => page.evaluate(() =>
  Object.keys(localStorage).filter((k) => /^nps-widget:(outbox|lock):/.test(k)));

async function run({ answers, surveyId, locks }) {
  stats = { attempts: 0, forwarded: 0, 500: 0, 503: 0, 429: 0, slow: 0, dropped: 0, concurrent: 0 };
  phase = 'down';
  const context = await browser.newContext();
  if (!locks) {
    // A browser without Web Locks (or an insecure context): the lease in localStorage is used.
    await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined }));
  }
  const tabs = [await open(context, surveyId), await open(context, surveyId)];
  assert.equal(await tabs[0].evaluate(() => !!navigator.locks), locks);
  const expected = new Map();
  const kinds = ['comment', 'skip', 'dismiss', 'reload'];

  for (let i = 0; i < answers; i++) {
    if (i === answers / 3) phase = 'flaky';
    const page = tabs[i % 2];
    // Switching tabs, as a person would: the other tab is hidden (and flushes as it goes).
    await page.bringToFront();
    const kind = kinds[(i + (i >> 2)) % kinds.length];
    const score = (i * 7) % 11;
    const id = await show(page);
    if (kind === 'dismiss') {
      await page.locator('[data-act=close]').click();
      expected.set(id, { state: 'complete', segment: 'silent', score: null, comment: null });
      continue;
    }
    await page.locator(`[data-score="${score}"]`).click();
    if (kind === 'reload') {
      // Left in the middle of the follow-up: the partial already queued must still arrive.
      await page.reload();
      await page.evaluate(() => window.NpsWidget.ready);
      expected.set(id, { state: 'partial', score, comment: null });
      continue;
    }
    let comment = null;
    if (kind === 'comment') {
      comment = `answer ${i}: “fault-tolerant” <b>not markup</b>`;
      await page.locator('textarea').fill(comment);
      await page.locator('[data-act=submit]').click();
    } else {
      await page.locator('[data-act=skip]').click();
    }
    await page.locator('[data-act=close]').click();
    expected.set(id, { state: 'complete', score, comment });
  }

  const answeredAt = Date.now();
  phase = 'healthy';
  // Back online: both tabs flush at once instead of waiting out their backoff.
  await context.setOffline(true);
  await context.setOffline(false);

  const mismatches = (rows) => [...expected].flatMap(([id, want]) => {
    const row = rows.find((r) => r.id === id);
    return row && row.state === want.state && row.comment === want.comment
      ? [] : [`${id}: want ${want.state} ${JSON.stringify(want.comment)}, stored ${row ? `${row.state} ${JSON.stringify(row.comment)}` : 'nothing'}`];
  });
  const rowsNow = async () => (await collector.responses()).filter((r) => r.survey_id === surveyId);
  let stored;
  try {
    stored = await eventually(async () => {
      const rows = await rowsNow();
      return mismatches(rows).length === 0 && rows;
    }, { timeout: 60000, interval: 250 });
  } catch (cause) {
    const outboxes = await Promise.all(tabs.map((t) => t.evaluate(() =>
      Object.entries(localStorage).filter(([k]) => k.startsWith('nps-widget:')))));
    throw new Error(`not every answer arrived:\n${mismatches(await rowsNow()).join('\n')}\n` +
      `outboxes: ${JSON.stringify(outboxes)}\nwidget events: ${JSON.stringify(await tabs[0].evaluate(() => window.log.slice(-10)))}`, { cause });
  }
  const recoveredMs = Date.now() - answeredAt;
  const ids = stored.map((r) => r.id);
  const duplicates = ids.length - new Set(ids).size;
  const unexpected = ids.filter((id) => !expected.has(id));
  let lost = 0;
  for (const [id, want] of expected) {
    const row = stored.find((r) => r.id === id);
    if (!row) { lost++; continue; }
    // The collector lists each response as the widget sent it, with its follow-up beside.
    const { follow_up: followUp, ...sent } = row;
    assert.equal(followUp.status, 'new');
    assertSchemaV1(sent);
    assert.equal(row.state, want.state, `state of ${id}`);
    assert.equal(row.score, want.score, `score of ${id}`);
    assert.equal(row.comment, want.comment, `comment of ${id}`);
    if (want.segment) assert.equal(row.segment, want.segment);
  }
  const faults = stats[500] + stats[503] + stats[429] + stats.slow + stats.dropped;
  console.log(
    `fault injection (${locks ? 'Web Locks' : 'localStorage lease'}, seed ${seed}): responses made ${expected.size}, attempts ${stats.attempts}, ` +
    `retries ${stats.attempts - expected.size}, faults ${faults} (500: ${stats[500]}, 503: ${stats[503]}, ` +
    `429: ${stats[429]}, slower than timeout: ${stats.slow}, dropped: ${stats.dropped}), ` +
    `forwarded ${stats.forwarded}, same state in flight twice ${stats.concurrent}, ` +
    `stored ${stored.length}, lost ${lost}, duplicates ${duplicates}, ` +
    `all stored ${recoveredMs} ms after recovery, online events ${await tabs[0].evaluate(() => window.onlineEvents)}`,
  );
  assert.equal(lost, 0);
  assert.equal(duplicates, 0);
  assert.deepEqual(unexpected, []);
  assert.equal(stored.length, expected.size);
  assert.ok(faults >= 10, `the proxy injected only ${faults} faults`);

  for (const page of tabs) {
    await eventually(async () => (await outboxKeys(page)).length === 0, { timeout: 15000 });
    assert.deepEqual(page.crashes, []);
  }
  await context.close();
}

test('under failures, timeouts, drops and two tabs, every answer is stored once in its final state', () =>
  run({ answers: 24, surveyId: 'faults', locks: true }));

test('the same holds where the browser has no Web Locks (tabs coordinate through a lease)', () =>
  run({ answers: 12, surveyId: 'faults-lease', locks: false }));
