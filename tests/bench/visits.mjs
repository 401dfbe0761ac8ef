// `cargo xtask bench-web`, second part: the three page views a site sees, for this build and,
// with `--before=REV`, for that revision's build side by side (`NPS_DIST_BEFORE`, built by
// xtask in a worktree), in one run:
//   first visit   nothing cached, the person may be asked: the card comes up
//   repeat visit  the HTTP cache warm, still eligible (the card was left unanswered)
//   quiet visit   after the person answered: nobody will ask them for a while
// For each: the widget's requests that reached the network (a POST of what an earlier view left
// in the outbox counts), files taken from the HTTP cache, bytes
// transferred (gzip-encoded as a CDN serves them, headers included), the page's main-thread
// script time, and the time from navigation to the card. Files are served with the cache rules
// the collector uses: the loader `max-age=300`, content-hashed names `immutable`, any other
// name `no-cache` with an ETag (fixed names must be revalidated), 304 on `If-None-Match`.
//
// Arguments: the number of runs per build (default 10).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { extname, join } from 'node:path';
import { launch, serve, root } from '../e2e/harness.mjs';

const RUNS = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) || 10);
const builds = { after: join(root, 'dist') };
if (process.env.NPS_DIST_BEFORE) builds.before = process.env.NPS_DIST_BEFORE;
const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

const cacheRule = (name) => {
  if (name === 'nps-widget.js') return 'public, max-age=300';
  return /\.[0-9a-f]{8}\.[a-z]+$/.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache';
};

const host = (build, run, bare, storage) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title></head>
<script>
  // Tells the bench when the card is up without its polling the page (Playwright's injected
  // script would count in the page's script time).
  new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.name === 'nps:visible') console.debug('nps:visible'); })
    .observe({ type: 'mark', buffered: true });
