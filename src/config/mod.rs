//! The one configuration structure, its keys and their defaults. `read` validates a config
//! object with errors that name the key (`error`).
//!
//! The browser layer turns a JS object (or the script tag's `data-*` attributes) into a
//! [`Value`] tree and hands it here; everything after that is pure and tested natively. We do not
//! run serde in the wasm: its generic code and `core::fmt` messages would cost more bytes than the
//! whole card, and these errors say more ("did you mean …").

mod error;
mod read;
#[cfg(test)]
mod tests;

use alloc::{borrow::ToOwned, string::String, vec::Vec};

use crate::i18n::Text;
use crate::response::{TraitValue, User};
pub(crate) use error::push_all;
pub use error::{describe, nearest, ConfigError};
pub use read::{parse, parse_user, Source};

/// A JSON-like value, as read from a JS object or an attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null` or `undefined`: the same as leaving the key out.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    Text(String),
    /// An array.
    List(Vec<Value>),
    /// An object, in key order.
    Map(Vec<(String, Value)>),
}

/// Where the card appears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// Floating card in the bottom-right corner (the default).
    BottomRight,
    /// Floating card in the bottom-left corner.
    BottomLeft,
    /// Centred over a backdrop; traps focus.
    Modal,
    /// Inside the host element the CSS selector finds.
    Inline(String),
}

/// Light, dark, or follow the visitor's system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    /// Follow `prefers-color-scheme`.
    Auto,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

/// What makes the card appear without a call to `show()`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trigger {
    /// After the page loads, plus `delay_ms`.
    Load,
    /// Once the site has been viewed this many times.
    PageViews(u32),
    /// After this share (0–1) of the page has been scrolled.
    Scroll(f64),
    /// When the pointer leaves toward the top (desktop) or a fast scroll up (touch).
    ExitIntent,
    /// Only when the page calls `show()`.
    Manual,
    /// Once the listed `events` have been tracked this many times in all (`event_count`).
    Event(u32),
}

/// One `audience` condition: a trait of the person, the operator and its values (checked by
/// the reader to suit the operator: a number for `at_least`, …): the list `in` gives, the one
/// value of any other. (A type of its own per operator was a kilobyte of wasm.)
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The trait's name in `user.traits`.
    pub name: String,
    /// What is asked of it.
    pub operator: Operator,
    /// The operator's values.
    pub values: Vec<TraitValue>,
}

/// `fetch`'s credentials mode for the POST, in the order of [`CREDENTIALS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Credentials {
    /// No cookies (the default).
    Omit,
    /// Cookies to the same origin.
    SameOrigin,
    /// Cookies everywhere (the endpoint must allow it).
    Include,
}

impl Credentials {
    /// The `RequestInit.credentials` value.
    pub fn as_str(self) -> &'static str {
        CREDENTIAL_NAMES[self as usize]
    }
}

/// Where a promoter's (and, if the site asks, a passive's) thanks points them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    /// `http(s)` URL, opened in a new tab.
    pub url: String,
    /// Link text; the `referral` string when absent.
    pub text: Option<String>,
    /// Passives are asked too (`segments: ["promoter", "passive"]`): the NPS practice thanks
    /// a passive for the suggestion, then asks for a referral as well.
    pub passives: bool,
}

impl Referral {
    /// Whether the thanks of `segment` carries the call to action.
    pub fn asks(&self, segment: crate::segment::Segment) -> bool {
        use crate::segment::Segment;
        segment == Segment::Promoter || (segment == Segment::Passive && self.passives)
    }
}

