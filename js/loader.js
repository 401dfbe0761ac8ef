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
var files = typeof FILES === 'object' ? FILES : { glue: 'nps_widget.js', wasm: 'nps_widget_bg.wasm', fallback: 'fallback/nps_widget.js' };

(function (window, document) {
  var script = document.currentScript;
  if (!script || (window.NpsWidget && window.NpsWidget.ready)) {
    return;
  }
  if (window.performance && performance.mark) {
    performance.mark('nps:start');
  }
  var base = script.src.replace(/[^/]*([?#].*)?$/, '');
  var api = (window.NpsWidget = window.NpsWidget || {});
  var queue = own(api, 'q') || [];
  var instance = null;
  var loading = null;
  var loaded = null;
  var settle;
  api.ready = new Promise(function (resolve) {
    settle = resolve;
  });
  // The hashed locale files, for the glue's localeUrl (src/dom/browser.js).
  if (files.locales) {
    api.locales = base + 'locales/{tag}.' + files.locales + '.json';
  }

  function fail(error) {
    var message = String((error && error.message) || error);
    if (message.indexOf('nps-widget:') !== 0) {
      message = 'nps-widget: ' + message;
    }
    console.error(message);
    var detail = { message: message.slice('nps-widget: '.length) };
    script.dispatchEvent(new CustomEvent('nps:error', { bubbles: true, detail: detail }));
  }

  ['show', 'hide', 'destroy', 'identify', 'on', 'off'].forEach(function (method) {
    api[method] = function (options) {
      if (!instance) {
        queue.push([method, arguments]);
        // On a quiet page, a forced show or someone the gate does not hold needs the widget.
        var needed = method === 'show' ? !!options && options.force === true
          : method === 'identify' && !quietUntil(Object.assign({}, given, { user: options }));
        if (needed) {
          load();
        }
        return undefined;
      }
      try {
        return instance[method].apply(instance, arguments);
      } catch (error) {
        fail(error);
        return undefined;
      }
    };
  });

  // The tag's data-* attributes, by name without "data-".
  var attributes = {};
  for (var i = 0; i < script.attributes.length; i++) {
    var attribute = script.attributes[i];
    if (attribute.name.indexOf('data-') === 0) {
      attributes[attribute.name.slice('data-'.length)] = attribute.value;
    }
  }
  var names = Object.keys(attributes);

  // data-* attributes (data-survey-id: survey_id) over data-config's JSON; data-user-<key>
  // (data-user-id, data-user-email, data-user-hash) and data-account-id fill `user`, one rule
  // rather than a table. All text: the widget reads "0.5" and "true" as a number and a
  // boolean (the `fromAttributes` rule).
  function config() {
    var result = {};
    var user = {};
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
    names.forEach(function (name) {
      var key = name === 'account-id' ? 'account_id' : name.indexOf('user-') === 0 && name.slice(5);
      if (key) {
        user[key] = attributes[name];
      } else if (name !== 'config') {
        result[name.replace(/-/g, '_')] = attributes[name];
      }
    });
    if (Object.keys(user).length) {
      var prior = own(result, 'user');
      result.user = Object.assign({}, prior && typeof prior === 'object' ? prior : {}, user);
    }
    return result;
  }

  // WebAssembly first; where it cannot run (a CSP without 'wasm-unsafe-eval', or turned off)
  // the JavaScript build of the same module in fallback/, fetched only then. Compiling the
  // smallest module runs the page's CSP check at once, so a page that forbids WebAssembly
  // fetches neither file. The wasm is fetched alongside the module that instantiates it, not
  // after it: one round trip fewer before the card.
  function loadWasm() {
    if (typeof WebAssembly !== 'object') {
      return Promise.reject(new Error('WebAssembly is not available'));
    }
    try {
      new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    } catch (error) {
      return Promise.reject(error);
    }
    var bytes = fetch(base + files.wasm);
    // Awaited by init(); left unreported if the module fails first.
    bytes.catch(function () {});
    return import(base + files.glue).then(function (module) {
      return module.default({ module_or_path: bytes }).then(function () {
        return module;
      });
    });
  }

  function loadFallback(wasmError) {
    return import(base + files.fallback).catch(function (fallbackError) {
      throw new Error('WebAssembly cannot run here (' + ((wasmError && wasmError.message) || wasmError) +
        ') and the JavaScript fallback did not load (' + ((fallbackError && fallbackError.message) || fallbackError) + ')');
    });
  }

  function started(module) {
    if (window.performance && performance.mark) {
      performance.mark('nps:ready');
    }
    loaded = module;
    api.create = function (options) {
      return module.NpsWidget.create(options);
    };
    // A bare tag (the page calls NpsWidget.create itself) stays quiet; a tag with any
    // data-* config is started, so a missing or misspelled key gets its named error.
    if (!names.length) {
      return undefined;
    }
    instance = module.NpsWidget.fromAttributes(config());
    api.instance = instance;
    queue.forEach(function (call) {
      api[call[0]].apply(api, call[1]);
    });
    return instance;
  }

  function load() {
    if (!loading) {
      loading = loadWasm().catch(loadFallback).then(started).catch(fail);
      loading.then(settle);
    }
    return loading;
  }

  // A tag whose person the gate holds loads nothing (a config that does not read loads, to
  // say what is wrong with it); create() then loads the widget first.
  var given;
  try {
    given = names.length ? config() : undefined;
  } catch {
    given = undefined;
  }
  var quiet = given ? quietUntil(given) : 0;
  if (quiet && debugOn(given)) {
    console.info('nps-widget: quiet until ' + new Date(quiet).toISOString());
    quiet = 0;
  }
  if (quiet) {
    api.create = function (options) {
      return load().then(function () {
        if (!loaded) {
          throw new Error('nps-widget: the widget did not load');
        }
        return api.create(options);
      });
    };
  } else {
    load();
  }
})(window, document);
