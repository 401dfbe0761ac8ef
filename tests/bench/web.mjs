// `cargo xtask bench-web`: the widget's cost to the host page, in headless Chromium. Over N cold
// loads (a fresh browser context each, so nothing is cached) of a host page with the script
// tag: script start → wasm instantiated → card visible (performance marks set by the loader and
// the card), the main thread's script and task time until the card is visible, the longest task,
// and the host page's layout shift (CLS). Then memory: wasm linear memory and JS heap after the
// flow, and after 100 show/destroy cycles. Prints median and p95.
//
// Arguments: the number of loads (default 20), and `--network=slow-4g` to throttle every load
// to Lighthouse's mobile profile (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up) with the
// files served gzip-compressed, as a CDN would: loopback alone cannot show what bytes cost.
// NPS_DIST serves another build's package instead of dist/ (to compare builds, alternating).
import { gzipSync } from 'node:zlib';
import { launch, sendFile, serve, memoryOverCycles } from '../e2e/harness.mjs';

const args = process.argv.slice(2);
const RUNS = Number(args.find((a) => /^\d+$/.test(a)) || 20);
const NETWORKS = { 'slow-4g': { latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 } };
const networkName = (args.find((a) => a.startsWith('--network=')) || '').slice('--network='.length);
const network = networkName ? NETWORKS[networkName] : null;
if (networkName && !network) {
  console.error(`bench-web: unknown network "${networkName}"; known: ${Object.keys(NETWORKS).join(', ')}`);
  process.exit(2);
}
const host = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title>
<script>
  window.longest = 0; window.cls = 0;
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.longest = Math.max(window.longest, e.duration); })
    .observe({ type: 'longtask', buffered: true });
  new PerformanceObserver((l) => { for (const e of l.getEntries()) if (!e.hadRecentInput) window.cls += e.value; })
    .observe({ type: 'layout-shift', buffered: true });
</script></head>
<body><main><h1>Acme reports</h1><p>${'The host page content. '.repeat(60)}</p></main>
<script src="/nps-widget.js" data-endpoint="/v1/responses" data-product="Acme" async></script></body></html>`;
const modulePage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Memory</title></head><body>
<script type="module">import init, { NpsWidget } from '/nps_widget.js'; window.wasm = await init(); window.NpsModule = NpsWidget; window.started = true;</script></body></html>`;

const { server, base } = await serve(async (req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (req.method === 'POST') return res.writeHead(201).end('{}');
  if (path === '/host') return res.writeHead(200, { 'Content-Type': 'text/html' }).end(host);
  if (path === '/memory') return res.writeHead(200, { 'Content-Type': 'text/html' }).end(modulePage);
  const dirs = [process.env.NPS_DIST || 'dist'];
  if (!network) return sendFile(res, path, dirs);
  // Throttled: compressed on the way, as a CDN would serve the files.
  const plain = { writeHead: (status, headers) => ({ end: (data) => {
    if (status !== 200) return res.writeHead(status).end();
    res.writeHead(200, { ...headers, 'Content-Encoding': 'gzip' }).end(gzipSync(data, { level: 9 }));
  } }) };
  await sendFile(plain, path, dirs);
});
const browser = await launch();

const samples = { ready: [], visible: [], script: [], task: [], longest: [], cls: [] };
for (let i = 0; i < RUNS; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  if (network) await cdp.send('Network.emulateNetworkConditions', { offline: false, ...network });
  await page.goto(`${base}/host`);
  await page.waitForFunction(() => performance.getEntriesByName('nps:visible').length > 0);
  const m = await page.evaluate(() => {
    const at = (n) => performance.getEntriesByName(n)[0].startTime;
    return { ready: at('nps:ready') - at('nps:start'), visible: at('nps:visible') - at('nps:start'), longest: window.longest, cls: window.cls };
  });
  const metrics = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((x) => [x.name, x.value]));
  samples.ready.push(m.ready);
  samples.visible.push(m.visible);
  samples.longest.push(m.longest);
  samples.cls.push(m.cls);
  samples.script.push(metrics.ScriptDuration * 1000);
  samples.task.push(metrics.TaskDuration * 1000);
  await context.close();
}
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };
const line = (name, xs, unit = 'ms', digits = 1) =>
  console.log(`${name.padEnd(44)} median ${pct(xs, 0.5).toFixed(digits).padStart(7)} ${unit}   p95 ${pct(xs, 0.95).toFixed(digits).padStart(7)} ${unit}`);
console.log(`bench-web: ${RUNS} cold loads of a host page with the script tag (headless Chromium, ${networkName || 'loopback, unthrottled'})`);
line('script start -> wasm instantiated', samples.ready);
line('script start -> card visible', samples.visible);
line('page script time (whole page, to visible)', samples.script);
line('main-thread task time (whole page, to visible)', samples.task);
line('longest task (0: none over 50 ms)', samples.longest);
line('layout shift of the host page (CLS)', samples.cls, '', 4);

// Memory: the flow once, then 100 show/destroy cycles, on one page.
const context = await browser.newContext();
const page = await context.newPage();
await page.goto(`${base}/memory`);
await page.waitForFunction(() => window.started);
const { warm, after } = await memoryOverCycles(page);
console.log(`memory after the flow: wasm linear memory ${warm.wasm} B, JS heap ${warm.heap} B`);
console.log(`after 100 more show/destroy cycles: wasm ${after.wasm} B (${after.wasm - warm.wasm >= 0 ? '+' : ''}${after.wasm - warm.wasm}), JS heap ${after.heap} B (${after.heap - warm.heap >= 0 ? '+' : ''}${after.heap - warm.heap})`);
await context.close();
await browser.close();
server.close();