/// The validated configuration. Every field but `endpoint` has a default.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where responses are POSTed (absolute or relative URL).
    pub endpoint: String,
    /// Fills `{product}`; default "us".
    pub product: String,
    /// Keeps surveys apart in storage and reports; default "default".
    pub survey_id: String,
    /// Locale tag; when absent, `<html lang>` then `navigator.language`.
    pub locale: Option<String>,
    /// Default bottom-right.
    pub position: Position,
    /// Default auto.
    pub theme: Theme,
    /// CSS custom properties (`accent`, `background`, `text`, `muted`, `radius`, `font`, `z_index`).
    pub style: Vec<(&'static str, String)>,
    /// Text overrides: (the locale tag, or none for every locale; text; the string).
    pub strings: Vec<(Option<String>, Text, String)>,
    /// Who is asked.
    pub user: User,
    /// Extra request headers, e.g. `Authorization`.
    pub headers: Vec<(String, String)>,
    /// Default omit.
    pub credentials: Credentials,
    /// Per-request timeout; default 10 000.
    pub timeout_ms: u32,
    /// Default load.
    pub trigger: Trigger,
    /// Wait after the trigger fires; default 0.
    pub delay_ms: u32,
    /// The events that count for `trigger: "event"` (`track(name)`).
    pub events: Vec<String>,
    /// Glob patterns of the paths the card may show on (`!` excludes); none: every page.
    pub pages: Vec<String>,
    /// Conditions on `user.traits`, all of which must hold.
    pub audience: Vec<Condition>,
    /// Days this browser must have known the person before they are asked; default 0.
    pub first_seen_days: u32,
    /// Days after any survey of the site asked before another may; default 7.
    pub wait_days_between_surveys: u32,
    /// Share of users ever asked, 0–1; default 1.
    pub sample_rate: f64,
    /// Days before someone who answered is asked again; default 90.
    pub recontact_days: u32,
    /// Days before someone who closed the card is asked again; default 14.
    pub dismiss_cooldown_days: u32,
    /// Show regardless of targeting and throttling (previews); default false.
    pub force: bool,
    /// Show the detractor's contact consent box; default true.
    pub contact_consent: bool,
    /// Promoter referral call to action.
    pub referral: Option<Referral>,
    /// Keep the query string in `context.url`; default false (it often holds tokens).
    pub include_query: bool,
    /// Say on the console why the card is or is not shown (`console.info`); default false.
    pub debug: bool,
    /// Where the survey's definition is served (`GET /v1/surveys/{id}/definition`): its keys
    /// override the page's, but for [`PAGE_ONLY`].
    pub survey_url: Option<String>,
    /// A score already chosen (a personal link's email button): the card opens on that
    /// score's follow-up and delivers the partial as a click would.
    pub score: Option<u8>,
}

impl Config {
    /// A config with every default and this endpoint.
    pub fn new(endpoint: &str) -> Config {
        Config {
            endpoint: endpoint.to_owned(),
            product: "us".to_owned(),
            survey_id: "default".to_owned(),
            locale: None,
            position: Position::BottomRight,
            theme: Theme::Auto,
            style: Vec::new(),
            strings: Vec::new(),
            user: User::default(),
            headers: Vec::new(),
            credentials: Credentials::Omit,
            timeout_ms: 10_000,
            trigger: Trigger::Load,
            delay_ms: 0,
            events: Vec::new(),
            pages: Vec::new(),
            audience: Vec::new(),
            first_seen_days: 0,
            wait_days_between_surveys: 7,
            sample_rate: 1.0,
            recontact_days: 90,
            dismiss_cooldown_days: 14,
            force: false,
            contact_consent: true,
            referral: None,
            include_query: false,
            score: None,
            debug: false,
            survey_url: None,
        }
    }
}

/// Every top-level key, for "did you mean".
pub const KEYS: [&str; 33] = [
    "endpoint",
    "product",
    "survey_id",
    "locale",
    "position",
    "target",
    "theme",
    "style",
    "strings",
    "user",
    "headers",
    "credentials",
    "timeout_ms",
    "trigger",
    "delay_ms",
    "page_views",
    "scroll_depth",
    "events",
    "event_count",
    "pages",
    "audience",
    "first_seen_days",
    "wait_days_between_surveys",
    "sample_rate",
    "recontact_days",
    "dismiss_cooldown_days",
    "force",
    "contact_consent",
    "referral",
    "include_query",
    "score",
    "debug",
    "survey_url",
];

/// The keys only the embedding page may set, never a survey's definition (`survey_url`):
/// where answers go, who answers, how the request is made, and what only a developer's page
/// asks for. The collector refuses them in a definition; the widget ignores them there.
pub const PAGE_ONLY: [&str; 7] = [
    "endpoint",
    "user",
    "headers",
    "credentials",
    "force",
    "survey_url",
    "debug",
];

/// The page's config with a survey's definition over it: the definition's keys replace the
/// page's, but for [`PAGE_ONLY`], which come from the page; `survey_id` is the survey's `id`.
pub fn merge(page: Value, definition: Value, id: &str) -> Value {
    fn set(entries: &mut Vec<(String, Value)>, key: String, value: Value) {
        match entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => entries.push((key, value)),
        }
    }
    let mut entries = match page {
        Value::Map(entries) => entries,
        _ => Vec::new(),
    };
    if let Value::Map(keys) = definition {
        for (key, value) in keys {
            if !PAGE_ONLY.contains(&key.as_str()) && key != "survey_id" {
                set(&mut entries, key, value);
            }
        }
    }
    set(
        &mut entries,
        "survey_id".to_owned(),
        Value::Text(id.to_owned()),
    );
    Value::Map(entries)
}

