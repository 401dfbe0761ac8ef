// The package where there is no page: a server-side render imports it without a throw, and
// create() there throws one error that says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');

test('importing the package in Node does not throw; create() throws a named error', async () => {
  assert.equal(typeof globalThis.window, 'undefined');
  const module = await import(pathToFileURL(join(dist, 'nps_widget.js')).href);
  assert.equal(typeof module.NpsWidget.create, 'function');
  assert.equal(typeof module.default, 'function', 'init is there for the client');
  assert.throws(
    () => module.NpsWidget.create({ endpoint: '/v1/responses' }),
    (e) => e instanceof Error && /^nps-widget: create\(\) needs a browser page, and there is no window here/.test(e.message),
  );
  const fallback = await import(pathToFileURL(join(dist, 'fallback', 'nps_widget.js')).href);
  assert.throws(() => fallback.NpsWidget.create({ endpoint: '/v1/responses' }), /^Error: nps-widget: create\(\) needs a browser page/);
});
