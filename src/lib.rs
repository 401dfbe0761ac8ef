//! nps-widget: asks the Net Promoter Score question, classifies the answer, asks the follow-up
//! written for that segment, and delivers every step to the site owner's endpoint without ever
//! losing an answer.
//!
//! The pure modules (`segment`, `response`, `config`, `flow`, `outbox`, `i18n`) hold every rule
//! and are tested natively; the collector shares `segment` and `response`. `dom` is the thin
//! browser layer, compiled only for wasm32.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs, missing_debug_implementations)]
#![warn(unreachable_pub)]

extern crate alloc;

pub mod config;
pub mod flow;
pub mod i18n;
pub mod outbox;
pub mod response;
pub mod segment;
pub mod targeting;
mod text;

#[cfg(target_arch = "wasm32")]
mod dom;
#[cfg(any(target_arch = "wasm32", test))]
mod heap;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static HEAP: heap::Heap = heap::Heap::new();

/// Without std (the shipped build) a panic traps at once: no message is formatted, so no
/// `core::fmt` code ships. The host page sees a failed call, never a broken page; and nothing
/// on our production paths panics (no `unwrap` on outside data).
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(target_arch = "wasm32")]
pub use api::NpsWidget;

/// The one `#[wasm_bindgen]` surface; errors become JS `Error`s here and nowhere else.
#[cfg(target_arch = "wasm32")]
mod api {
    use wasm_bindgen::prelude::*;

    use crate::config::{self, Source};
    use crate::dom::{self, Handle};

    /// An NPS survey in the page.
    #[wasm_bindgen]
    pub struct NpsWidget {
        handle: Handle,
        /// The site's listeners (no longer called after `destroy`).
        hub: JsValue,
    }

    impl core::fmt::Debug for NpsWidget {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("NpsWidget")
        }
    }

    fn start(value: &config::Value, source: Source) -> Result<NpsWidget, JsValue> {
        let config = config::parse(value, source).map_err(|e| dom::error(&e.message()))?;
        let handle = Handle::new(config);
        Ok(NpsWidget {
            hub: handle.hub(),
            handle,
        })
    }

    #[wasm_bindgen]
    impl NpsWidget {
        /// Validates `config` and starts the widget; throws an `Error` naming the bad key.
        pub fn create(
            #[wasm_bindgen(unchecked_param_type = "NpsConfig")] config: JsValue,
        ) -> Result<NpsWidget, JsValue> {
            start(&dom::from_js(&config), Source::Object)
        }

        /// Used by the script-tag loader: a config made of the tag's `data-*` attributes, all
        /// text (`"0.5"` is read as a number, `"true"` as a boolean).
        #[wasm_bindgen(js_name = fromAttributes)]
        pub fn from_attributes(
            #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] config: JsValue,
        ) -> Result<NpsWidget, JsValue> {
            start(&dom::from_js(&config), Source::Attributes)
        }

        /// Shows the card now. `{ force: true }` skips targeting and throttling (previews).
        pub fn show(
            &self,
            #[wasm_bindgen(unchecked_optional_param_type = "{ force?: boolean }")] options: JsValue,
        ) {
            self.handle.show(dom::is_true(&options, "force"));
        }

        /// Hides the card; an answer already given stands, nothing counts as a dismissal.
        pub fn hide(&self) {
            self.handle.hide();
        }

        /// Removes every node, listener and timer the widget added.
        pub fn destroy(&self) {
            self.handle.destroy();
        }

        /// Sets who is answering: `{ id, account_id, email, traits }`.
        pub fn identify(
            &self,
            #[wasm_bindgen(unchecked_param_type = "NpsUser")] user: JsValue,
        ) -> Result<(), JsValue> {
            let user = config::parse_user(&dom::from_js(&user)).map_err(|e| {
                let message = e.message();
                self.handle.report(&message);
                dom::error(&message)
            })?;
            self.handle.identify(user);
            Ok(())
        }

        /// Listens to `ready`, `shown`, `score`, `complete`, `dismiss`, `referral` or `error`.
        pub fn on(
            &self,
            #[wasm_bindgen(unchecked_param_type = "keyof NpsEventMap")] event: JsValue,
            #[wasm_bindgen(unchecked_param_type = "(detail: any) => void")] listener: JsValue,
        ) {
            dom::on(&self.hub, &event, &listener);
        }

        /// Stops listening.
        pub fn off(
            &self,
            #[wasm_bindgen(unchecked_param_type = "keyof NpsEventMap")] event: JsValue,
            #[wasm_bindgen(unchecked_param_type = "(detail: any) => void")] listener: JsValue,
        ) {
            dom::off(&self.hub, &event, &listener);
        }
    }
}
