//! The thin browser layer: renders the survey into a Shadow DOM, wires events, delivers
//! responses. The only code that touches the browser.

mod bindings;
mod convert;
mod delivery;
mod widget;

pub(crate) use bindings::error;
pub(crate) use convert::from_js;
pub(crate) use widget::{live, wake, Handle};
