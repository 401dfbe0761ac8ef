//! The one configuration structure, its defaults, and validation with errors that name the key.
//!
//! The browser layer turns a JS object (or the script tag's `data-*` attributes) into a
//! [`Value`] tree and hands it here; everything after that is pure and tested natively. We do not
//! run serde in the wasm: its generic code and `core::fmt` messages would cost more bytes than the
//! whole card, and this module's errors say more ("did you mean …").

use alloc::{borrow::ToOwned, boxed::Box, string::String, vec::Vec};

use crate::i18n::Text;
use crate::response::TraitValue;
use crate::response::User;
use crate::text::any_of;

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
}

/// `fetch`'s credentials mode for the POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        match self {
            Credentials::Omit => "omit",
            Credentials::SameOrigin => "same-origin",
            Credentials::Include => "include",
        }
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
    /// Text overrides: (locale tag, or `""` for every locale; text; the string).
    pub strings: Vec<(String, Text, String)>,
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
            sample_rate: 1.0,
            recontact_days: 90,
            dismiss_cooldown_days: 14,
            force: false,
            contact_consent: true,
            referral: None,
            include_query: false,
            score: None,
        }
    }
}

/// Every top-level key, for "did you mean".
pub const KEYS: [&str; 25] = [
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
    "sample_rate",
    "recontact_days",
    "dismiss_cooldown_days",
    "force",
    "contact_consent",
    "referral",
    "include_query",
    "score",
];

const USER_KEYS: [&str; 5] = ["id", "account_id", "email", "hash", "traits"];
const REFERRAL_KEYS: [&str; 3] = ["url", "text", "segments"];
const STYLE_KEYS: [&str; 7] = [
    "accent",
    "background",
    "text",
    "muted",
    "radius",
    "font",
    "z_index",
];

/// A config that cannot be used: one sentence for the console that names the key at fault,
/// e.g. `unknown key "endpont", did you mean "endpoint"?`. Written when the problem is found:
/// an enum of the cases, formatted later, was twice the code in the wasm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(String);

impl ConfigError {
    /// The sentence.
    pub fn message(&self) -> &str {
        &self.0
    }
}

/// An error on its way out of the parser: boxed, so each `?` moves a pointer.
type Failed = Box<ConfigError>;

/// A config that is not an object.
fn not_an_object() -> Failed {
    Box::new(ConfigError("config must be an object".into()))
}

/// A required key is absent.
fn missing(key: &str) -> Failed {
    let mut m = String::new();
    push_all(&mut m, &["\"", key, "\" is required"]);
    Box::new(ConfigError(m))
}

fn push_all(out: &mut String, parts: &[&str]) {
    for part in parts {
        out.push_str(part);
    }
}

/// How values were written: attributes are all text, so numbers and booleans are parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A JS object or `data-config` JSON: types must match.
    Object,
    /// `data-*` attributes: `"0.5"` is a number and `"true"` a boolean.
    Attributes,
}

/// Validates a config object over the defaults.
pub fn parse(value: &Value, source: Source) -> Result<Config, ConfigError> {
    parse_boxed(value, source).map_err(|e| *e)
}

