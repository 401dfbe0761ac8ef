// The public class, over the wasm's six exports. `cargo xtask dist` bundles it with
// wasm-bindgen's glue (`./nps_widget.js` there) into the package's one module, whose entry
// (index.js, or fallback.js for the JavaScript build) exports the class but not the raw
// functions. A widget is an id in the wasm; its site listeners live here, in a Map the wasm
// calls through.
import { nps_start, nps_show, nps_hide, nps_destroy, nps_identify, nps_track } from './nps_widget.js';

let instantiated = false;

/** Called by the entry once the wasm is instantiated: create() works from then on. */
export function markInstantiated() {
  instantiated = true;
}

export class NpsWidget {
  constructor(id, listeners) {
    this.i = id;
    this.l = listeners;
  }
  /** Validates `config` and starts the widget; throws an `Error` naming the bad key. */
  static create(config) {
    return start(config, false);
  }
  /** The script-tag loader's: a config of `data-*` attribute texts ("0.5" is a number). */
  static fromAttributes(config) {
    return start(config, true);
  }
  show(options) {
    nps_show(this.i, !!options && options.force === true);
  }
  hide() {
    nps_hide(this.i);
  }
  destroy() {
    nps_destroy(this.i);
    this.l.clear();
  }
  identify(user) {
    nps_identify(this.i, user);
  }
  /** Records that this person did `name` (`trigger: "event"` counts the config's `events`). */
  track(name) {
    nps_track(this.i, String(name));
  }
  on(event, listener) {
    this.l.set(event, [...(this.l.get(event) || []), listener]);
  }
  off(event, listener) {
    this.l.set(event, (this.l.get(event) || []).filter((f) => f != listener));
  }
}

function start(config, attributes) {
  // Server-side rendering imports the package where there is no page: say so by name rather
  // than fail somewhere inside.
  if (typeof window === 'undefined' || typeof document === 'undefined') {
    throw new Error('nps-widget: create() needs a browser page, and there is no window here (server-side rendering?): create the widget on the client, in an effect');
  }
  if (!instantiated) {
    throw new Error('nps-widget: call init() (the default export) and wait for it before create()');
  }
  const listeners = new Map();
  return new NpsWidget(nps_start(config, attributes, listeners), listeners);
}
