//! JSON bodies read into typed requests, with the field at fault named from the structure of
//! the error, not from its text: `serde_path_to_error` gives the path, and the body is read
//! through a small deserializer over `serde_json::Value` whose error type keeps serde's
//! `missing_field` as data (serde_json's own error keeps only the message).

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::Value;
use std::borrow::Cow;

use super::error::ApiError;

/// Reads `body` as a `T`, or the 400 that names the field at fault (`body` when it is not
/// JSON at all). A valid body is read in one pass, straight from the bytes; only a refused one
/// is read again through the value deserializer, to name its field.
pub(super) fn read<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = &*without_nul(body);
    // Every body is an object: serde would read a struct from an array too (`[null, null]`).
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(ApiError::bad("expected a JSON object", "body"));
    }
    match serde_json::from_slice(body) {
        Ok(value) => Ok(value),
        Err(_) => Err(refusal::<T>(body)),
    }
}

/// The body with every JSON escape of U+0000 made U+FFFD, the replacement character:
/// PostgreSQL's text cannot hold NUL, and what one database stores the other must store the
/// same way (an answer that cannot be stored would be retried forever). Borrowed when there
/// is none, which is nearly always. A raw NUL byte is not JSON, and stays refused.
pub(super) fn without_nul(body: &[u8]) -> Cow<'_, [u8]> {
    const NUL: &[u8] = b"\\u0000";
    if !body.windows(NUL.len()).any(|w| w == NUL) {
        return Cow::Borrowed(body);
    }
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    while let Some((&byte, after)) = rest.split_first() {
        if byte != b'\\' {
            out.push(byte);
            rest = after;
        } else if rest.starts_with(NUL) {
            out.extend_from_slice(b"\\ufffd");
            rest = &rest[NUL.len()..];
        } else {
            // Any other escape whole, so an escaped backslash never starts one.
            let n = rest.len().min(2);
            out.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
        }
    }
    Cow::Owned(out)
}

/// Reads a body already parsed (and changed) as a value into a `T`, or the 400 that names the
/// field at fault: the text is parsed once, whatever is done to it before it is typed.
pub(super) fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::bad("expected a JSON object", "body"));
    }
    match T::deserialize(value) {
        Ok(typed) => Ok(typed),
        Err(_) => Err(refusal_of::<T>(value)),
    }
}

/// Why `body` is not a `T`, naming the field.
fn refusal<T: DeserializeOwned>(body: &[u8]) -> ApiError {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => return ApiError::bad(e.to_string(), "body"),
    };
    refusal_of::<T>(&value)
}

/// Why `value` is not a `T`, naming the field.
fn refusal_of<T: DeserializeOwned>(value: &Value) -> ApiError {
    match serde_path_to_error::deserialize::<_, T>(Json(value)) {
        Ok(_) => ApiError::bad("the body could not be read", "body"),
        Err(e) => {
            let path = e.path().to_string();
            let at = |name: &str| match path.as_str() {
                "." => name.to_owned(),
                parent => format!("{parent}.{name}"),
            };
            match e.into_inner() {
                BodyError::Missing(name) => {
                    ApiError::bad(format!("missing field `{name}`"), at(name))
                }
                BodyError::Other(message) if path == "." => ApiError::bad(message, "body"),
                BodyError::Other(message) => ApiError::bad(message, path),
            }
        }
    }
}

/// Tells an absent key (`None`) from an explicit `null` (`Some(None)`): the bodies whose keys
/// merge into what is stored, where `null` clears one.
pub(super) fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// A whole number that fits a `u32`, written as JSON writes it: `137` or `137.0` (JSON has one
/// kind of number; a schema's `integer` is any number without a fraction).
pub(super) fn whole<'de, D>(d: D) -> Result<Option<u32>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    match <Option<f64> as serde::Deserialize>::deserialize(d)? {
        None => Ok(None),
        Some(n) if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) => {
            Ok(Some(n as u32))
        }
        Some(n) => Err(de::Error::custom(format!(
            "expected a whole number from 0 to {}, got {n}",
            u32::MAX
        ))),
    }
}

