/* nps-widget script-tag loader: reads this tag's data-* attributes, loads the wasm next to
   this file and starts the widget. Calls made on window.NpsWidget before it has loaded are
   queued and replayed in order. It never throws into the page: problems are one console
   error prefixed "nps-widget:" and an "nps:error" event on the script tag. */
(function (w, d) {
  var s = d.currentScript;
  if (!s || (w.NpsWidget && w.NpsWidget.ready)) return;
  performance.mark && performance.mark('nps:start');
  var base = s.src.replace(/[^/]*([?#].*)?$/, ''),
    api = (w.NpsWidget = w.NpsWidget || {}),
    queue = api.q || [],
    inst,
    attrs = {},
    i,
    a;
  function fail(e) {
    var m = String((e && e.message) || e);
    if (m.indexOf('nps-widget:') != 0) m = 'nps-widget: ' + m;
    console.error(m);
    s.dispatchEvent(new CustomEvent('nps:error', { bubbles: true, detail: { message: m.slice(12) } }));
  }
  'show hide destroy identify on off'.split(' ').forEach(function (m) {
    api[m] = function () {
      if (!inst) return void queue.push([m, arguments]);
      try { return inst[m].apply(inst, arguments); } catch (e) { fail(e); }
    };
  });
  // data-* attributes (data-survey-id: survey_id) over data-config's JSON; data-user-id,
  // data-account-id and data-user-email fill `user`. All text: the widget reads "0.5" and
  // "true" as a number and a boolean (the `fromAttributes` rule).
  function config() {
    var c = {}, user = {}, k, u;
    if (attrs.config) {
      try { c = JSON.parse(attrs.config); } catch (e) { throw new Error('"data-config" must be valid JSON'); }
      if (!c || typeof c != 'object') throw new Error('"data-config" must be a JSON object');
    }
    for (k in attrs) {
      u = { 'user-id': 'id', 'account-id': 'account_id', 'user-email': 'email' }[k];
      if (u) user[u] = attrs[k];
      else if (k != 'config') c[k.replace(/-/g, '_')] = attrs[k];
    }
    if (Object.keys(user).length) c.user = Object.assign(c.user && typeof c.user == 'object' ? c.user : {}, user);
    return c;
  }
  for (i = 0; i < s.attributes.length; i++) {
    a = s.attributes[i];
    if (a.name.indexOf('data-') == 0) attrs[a.name.slice(5)] = a.value;
  }
  // WebAssembly first; where it cannot run (a CSP without 'wasm-unsafe-eval', or turned off)
  // the JavaScript build of the same module in fallback/, fetched only then. Compiling the
  // smallest module runs the page's CSP check at once, so a page that forbids WebAssembly
  // fetches neither file. The wasm is fetched alongside the module that instantiates it, not
  // after it: one round trip fewer before the card.
  function wasm() {
    if (typeof WebAssembly != 'object') return Promise.reject(new Error('WebAssembly is not available'));
    try { new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])); } catch (e) { return Promise.reject(e); }
    var bytes = fetch(base + 'nps_widget_bg.wasm');
    bytes.catch(function () {}); // awaited by init(); unreported if the module fails first
    return import(base + 'nps_widget.js').then(function (m) {
      return m.default({ module_or_path: bytes }).then(function () { return m; });
    });
  }
  api.ready = wasm()
    .catch(function (e) {
      return import(base + 'fallback/nps_widget.js').catch(function (f) {
        throw new Error('WebAssembly cannot run here (' + ((e && e.message) || e) +
          ') and the JavaScript fallback did not load (' + ((f && f.message) || f) + ')');
      });
    })
    .then(function (m) {
      performance.mark && performance.mark('nps:ready');
      api.create = function (c) { return m.NpsWidget.create(c); };
      if (!attrs.endpoint && !attrs.config) return;
      inst = m.NpsWidget.fromAttributes(config());
      api.instance = inst;
      queue.forEach(function (c) { api[c[0]].apply(api, c[1]); });
      return inst;
    })
    .catch(fail);
})(window, document);
