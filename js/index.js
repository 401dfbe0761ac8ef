// The package's module (dist/nps_widget.js): `cargo xtask dist` bundles this entry with
// wasm-bindgen's glue (`./nps_widget.js` there), its browser snippet and the class, by Rollup.
// `init()` instantiates the wasm, as the glue's own would, and then lets `create()` run.
import initWasm, { initSync as initWasmSync } from './nps_widget.js';
import { markInstantiated } from './api.js';

export { NpsWidget } from './api.js';

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
