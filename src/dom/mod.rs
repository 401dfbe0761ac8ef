//! The thin browser layer: renders the survey into a Shadow DOM, wires events, delivers
//! responses. The only code that touches the browser.

mod bindings;
mod convert;
mod delivery;
mod style;
mod view;
mod widget;

pub use bindings::error;
pub use convert::from_js;
pub use widget::Handle;
