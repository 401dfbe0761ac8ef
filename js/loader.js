/* nps-widget script-tag loader: reads this tag's data-* attributes, loads the wasm next to
   this file and starts the widget. Calls made on window.NpsWidget before it has loaded are
   queued and replayed in order. It never throws into the page: problems are one console
   error prefixed "nps-widget:" and an "nps:error" event on the script tag. Only own
   properties are read everywhere (`own`), so a page whose Object.prototype carries
   enumerable additions (what older libraries did) changes nothing.

   The quiet path: while the gate the widget wrote holds (this person will not be asked by this
   survey before a time: gate.js), nothing more is fetched and nothing is left running. The
   API is still there: a call that needs the widget (show({ force: true }), create(),
   identify() of someone the gate does not hold) loads it then, and the calls before it are
   replayed in order.

   `cargo xtask dist` bundles this file with gate.js (Rollup) and names the files it loads by
   their content's hash: FILES below is then defined at build time. */
import { quietUntil, debugOn, own } from './gate.js';

/* global FILES */
const files = typeof FILES === 'object' ? FILES : { glue: 'nps_widget.js', wasm: 'nps_widget_bg.wasm', fallback: 'fallback/nps_widget.js' };

// Written with arrows and `??`: the loader needs ES2020's `import()` anyway, and each
// `function` keyword is bytes on every page view, the quiet ones included.
((window, document) => {
  const script = document.currentScript;
  if (!script || window.NpsWidget?.ready) {
    return;
  }
  const base = script.src.replace(/[^/]*([?#].*)?$/, '');
  const api = (window.NpsWidget = window.NpsWidget || {});
  const queue = own(api, 'q') || [];
  let instance = null;
  let loading = null;
  let settle;
  api.ready = new Promise((resolve) => {
    settle = resolve;
  });
  const message = (error) => error?.message || error;

  const fail = (error) => {
    let text = String(message(error));
    if (!text.startsWith('nps-widget:')) {
      text = 'nps-widget: ' + text;
    }
    console.error(text);
    script.dispatchEvent(new CustomEvent('nps:error', { bubbles: true, detail: { message: text.slice('nps-widget: '.length) } }));
  };

  for (const method of ['show', 'hide', 'destroy', 'identify', 'track', 'on', 'off']) {
    api[method] = (...args) => {
      if (!instance) {
        queue.push([method, args]);
        // On a quiet page, a forced show or someone the gate does not hold needs the widget.
        const options = args[0];
        const needed = method === 'show' ? options?.force === true
          : method === 'identify' && !quietUntil({ ...given, user: options });
        if (needed) {
          load();
        }
        return undefined;
      }
      try {
        return instance[method](...args);
      } catch (error) {
        fail(error);
        return undefined;
      }
    };
  }

  // The tag's data-* attributes, by name without "data-".
  const attributes = {};
  for (const { name, value } of script.attributes) {
    if (name.startsWith('data-')) {
      attributes[name.slice('data-'.length)] = value;
    }
  }
  const names = Object.keys(attributes);

  // data-* attributes (data-survey-id: survey_id) over data-config's JSON; data-user-<key>
  // (data-user-id, data-user-email, data-user-hash) and data-account-id fill `user`, one rule
  // rather than a table. All text: the widget reads "0.5" and "true" as a number and a
  // boolean (the `fromAttributes` rule).
  const config = () => {
    let result = {};
    const user = {};
    if (own(attributes, 'config') !== undefined) {
      try {
        result = JSON.parse(attributes.config);
      } catch (error) {
        throw new Error('"data-config" must be valid JSON', { cause: error });
      }
      if (!result || typeof result !== 'object' || Array.isArray(result)) {
        throw new Error('"data-config" must be a JSON object');
      }
    }
    for (const name of names) {
      const key = name === 'account-id' ? 'account_id' : name.startsWith('user-') && name.slice(5);
      if (key) {
        user[key] = attributes[name];
      } else if (name !== 'config') {
        result[name.replace(/-/g, '_')] = attributes[name];
      }
    }
    if (Object.keys(user).length) {
      const prior = own(result, 'user');
      result.user = { ...(prior && typeof prior === 'object' ? prior : {}), ...user };
    }
    return result;
  };

  // The config, for the gate (a config that does not read loads the widget, to say what is
  // wrong with it).
  let given;
  try {
    given = names.length ? config() : undefined;
  } catch {
    given = undefined;
  }

  // WebAssembly first; where it cannot run (a CSP without 'wasm-unsafe-eval', or turned off)
  // the JavaScript build of the same module in fallback/, fetched only then. Compiling the
  // smallest module runs the page's CSP check at once, so a page that forbids WebAssembly
  // fetches neither file. The wasm is fetched alongside the module that instantiates it, not
  // after it: one round trip fewer before the card.
  const loadWasm = async () => {
    if (typeof WebAssembly !== 'object') {
      throw new Error('WebAssembly is not available');
    }
    new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    const bytes = fetch(base + files.wasm);
    // Awaited by init(); left unreported if the module fails first.
    bytes.catch(() => {});
    const module = await import(base + files.glue);
    await module.default({ module_or_path: bytes });
    return module;
  };

  const loadFallback = (wasmError) => import(base + files.fallback).catch((fallbackError) => {
    throw new Error(`WebAssembly cannot run here (${message(wasmError)}) and the JavaScript fallback did not load (${message(fallbackError)})`);
  });

  const started = (module) => {
    performance.mark('nps:ready');
    api.create = (options) => module.NpsWidget.create(options);
    // A bare tag (the page calls NpsWidget.create itself) stays quiet; a tag with any
    // data-* config is started, so a missing or misspelled key gets its named error.
    if (!names.length) {
      return undefined;
    }
    // The config read for the gate, or read again to say what is wrong with it.
    instance = module.NpsWidget.fromAttributes(given || config());
    api.instance = instance;
    for (const [method, args] of queue) {
      api[method](...args);
    }
    return instance;
  };

  const load = () => {
    if (!loading) {
      // (Every browser with `import()` has User Timing marks; a quiet view sets none.)
      performance.mark('nps:start');
      loading = loadWasm().catch(loadFallback).then(started).catch(fail);
      loading.then(settle);
    }
    return loading;
  };

  // A tag whose person the gate holds loads nothing; create() then loads the widget first.
  let quiet = given ? quietUntil(given) : 0;
  if (quiet && debugOn(given)) {
    console.info('nps-widget: quiet until ' + new Date(quiet).toISOString());
    quiet = 0;
  }
  if (quiet) {
    const waiting = async (options) => {
      await load();
      if (api.create === waiting) {
        throw new Error('nps-widget: the widget did not load');
      }
      return api.create(options);
    };
    api.create = waiting;
  } else {
    load();
  }
})(window, document);