fn parse_boxed(value: &Value, source: Source) -> Result<Config, Failed> {
    let Value::Map(entries) = value else {
        return Err(not_an_object());
    };
    let mut config = Config::new("");
    let mut endpoint = None;
    let mut target = None;
    let mut trigger_name = None;
    let mut page_views = None;
    let mut scroll_depth = None;
    let r = Reader { source };
    for (key, value) in entries {
        if matches!(value, Value::Null) {
            continue;
        }
        let key = key.as_str();
        match key {
            "endpoint" => endpoint = Some(r.url(key, value)?),
            "product" => config.product = r.text(key, value)?,
            "survey_id" => config.survey_id = r.id(key, value)?,
            "locale" => config.locale = Some(r.text(key, value)?),
            "position" => {
                config.position = match r.choice(
                    key,
                    value,
                    &["bottom-right", "bottom-left", "modal", "inline"],
                    "\"bottom-right\", \"bottom-left\", \"modal\" or \"inline\"",
                )? {
                    0 => Position::BottomRight,
                    1 => Position::BottomLeft,
                    2 => Position::Modal,
                    _ => Position::Inline(String::new()),
                }
            }
            "target" => target = Some(r.text(key, value)?),
            "theme" => {
                config.theme = match r.choice(
                    key,
                    value,
                    &["auto", "light", "dark"],
                    "\"auto\", \"light\" or \"dark\"",
                )? {
                    0 => Theme::Auto,
                    1 => Theme::Light,
                    _ => Theme::Dark,
                }
            }
            "style" => {
                for (name, v) in r.map(key, value)? {
                    let Some(known) = STYLE_KEYS.iter().find(|k| **k == name) else {
                        return Err(unknown(key, name, &STYLE_KEYS));
                    };
                    config.style.push((known, r.css(&nested(key, name), v)?));
                }
            }
            "strings" => {
                for (name, v) in r.map(key, value)? {
                    if let Some(text) = Text::from_key(name) {
                        config
                            .strings
                            .push((String::new(), text, r.text(&nested(key, name), v)?));
                    } else if is_locale_tag(name) && matches!(v, Value::Map(_)) {
                        // Overrides for one locale: `strings: { fr: { question: "…" } }`.
                        let path = nested(key, name);
                        for (text_key, tv) in r.map(&path, v)? {
                            let Some(text) = Text::from_key(text_key) else {
                                return Err(unknown(&path, text_key, &Text::KEYS));
                            };
                            let t = r.text(&nested(&path, text_key), tv)?;
                            config.strings.push((name.clone(), text, t));
                        }
                    } else {
                        return Err(unknown(key, name, &Text::KEYS));
                    }
                }
            }
            "user" => config.user = r.user(key, value)?,
            "headers" => {
                for (name, v) in r.map(key, value)? {
                    let valid_name = !name.is_empty()
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
                    if !valid_name {
                        return Err(invalid(key, "an object of HTTP header names", name));
                    }
                    let path = nested(key, name);
                    let text = r.text(&path, v)?;
                    if any_of(&text, b"\0\r\n") {
                        return Err(invalid(&path, "a header value on one line", &describe(v)));
                    }
                    config.headers.push((name.clone(), text));
                }
            }
            "credentials" => {
                config.credentials = match r.choice(
                    key,
                    value,
                    &["omit", "same-origin", "include"],
                    "\"omit\", \"same-origin\" or \"include\"",
                )? {
                    0 => Credentials::Omit,
                    1 => Credentials::SameOrigin,
                    _ => Credentials::Include,
                }
            }
            "timeout_ms" => config.timeout_ms = r.whole(key, value, 100, 120_000)?,
            "trigger" => {
                trigger_name = Some(r.choice(
                    key,
                    value,
                    &["load", "page_views", "scroll", "exit_intent", "manual"],
                    "\"load\", \"page_views\", \"scroll\", \"exit_intent\" or \"manual\"",
                )?)
            }
            "delay_ms" => config.delay_ms = r.whole(key, value, 0, 3_600_000)?,
            "page_views" => page_views = Some(r.whole(key, value, 1, 10_000)?),
            "scroll_depth" => scroll_depth = Some(r.fraction(key, value)?),
            "sample_rate" => config.sample_rate = r.fraction(key, value)?,
            "recontact_days" => config.recontact_days = r.whole(key, value, 0, 3650)?,
            "dismiss_cooldown_days" => {
                config.dismiss_cooldown_days = r.whole(key, value, 0, 3650)?
            }
            "force" => config.force = r.boolean(key, value)?,
            "contact_consent" => config.contact_consent = r.boolean(key, value)?,
            "include_query" => config.include_query = r.boolean(key, value)?,
            "score" => config.score = Some(r.whole(key, value, 0, 10)? as u8),
            "referral" => config.referral = Some(r.referral(key, value)?),
            other => return Err(unknown("", other, &KEYS)),
        }
    }
    config.endpoint = endpoint.ok_or_else(|| missing("endpoint"))?;
    if config.position == Position::Inline(String::new()) {
        let selector = target.ok_or_else(|| missing("target"))?;
        config.position = Position::Inline(selector);
    }
    config.trigger = match trigger_name {
        None | Some(0) => Trigger::Load,
        Some(1) => Trigger::PageViews(page_views.unwrap_or(3)),
        Some(2) => Trigger::Scroll(scroll_depth.unwrap_or(0.5)),
        Some(3) => Trigger::ExitIntent,
        Some(_) => Trigger::Manual,
    };
    Ok(config)
}

/// Validates the value of `identify(user)`.
pub fn parse_user(value: &Value) -> Result<User, ConfigError> {
    Reader {
        source: Source::Object,
    }
    .user("user", value)
    .map_err(|e| *e)
}