</script>
<body><main><h1>Acme reports</h1><p>${'The host page content. '.repeat(60)}</p></main>
${storage ? '<script>localStorage.getItem("nps-bench")</script>' : ''}${bare ? '' : `<script src="/${build}/nps-widget.js" data-endpoint="/v1/responses" data-product="Acme"
  data-survey-id="visits" data-user-id="u_${run}" async></script>`}</body></html>`;

const { server, base } = await serve(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (req.method === 'POST') return res.writeHead(201, { 'Content-Type': 'application/json' }).end('{}');
  if (url.pathname === '/favicon.ico') return res.writeHead(204).end();
  const [, build, ...rest] = url.pathname.split('/');
  if (rest[0] === 'host') {
    return res.writeHead(200, { 'Content-Type': 'text/html', 'Cache-Control': 'no-store' })
      .end(host(build, url.searchParams.get('run'), url.searchParams.has('bare'), url.searchParams.has('storage')));
  }
  if (!builds[build]) return res.writeHead(404).end();
  let data;
  try {
    data = await readFile(join(builds[build], ...rest));
  } catch {
    return res.writeHead(404).end();
  }
  const etag = `"${createHash('sha256').update(data).digest('hex').slice(0, 16)}"`;
  const headers = { ETag: etag, 'Cache-Control': cacheRule(rest[rest.length - 1]) };
  if (req.headers['if-none-match'] === etag) return res.writeHead(304, headers).end();
  res.writeHead(200, { ...headers, 'Content-Type': types[extname(url.pathname)] || 'application/octet-stream', 'Content-Encoding': 'gzip' })
    .end(gzipSync(data, { level: 9 }));
});
const browser = await launch();

/// One page view in `context`: what it cost, once the card is up (or, when `card` is false,
/// once the page has been still for a second).
async function visit(context, build, run, card, bare = '') {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const seen = { network: 0, cached: 0, bytes: 0 };
  const requests = new Map();
  await cdp.send('Network.enable');
  cdp.on('Network.requestWillBeSent', (e) => requests.set(e.requestId, { url: e.request.url, cached: false, bytes: 0 }));
  cdp.on('Network.requestServedFromCache', (e) => { requests.get(e.requestId).cached = true; });
  cdp.on('Network.responseReceived', (e) => {
    if (e.response.fromDiskCache || e.response.fromPrefetchCache) requests.get(e.requestId).cached = true;
  });
  cdp.on('Network.loadingFinished', (e) => { requests.get(e.requestId).bytes = e.encodedDataLength; });
  const visible = new Promise((resolve) => page.on('console', (m) => { if (m.text() === 'nps:visible') resolve(); }));
  await page.goto(`${base}/${build}/host?run=${run}${bare}`);
  await (card ? visible : new Promise((r) => setTimeout(r, 1000)));
  await new Promise((r) => setTimeout(r, 100));
  // Measured before anything of Playwright's runs in the page.
  const metrics = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((x) => [x.name, x.value]));
  const marks = await page.evaluate(() => ({
    toCard: performance.getEntriesByName('nps:visible')[0]?.startTime ?? null,
    wasm: performance.getEntriesByName('nps:ready').length > 0,
  }));
  if (!card && (await page.locator('nps-widget').count())) throw new Error(`${build}: a card on the quiet visit`);
  // The widget's requests (not the host page itself), those served from the HTTP cache apart.
  for (const r of requests.values()) {
    const path = new URL(r.url).pathname;
    if (path.endsWith('/host') || path === '/favicon.ico') continue;
    if (process.env.NPS_VISITS_DEBUG) console.log(build, card, r);
    if (r.cached) seen.cached += 1;
    else seen.network += 1;
    seen.bytes += r.bytes;
  }
  return { page, ...seen, script: metrics.ScriptDuration * 1000, ...marks };
}

const samples = {};
const add = (key, value) => { (samples[key] ||= []).push(value); };
for (let run = 0; run < RUNS; run++) {
  for (const build of Object.keys(builds)) {
    const context = await browser.newContext();
    const id = `${build}-${run}`;
    const first = await visit(context, build, id, true);
    await first.page.close();
    const repeat = await visit(context, build, id, true);
    // The person answers: from now on nobody asks them for a while.
    await repeat.page.locator('[data-score="9"]').click();
    await repeat.page.locator('[data-act=skip]').click();
    await repeat.page.waitForFunction(() => !Object.keys(localStorage).some((k) => k.startsWith('nps-widget:outbox:')));
    await repeat.page.close();
    const quiet = await visit(context, build, id, false);
    await quiet.page.close();
    // The same host page without the script tag: the script time the page spends on its own.
    const alone = await visit(context, build, id, false, '&bare');
    await alone.page.close();
    // …and reading one localStorage value, which the gate must: the first read of a page's
    // storage loads it from the browser process, on the main thread.
    const storage = await visit(context, build, id, false, '&bare&storage');
    await storage.page.close();
    const rows = [['first visit', first], ['repeat visit', repeat], ['quiet visit', quiet], ['the host page alone', alone],
      ['the host page reading localStorage once', storage]];
    for (const [name, v] of rows) {
      for (const metric of ['network', 'cached', 'bytes', 'script', 'toCard', 'wasm']) add(`${name}|${build}|${metric}`, v[metric]);
    }
    await context.close();
  }
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
console.log(`bench-web visits: ${RUNS} runs per build (headless Chromium, loopback, files gzip-encoded, medians)`);
console.log('| visit | build | requests | from cache | bytes transferred | wasm instantiated | main-thread script | time to card |');
console.log('|---|---|---:|---:|---:|---|---:|---:|');
for (const name of ['first visit', 'repeat visit', 'quiet visit', 'the host page alone', 'the host page reading localStorage once']) {
  for (const build of Object.keys(builds)) {
    const m = (metric) => median(samples[`${name}|${build}|${metric}`]);
    const card = m('toCard');
    console.log(`| ${name} | ${build} | ${m('network')} | ${m('cached')} | ${Math.round(m('bytes')).toLocaleString('en')} B | ${m('wasm') ? 'yes' : 'no'} | ${m('script').toFixed(1)} ms | ${card === null ? '–' : `${card.toFixed(0)} ms`} |`);
  }
}
await browser.close();
server.close();
