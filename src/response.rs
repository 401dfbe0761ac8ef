//! The response, schema version 1: what the widget delivers and the collector stores.
//!
//! One response per time a person was asked, identified by a random UUID v4 made when the card
//! is shown; receivers upsert by `id`. `schema/response.v1.json` is the published contract and
//! the tests check both sides against it.

use alloc::{string::String, vec::Vec};
use serde::{Deserialize, Serialize};

use crate::segment::{Score, Segment};

/// The schema version this crate writes and reads.
pub const SCHEMA_VERSION: u8 = 1;

/// Longest comment accepted, in characters: long enough for a real complaint, short enough to
/// keep a request well under the collector's body limit.
pub const MAX_COMMENT_CHARS: usize = 4000;

/// How far the respondent got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// A score was chosen; the follow-up may still come.
    Partial,
    /// The follow-up was submitted or skipped, or the person was silent: nothing more will come
    /// but an update such as a referral click.
    Complete,
}

impl State {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Partial => "partial",
            State::Complete => "complete",
        }
    }
}

/// Why a silent respondent gave no score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SilentReason {
    /// Closed the card before choosing.
    Dismissed,
    /// Left the page while the card was shown.
    Ignored,
}

impl SilentReason {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SilentReason::Dismissed => "dismissed",
            SilentReason::Ignored => "ignored",
        }
    }
}

/// A value the site attaches to its user for joining with a CRM: flat, scalars only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TraitValue {
    /// `true` / `false`.
    Bool(bool),
    /// Any JSON number.
    Number(f64),
    /// Text.
    Text(String),
}

/// Who answered, as far as the site told us. Every field is optional. (Serialized in
/// `wire.rs`, as are the other types here.)
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The site's own user id.
    #[serde(default, deserialize_with = "strict::given")]
    pub id: Option<String>,
    /// The customer account the user belongs to (B2B roll-ups).
    #[serde(default, deserialize_with = "strict::given")]
    pub account_id: Option<String>,
    /// For follow-up contact.
    #[serde(default, deserialize_with = "strict::given")]
    pub email: Option<String>,
    /// The site's signature of `id` and `account_id` (HMAC-SHA256, hex), which a collector
    /// with an identity secret checks; it never stores it.
    #[serde(default, deserialize_with = "strict::given")]
    pub hash: Option<String>,
    /// Plan, role, seats…
    #[serde(default, deserialize_with = "traits_map::deserialize")]
    pub traits: Vec<(String, TraitValue)>,
}

/// Traits are a JSON object on the wire and a list in memory: a map type would put its
/// generic tree code in the wasm for a handful of entries.
mod traits_map {
    use super::TraitValue;
    use alloc::collections::BTreeMap;
    use alloc::string::String;
    use alloc::vec::Vec;
    use serde::{Deserialize, Deserializer};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<(String, TraitValue)>, D::Error> {
        Ok(BTreeMap::<String, TraitValue>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

/// Reading a response as its schema means it, where serde reads more: an object only where
/// the schema says object (serde reads a struct from an array too, `[null, null]`), and a
/// whole number however JSON writes it (`10` or `10.0`: JSON has one kind of number, and a
/// schema's `integer` is any number without a fraction).
mod strict {
    use core::fmt;
    use core::marker::PhantomData;
    use serde::de::{self, MapAccess, Visitor};
    use serde::{Deserialize, Deserializer};

    /// A struct, from a JSON object only.
    pub(super) fn object<'de, D, T>(deserializer: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        struct Only<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Only<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer.deserialize_map(Only(PhantomData))
    }

    /// A value where the key is given: `null` is refused (the schema has no `null` there; an
    /// absent key is `None` by the field's `default`).
    pub(super) fn given<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        T::deserialize(deserializer).map(Some)
    }

    /// A whole number that fits `T`, where the key is given (not `null`).
    pub(super) fn given_whole<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<u64>,
    {
        match whole(deserializer)? {
            Some(n) => Ok(Some(n)),
            None => Err(de::Error::custom("expected a whole number, not null")),
        }
    }

    /// A whole number that fits `T`, or `null`.
    pub(super) fn whole<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<u64>,
    {
        match Option::<f64>::deserialize(deserializer)? {
            None => Ok(None),
            // `as` saturates: a fraction, a negative or a huge number does not come back.
            Some(n) if (n as u64) as f64 == n => T::try_from(n as u64)
                .map(Some)
                .map_err(|_| de::Error::custom("a whole number out of range")),
            Some(_) => Err(de::Error::custom("expected a whole number")),
        }
    }
}

/// Where the question was asked.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// The page, without its query string unless the site asks for it.
    pub url: String,
    /// The locale the card was shown in.
    pub locale: String,
    /// The referring page, when known.
    #[serde(default, deserialize_with = "strict::given")]
    pub referrer: Option<String>,
}