/// `fr`, `pt-BR`, `zh-Hant`: letters, then optional `-` subtags.
fn is_locale_tag(tag: &str) -> bool {
    // Over bytes, one subtag at a time: a `split` with two separators is generic code of its own.
    let (mut first, mut len) = (true, 0);
    for b in tag.bytes().chain([b'-']) {
        if b == b'-' || b == b'_' {
            let fits = if first {
                (2..=3).contains(&len)
            } else {
                (2..=8).contains(&len)
            };
            if !fits {
                return false;
            }
            (first, len) = (false, 0);
        } else if b.is_ascii_alphabetic() || (!first && b.is_ascii_digit()) {
            len += 1;
        } else {
            return false;
        }
    }
    true
}

fn nested(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        let mut path = String::with_capacity(parent.len() + key.len() + 1);
        push_all(&mut path, &[parent, ".", key]);
        path
    }
}

fn unknown(parent: &str, key: &str, known: &[&'static str]) -> Failed {
    let mut m = String::new();
    push_all(&mut m, &["unknown key \"", &nested(parent, key), "\""]);
    if let Some(k) = nearest(key, known) {
        push_all(&mut m, &[", did you mean \"", &nested(parent, k), "\"?"]);
    }
    Box::new(ConfigError(m))
}

fn invalid(key: &str, expected: &str, got: &str) -> Failed {
    let mut m = String::new();
    push_all(&mut m, &["\"", key, "\" must be ", expected, ", got ", got]);
    Box::new(ConfigError(m))
}

/// The known key within a small edit distance of `key`, if any: typos, not guesses. The first
/// of the nearest wins. (Plain loops: iterator adapters here cost a kilobyte of wasm.)
pub fn nearest(key: &str, known: &[&'static str]) -> Option<&'static str> {
    let mut best = None;
    let mut best_distance = (key.len() / 3).clamp(1, 3) + 1;
    for k in known {
        let d = edit_distance(key.as_bytes(), k.as_bytes());
        if d < best_distance {
            (best, best_distance) = (Some(*k), d);
        }
    }
    best
}

/// Levenshtein distance over bytes (keys are ASCII; a non-ASCII typo only counts as more
/// edits), one row at a time. Keys are short: longer ones are cut to 32 bytes.
fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let b = &b[..b.len().min(32)];
    let mut row = [0usize; 33];
    for (j, slot) in row.iter_mut().enumerate() {
        *slot = j;
    }
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Describes a value for an error message, as the site wrote it.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => if *b { "true" } else { "false" }.into(),
        Value::Number(n) => number_text(*n),
        Value::Text(s) => {
            let mut out = String::with_capacity(s.len() + 2);
            push_all(&mut out, &["\"", s, "\""]);
            out
        }
        Value::List(_) => "a list".into(),
        Value::Map(_) => "an object".into(),
    }
}

/// Whether `n` is a whole number (without `f64::fract`, which needs std).
fn is_whole(n: f64) -> bool {
    n.is_finite() && n == (n as i64) as f64
}

/// A number as text, without `core::fmt` (whose float code is bigger than this whole module):
/// whole part and up to six decimals, which is all an error message needs.
pub fn number_text(n: f64) -> String {
    if !n.is_finite() {
        return "a non-finite number".into();
    }
    let mut out = String::new();
    if n < 0.0 {
        out.push('-');
    }
    let abs = n.abs();
    if abs >= 1e15 {
        out.push_str("a very large number");
        return out;
    }
    let scaled = (abs * 1e6 + 0.5) as u64;
    push_uint(&mut out, scaled / 1_000_000);
    let mut frac = scaled % 1_000_000;
    if frac != 0 {
        out.push('.');
        let mut digits = 6;
        while frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        let mut buf = [b'0'; 6];
        for slot in buf[..digits].iter_mut().rev() {
            *slot = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        for b in &buf[..digits] {
            out.push(*b as char);
        }
    }
    out
}

/// Reads `-12`, `0.25`, `1500` from an attribute, without `core`'s float parser (its tables
/// and code would be a tenth of the widget); exponents and other exotica are refused.
pub fn parse_decimal(text: &str) -> Option<f64> {
    let text = text.trim_ascii();
    let (negative, digits) = match text.strip_prefix("-") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = crate::text::cut(digits, b'.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() || whole.len() + fraction.len() > 15 {
        return None;
    }
    let mut value = 0.0;
    for b in whole.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10.0 + f64::from(b - b'0');
    }
    let mut scale = 1.0;
    for b in fraction.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        scale /= 10.0;
        value += f64::from(b - b'0') * scale;
    }
    Some(if negative { -value } else { value })
}

