//! Every raw browser call the widget makes, in one place; the rest of the crate speaks in its own
//! terms. A few lines of JS each, in the snippet below: smaller than web-sys bindings for the
//! same jobs, and they hide the browser's exceptions (storage refused, no `crypto`).
//!
//! Nothing in the browser holds a Rust closure. Timers, listeners, fetches and the card call the
//! page's *port* with the widget's id and a wake code, and `widget.rs` routes the call. The port
//! is the wasm's export `nps_wake`, which the JS class hands in with every start: no closure,
//! so none of bindgen's closure code (in the wasm and in the glue).

use alloc::string::String;
use alloc::vec::Vec;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
let tab = Math.random() + '', port, ls = () => localStorage;
let call = (w, c, n, t) => port(w, c, n || 0, t || '');
export function set_port(f) { port = f; }
export function actor(w) { return (c, n, t) => call(w, c, n, t); }
export function post(lock, url, body, headers, credentials, keepalive, timeout, w, c) {
  let h = { 'Content-Type': 'application/json' }, list = headers ? headers.split('\0') : [];
  for (let i = 0; i < list.length; i += 2) h[list[i]] = list[i + 1];
  let done = (s, r) => call(w, c, s, r), send = () => {
    let a = new AbortController(), t = setTimeout(() => a.abort(), timeout);
    return fetch(url, { method: 'POST', body, headers: h, credentials, keepalive, signal: a.signal, mode: 'cors' })
      .then(r => done(r.status, r.headers.get('Retry-After')), () => done(0))
      .finally(() => clearTimeout(t));
  };
  if (!lock) return send();
  if (navigator.locks) return navigator.locks.request(lock, { ifAvailable: true }, l => l ? send() : done(1));
  let k = lock + ':lease', s = ls(), now = Date.now(), v = (s.getItem(k) || '').split(' ');
  if (+v[0] > now && v[1] != tab) return queueMicrotask(() => done(1));
  s.setItem(k, now + timeout + 1e3 + ' ' + tab);
  send().finally(() => s.removeItem(k));
}
export function log(message) { console.error(message); }
export function listen(doc, type, w, c) {
  let t = doc ? document : window, f = e => call(w, c, 0, e.type);
  t.addEventListener(type, f, { passive: true });
  return () => t.removeEventListener(type, f);
}
export function later(ms, w, c) { let t = setTimeout(() => call(w, c), ms); return () => clearTimeout(t); }
// Each locale file by a literal URL: bundlers (Vite, webpack, Rollup with its import-meta
// assets plugin) find and emit what they see written out, never a URL built from a variable.
function locale_url(tag) {
  switch (tag) {
    case 'es': return new URL('./locales/es.json', import.meta.url);
    case 'fr': return new URL('./locales/fr.json', import.meta.url);
    case 'de': return new URL('./locales/de.json', import.meta.url);
    case 'pt': return new URL('./locales/pt.json', import.meta.url);
    case 'ja': return new URL('./locales/ja.json', import.meta.url);
    case 'ar': return new URL('./locales/ar.json', import.meta.url);
    default: return null;
  }
}
export function fetch_locale(tag, w, c) {
  const done = (text) => call(w, c, 0, text);
  const url = locale_url(tag);
  if (!url) {
    done();
    return;
  }
  fetch(url)
    .then((response) => (response.ok ? response.text() : ''))
    .then(done, () => done());
}
export function metric(i) { return [scrollY, innerHeight, document.documentElement.scrollHeight][i]; }
export function watch_exit(w, c) {
  let y = scrollY, t = performance.now(), touch = 'ontouchstart' in window, f = () => call(w, c);
  let out = e => { if (!e.relatedTarget && e.clientY <= 0) f(); };
  let up = () => { let n = performance.now(); if (touch && y - scrollY > 1.5 * Math.max(n - t, 1)) f(); y = scrollY; t = n; };
  document.addEventListener('mouseout', out); addEventListener('scroll', up, { passive: true });
  return () => { document.removeEventListener('mouseout', out); removeEventListener('scroll', up); };
}
let wrapped;
export function watch_routes(w, c) {
  let f = () => call(w, c);
  if (!wrapped) {
    wrapped = 1;
    for (let k of ['pushState', 'replaceState']) {
      let o = history[k];
      history[k] = function () { let b = location.href, r = o.apply(this, arguments); if (location.href != b) dispatchEvent(new Event('nps:navigate')); return r; };
    }
  }
  addEventListener('popstate', f); addEventListener('nps:navigate', f);
  return () => { removeEventListener('popstate', f); removeEventListener('nps:navigate', f); };
}
export function emit(h, host, name, detail) {
  for (let f of h && h.get(name) || []) try { f(detail); } catch (e) {}
  if (host) host.dispatchEvent(new CustomEvent('nps:' + name, { detail, bubbles: true, composed: true }));
}
export function page() {
  let d = document, l = location;
  return [d.documentElement.lang, navigator.language, l.origin + l.pathname, l.search, d.referrer].join('\0');
}
export function hidden() { return document.hidden; }
export function now_iso() { return new Date().toISOString(); }
export function random32() {
  try { return crypto.getRandomValues(new Uint32Array(1))[0]; } catch (e) { return Math.random() * 2 ** 32 >>> 0; }
}
export function stop(f) { f(); }
export function now_ms() { return Date.now(); }
export function random() { return Math.random(); }
export function object() { return {}; }
export function set(o, k, v) { o[k] = v; }
export function to_json(o) { return JSON.stringify(o); }
export function strings_in(text) {
  try { let v = JSON.parse(text); if (Array.isArray(v)) return v.filter(s => typeof s == 'string').join('\0'); } catch (e) {}
  return '';
}
export function is_array(v) { return Array.isArray(v); }
export function children(v) { return Array.isArray(v) ? v : Object.entries(v).flat(); }
export function error_of(message) { return new Error(message); }
export function load(k) { try { return ls().getItem(k); } catch (e) { return null; } }
export function store(k, v) { try { ls().setItem(k, v); return true; } catch (e) { return false; } }
export function unstore(k) { try { ls().removeItem(k); } catch (e) {} }
export function stored(prefix) {
  let out = [];
  try {
    let s = ls();
    for (let i = 0; i < s.length; i++) { let k = s.key(i); if (k.startsWith(prefix)) out.push(k, s.getItem(k)); }
  } catch (e) {}
  return out.join('\0');
}
"#)]
extern "C" {
    /// Sets the page's port: a JS function `(widget, code, number, text)` that calls
    /// [`super::widget::wake`] (the export `nps_wake`). Every start hands in the same one.
    pub(crate) fn set_port(port: &JsValue);

    /// The card's `act(code, number, text)`: the port, bound to one widget.
    pub(crate) fn actor(widget: u32) -> JsValue;

    /// POSTs `body` as JSON, then wakes `(widget, code)` exactly once with the status and the
    /// `Retry-After` header; status 0 is a network error or the timeout, status 1
    /// ([`crate::outbox::BUSY`]) means another tab holds `lock` and nothing was sent. Unless
    /// `lock` is empty, the POST runs under that lock: a Web Lock where the browser has them,
    /// else a lease in localStorage that expires.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn post(
        lock: &str,
        url: &str,
        body: &str,
        headers: &str,
        credentials: &str,
        keepalive: bool,
        timeout_ms: u32,
        widget: u32,
        code: u32,
    );

    /// One console error.
    pub(crate) fn log(message: &str);

    /// `addEventListener` on the document (or the window), waking with the event's type;
    /// returns the function that removes it again.
    fn listen(document: bool, kind: &str, widget: u32, code: u32) -> JsValue;

    /// `setTimeout`; returns the function that clears it.
    fn later(ms: u32, widget: u32, code: u32) -> JsValue;

    /// Fetches `locales/<tag>.json` next to the widget's module (`cargo xtask dist` folds this
    /// snippet into it) and wakes once with its text (`""` when it could not).
    pub(crate) fn fetch_locale(tag: &str, widget: u32, code: u32);

    /// `scrollY` (0), `innerHeight` (1) or the document's `scrollHeight` (2), for the scroll
    /// trigger.
    fn metric(which: u32) -> f64;

    /// Wakes on exit intent: the pointer leaving toward the top, or on touch screens a fast
    /// scroll up. Returns the function that stops watching.
    fn watch_exit(widget: u32, code: u32) -> JsValue;

    /// Wakes on in-app route changes (`pushState`/`replaceState` to a new URL, `popstate`).
    /// The two history methods are wrapped once, transparently. Returns the function that stops
    /// watching.
    fn watch_routes(widget: u32, code: u32) -> JsValue;

    /// Calls the hub's listeners of `name`, if there is a hub (one that throws does not stop
    /// the others, nor us), then dispatches `nps:<name>` on `host` (when there is one),
    /// bubbling out of the page's shadow roots.
    pub(crate) fn emit(hub: &JsValue, host: &JsValue, name: &str, detail: &JsValue);

    /// `<html lang>`, `navigator.language`, origin + path, `?query` and the referrer, joined
    /// by NUL (one string crosses into the wasm more cheaply than a list).
    fn page() -> String;

    /// Whether the page is hidden (tab in the background, being left).
    pub(crate) fn hidden() -> bool;

    /// Now, as RFC 3339 UTC text.
    pub(crate) fn now_iso() -> String;

    /// 32 bits from the browser's CSPRNG; `Math.random` where `crypto` is missing (very old
    /// or locked-down browsers), which is still unique enough for an id.
    fn random32() -> u32;

    /// Reads one localStorage value (none where storage is refused).
    pub(crate) fn load(key: &str) -> Option<String>;

    /// Writes one localStorage value; false when storage is full or refused.
    pub(crate) fn store(key: &str, value: &str) -> bool;

    /// Removes one localStorage value.
    pub(crate) fn unstore(key: &str);

    /// Every localStorage key that starts with `prefix`, each followed by its value, joined by
    /// NUL (keys and stored entries hold none: bodies are JSON, which escapes it).
    pub(crate) fn stored(prefix: &str) -> String;

    /// Calls an `off` function (the ones `listen`, `later` and the watchers return).
    fn stop(off: &JsValue);

    /// Now, in milliseconds since the epoch.
    pub(crate) fn now_ms() -> f64;

    /// Uniform in [0, 1), for jitter.
    pub(crate) fn random() -> f64;

    /// A new empty object.
    pub(crate) fn object() -> JsValue;

    /// `o[key] = value`.
    pub(crate) fn set(o: &JsValue, key: &str, value: &JsValue);

    /// `JSON.stringify`.
    pub(crate) fn to_json(o: &JsValue) -> String;

    /// The strings of a JSON array, joined by NUL; empty when `text` is not one.
    fn strings_in(text: &str) -> String;

    /// `Array.isArray`.
    pub(crate) fn is_array(v: &JsValue) -> bool;

    /// An array's items, or an object's keys and values, alternating.
    pub(crate) fn children(v: &JsValue) -> Vec<JsValue>;

    /// `new Error(message)`.
    fn error_of(message: &str) -> JsValue;
}

