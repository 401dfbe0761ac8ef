//! Every raw browser call the widget makes, wrapped once (rust-dominator's `bindings.rs`): web-sys
//! and js-sys underneath, and the rest of `dom` speaks in its own terms. What the browser may
//! refuse (storage in private mode, `crypto` missing, a selector it cannot parse) is answered here
//! with a plain fallback or `None`, never an exception into the page.
//!
//! `browser.js` holds the three jobs web-sys cannot do on a stable toolchain; it says why for
//! each.

use std::cell::Cell;

use gloo_events::{EventListener, EventListenerOptions};
use gloo_timers::callback::Timeout;
use js_sys::{Array, Function, Map, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, CssStyleSheet, CustomEvent, CustomEventInit, Document, Element, Event,
    EventTarget, Headers, HtmlElement, Node, RequestCache, RequestCredentials, RequestInit,
    RequestMode, Response, ShadowRoot, ShadowRootInit, ShadowRootMode, Storage, Window,
};

use crate::config::Credentials;
use crate::text::push_uint;

#[wasm_bindgen(module = "/src/dom/browser.js")]
extern "C" {
    #[wasm_bindgen(js_name = localeUrl)]
    fn locale_url(tag: &str) -> Option<String>;

    /// Makes `pushState`/`replaceState` to a new address dispatch `nps:navigate` on the window
    /// (once per page).
    #[wasm_bindgen(js_name = watchHistory)]
    pub(crate) fn watch_history();

    #[wasm_bindgen(js_name = tryLock)]
    fn try_web_lock(name: &str) -> js_sys::Promise;
}

pub(crate) fn window() -> Option<Window> {
    web_sys::window()
}

pub(crate) fn document() -> Option<Document> {
    window()?.document()
}

// ---- Elements -------------------------------------------------------------------------------

/// A new `tag` element with these attributes and text, appended to `parent`.
pub(crate) fn element(
    parent: &Node,
    tag: &str,
    attributes: &[(&str, &str)],
    text: &str,
) -> Option<Element> {
    let element = document()?.create_element(tag).ok()?;
    for (name, value) in attributes {
        set_attribute(&element, name, value);
    }
    if !text.is_empty() {
        element.set_text_content(Some(text));
    }
    parent.append_child(&element).ok()?;
    Some(element)
}

/// Sets an attribute; a name the browser refuses is skipped (ours are all valid).
pub(crate) fn set_attribute(element: &Element, name: &str, value: &str) {
    let _ = element.set_attribute(name, value);
}

/// The first element matching `selector` in the page; none for a selector that does not parse.
pub(crate) fn select(selector: &str) -> Option<Element> {
    document()?.query_selector(selector).ok().flatten()
}

/// The page's body.
pub(crate) fn body() -> Option<HtmlElement> {
    document()?.body()
}

/// The first element matching `selector` inside `root`.
pub(crate) fn find(root: &ShadowRoot, selector: &str) -> Option<Element> {
    root.query_selector(selector).ok().flatten()
}

/// Every element matching `selector` inside `root`, in document order.
pub(crate) fn find_all(root: &ShadowRoot, selector: &str) -> Vec<Element> {
    let Ok(list) = root.query_selector_all(selector) else {
        return Vec::new();
    };
    // `querySelectorAll` lists elements only.
    (0..list.length())
        .filter_map(|i| Some(list.get(i)?.unchecked_into::<Element>()))
        .collect()
}

/// Moves focus to `element`, when it can take it (HTML and SVG elements can; the call is a
/// method call on the object, and its exception is caught).
pub(crate) fn focus(element: &Element) {
    let _ = element.unchecked_ref::<HtmlElement>().focus();
}

/// The element that has focus in the page, for a modal to give it back.
pub(crate) fn active_element() -> Option<Element> {
    document()?.active_element()
}

/// An open shadow root on `host`.
pub(crate) fn open_shadow(host: &Element) -> Option<ShadowRoot> {
    host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))
        .ok()
}

/// Applies `css` to a shadow root as a constructable stylesheet, which a strict CSP
/// (`style-src 'self'`) still allows; where there are none (older Safari), a `<style>` in it.
pub(crate) fn adopt_styles(root: &ShadowRoot, css: &str) {
    let sheet = CssStyleSheet::new().and_then(|sheet| sheet.replace_sync(css).map(|()| sheet));
    match sheet {
        Ok(sheet) => root.set_adopted_style_sheets(&Array::of1(&sheet)),
        Err(_) => {
            element(root, "style", &[], css);
        }
    }
}

