//! Every raw browser call the widget makes, in one place; the rest of the crate speaks in its own
//! terms. Where a few lines of JS are smaller than the web-sys bindings for the same job (fetch
//! with a timeout, constructable stylesheets), they live in the snippet below.

use alloc::string::String;
use alloc::vec::Vec;
use js_sys::Function;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Event, Storage, Window};

#[wasm_bindgen(inline_js = r#"
let tab = Math.random() + '';
export function post(lock, url, body, headers, credentials, keepalive, timeout, done) {
  let send = () => {
    let c = new AbortController(), t = setTimeout(() => c.abort(), timeout), h = { 'Content-Type': 'application/json' };
    for (let i = 0; i < headers.length; i += 2) h[headers[i]] = headers[i + 1];
    return fetch(url, { method: 'POST', body, headers: h, credentials, keepalive, signal: c.signal, mode: 'cors' })
      .then(r => done(r.status, r.headers.get('Retry-After') || ''), () => done(0, ''))
      .finally(() => clearTimeout(t));
  };
  if (!lock) return send();
  if (navigator.locks) return navigator.locks.request(lock, { ifAvailable: true }, l => l ? send() : done(1, ''));
  let k = lock + ':lease', s = localStorage, now = Date.now(), v = (s.getItem(k) || '').split(' ');
  if (+v[0] > now && v[1] != tab) return done(1, '');
  s.setItem(k, now + timeout + 1e3 + ' ' + tab);
  send().finally(() => s.removeItem(k));
}
export function log(message) { console.error(message); }
export function listen(target, type, f) {
  target.addEventListener(type, f);
  return () => target.removeEventListener(type, f);
}
export function later(ms, f) { let t = setTimeout(f, ms); return () => clearTimeout(t); }
export function fetch_locale(tag, done) {
  fetch(new URL('../../locales/' + tag + '.json', import.meta.url)).then(r => r.ok ? r.text() : '').then(done, () => done(''));
}
export function metrics() { return [scrollY, innerHeight, document.documentElement.scrollHeight]; }
export function watch_exit(f) {
  let y = scrollY, t = performance.now(), touch = 'ontouchstart' in window;
  let out = e => { if (!e.relatedTarget && e.clientY <= 0) f(); };
  let up = () => { let n = performance.now(); if (touch && y - scrollY > 1.5 * Math.max(n - t, 1)) f(); y = scrollY; t = n; };
  document.addEventListener('mouseout', out); addEventListener('scroll', up, { passive: true });
  return () => { document.removeEventListener('mouseout', out); removeEventListener('scroll', up); };
}
let wrapped;
export function watch_routes(f) {
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
"#)]
extern "C" {
    /// POSTs `body` as JSON and calls `done(status, retry_after)` exactly once; status 0 is a
    /// network error or the timeout, status 1 ([`crate::outbox::BUSY`]) means another tab holds
    /// `lock` and nothing was sent. Unless `lock` is empty, the POST runs under that lock: a
    /// Web Lock where the browser has them, else a lease in localStorage that expires.
    pub(crate) fn post(
        lock: &str,
        url: &str,
        body: &str,
        headers: Vec<JsValue>,
        credentials: &str,
        keepalive: bool,
        timeout_ms: u32,
        done: &JsValue,
    );

    /// One console error.
    pub(crate) fn log(message: &str);

    /// `addEventListener`; returns the function that removes it again.
    fn listen(target: &JsValue, kind: &str, f: &JsValue) -> Function;

    /// `setTimeout`; returns the function that clears it.
    fn later(ms: u32, f: &JsValue) -> Function;

    /// Fetches `locales/<tag>.json` next to the widget's files and calls `done(text)` once
    /// (`""` when it could not).
    pub(crate) fn fetch_locale(tag: &str, done: &JsValue);

    /// `[scrollY, innerHeight, scrollHeight]`, for the scroll trigger.
    pub(crate) fn metrics() -> Vec<f64>;

    /// Calls `f` on exit intent: the pointer leaving toward the top, or on touch screens a fast
    /// scroll up. Returns the function that stops watching.
    fn watch_exit(f: &JsValue) -> Function;

    /// Calls `f` on in-app route changes (`pushState`/`replaceState` to a new URL, `popstate`).
    /// The two history methods are wrapped once, transparently. Returns the function that stops
    /// watching.
    fn watch_routes(f: &JsValue) -> Function;
}

/// Something the page does that we watch until dropped: exit intent or route changes.
pub(crate) struct Hook {
    _f: Closure<dyn FnMut()>,
    off: Function,
}

impl Hook {
    /// Watches for exit intent.
    pub(crate) fn exit(f: impl FnMut() + 'static) -> Hook {
        let f = Closure::<dyn FnMut()>::new(f);
        let off = watch_exit(f.as_ref());
        Hook { _f: f, off }
    }

    /// Watches in-app route changes.
    pub(crate) fn routes(f: impl FnMut() + 'static) -> Hook {
        let f = Closure::<dyn FnMut()>::new(f);
        let off = watch_routes(f.as_ref());
        Hook { _f: f, off }
    }
}

impl Drop for Hook {
    fn drop(&mut self) {
        let _ = self.off.call0(&JsValue::NULL);
    }
}

/// The card's DOM, drawn by `card.js` (which says why it is JS).
pub(crate) mod card {
    use alloc::vec::Vec;
    use wasm_bindgen::prelude::*;
    use web_sys::Element;

    #[wasm_bindgen(module = "/src/dom/card.js")]
    extern "C" {
        /// Mounts an empty card in `target` (a selector; empty for the page's body). Null when
        /// the selector matches nothing.
        #[allow(clippy::too_many_arguments)]
        pub(crate) fn mount(
            target: &str,
            position: &str,
            theme: &str,
            css: &str,
            lang: &str,
            rtl: bool,
            texts: Vec<JsValue>,
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
        pub(crate) fn host(card: &JsValue) -> Element;
    }
}

/// An event listener that is removed when dropped.
pub(crate) struct Listener {
    _f: Closure<dyn FnMut(Event)>,
    off: Function,
}

impl Listener {
    /// Listens to `kind` events on `target` until dropped.
    pub(crate) fn new(target: &JsValue, kind: &str, f: impl FnMut(Event) + 'static) -> Listener {
        let f = Closure::<dyn FnMut(Event)>::new(f);
        let off = listen(target, kind, f.as_ref());
        Listener { _f: f, off }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.off.call0(&JsValue::NULL);
    }
}

/// A timer that is cleared when dropped.
pub(crate) struct Timer {
    _f: Closure<dyn FnMut()>,
    cancel: Function,
}

impl Timer {
    /// Calls `f` once after `ms` milliseconds, unless dropped first.
    pub(crate) fn new(ms: u32, f: impl FnMut() + 'static) -> Timer {
        let f = Closure::<dyn FnMut()>::new(f);
        let cancel = later(ms, f.as_ref());
        Timer { _f: f, cancel }
    }
}

impl core::fmt::Debug for Timer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Timer")
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let _ = self.cancel.call0(&JsValue::NULL);
    }
}

