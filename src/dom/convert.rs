//! Crossing the JS boundary with data.
//!
//! Out: responses and event details are `Serialize` types (the response is the schema the
//! collector shares), turned into plain JS objects by serde-wasm-bindgen's `json_compatible`
//! serializer.
//!
//! In: the config is read by hand into [`Value`], then by `config::parse`, whose errors name
//! the key and suggest the one meant (`unknown config key "endpont" (did you mean
//! "endpoint"?)`). serde-wasm-bindgen's `from_value` does not pay here: a `Deserialize` mirror of
//! the config's keys (`deny_unknown_fields`, maps for `style`/`strings`/`headers`, the shared
//! `User`), read by `from_value` in `nps_start`, measured +26,446 B gzip of wasm (the page's
//! total 47,285 → 74,203 B), more than half the widget again: its generic visitors per type, and
//! error paths that keep float formatting alive. And its errors name a type, not the key a site
//! owner mistyped.

use js_sys::{Array, Object};
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

use crate::config::Value;

/// Reads a JS value as config input. Functions, symbols and the like become `Null` (and the key
/// is then ignored); deep nesting is cut off: config is small and flat.
pub(crate) fn from_js(value: &JsValue) -> Value {
    read(value, 0)
}

fn read(value: &JsValue, depth: u8) -> Value {
    if let Some(b) = value.as_bool() {
        Value::Bool(b)
    } else if let Some(n) = value.as_f64() {
        Value::Number(n)
    } else if let Some(s) = value.as_string() {
        Value::Text(s)
    } else if depth > 4 || value.is_null() || value.is_undefined() || value.is_function() {
        Value::Null
    } else if let Some(list) = value.dyn_ref::<Array>() {
        Value::List(list.iter().map(|v| read(&v, depth + 1)).collect())
    } else if value.is_object() {
        // Own enumerable string keys only: a page's `Object.prototype` additions stay out.
        // (`is_object`, not `instanceof Object`: a config made in another frame is one too.)
        let mut entries = Vec::new();
        for entry in Object::entries(value.unchecked_ref()).iter() {
            // `Object.entries` lists `[key, value]` arrays.
            let pair = entry.unchecked_into::<Array>();
            if let Some(key) = pair.get(0).as_string() {
                entries.push((key, read(&pair.get(1), depth + 1)));
            }
        }
        Value::Map(entries)
    } else {
        Value::Null
    }
}

/// `value` as a plain JS object (maps become objects, not `Map`s); `null` if it cannot be one,
/// which our types always can.
pub(crate) fn to_js(value: &impl Serialize) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}