/// Whether the person asked for reduced motion.
pub(crate) fn prefers_reduced_motion() -> bool {
    window()
        .and_then(|w| w.match_media("(prefers-reduced-motion: reduce)").ok()?)
        .is_some_and(|query| query.matches())
}

/// Marks a moment in the page's performance timeline (`cargo xtask bench-web` reads them).
pub(crate) fn mark(name: &str) {
    if let Some(performance) = window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

// ---- Listeners and timers -------------------------------------------------------------------

/// Listens to `kind` on `target` until the returned listener is dropped. Passive: the page's
/// scrolling never waits for us.
pub(crate) fn listen(
    target: &EventTarget,
    kind: &'static str,
    callback: impl FnMut(&Event) + 'static,
) -> EventListener {
    EventListener::new(target, kind, callback)
}

/// Like [`listen`], for handlers that may call `preventDefault` (the card's keys).
pub(crate) fn listen_active(
    target: &EventTarget,
    kind: &'static str,
    callback: impl FnMut(&Event) + 'static,
) -> EventListener {
    EventListener::new_with_options(
        target,
        kind,
        EventListenerOptions::enable_prevent_default(),
        callback,
    )
}

/// Runs `callback` once after `ms` milliseconds, unless the returned timer is dropped first.
pub(crate) fn after(ms: u32, callback: impl FnOnce() + 'static) -> Timeout {
    Timeout::new(ms, callback)
}

// ---- The page -------------------------------------------------------------------------------

/// What the widget reads of the page it is on.
#[derive(Debug, Default)]
pub(crate) struct PageFacts {
    /// `<html lang>`.
    pub(crate) html_lang: String,
    /// `navigator.language`.
    pub(crate) browser_lang: String,
    /// Origin and path, without the query.
    pub(crate) address: String,
    /// `?query`, or empty.
    pub(crate) query: String,
    /// `document.referrer`.
    pub(crate) referrer: String,
}

pub(crate) fn page() -> PageFacts {
    let (Some(window), Some(document)) = (window(), document()) else {
        return PageFacts::default();
    };
    let location = window.location();
    PageFacts {
        html_lang: document
            .document_element()
            .and_then(|html| html.get_attribute("lang"))
            .unwrap_or_default(),
        browser_lang: window.navigator().language().unwrap_or_default(),
        address: address().0,
        query: location.search().unwrap_or_default(),
        referrer: document.referrer(),
    }
}

/// The page's origin and path, and where the path starts in it.
pub(crate) fn address() -> (String, usize) {
    let Some(location) = window().map(|w| w.location()) else {
        return (String::new(), 0);
    };
    let mut address = location.origin().unwrap_or_default();
    let path_at = address.len();
    address.push_str(&location.pathname().unwrap_or_default());
    (address, path_at)
}

/// Whether the page is hidden (a tab in the background, or being left).
pub(crate) fn hidden() -> bool {
    document().is_some_and(|d| d.hidden())
}

/// How far down the page has been scrolled (0–1), for the scroll trigger.
pub(crate) fn scrolled() -> f64 {
    let (Some(window), Some(html)) = (window(), document().and_then(|d| d.document_element()))
    else {
        return 0.0;
    };
    let viewport = window
        .inner_height()
        .ok()
        .and_then(|h| h.as_f64())
        .unwrap_or(0.0);
    crate::targeting::scroll_depth(scroll_y(), viewport, f64::from(html.scroll_height()))
}

/// The page's vertical scroll offset.
pub(crate) fn scroll_y() -> f64 {
    window().and_then(|w| w.scroll_y().ok()).unwrap_or(0.0)
}

/// Whether this is a touch screen (exit intent then watches for a fast scroll up).
pub(crate) fn is_touch() -> bool {
    window().is_some_and(|w| Reflect::has(&w, &JsValue::from_str("ontouchstart")).unwrap_or(false))
}

/// Milliseconds since the page started, for speeds.
pub(crate) fn performance_now() -> f64 {
    window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

// ---- Time and randomness --------------------------------------------------------------------

/// Now, in milliseconds since the epoch.
pub(crate) fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Now, as RFC 3339 UTC text.
pub(crate) fn now_iso() -> String {
    js_sys::Date::new_0().to_iso_string().into()
}

/// Uniform in [0, 1), for jitter and sampling.
pub(crate) fn random() -> f64 {
    js_sys::Math::random()
}

/// 16 bytes from the browser's CSPRNG, for UUIDs; `Math.random` where `crypto` is missing (very
/// old or locked-down browsers), which is still unique enough for an id.
pub(crate) fn random_bytes() -> [u8; 16] {
    let mut bytes = [0; 16];
    let filled = window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for byte in &mut bytes {
            *byte = (random() * 256.0) as u8;
        }
    }
    bytes
}

// ---- Storage --------------------------------------------------------------------------------

fn storage() -> Option<Storage> {
    window()?.local_storage().ok().flatten()
}

/// One localStorage value; none where storage is refused.
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

/// Every localStorage key that starts with `prefix`, with its value.
pub(crate) fn stored(prefix: &str) -> Vec<(String, String)> {
    let Some(s) = storage() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for i in 0..s.length().unwrap_or(0) {
        let Ok(Some(key)) = s.key(i) else {
            continue;
        };
        if key.starts_with(prefix) {
            if let Ok(Some(value)) = s.get_item(&key) {
                found.push((key, value));
            }
        }
    }
    found
}

// ---- Messages to the site -------------------------------------------------------------------

/// One console error.
/// A `console.info` line (debug's explanations).
pub(crate) fn info(message: &str) {
    web_sys::console::info_1(&JsValue::from_str(message));
}

pub(crate) fn log(message: &str) {
    web_sys::console::error_1(&JsValue::from_str(message));
}

/// A new `Error` carrying our prefix, for the JS API to throw.
pub(crate) fn error(message: &str) -> JsValue {
    let mut text = String::from("nps-widget: ");
    text.push_str(message);
    js_sys::Error::new(&text).into()
}

/// Calls the site's listeners of `name` in `hub` (event name → array of functions; one that
/// throws stops neither the others nor us), then dispatches `nps:<name>` on `host`, bubbling out
/// of the page's shadow roots.
pub(crate) fn emit(hub: &Map, host: Option<&Element>, name: &str, detail: &JsValue) {
    if let Ok(listeners) = hub.get(&JsValue::from_str(name)).dyn_into::<Array>() {
        for listener in listeners.iter() {
            if let Some(listener) = listener.dyn_ref::<Function>() {
                let _ = listener.call1(&JsValue::UNDEFINED, detail);
            }
        }
    }
    let Some(host) = host else {
        return;
    };
    let init = CustomEventInit::new();
    init.set_detail(detail);
    init.set_bubbles(true);
    init.set_composed(true);
    let mut kind = String::from("nps:");
    kind.push_str(name);
    if let Ok(event) = CustomEvent::new_with_event_init_dict(&kind, &init) {
        let _ = host.dispatch_event(&event);
    }
}

// ---- The network ----------------------------------------------------------------------------

/// One POST of a JSON body.
#[derive(Debug, Clone)]
pub(crate) struct Post {
    pub(crate) url: String,
    pub(crate) body: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) credentials: Credentials,
    /// Outlives the page (`fetch`'s `keepalive`), for what is sent as the page goes away.
    pub(crate) keepalive: bool,
    /// Aborted after this long.
    pub(crate) timeout_ms: u32,
}

