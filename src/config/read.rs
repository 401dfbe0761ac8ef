//! Reading a config object: each key's value checked against what it may be, over the
//! defaults of [`Config::new`].

use alloc::{borrow::ToOwned, string::String, vec::Vec};

use super::error::{
    at, describe, invalid, missing, nested, not_an_object, said, unknown, unknown_operator, Failed,
};
use super::*;
use crate::response::TraitValue;
use crate::text::{any_of, is_whole, number_text, parse_decimal, push_uint};

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
    let mut place = Place::BottomRight;
    let mut trigger = None;
    let mut page_views = None;
    let mut scroll_depth = None;
    let mut event_count = None;
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
                place = r.choice(key, value, POSITIONS, POSITION_NAMES, POSITION_EXPECTED)?
            }
            "target" => target = Some(r.text(key, value)?),
            "theme" => config.theme = r.choice(key, value, THEMES, THEME_NAMES, THEME_EXPECTED)?,
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
                            .push((None, text, r.text(&nested(key, name), v)?));
                    } else if is_locale_tag(name) && matches!(v, Value::Map(_)) {
                        // Overrides for one locale: `strings: { fr: { question: "…" } }`.
                        let path = nested(key, name);
                        for (text_key, tv) in r.map(&path, v)? {
                            let Some(text) = Text::from_key(text_key) else {
                                return Err(unknown(&path, text_key, &Text::KEYS));
                            };
                            let t = r.text(&nested(&path, text_key), tv)?;
                            config.strings.push((Some(name.clone()), text, t));
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
                config.credentials = r.choice(
                    key,
                    value,
                    CREDENTIALS,
                    CREDENTIAL_NAMES,
                    CREDENTIAL_EXPECTED,
                )?
            }
            "timeout_ms" => config.timeout_ms = r.whole(key, value, 100, 120_000)?,
            "trigger" => {
                trigger = Some(r.choice(key, value, TRIGGERS, TRIGGER_NAMES, TRIGGER_EXPECTED)?)
            }
            "delay_ms" => config.delay_ms = r.whole(key, value, 0, 3_600_000)?,
            "page_views" => page_views = Some(r.whole(key, value, 1, 10_000)?),
            "scroll_depth" => scroll_depth = Some(r.fraction(key, value)?),
            "events" => config.events = r.texts(key, value)?,
            "event_count" => event_count = Some(r.whole(key, value, 1, 1000)?),
            "pages" => config.pages = r.texts(key, value)?,
            "audience" => config.audience = r.audience(key, value)?,
            "first_seen_days" => config.first_seen_days = r.whole(key, value, 0, 3650)?,
            "wait_days_between_surveys" => {
                config.wait_days_between_surveys = r.whole(key, value, 0, 3650)?
            }
            "sample_rate" => config.sample_rate = r.fraction(key, value)?,
            "recontact_days" => config.recontact_days = r.whole(key, value, 0, 3650)?,
            "dismiss_cooldown_days" => {
                config.dismiss_cooldown_days = r.whole(key, value, 0, 3650)?
            }
            "force" => config.force = r.boolean(key, value)?,
            "contact_consent" => config.contact_consent = r.boolean(key, value)?,
            "include_query" => config.include_query = r.boolean(key, value)?,
            "debug" => config.debug = r.boolean(key, value)?,
            "score" => config.score = Some(r.whole(key, value, 0, 10)? as u8),
            "referral" => config.referral = Some(r.referral(key, value)?),
            "survey_url" => config.survey_url = Some(r.url(key, value)?),
            other => return Err(unknown("", other, &KEYS)),
        }
    }
    config.endpoint = endpoint.ok_or_else(|| missing("endpoint"))?;
    config.position = match place {
        Place::BottomRight => Position::BottomRight,
        Place::BottomLeft => Position::BottomLeft,
        Place::Modal => Position::Modal,
        Place::Inline => Position::Inline(target.ok_or_else(|| missing("target"))?),
    };
    config.trigger = match trigger.unwrap_or(Trigger::Load) {
        Trigger::PageViews(n) => Trigger::PageViews(page_views.unwrap_or(n)),
        Trigger::Scroll(depth) => Trigger::Scroll(scroll_depth.unwrap_or(depth)),
        Trigger::Event(n) if !config.events.is_empty() => Trigger::Event(event_count.unwrap_or(n)),
        Trigger::Event(_) => return Err(missing("events")),
        other => other,
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
pub(super) fn is_locale_tag(tag: &str) -> bool {
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

    /// The entry of `table` whose name `value` gives; the error lists every name (`names`
    /// and `expected` are made from the table when compiling). The search is over the names
    /// only, so one copy of it serves every table.
    fn choice<T: Copy>(
        &self,
        key: &str,
        value: &Value,
        table: &[(&str, T)],
        names: &[&str],
        expected: &str,
    ) -> Result<T, Failed> {
        match table.get(index(value, names)) {
            Some((_, item)) => Ok(*item),
            None => Err(invalid(key, expected, &describe(value))),
        }
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

    /// A list of non-empty texts; in attributes, one text of comma-separated items
    /// (`data-pages="/app/*, !/app/billing*"`).
    fn texts(&self, key: &str, value: &Value) -> Result<Vec<String>, Failed> {
        let mut out = Vec::new();
        let mut push = |path: &str, item: &Value| -> Result<(), Failed> {
            match item {
                Value::Text(s) if !s.trim_ascii().is_empty() && s.len() <= 2000 => {
                    out.push(s.trim_ascii().to_owned());
                    Ok(())
                }
                _ => Err(invalid(
                    path,
                    "text of 1 to 2000 characters",
                    &describe(item),
                )),
            }
        };
        match (value, self.source) {
            (Value::List(items), _) => {
                for (i, item) in items.iter().enumerate() {
                    push(&at(key, i), item)?;
                }
            }
            (Value::Text(s), Source::Attributes) => {
                for part in crate::text::parts(s, b',') {
                    push(key, &Value::Text(part.to_owned()))?;
                }
            }
            _ => return Err(invalid(key, "a list of texts", &describe(value))),
        }
        Ok(out)
    }

    /// `audience`: a list of `{ "trait": name, <operator>: value }`, one operator each.
    fn audience(&self, key: &str, value: &Value) -> Result<Vec<Condition>, Failed> {
        let Value::List(items) = value else {
            return Err(invalid(key, "a list of conditions", &describe(value)));
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = at(key, i);
            let (mut name, mut test) = (None, None);
            for (op, v) in self.map(&path, item)? {
                let here = nested(&path, op);
                if op == "trait" {
                    name = Some(self.id(&here, v)?);
                    continue;
                }
                let Some((_, operator)) = OPERATORS.get(position(op, OPERATOR_NAMES)) else {
                    return Err(unknown_operator(&path, op));
                };
                if test.is_some() {
                    return Err(said(
                        &path,
                        &["one operator per condition, got a second: \"", op, "\""],
                    ));
                }
                let days = |n: &f64| is_whole(*n) && (0.0..=36_500.0).contains(n);
                let fits = match (operator, v) {
                    (Operator::Is | Operator::IsNot, _) => is_scalar(v),
                    (Operator::In, Value::List(values)) => values.iter().all(is_scalar),
                    (Operator::Contains, Value::Text(_)) => true,
                    (Operator::AtLeast | Operator::AtMost, Value::Number(_)) => true,
                    (Operator::OlderThanDays | Operator::NewerThanDays, Value::Number(n)) => {
                        days(n)
                    }
                    (Operator::Exists, Value::Bool(_)) => true,
                    _ => false,
                };
                if !fits {
                    return Err(invalid(&here, operator.expects(), &describe(v)));
                }
                let mut values = Vec::new();
                for one in match v {
                    Value::List(list) => list.as_slice(),
                    one => core::slice::from_ref(one),
                } {
                    values.push(self.trait_value(&here, one)?);
                }
                test = Some((*operator, values));
            }
            let (operator, values) =
                test.ok_or_else(|| said(&path, &["needs an operator: ", OPERATOR_EXPECTED]))?;
            out.push(Condition {
                name: name.ok_or_else(|| missing(&nested(&path, "trait")))?,
                operator,
                values,
            });
        }
        Ok(out)
    }

    fn trait_value(&self, key: &str, value: &Value) -> Result<TraitValue, Failed> {
        Ok(match value {
            Value::Bool(b) => TraitValue::Bool(*b),
            Value::Number(n) => TraitValue::Number(*n),
            Value::Text(s) => TraitValue::Text(s.clone()),
            _ => return Err(invalid(key, Operator::Is.expects(), &describe(value))),
        })
    }

    // Out of line: `identify()` reads a user too, and would carry a second copy.
    #[inline(never)]
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
                        let trait_value = self.trait_value(&nested(&path, trait_name), tv)?;
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

/// Whether `value` could be a trait's: text, a number or a boolean.
fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::Bool(_) | Value::Number(_) | Value::Text(_))
}

/// Where `value` is among `names` (`names.len()` when it is not).
fn index(value: &Value, names: &[&str]) -> usize {
    match value {
        Value::Text(s) => position(s, names),
        _ => names.len(),
    }
}

/// Where `name` is among `names` (`names.len()` when it is not).
#[inline(never)]
fn position(name: &str, names: &[&str]) -> usize {
    let mut i = 0;
    while i < names.len() && name != names[i] {
        i += 1;
    }
    i
}
