//! nps-widget: asks the Net Promoter Score question, classifies the answer, asks the follow-up
//! written for that segment, and delivers every step to the site owner's endpoint without ever
//! losing an answer.
//!
//! The pure modules (`segment`, `response`, `config`, `flow`, `outbox`, `i18n`) hold every rule
//! and are tested natively; the collector shares `segment` and `response`. `dom` is the thin
//! browser layer, compiled only for wasm32.

#![deny(missing_docs, missing_debug_implementations)]
#![warn(unreachable_pub)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

extern crate alloc;

pub mod config;
pub mod flow;
pub mod i18n;
pub mod outbox;
pub mod response;
pub mod rules;
pub mod segment;
pub mod targeting;
mod text;
pub mod why;
mod wire;

#[cfg(target_arch = "wasm32")]
mod dom;

/// lol_alloc's free-list allocator: small, and it reuses freed blocks (100 show/destroy cycles
/// leave the wasm memory as it was; the e2e suite checks).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
// SAFETY: wasm32-unknown-unknown without the atomics feature runs one thread.
static HEAP: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

#[cfg(target_arch = "wasm32")]
pub use api::{destroy, hide, identify, show, start, track};

/// What the JS class `NpsWidget` (`js/api.js`, bundled with the glue by `cargo xtask dist`)
/// calls: a widget is an id here (a slot in `dom`'s table), and its site listeners live in JS.
/// A class exported by wasm-bindgen would bring a borrow-checked wrapper per method and a
/// finalizer for each instance, which measured about 700 B gzip more.
#[cfg(target_arch = "wasm32")]
mod api {
    use wasm_bindgen::prelude::*;

    use crate::config::{self, Source};
    use crate::dom::{self, Handle};

    /// Validates `config` and starts a widget whose site listeners are `hub` (event name →
    /// functions); returns its id, or throws an `Error` naming the bad key. With `attributes`,
    /// the config is the script tag's `data-*` attributes, all text (`"0.5"` is read as a
    /// number, `"true"` as a boolean).
    #[wasm_bindgen(js_name = nps_start, skip_typescript)]
    pub fn start(config: JsValue, attributes: bool, hub: js_sys::Map) -> Result<u32, JsValue> {
        let source = if attributes {
            Source::Attributes
        } else {
            Source::Object
        };
        let given = dom::from_js(&config);
        let config = config::parse(&given, source).map_err(|e| dom::error(e.message()))?;
        Handle::start(config, (given, source), hub).map_err(dom::error)
    }

    /// Shows the card now; `force` skips targeting and throttling (previews).
    #[wasm_bindgen(js_name = nps_show, skip_typescript)]
    pub fn show(id: u32, force: bool) {
        if let Some(h) = dom::live(id) {
            h.show(force);
        }
    }

    /// Records that this person did `name`, for `trigger: "event"`.
    #[wasm_bindgen(js_name = nps_track, skip_typescript)]
    pub fn track(id: u32, name: String) {
        if let Some(h) = dom::live(id) {
            h.track(name);
        }
    }

    /// Hides the card; an answer already given stands, nothing counts as a dismissal.
    #[wasm_bindgen(js_name = nps_hide, skip_typescript)]
    pub fn hide(id: u32) {
        if let Some(h) = dom::live(id) {
            h.hide();
        }
    }

    /// Removes every node, listener and timer the widget added; its listeners are not called
    /// again.
    #[wasm_bindgen(js_name = nps_destroy, skip_typescript)]
    pub fn destroy(id: u32) {
        if let Some(h) = dom::live(id) {
            h.destroy();
        }
    }

    /// Sets who is answering: `{ id, account_id, email, traits }`; throws an `Error` (and
    /// reports an `error` event) naming the bad key.
    #[wasm_bindgen(js_name = nps_identify, skip_typescript)]
    pub fn identify(id: u32, user: JsValue) -> Result<(), JsValue> {
        let h = dom::live(id);
        match config::parse_user(&dom::from_js(&user)) {
            Ok(user) => {
                if let Some(h) = h {
                    h.identify(user);
                }
                Ok(())
            }
            Err(e) => {
                let message = e.message();
                if let Some(h) = h {
                    h.report(message);
                }
                Err(dom::error(message))
            }
        }
    }
}
