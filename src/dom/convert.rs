//! Crossing the JS boundary by hand: JS values into [`Value`] for the config, responses into
//! plain JS objects for events and `JSON.stringify`. Hand-written because serde's generic code
//! would cost more bytes than the card itself.

use alloc::string::String;
use alloc::vec::Vec;
use wasm_bindgen::JsValue;

use super::bindings::{children, is_array, object, set};

use crate::config::Value;
use crate::response::{Response, TraitValue};

/// Reads a JS value as config input. Functions, symbols and the like become `Null` (and the key
/// is then ignored), deep nesting is cut off: config is small and flat.
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
    } else if is_array(value) {
        let mut items = Vec::new();
        for v in children(value) {
            items.push(read(&v, depth + 1));
        }
        Value::List(items)
    } else if value.is_object() {
        let mut flat = children(value).into_iter();
        let mut entries = Vec::new();
        while let (Some(k), Some(v)) = (flat.next(), flat.next()) {
            if let Some(key) = k.as_string() {
                entries.push((key, read(&v, depth + 1)));
            }
        }
        Value::Map(entries)
    } else {
        Value::Null
    }
}

fn put(obj: &JsValue, key: &str, value: JsValue) {
    set(obj, key, &value);
}

fn text(value: &Option<String>) -> JsValue {
    value.as_deref().map_or(JsValue::NULL, JsValue::from_str)
}

/// The response as a plain JS object with the schema's field names.
pub(crate) fn to_js(r: &Response) -> JsValue {
    let o = object();
    put(&o, "schema", JsValue::from(r.schema));
    put(&o, "id", JsValue::from_str(&r.id));
    put(&o, "survey_id", JsValue::from_str(&r.survey_id));
    put(&o, "score", r.score.map_or(JsValue::NULL, JsValue::from));
    put(&o, "segment", JsValue::from_str(r.segment.as_str()));
    if let Some(reason) = r.silent_reason {
        put(&o, "silent_reason", JsValue::from_str(reason.as_str()));
    }
    put(&o, "comment", text(&r.comment));
    put(
        &o,
        "contact_consent",
        r.contact_consent.map_or(JsValue::NULL, JsValue::from),
    );
    if let Some(clicked) = r.referral_clicked {
        put(&o, "referral_clicked", JsValue::from(clicked));
    }
    put(&o, "state", JsValue::from_str(r.state.as_str()));

    let user = object();
    for (key, value) in [
        ("id", &r.user.id),
        ("account_id", &r.user.account_id),
        ("email", &r.user.email),
    ] {
        if value.is_some() {
            put(&user, key, text(value));
        }
    }
    if !r.user.traits.is_empty() {
        let traits = object();
        for (key, value) in &r.user.traits {
            let v = match value {
                TraitValue::Bool(b) => JsValue::from(*b),
                TraitValue::Number(n) => JsValue::from_f64(*n),
                TraitValue::Text(s) => JsValue::from_str(s),
            };
            put(&traits, key, v);
        }
        put(&user, "traits", traits);
    }
    put(&o, "user", user);

    let context = object();
    put(&context, "url", JsValue::from_str(&r.context.url));
    put(&context, "locale", JsValue::from_str(&r.context.locale));
    if r.context.referrer.is_some() {
        put(&context, "referrer", text(&r.context.referrer));
    }
    put(&o, "context", context);

    put(&o, "shown_at", JsValue::from_str(&r.shown_at));
    put(&o, "answered_at", text(&r.answered_at));
    put(&o, "completed_at", text(&r.completed_at));
    o
}