/// How a POST ended.
#[derive(Debug)]
pub(crate) enum Posted {
    /// The endpoint answered with this status, and maybe a `Retry-After`.
    Answered {
        status: u16,
        retry_after: Option<String>,
    },
    /// A network error, a CORS refusal or the timeout.
    Failed,
}

impl Post {
    /// Sends it; settles within the timeout.
    pub(crate) async fn send(self) -> Posted {
        let Some(window) = window() else {
            return Posted::Failed;
        };
        let Ok(headers) = Headers::new() else {
            return Posted::Failed;
        };
        let _ = headers.set("Content-Type", "application/json");
        for (name, value) in &self.headers {
            let _ = headers.set(name, value);
        }
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_body(&JsValue::from_str(&self.body));
        init.set_headers(&headers);
        init.set_mode(RequestMode::Cors);
        init.set_credentials(match self.credentials {
            Credentials::Omit => RequestCredentials::Omit,
            Credentials::SameOrigin => RequestCredentials::SameOrigin,
            Credentials::Include => RequestCredentials::Include,
        });
        // web-sys has no setter for `keepalive`.
        let _ = Reflect::set(
            &init,
            &JsValue::from_str("keepalive"),
            &JsValue::from_bool(self.keepalive),
        );
        let controller = AbortController::new().ok();
        if let Some(controller) = &controller {
            init.set_signal(Some(&controller.signal()));
        }
        // Cleared when this future ends (the timer is dropped with it).
        let _timeout = controller.map(|c| after(self.timeout_ms, move || c.abort()));
        let fetched = JsFuture::from(window.fetch_with_str_and_init(&self.url, &init)).await;
        // `fetch` resolves with a `Response`.
        match fetched.map(JsCast::unchecked_into::<Response>) {
            Ok(response) => Posted::Answered {
                status: response.status(),
                retry_after: response.headers().get("Retry-After").ok().flatten(),
            },
            _ => Posted::Failed,
        }
    }
}

