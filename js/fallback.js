// The JavaScript fallback's module (dist/fallback/nps_widget.js), for pages where WebAssembly
// cannot run: `cargo xtask dist` bundles this entry with wasm-bindgen's glue for bundlers and
// the wasm2js translation of the wasm, by Rollup. Importing it instantiates the module.
import { markInstantiated } from './api.js';

export { NpsWidget } from './api.js';

markInstantiated();