/// Something we watch (a listener, a timer, exit intent, route changes) until dropped.
pub(crate) struct Off(JsValue);

impl Off {
    /// Listens to `kind` events on the document (or the window).
    pub(crate) fn listen(document: bool, kind: &str, widget: u32, code: u32) -> Off {
        Off(listen(document, kind, widget, code))
    }

    /// Wakes once after `ms` milliseconds.
    pub(crate) fn later(ms: u32, widget: u32, code: u32) -> Off {
        Off(later(ms, widget, code))
    }

    /// Wakes on exit intent.
    pub(crate) fn exit(widget: u32, code: u32) -> Off {
        Off(watch_exit(widget, code))
    }

    /// Wakes on in-app route changes.
    pub(crate) fn routes(widget: u32, code: u32) -> Off {
        Off(watch_routes(widget, code))
    }
}

impl Drop for Off {
    fn drop(&mut self) {
        stop(&self.0);
    }
}

impl core::fmt::Debug for Off {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Off")
    }
}

/// The card's DOM, drawn by `card.js` (which says why it is JS).
pub(crate) mod card {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/src/dom/card.js")]
    extern "C" {
        /// Mounts an empty card in `target` (a selector; empty for the page's body). Null when
        /// the selector matches nothing. `act(code, number, text)` hears the person (see
        /// [`super::actor`]).
        #[allow(clippy::too_many_arguments)]
        pub(crate) fn mount(
            target: &str,
            position: &str,
            theme: &str,
            css: &str,
            lang: &str,
            rtl: bool,
            texts: &str,
            act: &JsValue,
        ) -> JsValue;

        /// Draws step 0 (question), 1 (follow-up) or 2 (thanks) for segment 0 (promoter),
        /// 1 (passive) or 2 (detractor).
        pub(crate) fn draw(
            card: &JsValue,
            step: u8,
            segment: u8,
            consent_box: bool,
            referral_url: &str,
            referral_text: &str,
        );

        /// Removes the card; with `animate`, after a short exit animation (none under
        /// reduced motion).
        pub(crate) fn unmount(card: &JsValue, animate: bool);

        /// The card's host element.
        pub(crate) fn host(card: &JsValue) -> JsValue;
    }
}