/// Reads a whole number written in decimal digits only (no sign, no spaces), as we write
/// them; by hand, as `str::parse` is generic code the wasm would carry once per type.
pub fn parse_uint(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 19 {
        return None;
    }
    let mut n = 0u64;
    for b in text.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(b - b'0');
    }
    Some(n)
}

/// Appends a whole number in decimal.
pub fn push_uint(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for b in &buf[i..] {
        out.push(*b as char);
    }
}

struct Reader {
    source: Source,
}

impl Reader {
    fn text(&self, key: &str, value: &Value) -> Result<String, Failed> {
        match value {
            Value::Text(s) if s.len() <= 2000 => Ok(s.clone()),
            _ => Err(invalid(key, "text up to 2000 characters", &describe(value))),
        }
    }

    fn id(&self, key: &str, value: &Value) -> Result<String, Failed> {
        match value {
            Value::Text(s) if !s.is_empty() && s.len() <= 128 => Ok(s.clone()),
            Value::Number(n) if is_whole(*n) && *n >= 0.0 => Ok(number_text(*n)),
            _ => Err(invalid(
                key,
                "text of 1 to 128 characters",
                &describe(value),
            )),
        }
    }

    fn url(&self, key: &str, value: &Value) -> Result<String, Failed> {
        const EXPECTED: &str = "an http(s) URL or a path";
        let text = match value {
            Value::Text(s) => s.trim_ascii(),
            _ => return Err(invalid(key, EXPECTED, &describe(value))),
        };
        let scheme_ok = text.starts_with("https://") || text.starts_with("http://");
        let relative = !any_of(text, b":") || text.starts_with("/");
        let spaced = any_of(text, b" \t\n\r\x0c");
        if text.is_empty() || spaced || !(scheme_ok || relative) {
            return Err(invalid(key, EXPECTED, &describe(value)));
        }
        Ok(text.to_owned())
    }

    /// CSS values go into `style.setProperty`, which ignores anything that is not one value;
    /// rejecting `;{}` here makes a typo an error instead of a silent no-op.
    fn css(&self, key: &str, value: &Value) -> Result<String, Failed> {
        let text = match value {
            Value::Number(n) => number_text(*n),
            _ => self.text(key, value)?,
        };
        if any_of(&text, b";{}<") {
            return Err(invalid(key, "a single CSS value", &describe(value)));
        }
        Ok(text)
    }

    fn choice(
        &self,
        key: &str,
        value: &Value,
        options: &[&str],
        expected: &'static str,
    ) -> Result<usize, Failed> {
        match value {
            Value::Text(s) => options.iter().position(|o| o == s),
            _ => None,
        }
        .ok_or_else(|| invalid(key, expected, &describe(value)))
    }

    fn number(&self, value: &Value) -> Option<f64> {
        match (value, self.source) {
            (Value::Number(n), _) => Some(*n),
            (Value::Text(s), Source::Attributes) => parse_decimal(s),
            _ => None,
        }
    }

    fn whole(&self, key: &str, value: &Value, min: u32, max: u32) -> Result<u32, Failed> {
        match self.number(value) {
            Some(n) if is_whole(n) && n >= f64::from(min) && n <= f64::from(max) => Ok(n as u32),
            _ => {
                let mut expected = String::from("a whole number from ");
                push_uint(&mut expected, u64::from(min));
                expected.push_str(" to ");
                push_uint(&mut expected, u64::from(max));
                Err(invalid(key, &expected, &describe(value)))
            }
        }
    }

    fn fraction(&self, key: &str, value: &Value) -> Result<f64, Failed> {
        match self.number(value) {
            Some(n) if (0.0..=1.0).contains(&n) => Ok(n),
            _ => Err(invalid(key, "a number from 0 to 1", &describe(value))),
        }
    }

    fn boolean(&self, key: &str, value: &Value) -> Result<bool, Failed> {
        match (value, self.source) {
            (Value::Bool(b), _) => Ok(*b),
            (Value::Text(s), Source::Attributes) if s == "true" || s.is_empty() => Ok(true),
            (Value::Text(s), Source::Attributes) if s == "false" => Ok(false),
            _ => Err(invalid(key, "true or false", &describe(value))),
        }
    }

