// The script tag's module (dist/nps_widget.<hash>.js, loaded by dist/nps-widget.js): the
// package's module without what the loader has already done before loading it (the quiet
// path's check, `quiet()`), which Rollup then leaves out.
export { default, NpsWidget } from './index.js';
