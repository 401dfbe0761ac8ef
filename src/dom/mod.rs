//! The browser layer: renders the survey into a shadow root through web-sys, listens with gloo,
//! delivers responses. The only code that touches the browser.

mod bindings;
mod card;
mod convert;
mod delivery;
mod widget;

pub(crate) use bindings::error;
pub(crate) use convert::from_js;
pub(crate) use widget::{live, Handle};
