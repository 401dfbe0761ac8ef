// The package's module (dist/nps_widget.js): `cargo xtask dist` bundles this entry with
// wasm-bindgen's glue (`./nps_widget.js` there), its browser snippet and the class, by Rollup.
// `init()` instantiates the wasm, as the glue's own would, and then lets `create()` run.
import initWasm, { initSync as initWasmSync } from './nps_widget.js';
import { markInstantiated } from './api.js';
import { quietUntil } from './gate.js';

export { NpsWidget } from './api.js';

/**
 * Until when the person of `config` will not be asked by its survey (a `Date`), or null when
 * they may be now: read from what earlier page views wrote (the quiet path, gate.js), before
 * `init()` fetches the wasm, so a page can skip loading it:
 * `if (!quiet(config)) { await init(); NpsWidget.create(config); }`.
 */
export function quiet(config) {
  const until = quietUntil(config);
  return until ? new Date(until) : null;
}

export default async function init(moduleOrPath) {
  const exports = await initWasm(moduleOrPath);
  markInstantiated();
  return exports;
}

export function initSync(module) {
  const exports = initWasmSync(module);
  markInstantiated();
  return exports;
}