/// One classified response. Timestamps are RFC 3339 UTC text, made by the browser's clock.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    /// Always [`SCHEMA_VERSION`].
    pub schema: u8,
    /// UUID v4, the idempotency key.
    pub id: String,
    /// Which survey asked.
    pub survey_id: String,
    /// 0–10, `None` when silent. Required (`null` when silent), as the schema says: a
    /// `deserialize_with` keeps serde from reading a missing key as `None`.
    #[serde(deserialize_with = "strict::whole")]
    pub score: Option<u8>,
    /// Derived from `score`; `silent` when there is none.
    pub segment: Segment,
    /// Present exactly when `segment` is silent.
    #[serde(default, deserialize_with = "strict::given")]
    pub silent_reason: Option<SilentReason>,
    /// The follow-up answer.
    #[serde(default)]
    pub comment: Option<String>,
    /// The detractor's "you may contact me" box.
    #[serde(default)]
    pub contact_consent: Option<bool>,
    /// A promoter followed the referral link.
    #[serde(default, deserialize_with = "strict::given")]
    pub referral_clicked: Option<bool>,
    /// How far the respondent got.
    pub state: State,
    /// Who answered.
    #[serde(default, deserialize_with = "strict::object")]
    pub user: User,
    /// Where.
    #[serde(deserialize_with = "strict::object")]
    pub context: Context,
    /// When the card appeared.
    pub shown_at: String,
    /// When the score was chosen (or the card closed, for silents).
    #[serde(default)]
    pub answered_at: Option<String>,
    /// When the follow-up was submitted or skipped.
    #[serde(default)]
    pub completed_at: Option<String>,
    /// The version of the survey's definition the person saw, when the card came from one
    /// (`survey_url`): reports can tell an answer to new wording from one to the old.
    #[serde(default, deserialize_with = "strict::given_whole")]
    pub survey_version: Option<u32>,
}

