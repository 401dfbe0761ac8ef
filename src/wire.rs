//! How a response is serialized: each struct as a map of its fields, each enum as its wire
//! name, and what `skip_serializing_if` would skip left out by hand. The JSON is the same as a
//! derive's (serde_json writes structs and maps alike), and the tests check it against
//! `schema/response.v1.json`. Why by hand: in the wasm, serde-wasm-bindgen turns a *struct's*
//! field names into JS strings through a cache (a `HashMap` keyed by pointer), which a map's
//! keys do not need; this keeps that code out of every download.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::response::{Context, Response, SilentReason, State, User};
use crate::segment::Segment;

macro_rules! by_name {
    ($($ty:ty),+) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    )+};
}

by_name!(State, SilentReason, Segment);

impl Serialize for Response {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("schema", &self.schema)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("survey_id", &self.survey_id)?;
        m.serialize_entry("score", &self.score)?;
        m.serialize_entry("segment", &self.segment)?;
        if let Some(reason) = &self.silent_reason {
            m.serialize_entry("silent_reason", reason)?;
        }
        m.serialize_entry("comment", &self.comment)?;
        m.serialize_entry("contact_consent", &self.contact_consent)?;
        if let Some(clicked) = &self.referral_clicked {
            m.serialize_entry("referral_clicked", clicked)?;
        }
        m.serialize_entry("state", &self.state)?;
        m.serialize_entry("user", &self.user)?;
        m.serialize_entry("context", &self.context)?;
        m.serialize_entry("shown_at", &self.shown_at)?;
        m.serialize_entry("answered_at", &self.answered_at)?;
        m.serialize_entry("completed_at", &self.completed_at)?;
        m.end()
    }
}

impl Serialize for User {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        for (key, value) in [
            ("id", &self.id),
            ("account_id", &self.account_id),
            ("email", &self.email),
            ("hash", &self.hash),
        ] {
            if let Some(value) = value {
                m.serialize_entry(key, value)?;
            }
        }
        if !self.traits.is_empty() {
            m.serialize_entry("traits", &Pairs(&self.traits))?;
        }
        m.end()
    }
}

impl Serialize for Context {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("url", &self.url)?;
        m.serialize_entry("locale", &self.locale)?;
        if let Some(referrer) = &self.referrer {
            m.serialize_entry("referrer", referrer)?;
        }
        m.end()
    }
}

/// A list of pairs as an object: traits on the wire, and the widget's event details.
pub(crate) struct Pairs<'a, K, V>(pub(crate) &'a [(K, V)]);

impl<K: Serialize, V: Serialize> Serialize for Pairs<'_, K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}
