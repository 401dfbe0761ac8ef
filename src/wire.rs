//! How a response is serialized: as a tree of [`Field`]s, each struct a map of its fields, each
//! enum its wire name, and what `skip_serializing_if` would skip left out by hand. The JSON is
//! the same as a derive's (serde_json writes structs and maps alike), and the tests check it
//! against `schema/response.v1.json`. Why by hand: in the wasm, serde-wasm-bindgen turns a
//! *struct's* field names into JS strings through a cache (a `HashMap` keyed by pointer), which
//! a map's keys do not need; and one value type means one instance of the serializer, where
//! each field's type was one more (the widget's event details go through it too).

use alloc::{string::String, vec, vec::Vec};
use serde::ser::{Serialize, Serializer};

use crate::response::{Response, TraitValue, User};

/// One value on the wire. A response is serialized as one list of `(name, Field)` pairs, so
/// the serializer is instantiated for this one value type rather than once per field type
/// (each instance, inlined where the response is delivered, was hundreds of bytes of wasm).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A whole number (`schema`, `score`, `survey_version`), written without a fraction.
    Whole(u32),
    /// Any other number.
    Number(f64),
    /// Text.
    Text(&'a str),
    /// An object, in this order.
    Object(Vec<(&'a str, Field<'a>)>),
}

impl Serialize for Field<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Null => serializer.serialize_none(),
            Field::Bool(b) => serializer.serialize_bool(*b),
            Field::Whole(n) => serializer.serialize_u32(*n),
            Field::Number(n) => serializer.serialize_f64(*n),
            Field::Text(t) => serializer.serialize_str(t),
            Field::Object(entries) => serializer.collect_map(entries.iter().map(|(k, v)| (k, v))),
        }
    }
}

fn text(value: &Option<String>) -> Field<'_> {
    value.as_deref().map_or(Field::Null, Field::Text)
}

fn flag(value: Option<bool>) -> Field<'static> {
    value.map_or(Field::Null, Field::Bool)
}

impl Response {
    /// The response's fields as they go on the wire; what `skip_serializing_if` would skip is
    /// left out.
    pub(crate) fn fields(&self) -> Field<'_> {
        let mut m = vec![
            ("schema", Field::Whole(self.schema.into())),
            ("id", Field::Text(&self.id)),
            ("survey_id", Field::Text(&self.survey_id)),
            (
                "score",
                self.score.map_or(Field::Null, |s| Field::Whole(s.into())),
            ),
            ("segment", Field::Text(self.segment.as_str())),
        ];
        if let Some(reason) = self.silent_reason {
            m.push(("silent_reason", Field::Text(reason.as_str())));
        }
        m.push(("comment", text(&self.comment)));
        m.push(("contact_consent", flag(self.contact_consent)));
        if self.referral_clicked.is_some() {
            m.push(("referral_clicked", flag(self.referral_clicked)));
        }
        m.push(("state", Field::Text(self.state.as_str())));
        m.push(("user", self.user.fields()));
        let mut context = vec![
            ("url", Field::Text(&self.context.url)),
            ("locale", Field::Text(&self.context.locale)),
        ];
        if self.context.referrer.is_some() {
            context.push(("referrer", text(&self.context.referrer)));
        }
        m.push(("context", Field::Object(context)));
        m.push(("shown_at", Field::Text(&self.shown_at)));
        m.push(("answered_at", text(&self.answered_at)));
        m.push(("completed_at", text(&self.completed_at)));
        if let Some(version) = self.survey_version {
            m.push(("survey_version", Field::Whole(version)));
        }
        Field::Object(m)
    }
}

impl User {
    fn fields(&self) -> Field<'_> {
        let mut m = Vec::new();
        for (key, value) in [
            ("id", &self.id),
            ("account_id", &self.account_id),
            ("email", &self.email),
            ("hash", &self.hash),
        ] {
            if value.is_some() {
                m.push((key, text(value)));
            }
        }
        if !self.traits.is_empty() {
            let traits = self.traits.iter().map(|(k, v)| {
                let v = match v {
                    TraitValue::Bool(b) => Field::Bool(*b),
                    TraitValue::Number(n) => Field::Number(*n),
                    TraitValue::Text(t) => Field::Text(t),
                };
                (k.as_str(), v)
            });
            m.push(("traits", Field::Object(traits.collect())));
        }
        Field::Object(m)
    }
}

impl Serialize for Response {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.fields().serialize(serializer)
    }
}

impl Serialize for User {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.fields().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::{Context, SilentReason, State};
    use crate::segment::Segment;
    use alloc::borrow::ToOwned;

    #[test]
    fn a_response_is_written_field_by_field_as_the_schema_says() {
        let r = Response {
            schema: 1,
            id: "0b7f3c52-3f0e-4c8e-9a51-2f1d7c9e4a10".to_owned(),
            survey_id: "q4".to_owned(),
            score: Some(9),
            segment: Segment::Promoter,
            silent_reason: None,
            comment: Some("Fast \"and\" kind".to_owned()),
            contact_consent: None,
            referral_clicked: Some(true),
            state: State::Complete,
            user: User {
                id: Some("u1".to_owned()),
                email: None,
                account_id: Some("a1".to_owned()),
                hash: None,
                traits: vec![
                    ("plan".to_owned(), TraitValue::Text("pro".to_owned())),
                    ("seats".to_owned(), TraitValue::Number(3.0)),
                    ("beta".to_owned(), TraitValue::Bool(false)),
                ],
            },
            context: Context {
                url: "https://example.com/app".to_owned(),
                locale: "en".to_owned(),
                referrer: None,
            },
            shown_at: "2026-12-02T10:00:00.000Z".to_owned(),
            answered_at: Some("2026-12-02T10:00:05.000Z".to_owned()),
            completed_at: None,
            survey_version: Some(3),
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            concat!(
                r#"{"schema":1,"id":"0b7f3c52-3f0e-4c8e-9a51-2f1d7c9e4a10","survey_id":"q4","#,
                r#""score":9,"segment":"promoter","comment":"Fast \"and\" kind","#,
                r#""contact_consent":null,"referral_clicked":true,"state":"complete","#,
                r#""user":{"id":"u1","account_id":"a1","traits":{"plan":"pro","seats":3.0,"beta":false}},"#,
                r#""context":{"url":"https://example.com/app","locale":"en"},"#,
                r#""shown_at":"2026-12-02T10:00:00.000Z","answered_at":"2026-12-02T10:00:05.000Z","#,
                r#""completed_at":null,"survey_version":3}"#
            )
        );
        let silent = Response {
            score: None,
            segment: Segment::Silent,
            silent_reason: Some(SilentReason::Dismissed),
            referral_clicked: None,
            user: User::default(),
            survey_version: None,
            ..r
        };
        let text = serde_json::to_string(&silent).unwrap();
        assert!(text.contains(r#""score":null,"segment":"silent","silent_reason":"dismissed","#));
        assert!(text.contains(r#""user":{},"#) && !text.contains("referral_clicked"));
        assert!(!text.contains("survey_version"));
    }
}