/// The window; the widget only ever runs where there is one.
pub(crate) fn window() -> Window {
    web_sys::window().expect_throw("unreachable: no window")
}

/// The document of the window.
pub(crate) fn document() -> Document {
    window().document().expect_throw("unreachable: no document")
}

/// Now, as RFC 3339 UTC text.
pub(crate) fn now_iso() -> String {
    String::from(js_sys::Date::new_0().to_iso_string())
}

/// Now, in milliseconds since the epoch.
pub(crate) fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Uniform in [0, 1), for jitter.
pub(crate) fn random() -> f64 {
    js_sys::Math::random()
}

/// 16 bytes from the browser's CSPRNG, for UUIDs; falls back to `Math.random` where `crypto`
/// is missing (very old or locked-down browsers), which is still unique enough for an id.
pub(crate) fn random_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    let filled = window()
        .crypto()
        .ok()
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok())
        .is_some();
    if !filled {
        for b in bytes.iter_mut() {
            *b = (random() * 256.0) as u8;
        }
    }
    bytes
}

/// localStorage, when the browser allows it (private modes and sandboxed iframes may not).
pub(crate) fn storage() -> Option<Storage> {
    window().local_storage().ok().flatten()
}

/// Every localStorage key that starts with `prefix`, with its value.
pub(crate) fn stored_with_prefix(prefix: &str) -> Vec<(String, String)> {
    let Some(s) = storage() else {
        return Vec::new();
    };
    let count = s.length().unwrap_or(0);
    (0..count)
        .filter_map(|i| s.key(i).ok().flatten())
        .filter(|k| k.starts_with(prefix))
        .filter_map(|k| s.get_item(&k).ok().flatten().map(|v| (k, v)))
        .collect()
}

/// Reads one localStorage value.
pub(crate) fn load(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

/// Writes one localStorage value; false when storage is full or refused.
pub(crate) fn store(key: &str, value: &str) -> bool {
    storage().is_some_and(|s| s.set_item(key, value).is_ok())
}

/// Removes one localStorage value.
pub(crate) fn unstore(key: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(key);
    }
}

/// The page's address without query string or fragment (they often carry tokens), unless
/// `with_query`.
pub(crate) fn page_url(with_query: bool) -> String {
    let location = window().location();
    let mut url = location.origin().unwrap_or_default();
    url.push_str(&location.pathname().unwrap_or_default());
    if with_query {
        url.push_str(&location.search().unwrap_or_default());
    }
    url
}

/// The page's query string (`?a=b`), for `?nps_preview=1`.
pub(crate) fn page_search() -> String {
    window().location().search().unwrap_or_default()
}

/// `document.referrer`, when there is one.
pub(crate) fn referrer() -> Option<String> {
    Some(document().referrer()).filter(|r| !r.is_empty())
}

/// `<html lang>` and `navigator.language`, the locale candidates after the config's.
pub(crate) fn page_languages() -> [String; 2] {
    let html_lang = document()
        .document_element()
        .and_then(|e| e.get_attribute("lang"))
        .unwrap_or_default();
    let nav = window().navigator().language().unwrap_or_default();
    [html_lang, nav]
}

/// Whether the page is hidden (tab in the background, being left).
pub(crate) fn page_hidden() -> bool {
    document().hidden()
}

/// A new `Error` carrying our prefix, for the JS API to throw.
pub(crate) fn error(message: &str) -> JsValue {
    let mut text = String::from("nps-widget: ");
    text.push_str(message);
    js_sys::Error::new(&text).into()
}