/// What went wrong while reading a body.
#[derive(Debug)]
enum BodyError {
    /// A required field is absent (serde's `missing_field`).
    Missing(&'static str),
    /// Anything else, in serde's words (an unknown field is named by the path).
    Other(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::Missing(name) => write!(f, "missing field `{name}`"),
            BodyError::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for BodyError {}

impl de::Error for BodyError {
    fn custom<T: std::fmt::Display>(message: T) -> BodyError {
        BodyError::Other(message.to_string())
    }

    fn missing_field(field: &'static str) -> BodyError {
        BodyError::Missing(field)
    }
}

/// A parsed JSON value, as a serde deserializer with [`BodyError`]s.
#[derive(Debug, Clone, Copy)]
struct Json<'a>(&'a Value);

impl<'de> IntoDeserializer<'de, BodyError> for Json<'_> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> de::Deserializer<'de> for Json<'_> {
    type Error = BodyError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BodyError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (None, Some(i), _) => visitor.visit_i64(i),
                (None, None, Some(f)) => visitor.visit_f64(f),
                (None, None, None) => Err(de::Error::custom("a number out of range")),
            },
            Value::String(s) => visitor.visit_str(s),
            Value::Array(items) => {
                let mut seq = SeqDeserializer::new(items.iter().map(Json));
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Value::Object(map) => {
                let mut entries =
                    MapDeserializer::new(map.iter().map(|(k, v)| (k.as_str(), Json(v))));
                let value = visitor.visit_map(&mut entries)?;
                entries.end()?;
                Ok(value)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BodyError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, BodyError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, BodyError> {
        match self.0 {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            other => Err(de::Error::invalid_type(unexpected(other), &"a string")),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(_) => de::Unexpected::Other("a number"),
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nps_widget::response::Response;

    fn field_of<T: DeserializeOwned + std::fmt::Debug>(body: &str) -> String {
        match read::<T>(body.as_bytes()) {
            Err(ApiError::BadRequest { field, .. }) => field,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn a_nul_escape_becomes_the_replacement_character_and_nothing_else_changes() {
        let clean = |s: &str| String::from_utf8(without_nul(s.as_bytes()).into_owned()).unwrap();
        assert_eq!(clean(r#"{"a":"x\u0000y"}"#), r#"{"a":"x\ufffdy"}"#);
        // An escaped backslash followed by "u0000" is text, not a NUL.
        assert_eq!(clean(r#"{"a":"\\u0000"}"#), r#"{"a":"\\u0000"}"#);
        assert_eq!(clean(r#"{"a":"\\\u0000"}"#), r#"{"a":"\\\ufffd"}"#);
        assert!(matches!(without_nul(b"{\"a\":1}"), Cow::Borrowed(_)));
        let value: Value = serde_json::from_slice(&without_nul(br#"{"a":"\u0000"}"#)).unwrap();
        assert_eq!(value["a"], "\u{fffd}");
    }

    const RESPONSE: &str = r#"{"schema":1,"id":"0b6e3c1a-5f7d-4c2e-9a8b-000000000001",
        "survey_id":"default","score":9,"segment":"promoter","state":"partial",
        "user":{"id":"u1"},"context":{"url":"https://a.example/","locale":"en"},
        "shown_at":"2026-11-23T10:00:00.000Z"}"#;

    #[test]
    fn a_valid_response_reads_through_the_value_deserializer() {
        let r: Response = read(RESPONSE.as_bytes()).unwrap();
        assert_eq!(r.score, Some(9));
        assert_eq!(r.user.id.as_deref(), Some("u1"));
    }

    #[test]
    fn the_bad_field_is_named_from_the_error_structure() {
        let missing = RESPONSE.replace(r#""survey_id":"default","#, "");
        assert_eq!(field_of::<Response>(&missing), "survey_id");
        let unknown = RESPONSE.replace(r#""schema":1,"#, r#""schema":1,"color":"blue","#);
        assert_eq!(field_of::<Response>(&unknown), "color");
        let nested = RESPONSE.replace(r#""user":{"id":"u1"}"#, r#""user":{"id":7}"#);
        assert_eq!(field_of::<Response>(&nested), "user.id");
        let wrong_type = RESPONSE.replace(r#""score":9"#, r#""score":"nine""#);
        assert_eq!(field_of::<Response>(&wrong_type), "score");
        assert_eq!(field_of::<Response>("{not json"), "body");
    }
}