    fn map<'v>(&self, key: &str, value: &'v Value) -> Result<&'v [(String, Value)], Failed> {
        match value {
            Value::Map(entries) => Ok(entries),
            _ => Err(invalid(key, "an object", &describe(value))),
        }
    }

    fn user(&self, key: &str, value: &Value) -> Result<User, Failed> {
        let mut user = User::default();
        for (name, v) in self.map(key, value)? {
            let path = nested(key, name);
            let slot = match name.as_str() {
                "id" => &mut user.id,
                "account_id" => &mut user.account_id,
                "email" => &mut user.email,
                "hash" => &mut user.hash,
                "traits" => {
                    for (trait_name, tv) in self.map(&path, v)? {
                        let trait_value = match tv {
                            Value::Bool(b) => TraitValue::Bool(*b),
                            Value::Number(n) => TraitValue::Number(*n),
                            Value::Text(s) => TraitValue::Text(s.clone()),
                            _ => {
                                return Err(invalid(
                                    &nested(&path, trait_name),
                                    "text, a number or true/false",
                                    &describe(tv),
                                ))
                            }
                        };
                        // A JS object's keys are unique: no need to look for an earlier one.
                        user.traits.push((trait_name.clone(), trait_value));
                    }
                    continue;
                }
                other => return Err(unknown(key, other, &USER_KEYS)),
            };
            *slot = match v {
                Value::Null => None,
                Value::Number(n) => Some(number_text(*n)),
                Value::Text(s) if s.len() <= 256 => Some(s.clone()),
                _ => return Err(invalid(&path, "text up to 256 characters", &describe(v))),
            };
        }
        Ok(user)
    }

    fn referral(&self, key: &str, value: &Value) -> Result<Referral, Failed> {
        let mut url = None;
        let mut text = None;
        let mut passives = false;
        for (name, v) in self.map(key, value)? {
            let path = nested(key, name);
            match name.as_str() {
                "url" => {
                    let u = self.url(&path, v)?;
                    if !u.starts_with("http") {
                        return Err(invalid(&path, "an absolute http(s) URL", &describe(v)));
                    }
                    url = Some(u);
                }
                "text" => text = Some(self.text(&path, v)?),
                "segments" => passives = self.referral_segments(&path, v)?,
                other => return Err(unknown(key, other, &REFERRAL_KEYS)),
            }
        }
        Ok(Referral {
            url: url.ok_or_else(|| missing("referral.url"))?,
            text,
            passives,
        })
    }

    /// `["promoter"]` or `["promoter", "passive"]`: whether passives are asked too.
    fn referral_segments(&self, key: &str, value: &Value) -> Result<bool, Failed> {
        const EXPECTED: &str = "a list of \"promoter\" and \"passive\"";
        let Value::List(items) = value else {
            return Err(invalid(key, EXPECTED, &describe(value)));
        };
        let mut passives = false;
        for item in items {
            match item {
                Value::Text(t) if t == "promoter" => {}
                Value::Text(t) if t == "passive" => passives = true,
                other => return Err(invalid(key, EXPECTED, &describe(other))),
            }
        }
        Ok(passives)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a [`Value`] from JSON text, as the browser layer would from a JS object.
    fn value(json: &str) -> Value {
        fn convert(v: serde_json::Value) -> Value {
            match v {
                serde_json::Value::Null => Value::Null,
                serde_json::Value::Bool(b) => Value::Bool(b),
                serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap()),
                serde_json::Value::String(s) => Value::Text(s),
                serde_json::Value::Array(a) => Value::List(a.into_iter().map(convert).collect()),
                serde_json::Value::Object(o) => {
                    Value::Map(o.into_iter().map(|(k, v)| (k, convert(v))).collect())
                }
            }
        }
        convert(serde_json::from_str(json).unwrap())
    }

    fn error(json: &str) -> String {
        error_in(json, Source::Object)
    }

    fn error_in(json: &str, source: Source) -> String {
        parse(&value(json), source)
            .unwrap_err()
            .message()
            .to_owned()
    }

    #[test]
    fn endpoint_alone_gets_every_default() {
        let config = parse(&value(r#"{"endpoint": "/v1/responses"}"#), Source::Object).unwrap();
        assert_eq!(config, Config::new("/v1/responses"));
        assert_eq!(config.recontact_days, 90);
        assert_eq!(config.dismiss_cooldown_days, 14);
        assert_eq!(config.position, Position::BottomRight);
        assert_eq!(config.timeout_ms, 10_000);
    }

    #[test]
    fn missing_endpoint_is_named() {
        assert_eq!(error(r#"{"product": "Acme"}"#), "\"endpoint\" is required");
    }

    #[test]
    fn misspelt_key_suggests_the_nearest() {
        assert_eq!(
            error(r#"{"endpont": "/x"}"#),
            "unknown key \"endpont\", did you mean \"endpoint\"?"
        );
        assert_eq!(
            error(r#"{"endpoint": "/x", "user": {"acount_id": "a"}}"#),
            "unknown key \"user.acount_id\", did you mean \"user.account_id\"?"
        );
        assert_eq!(
            error(r#"{"endpoint": "/x", "colour": "red"}"#),
            "unknown key \"colour\""
        );
    }

    #[test]
    fn wrong_values_name_key_value_and_expectation() {
        let table = [
            (
                r#"{"endpoint": "/x", "sample_rate": 1.5}"#,
                "\"sample_rate\" must be a number from 0 to 1, got 1.5",
            ),
            (
                r#"{"endpoint": "/x", "position": "top"}"#,
                "\"position\" must be \"bottom-right\", \"bottom-left\", \"modal\" or \"inline\", got \"top\"",
            ),
            (
                r#"{"endpoint": "javascript:alert(1)"}"#,
                "\"endpoint\" must be an http(s) URL or a path, got \"javascript:alert(1)\"",
            ),
            (
                r#"{"endpoint": "/x", "recontact_days": -3}"#,
                "\"recontact_days\" must be a whole number from 0 to 3650, got -3",
            ),
            (
                r#"{"endpoint": "/x", "timeout_ms": "fast"}"#,
                "\"timeout_ms\" must be a whole number from 100 to 120000, got \"fast\"",
            ),
            (
                r#"{"endpoint": "/x", "force": "yes"}"#,
                "\"force\" must be true or false, got \"yes\"",
            ),
            (
                r#"{"endpoint": "/x", "user": {"traits": {"plan": {"a": 1}}}}"#,
                "\"user.traits.plan\" must be text, a number or true/false, got an object",
            ),
        ];
        for (json, message) in table {
            assert_eq!(error(json), message, "{json}");
        }
    }

    #[test]
    fn attributes_parse_numbers_and_booleans_from_text() {
        let attrs =
            value(r#"{"endpoint": "/x", "sample_rate": "0.25", "force": "", "delay_ms": "1500"}"#);
        let config = parse(&attrs, Source::Attributes).unwrap();
        assert_eq!(config.sample_rate, 0.25);
        assert!(config.force);
        assert_eq!(config.delay_ms, 1500);
        assert!(parse(&attrs, Source::Object).is_err());
    }

    #[test]
    fn inline_needs_a_target() {
        assert_eq!(
            error(r#"{"endpoint": "/x", "position": "inline"}"#),
            "\"target\" is required"
        );
        let config = parse(
            &value(r##"{"endpoint": "/x", "position": "inline", "target": "#nps"}"##),
            Source::Object,
        )
        .unwrap();
        assert_eq!(config.position, Position::Inline("#nps".into()));
    }

    #[test]
    fn triggers_take_their_parameters() {
        let config = parse(
            &value(r#"{"endpoint": "/x", "trigger": "scroll", "scroll_depth": 0.7}"#),
            Source::Object,
        )
        .unwrap();
        assert_eq!(config.trigger, Trigger::Scroll(0.7));
        let config = parse(
            &value(r#"{"endpoint": "/x", "trigger": "page_views", "page_views": 5}"#),
            Source::Object,
        )
        .unwrap();
        assert_eq!(config.trigger, Trigger::PageViews(5));
    }

    #[test]
    fn user_strings_headers_and_referral_are_read() {
        let config = parse(
            &value(
                r#"{"endpoint": "https://api.example.com/nps",
                    "user": {"id": "u1", "account_id": 42, "hash": "9f3a", "traits": {"plan": "pro", "seats": 12}},
                    "strings": {"question": "Rate {product}"},
                    "headers": {"Authorization": "Bearer t"},
                    "referral": {"url": "https://g2.com/acme"}}"#,
            ),
            Source::Object,
        )
        .unwrap();
        assert_eq!(config.user.id.as_deref(), Some("u1"));
        assert_eq!(config.user.account_id.as_deref(), Some("42"));
        assert_eq!(
            config.user.hash.as_deref(),
            Some("9f3a"),
            "the site's signature"
        );
        assert_eq!(
            config.user.traits[1],
            ("seats".to_owned(), TraitValue::Number(12.0))
        );
        assert_eq!(
            config.strings,
            vec![(String::new(), Text::Question, "Rate {product}".into())]
        );
        assert_eq!(
            config.headers,
            vec![("Authorization".into(), "Bearer t".into())]
        );
        let referral = config.referral.unwrap();
        assert_eq!(referral.url, "https://g2.com/acme");
        assert!(!referral.passives, "promoters only by default");
        assert!(referral.asks(crate::segment::Segment::Promoter));
        assert!(!referral.asks(crate::segment::Segment::Passive));
    }

    #[test]
    fn passives_are_asked_for_a_referral_when_the_site_says_so() {
        let config = parse(
            &value(
                r#"{"endpoint": "/x", "referral": {"url": "https://g2.com/acme",
                    "segments": ["promoter", "passive"]}}"#,
            ),
            Source::Object,
        )
        .unwrap();
        let referral = config.referral.unwrap();
        assert!(referral.asks(crate::segment::Segment::Passive));
        assert!(!referral.asks(crate::segment::Segment::Detractor));
        assert_eq!(
            error(r#"{"endpoint": "/x", "referral": {"url": "https://g2.com/a", "segments": ["detractor"]}}"#),
            "\"referral.segments\" must be a list of \"promoter\" and \"passive\", got \"detractor\""
        );
        assert_eq!(
            error(
                r#"{"endpoint": "/x", "referral": {"url": "https://g2.com/a", "segment": ["passive"]}}"#
            ),
            "unknown key \"referral.segment\", did you mean \"referral.segments\"?"
        );
    }

    #[test]
    fn header_values_stay_on_one_line() {
        assert_eq!(
            error(r#"{"endpoint": "/x", "headers": {"X-Token": "a\r\nSet-Cookie: b"}}"#),
            "\"headers.X-Token\" must be a header value on one line, got \"a\r\nSet-Cookie: b\""
        );
    }

    #[test]
    fn strings_can_be_set_for_one_locale_and_per_segment() {
        let config = parse(
            &value(
                r#"{"endpoint": "/x", "strings": {
                    "question": "Rate {product}",
                    "fr": {"question": "Notez {product}", "passive_placeholder": "Dites-nous"},
                    "he": {"question": "?"}}}"#,
            ),
            Source::Object,
        )
        .unwrap();
        let mut strings = config.strings;
        strings.sort_by(|a, b| (&a.0, a.1 as u8).cmp(&(&b.0, b.1 as u8)));
        assert_eq!(
            strings,
            vec![
                (String::new(), Text::Question, "Rate {product}".into()),
                ("fr".into(), Text::Question, "Notez {product}".into()),
                ("fr".into(), Text::PassivePlaceholder, "Dites-nous".into()),
                ("he".into(), Text::Question, "?".into()),
            ]
        );
        assert_eq!(
            error(r#"{"endpoint": "/x", "strings": {"fr": {"questoin": "?"}}}"#),
            "unknown key \"strings.fr.questoin\", did you mean \"strings.fr.question\"?"
        );
        assert!(
            error(r#"{"endpoint": "/x", "strings": {"fr": "Bonjour"}}"#)
                .starts_with("unknown key \"strings.fr\""),
            "a locale needs an object of strings"
        );
    }

    #[test]
    fn the_readme_documents_every_config_key_and_no_other() {
        let readme = include_str!("../README.md");
        let section = readme
            .split("### Configuration")
            .nth(1)
            .and_then(|s| s.split("\n### ").next())
            .expect("a Configuration section");
        let mut documented: Vec<&str> = section
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .collect();
        documented.sort_unstable();
        let mut keys = KEYS.to_vec();
        keys.sort_unstable();
        assert_eq!(documented, keys);
    }

    #[test]
    fn unknown_string_key_suggests_the_nearest() {
        assert_eq!(
            error(r#"{"endpoint": "/x", "strings": {"questoin": "?"}}"#),
            "unknown key \"strings.questoin\", did you mean \"strings.question\"?"
        );
    }

    #[test]
    fn css_values_cannot_smuggle_rules() {
        assert!(
            error(r#"{"endpoint": "/x", "style": {"accent": "red; } body { x"}}"#)
                .starts_with("\"style.accent\" must be a single CSS value")
        );
    }

    #[test]
    fn attribute_text_is_read_as_numbers_and_booleans() {
        // What the loader makes of `data-endpoint`, `data-sample-rate`, `data-user-id`, ….
        let attrs = value(
            r#"{"product": "Acme", "endpoint": "/v1/responses", "sample_rate": "0.5",
                "force": "", "include_query": "false", "user": {"id": "u7", "email": "a@b.c"}}"#,
        );
        let config = parse(&attrs, Source::Attributes).unwrap();
        assert_eq!(config.endpoint, "/v1/responses");
        assert_eq!(config.product, "Acme");
        assert_eq!(config.sample_rate, 0.5);
        assert!(config.force, "a bare boolean attribute is true");
        assert!(!config.include_query);
        assert_eq!(config.user.id.as_deref(), Some("u7"));
        assert_eq!(config.user.email.as_deref(), Some("a@b.c"));
        assert_eq!(
            error(r#"{"endpoint": "/x", "sample_rate": "0.5"}"#),
            "\"sample_rate\" must be a number from 0 to 1, got \"0.5\"",
            "in a JS object, text is not a number"
        );
    }

    #[test]
    fn locale_tags_are_letters_then_subtags() {
        for good in ["fr", "pt-BR", "zh-Hant", "es-419", "pt_BR", "gsw"] {
            assert!(is_locale_tag(good), "{good}");
        }
        for bad in [
            "",
            "f",
            "fran",
            "fr-",
            "-fr",
            "f1",
            "pt-B",
            "en-toolongsub",
            "fr--CA",
            "fr CA",
        ] {
            assert!(!is_locale_tag(bad), "{bad}");
        }
    }

    #[test]
    fn a_score_is_a_whole_number_from_0_to_10() {
        let score = |json: &str| parse(&value(json), Source::Object).unwrap().score;
        assert_eq!(score(r#"{"endpoint": "/x", "score": 0}"#), Some(0));
        assert_eq!(score(r#"{"endpoint": "/x", "score": 10}"#), Some(10));
        assert_eq!(score(r#"{"endpoint": "/x"}"#), None);
        for bad in ["11", "-1", "7.5", "\"7\""] {
            let e = error(&format!(r#"{{"endpoint": "/x", "score": {bad}}}"#));
            assert!(
                e.starts_with("\"score\" must be a whole number from 0 to 10"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn whole_numbers_are_digits_only() {
        assert_eq!(parse_uint("0"), Some(0));
        assert_eq!(parse_uint("1700000000000"), Some(1_700_000_000_000));
        assert_eq!(
            parse_uint("9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        for bad in ["", "+1", "-1", " 1", "1.5", "1e3", "12345678901234567890"] {
            assert_eq!(parse_uint(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn misspelt_attribute_is_named_in_snake_case() {
        assert_eq!(
            error_in(
                r#"{"endpoint": "/x", "sample_rat": "1"}"#,
                Source::Attributes
            ),
            "unknown key \"sample_rat\", did you mean \"sample_rate\"?"
        );
    }

    #[test]
    fn identify_validates_the_user() {
        let user = parse_user(&value(r#"{"id": "u1", "account_id": "a1"}"#)).unwrap();
        assert_eq!(user.account_id.as_deref(), Some("a1"));
        assert_eq!(
            parse_user(&value(r#"{"name": "x"}"#))
                .unwrap_err()
                .message(),
            "unknown key \"user.name\""
        );
    }

    #[test]
    fn not_an_object_is_an_error() {
        assert_eq!(
            parse(&Value::Text("x".into()), Source::Object).unwrap_err(),
            *not_an_object()
        );
    }

    #[test]
    fn attribute_numbers_parse_without_core_float_parsing() {
        let table = [
            ("0", Some(0.0)),
            ("1500", Some(1500.0)),
            (" 0.25 ", Some(0.25)),
            ("-3", Some(-3.0)),
            (".5", Some(0.5)),
            ("1e3", None),
            ("", None),
            ("-", None),
            ("1.2.3", None),
            ("abc", None),
        ];
        for (text, expected) in table {
            assert_eq!(parse_decimal(text), expected, "{text:?}");
        }
    }

    #[test]
    fn numbers_print_without_core_fmt() {
        for (n, text) in [
            (0.0, "0"),
            (1.5, "1.5"),
            (-3.0, "-3"),
            (0.125, "0.125"),
            (1234567.0, "1234567"),
        ] {
            assert_eq!(number_text(n), text);
        }
    }
}