/// A field of a response that breaks the schema's rules, named for the API client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as spelled on the wire (`user.email`).
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl Response {
    /// Order of delivery states, for upserts that never go backwards: a silent `ignored` (the
    /// person may still come back and answer) < `partial` < `complete`.
    pub fn rank(&self) -> u8 {
        match (self.state, self.silent_reason) {
            (_, Some(SilentReason::Ignored)) => 0,
            (State::Partial, _) => 1,
            (State::Complete, _) => 2,
        }
    }

    /// The rules serde cannot express: the segment agrees with the score, silence has a reason,
    /// the id is a UUID, texts have sane lengths and timestamps look like RFC 3339.
    pub fn validate(&self) -> Result<(), FieldError> {
        let fail = |field, problem| Err(FieldError { field, problem });
        if self.schema != SCHEMA_VERSION {
            return fail("schema", "must be 1");
        }
        if !is_uuid(&self.id) {
            return fail("id", "must be a UUID");
        }
        if self.survey_id.is_empty() || self.survey_id.chars().count() > 128 {
            return fail("survey_id", "must be 1 to 128 characters");
        }
        match (self.score, self.segment) {
            (None, Segment::Silent) => {
                if self.silent_reason.is_none() {
                    return fail("silent_reason", "is required when segment is silent");
                }
            }
            (None, _) => return fail("score", "is required unless segment is silent"),
            (Some(_), Segment::Silent) => {
                return fail("segment", "cannot be silent when there is a score")
            }
            (Some(value), segment) => match Score::new(i64::from(value)) {
                Err(_) => return fail("score", "must be a whole number from 0 to 10"),
                Ok(score) if score.segment() != segment => {
                    return fail("segment", "does not match the score")
                }
                Ok(_) => {
                    if self.silent_reason.is_some() {
                        return fail("silent_reason", "only applies to silent responses");
                    }
                }
            },
        }
        if let Some(comment) = &self.comment {
            if comment.chars().count() > MAX_COMMENT_CHARS {
                return fail("comment", "is longer than 4000 characters");
            }
        }
        for (field, value) in [
            ("user.id", &self.user.id),
            ("user.account_id", &self.user.account_id),
            ("user.email", &self.user.email),
            ("user.hash", &self.user.hash),
        ] {
            if value.as_ref().is_some_and(|v| v.chars().count() > 256) {
                return fail(field, "is longer than 256 characters");
            }
        }
        if self.context.url.chars().count() > 2048 {
            return fail("context.url", "is longer than 2048 characters");
        }
        if self.survey_version == Some(0) {
            return fail("survey_version", "must be 1 or more");
        }
        for (field, value) in [
            ("shown_at", Some(&self.shown_at)),
            ("answered_at", self.answered_at.as_ref()),
            ("completed_at", self.completed_at.as_ref()),
        ] {
            if value.is_some_and(|v| !is_timestamp(v)) {
                return fail(field, "must be an RFC 3339 UTC timestamp");
            }
        }
        Ok(())
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits, any version: the widget makes v4s, but an
/// integration posting its own ids should not be refused over a version nibble.
pub fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z`, the shape `Date.prototype.toISOString` writes. A shape check
/// only, with no calendar arithmetic, so no date library: this module is compiled into the
/// wasm, where every byte is downloaded by every page. The collector reads and computes dates
/// with the `time` crate (`collector/src/clock.rs`).
fn is_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: core::ops::Range<usize>| range.into_iter().all(|i| b[i].is_ascii_digit());
    let number = |range: core::ops::Range<usize>| {
        range
            .into_iter()
            .fold(0u32, |n, i| n * 10 + u32::from(b[i] - b'0'))
    };
    // Whole seconds (`…:05Z`, 20 bytes) or a fraction of 1 to 9 digits (`…:05.123Z`).
    let shape = b.len() >= 20
        && b.len() <= 30
        && (b.len() == 20 || (b.len() >= 22 && b[19] == b'.' && digits(20..b.len() - 1)))
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[b.len() - 1] == b'Z';
    // A day of the calendar and a time of the day: a database reads the day as a date.
    // Year 1 on: PostgreSQL's calendar has no year 0.
    shape
        && number(0..4) > 0
        && (1..=days_in_month(number(0..4), number(5..7))).contains(&number(8..10))
        && number(11..13) < 24
        && number(14..16) < 60
        && number(17..19) < 60
}

/// Days in month `month` (1–12) of `year` (Gregorian); 0 for a month that is not one.
fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    }
}

/// Formats 16 random bytes as a UUID v4 (RFC 9562): version nibble 4, variant bits 10.
pub fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn promoter() -> Response {
        Response {
            schema: 1,
            id: uuid_v4([7; 16]),
            survey_id: "default".into(),
            score: Some(9),
            segment: Segment::Promoter,
            silent_reason: None,
            comment: Some("Fast".into()),
            contact_consent: None,
            referral_clicked: None,
            state: State::Complete,
            user: User::default(),
            context: Context {
                url: "https://example.com/app".into(),
                locale: "en".into(),
                referrer: None,
            },
            shown_at: "2026-11-23T10:00:00.000Z".into(),
            answered_at: Some("2026-11-23T10:00:03.000Z".into()),
            completed_at: Some("2026-11-23T10:00:09.000Z".into()),
            survey_version: None,
        }
    }

    #[test]
    fn uuid_v4_sets_version_and_variant() {
        let id = uuid_v4([0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert!(is_uuid(&id));
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
    }

    #[test]
    fn a_well_formed_promoter_is_valid() {
        assert_eq!(promoter().validate(), Ok(()));
    }

    #[test]
    fn segment_that_contradicts_the_score_is_named() {
        let mut r = promoter();
        r.score = Some(3);
        assert_eq!(r.validate().unwrap_err().field, "segment");
    }

    #[test]
    fn silent_needs_a_reason_and_no_score() {
        let mut r = promoter();
        r.segment = Segment::Silent;
        assert_eq!(r.validate().unwrap_err().field, "segment");
        r.score = None;
        assert_eq!(r.validate().unwrap_err().field, "silent_reason");
        r.silent_reason = Some(SilentReason::Dismissed);
        assert_eq!(r.validate(), Ok(()));
    }

    #[test]
    fn out_of_range_score_is_named() {
        let mut r = promoter();
        r.score = Some(11);
        assert_eq!(r.validate().unwrap_err().field, "score");
    }

    #[test]
    fn a_survey_version_is_one_or_more() {
        let mut r = promoter();
        r.survey_version = Some(4);
        assert_eq!(r.validate(), Ok(()));
        r.survey_version = Some(0);
        assert_eq!(r.validate().unwrap_err().field, "survey_version");
    }

    #[test]
    fn bad_id_and_timestamps_are_named() {
        let mut r = promoter();
        r.id = "not-a-uuid".into();
        assert_eq!(r.validate().unwrap_err().field, "id");
        let mut r = promoter();
        r.completed_at = Some("yesterday".into());
        assert_eq!(r.validate().unwrap_err().field, "completed_at");
        // What the schema's pattern says: whole seconds, or a fraction of 1 to 9 digits.
        for (at, ok) in [
            ("2026-12-07T10:00:05Z", true),
            ("2026-12-07T10:00:05.1Z", true),
            ("2026-12-07T10:00:05.123456789Z", true),
            ("2026-12-07T10:00:05.1234567890Z", false),
            ("2026-12-07T10:00:05.Z", false),
            ("2026-12-07T10:00:05xyzZ", false),
            ("2026-12-07T10:00:05.12aZ", false),
            // A day of the calendar, a time of the day.
            ("2026-13-07T10:00:05Z", false),
            ("2026-02-29T10:00:05Z", false),
            ("2028-02-29T10:00:05Z", true),
            ("2100-02-29T10:00:05Z", false),
            ("2000-02-29T10:00:05Z", true),
            ("0000-01-01T00:00:00Z", false),
            ("0001-01-01T00:00:00Z", true),
            ("2026-04-31T10:00:05Z", false),
            ("2026-12-07T24:00:05Z", false),
            ("2026-12-07T10:60:05Z", false),
            ("2026-12-07T10:00:60Z", false),
        ] {
            assert_eq!(is_timestamp(at), ok, "{at}");
        }
    }

    #[test]
    fn lengths_are_in_characters_as_the_schema_counts_them() {
        let mut r = promoter();
        r.user.id = Some("é".repeat(256));
        r.survey_id = "ü".repeat(128);
        assert_eq!(r.validate(), Ok(()));
        r.user.id = Some("é".repeat(257));
        assert_eq!(r.validate().unwrap_err().field, "user.id");
    }

    #[test]
    fn the_schema_s_types_and_nothing_more() {
        let mut value = serde_json::to_value(promoter()).unwrap();
        // Whole numbers however JSON writes them.
        value["score"] = serde_json::json!(10.0);
        assert_eq!(
            serde_json::from_value::<Response>(value.clone())
                .unwrap()
                .score,
            Some(10)
        );
        // A required score, and no `null` where the schema has none, and objects only.
        for (key, bad) in [
            ("score", None),
            ("survey_version", Some(serde_json::Value::Null)),
            ("referral_clicked", Some(serde_json::Value::Null)),
            ("user", Some(serde_json::json!([null, null]))),
            ("context", Some(serde_json::json!(["https://x", "en"]))),
            ("score", Some(serde_json::json!(9.5))),
        ] {
            let mut v = value.clone();
            match &bad {
                None => {
                    v.as_object_mut().unwrap().remove(key);
                }
                Some(b) => v[key] = b.clone(),
            }
            assert!(
                serde_json::from_value::<Response>(v).is_err(),
                "{key}: {bad:?}"
            );
        }
        let mut v = value.clone();
        v["user"]["id"] = serde_json::Value::Null;
        assert!(
            serde_json::from_value::<Response>(v).is_err(),
            "user.id null"
        );
    }

    #[test]
    fn json_round_trips_and_rejects_unknown_fields() {
        let r = promoter();
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Response>(&text).unwrap(), r);
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        value["extra"] = 1.into();
        assert!(serde_json::from_value::<Response>(value).is_err());
    }

    #[test]
    fn ranks_order_ignored_then_partial_then_complete() {
        let complete = promoter();
        let mut partial = promoter();
        partial.state = State::Partial;
        let mut ignored = promoter();
        ignored.score = None;
        ignored.segment = Segment::Silent;
        ignored.silent_reason = Some(SilentReason::Ignored);
        assert!(ignored.rank() < partial.rank());
        assert!(partial.rank() < complete.rank());
        let mut dismissed = ignored.clone();
        dismissed.silent_reason = Some(SilentReason::Dismissed);
        assert_eq!(dismissed.rank(), complete.rank());
    }
}
