// Shared by the end-to-end tests: a real collector process on a free loopback port with its own
// SQLite file, and headless Chromium driven by playwright-core.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { chromium } from 'playwright-core';
import Ajv2020 from 'ajv/dist/2020.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true, strictTypes: false });
const validateResponse = ajv.compile(
  JSON.parse(readFileSync(join(root, 'schema/response.v1.json'), 'utf8')),
);

/// Checks a body the widget sent against schema/response.v1.json; throws naming what is wrong.
/**
 * Takes a screenshot of `target` (a page or a locator); it is written to docs/screenshots/NAME
 * only when NPS_SCREENSHOTS=1 (`cargo xtask screenshots`), so that a test run leaves the work
 * tree as it found it. Either way the screenshot is taken, so rendering failures still fail.
 */
export async function screenshot(target, name, options = {}) {
  const keep = process.env.NPS_SCREENSHOTS === '1';
  const path = keep ? join(root, 'docs/screenshots', name) : undefined;
  const image = await target.screenshot({ ...options, path });
  if (image.length === 0) {
    throw new Error(`screenshot ${name} is empty`);
  }
  return image;
}

export function assertSchemaV1(body) {
  if (!validateResponse(body)) {
    throw new Error(`body breaks schema v1: ${ajv.errorsText(validateResponse.errors)}\n${JSON.stringify(body)}`);
  }
}

/// The admin token the tests' collectors start with, unless a test gives `--token` itself.
export const E2E_TOKEN = 'e2e-admin-token-0123456789';

/// Makes and activates the demo page's survey (www/demo-survey.json) on `collector`, as
/// `cargo xtask demo` does.
export async function seedDemoSurvey(collector) {
  const survey = JSON.parse(readFileSync(join(root, 'www/demo-survey.json'), 'utf8'));
  const call = async (method, path, body) => {
    const r = await fetch(`${collector.url}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${collector.token}` },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  };
  await call('POST', '/v1/surveys', survey);
  await call('PUT', `/v1/surveys/${survey.id}`, { status: 'active' });
}

export async function startCollector(extraArgs = []) {
  const bin = process.env.NPS_COLLECTOR || join(root, 'target/release/nps-collector');
  const dir = mkdtempSync(join(tmpdir(), 'nps-e2e-'));
  const tokenAt = extraArgs.indexOf('--token');
  const token = tokenAt >= 0 ? extraArgs[tokenAt + 1] : E2E_TOKEN;
  const child = spawn(bin, [
    '--listen', '127.0.0.1:0',
    '--db', `sqlite://${join(dir, 'e2e.db')}`,
    '--static', join(root, 'www'),
    // NPS_DIST: another build's package (`cargo xtask test` runs the slice on the plain build).
    '--static', process.env.NPS_DIST || join(root, 'dist'),
    ...(tokenAt >= 0 ? [] : ['--token', E2E_TOKEN]),
    ...extraArgs,
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/listening on (http:\/\/\S+?)\/? /);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`collector exited with ${code}: ${out}`)));
  });
  return {
    url,
    token,
    dbDir: dir,
    async responses(query = '') {
      const r = await fetch(`${url}/v1/responses${query}`, { headers: { Authorization: `Bearer ${token}` } });
      if (!r.ok) throw new Error(`GET /v1/responses: ${r.status}`);
      return r.json();
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/// A page that records every console error and uncaught exception, so a test can assert none.
export async function openPage(browser, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.errors = [];
  page.sent = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/v1/responses')) page.sent.push(JSON.parse(r.postData()));
  });
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  return page;
}

/// One person's browser: a context of its own (its localStorage is the widget's memory) whose
/// page records console errors, uncaught exceptions, `console.info` lines and every request
/// (path and query), for a test to assert on.
export async function person(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.errors = [];
  page.infos = [];
  page.requests = [];
  page.on('console', (m) => {
    if (m.type() === 'error') page.errors.push(m.text());
    if (m.type() === 'info') page.infos.push(m.text());
  });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('request', (r) => page.requests.push(new URL(r.url()).pathname + new URL(r.url()).search));
  return page;
}

/// Polls `check` until it returns a truthy value or the time is up.
export async function eventually(check, { timeout = 10000, interval = 100 } = {}) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`condition not met within ${timeout} ms (last value ${JSON.stringify(last)})`);
}

const types = {
  '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json',
  '.wasm': 'application/wasm', '.css': 'text/css',
};

/// Answers a GET from the first of `dirs` (relative to the repository) that has the file, else
/// 404; `.wasm` goes out as `application/wasm`, as instantiateStreaming needs.
export async function sendFile(res, path, dirs = ['dist']) {
  for (const dir of dirs) {
    try {
      const data = await readFile(join(isAbsolute(dir) ? dir : join(root, dir), path));
      res.writeHead(200, { 'Content-Type': types[extname(path)] || 'application/octet-stream' }).end(data);
      return;
    } catch {
      // Not in this directory: try the next.
    }
  }
  res.writeHead(404).end();
}

/// The body of a request, as text.
export async function readBody(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

/// An object as a script tag's `data-` attributes, each value escaped as attribute text.
export function dataAttributes(attrs) {
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return Object.entries(attrs).map(([k, v]) => `data-${k}="${esc(v)}"`).join(' ');
}

/// A loopback HTTP server on a free port for `handler`; returns it and its base URL.
export async function serve(handler) {
  const server = createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${server.address().port}` };
}

/// Memory of a page that has `window.wasm` (the module's exports) and `window.NpsModule`: after
/// 10 create/show/destroy cycles, then after `n` more; wasm linear memory and JS heap, each
/// measured after a forced GC.
export async function memoryOverCycles(page, n = 100) {
  const cdp = await page.context().newCDPSession(page);
  const cycles = (count) => page.evaluate((count) => {
    for (let i = 0; i < count; i++) {
      const w = window.NpsModule.create({ endpoint: '/v1/responses', survey_id: 'memory', trigger: 'manual' });
      w.show({ force: true });
      w.destroy();
    }
  }, count);
  const measure = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    return page.evaluate(() => ({ wasm: window.wasm.memory.buffer.byteLength, heap: performance.memory.usedJSHeapSize }));
  };
  await cycles(10);
  const warm = await measure();
  await cycles(n);
  return { warm, after: await measure() };
}

const axeSource = readFileSync(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

/// axe-core's violations on the page (WCAG 2.2 AA and best practice). Evaluated through
/// DevTools, which the page's CSP does not govern (a script tag would be refused, as it
/// should be).
export async function axe(page) {
  if (!(await page.evaluate(() => !!window.axe))) {
    await page.evaluate(axeSource);
  }
  return page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
    });
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}
