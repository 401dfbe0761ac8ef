// The npm package as `npm pack` makes it, installed into small apps built for production by
// Vite, webpack 5 and Rollup (and a React 19 app built by Vite): in Chromium the wasm loads,
// the French strings load, the survey is answered, with no 404 and no console error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { launch, openPage, eventually, sendFile, serve, root } from './harness.mjs';

const work = join(root, 'target', 'bundlers');
const received = [];
let tarball, browser, server, base, serving;

/// A fresh app directory with the packed package installed under node_modules/nps-widget.
function app(name, files) {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'node_modules', 'nps-widget'), { recursive: true });
  // What `npm install nps-widget-0.1.0.tgz` does for a package without dependencies.
  execFileSync('tar', ['xzf', tarball, '-C', join(dir, 'node_modules', 'nps-widget'), '--strip-components=1']);
  for (const file of files) {
    cpSync(join(root, 'tests', 'bundlers', file), join(dir, file));
  }
  return dir;
}

/// The size of the French locale file a bundler emitted into `dir`, found by its content
/// (bundlers rename it); `null` when it was inlined instead.
function frenchFileSize(dir) {
  for (const entry of readdirSync(dir, { recursive: true })) {
    if (entry.endsWith('.json') && readFileSync(join(dir, entry), 'utf8').includes('Quelle est la probabilité')) {
      return statSync(join(dir, entry)).size;
    }
  }
  return null;
}

before(async () => {
  mkdirSync(work, { recursive: true });
  const name = execFileSync('npm', ['pack', join(root, 'dist'), '--pack-destination', work], { encoding: 'utf8' }).trim().split('\n').pop();
  tarball = join(work, name);
  ({ server, base } = await serve(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/v1/responses' && req.method === 'POST') {
      let body = '';
      for await (const chunk of req) {
        body += chunk;
      }
      received.push(JSON.parse(body));
      return res.writeHead(201, { 'Content-Type': 'application/json' }).end('{}');
    }
    if (url.pathname === '/favicon.ico') {
      return res.writeHead(204).end();
    }
    const path = url.pathname === '/' ? '/index.html' : url.pathname;
    await sendFile(res, path, [serving]);
  }));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.close();
});

/// Opens the built app, answers in French, checks nothing was missing.
async function answerIn(out, label) {
  serving = relative(root, out);
  received.length = 0;
  const page = await openPage(browser);
  const failed = [];
  page.on('console', (m) => {
    if (m.type() === 'error') {
      failed.push(`console: ${m.text()} at ${m.location().url}`);
    }
  });
  page.on('response', (r) => {
    if (r.status() >= 400) {
      failed.push(`${r.status()} ${r.url()}`);
    }
  });
  await page.goto(`${base}/`);
  await page.waitForFunction(() => window.started);
  const question = page.locator('.q');
  await question.waitFor();
  // The French strings: a fetched file, so the one a bundler must have seen and emitted.
  await page.locator('.q', { hasText: 'recommandiez Acme' }).waitFor({ timeout: 5000 })
    .catch(async () => assert.fail(`${label}: the question is not French: ${await question.textContent()}`));
  await page.locator('[data-score="9"]').click();
  await page.locator('textarea').fill('Très bien');
  await page.locator('[data-act=submit]').click();
  await eventually(() => received.some((r) => r.state === 'complete'));
  const complete = received.find((r) => r.state === 'complete');
  assert.equal(complete.context.locale, 'fr');
  assert.equal(complete.comment, 'Très bien');
  assert.deepEqual(failed, [], `${label}: nothing missing`);
  assert.deepEqual(page.errors, [], `${label}: no console error`);
  return page;
}

test('Vite 8 production build', async () => {
  const { build } = await import('vite');
  const dir = app('vite', ['index.html', 'main.js']);
  await build({ root: dir, logLevel: 'warn', build: { outDir: join(dir, 'out') } });
  const page = await answerIn(join(dir, 'out'), 'vite');
  // Under its 4 KB assetsInlineLimit, Vite inlines the file as a data: URL.
  const vite = frenchFileSize(join(dir, 'out'));
  console.log(`vite: fr.json ${vite == null ? 'inlined as a data: URL' : `${vite} B, emitted`}`);
  await page.context().close();
});

test('webpack 5 production build', async () => {
  const { default: webpack } = await import('webpack');
  const dir = app('webpack', ['index.html', 'main.js']);
  const out = join(dir, 'out');
  const stats = await new Promise((resolve, reject) => {
    webpack({
      mode: 'production',
      context: dir,
      entry: './main.js',
      output: { path: out, filename: 'main.js', publicPath: '/', module: true, chunkFormat: 'module' },
      experiments: { outputModule: true },
      performance: { hints: false },
    }, (error, result) => (error ? reject(error) : resolve(result)));
  });
  assert.equal(stats.hasErrors(), false, stats.toString('errors-only'));
  cpSync(join(dir, 'index.html'), join(out, 'index.html'));
  const page = await answerIn(out, 'webpack');
  console.log(`webpack: fr.json ${frenchFileSize(out)} B, emitted`);
  await page.context().close();
});

test('Rollup 4 production build (node-resolve and import-meta-assets)', async () => {
  const { rollup } = await import('rollup');
  const { nodeResolve } = await import('@rollup/plugin-node-resolve');
  const { importMetaAssets } = await import('@web/rollup-plugin-import-meta-assets');
  const dir = app('rollup', ['index.html', 'main.js']);
  const out = join(dir, 'out');
  const bundle = await rollup({ input: join(dir, 'main.js'), plugins: [nodeResolve(), importMetaAssets()] });
  await bundle.write({ dir: out, format: 'es' });
  await bundle.close();
  cpSync(join(dir, 'index.html'), join(out, 'index.html'));
  const page = await answerIn(out, 'rollup');
  console.log(`rollup: fr.json ${frenchFileSize(out)} B, emitted`);
  await page.context().close();
});

test('the README\'s React snippet in a React 19 app built by Vite: mount, show, answer, unmount', async () => {
  const { build } = await import('vite');
  const dir = app('react', ['react.jsx']);
  const html = '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>React app</title></head>' +
    '<body><main><h1>React app</h1><div id="root"></div></main><script type="module" src="./react.jsx"></script></body></html>';
  await import('node:fs').then((fs) => fs.writeFileSync(join(dir, 'index.html'), html));
  await build({ root: dir, logLevel: 'warn', build: { outDir: join(dir, 'out') } });
  const page = await answerIn(join(dir, 'out'), 'react');
  const complete = received.find((r) => r.state === 'complete');
  assert.deepEqual(complete.user, { id: 'u_react', account_id: 'acct_react' });
  await page.getByRole('button', { name: 'Unmount' }).click();
  await eventually(async () => (await page.locator('nps-widget').count()) === 0);
  // Destroyed: its listeners are gone too, so leaving the page sends nothing more.
  const before = received.length;
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  await page.waitForTimeout(300);
  assert.equal(received.length, before);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