pub(crate) const USER_KEYS: [&str; 5] = ["id", "account_id", "email", "hash", "traits"];
pub(crate) const REFERRAL_KEYS: [&str; 3] = ["url", "text", "segments"];
pub(crate) const STYLE_KEYS: [&str; 7] = [
    "accent",
    "background",
    "text",
    "muted",
    "radius",
    "font",
    "z_index",
];

/// A table of `(name, variant)` pairs, with its names alone and the error's list of them
/// (`"a", "b" or "c"`), both made from the table's own names when compiling: each value a key
/// may take is written once.
macro_rules! choices {
    ($(#[$doc:meta])* $table:ident, $names:ident, $expected:ident: $ty:ty = [$($key:literal => $value:expr),+ $(,)?]) => {
        $(#[$doc])*
        pub(crate) const $table: &[(&str, $ty)] = &[$(($key, $value)),+];
        /// The names alone, in the table's order.
        pub const $names: &[&str] = &[$($key),+];
        pub(crate) const $expected: &str = one_of!($($key),+);
    };
}

/// `"a", "b" or "c"` from the names, when compiling.
macro_rules! one_of {
    (@tail $last:literal) => { concat!(" or \"", $last, "\"") };
    (@tail $next:literal, $($rest:literal),+) => {
        concat!(", \"", $next, "\"", one_of!(@tail $($rest),+))
    };
    ($only:literal) => { concat!("\"", $only, "\"") };
    ($first:literal, $($rest:literal),+) => {
        concat!("\"", $first, "\"", one_of!(@tail $($rest),+))
    };
}

choices! {
    /// Where the card goes, by name (`inline` takes its selector from `target`).
    POSITIONS, POSITION_NAMES, POSITION_EXPECTED: Place = [
        "bottom-right" => Place::BottomRight,
        "bottom-left" => Place::BottomLeft,
        "modal" => Place::Modal,
        "inline" => Place::Inline,
    ]
}

/// [`Position`] without the inline selector, as the `position` key names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    BottomRight,
    BottomLeft,
    Modal,
    Inline,
}

choices! {
    /// The themes, by name.
    THEMES, THEME_NAMES, THEME_EXPECTED: Theme = [
        "auto" => Theme::Auto,
        "light" => Theme::Light,
        "dark" => Theme::Dark,
    ]
}

choices! {
    /// The `fetch` credentials modes, by name, in the enum's order.
    CREDENTIALS, CREDENTIAL_NAMES, CREDENTIAL_EXPECTED: Credentials = [
        "omit" => Credentials::Omit,
        "same-origin" => Credentials::SameOrigin,
        "include" => Credentials::Include,
    ]
}

choices! {
    /// The triggers, by name, with their parameters' defaults (`page_views` 3, `scroll_depth`
    /// 0.5).
    TRIGGERS, TRIGGER_NAMES, TRIGGER_EXPECTED: Trigger = [
        "load" => Trigger::Load,
        "page_views" => Trigger::PageViews(3),
        "scroll" => Trigger::Scroll(0.5),
        "exit_intent" => Trigger::ExitIntent,
        "manual" => Trigger::Manual,
        "event" => Trigger::Event(1),
    ]
}

choices! {
    /// The operators of an `audience` condition, by name.
    OPERATORS, OPERATOR_NAMES, OPERATOR_EXPECTED: Operator = [
        "is" => Operator::Is,
        "is_not" => Operator::IsNot,
        "in" => Operator::In,
        "contains" => Operator::Contains,
        "at_least" => Operator::AtLeast,
        "at_most" => Operator::AtMost,
        "older_than_days" => Operator::OlderThanDays,
        "newer_than_days" => Operator::NewerThanDays,
        "exists" => Operator::Exists,
    ]
}

/// What an `audience` condition asks of a trait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// Equal to the value (text, number or boolean; no conversion between them).
    Is,
    /// Not equal to it.
    IsNot,
    /// Equal to one of a list.
    In,
    /// Text that holds the value.
    Contains,
    /// A number of at least the value.
    AtLeast,
    /// A number of at most the value.
    AtMost,
    /// A date (RFC 3339 text or ms since the epoch) at least this many days ago.
    OlderThanDays,
    /// A date less than this many days ago.
    NewerThanDays,
    /// Present (`true`) or absent (`false`).
    Exists,
}

impl Operator {
    /// What the operator's value must be, for its error.
    pub fn expects(self) -> &'static str {
        match self {
            Operator::Is | Operator::IsNot => "text, a number or true/false",
            Operator::In => "a list of texts, numbers or true/false",
            Operator::Contains => "text",
            Operator::AtLeast | Operator::AtMost => "a number",
            Operator::OlderThanDays | Operator::NewerThanDays => {
                "a whole number of days from 0 to 36500"
            }
            Operator::Exists => "true or false",
        }
    }
}