/// How the fetch of a survey's definition ended.
pub(crate) enum Fetched {
    /// 2xx: the body (revalidated with the browser's cache: a 304 reads as the cached body).
    Body(String),
    /// The collector answered with an error (a draft or a deleted survey: 404).
    Refused,
    /// No answer: offline, the collector down, CORS, a timeout.
    Unreachable,
}

/// Fetches a survey's definition, revalidating what the browser's HTTP cache holds (its
/// `ETag`): one conditional request per page view, a 304 when nothing changed.
pub(crate) async fn fetch_definition(url: &str, timeout_ms: u32) -> Fetched {
    let Some(window) = window() else {
        return Fetched::Unreachable;
    };
    let init = RequestInit::new();
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    init.set_cache(RequestCache::NoCache);
    let controller = AbortController::new().ok();
    if let Some(controller) = &controller {
        init.set_signal(Some(&controller.signal()));
    }
    let _timeout = controller.map(|c| after(timeout_ms, move || c.abort()));
    let Ok(response) = JsFuture::from(window.fetch_with_str_and_init(url, &init)).await else {
        return Fetched::Unreachable;
    };
    let response = response.unchecked_into::<Response>();
    if !response.ok() {
        return Fetched::Refused;
    }
    let Ok(text) = response.text() else {
        return Fetched::Unreachable;
    };
    match JsFuture::from(text).await.ok().and_then(|t| t.as_string()) {
        Some(body) => Fetched::Body(body),
        None => Fetched::Unreachable,
    }
}

/// The strings of a locale that ships as a file (`locales/<tag>.json` next to the module, a
/// JSON array); none when it could not be fetched or is not such an array.
pub(crate) async fn fetch_locale(tag: &str) -> Option<Vec<String>> {
    let url = locale_url(tag)?;
    let response = JsFuture::from(window()?.fetch_with_str(&url)).await.ok()?;
    let response = response.unchecked_into::<Response>();
    if !response.ok() {
        return None;
    }
    let json = JsFuture::from(response.json().ok()?).await.ok()?;
    let list = json.dyn_into::<Array>().ok()?;
    Some(list.iter().filter_map(|s| s.as_string()).collect())
}

// ---- Locks across tabs ----------------------------------------------------------------------

/// A lock on one outbox entry, so two tabs never send it at once; released when dropped.
#[derive(Debug)]
pub(crate) enum Lock {
    /// A Web Lock, held until its release function is called.
    Web(Function),
    /// A lease in localStorage (browsers without Web Locks): the key to remove.
    Lease(String),
}

impl Drop for Lock {
    fn drop(&mut self) {
        match self {
            Lock::Web(release) => {
                let _ = release.call0(&JsValue::UNDEFINED);
            }
            Lock::Lease(key) => unstore(key),
        }
    }
}

thread_local! {
    /// This tab, for the lease: a random number drawn once per page.
    static TAB: Cell<u32> = Cell::new((random() * 4_294_967_295.0) as u32);
}

/// The lock `name`, unless another tab holds it. A Web Lock where the browser has them; else a
/// lease in localStorage that expires after `lease_ms` (a tab that died holding it stops
/// blocking the others then).
pub(crate) async fn try_lock(name: String, lease_ms: f64) -> Option<Lock> {
    let has_web_locks = window().is_some_and(|w| {
        Reflect::get(&w.navigator(), &JsValue::from_str("locks")).is_ok_and(|l| l.is_object())
    });
    if has_web_locks {
        let release = JsFuture::from(try_web_lock(&name)).await.ok()?;
        return release.dyn_into::<Function>().ok().map(Lock::Web);
    }
    let mut key = name;
    key.push_str(":lease");
    let tab = TAB.with(Cell::get);
    let now = now_ms();
    if let Some((until, holder)) = load(&key)
        .as_deref()
        .and_then(|v| crate::text::cut(v, b' '))
        .and_then(|(until, holder)| {
            Some((
                crate::text::parse_uint(until)?,
                crate::text::parse_uint(holder)?,
            ))
        })
    {
        if until as f64 > now && holder != u64::from(tab) {
            return None;
        }
    }
    let mut lease = String::new();
    push_uint(&mut lease, (now + lease_ms) as u64);
    lease.push(' ');
    push_uint(&mut lease, u64::from(tab));
    store(&key, &lease);
    Some(Lock::Lease(key))
}