/// 16 random bytes, for UUIDs (four calls: cheaper across the boundary than a byte array).
pub(crate) fn random_bytes() -> [u8; 16] {
    let mut bytes = [0; 16];
    for chunk in bytes.chunks_exact_mut(4) {
        chunk.copy_from_slice(&random32().to_le_bytes());
    }
    bytes
}

/// How far down the page has been scrolled (0–1), for the scroll trigger.
pub(crate) fn scrolled() -> f64 {
    crate::targeting::scroll_depth(metric(0), metric(1), metric(2))
}

/// The parts of a NUL-joined string (a loop: `collect` was a copy of core's generic code).
fn parts(joined: String) -> Vec<String> {
    let mut list = Vec::new();
    for part in crate::text::parts(&joined, 0) {
        list.push(String::from(part));
    }
    list
}

/// `<html lang>`, `navigator.language`, origin + path, `?query` and the referrer.
pub(crate) fn page_facts() -> Vec<String> {
    parts(page())
}

/// The strings of a locale file (a JSON array); none when it is not one.
pub(crate) fn strings_of(text: &str) -> Option<Vec<String>> {
    Some(strings_in(text)).filter(|s| !s.is_empty()).map(parts)
}

/// A new `Error` carrying our prefix, for the JS API to throw.
pub(crate) fn error(message: &str) -> JsValue {
    let mut text = String::from("nps-widget: ");
    text.push_str(message);
    error_of(&text)
}
