//! Surveys managed from the dashboard: a slug id, a name, a status and a definition (an object
//! of the widget's own config keys), versioned on every change. A definition is checked by the
//! widget's reader itself (`nps_widget::config`, the pure module the browser runs), so a bad one
//! is refused at save time with the sentence the browser would give; the keys only the page
//! may set are refused too.

use nps_widget::config::{self, Source, Value};
use serde::{Deserialize, Serialize};

use crate::model::Choice;

/// Whether the widget shows a survey's card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Being written: its public definition is not served.
    Draft,
    /// Asked on every page that embeds it.
    Active,
    /// Served, and the widget shows nothing (an outage, a pause in the campaign).
    Paused,
}

impl Choice for Status {
    const NAME: &'static str = "status";
    const ALL: &'static [(&'static str, Status)] = &[
        ("draft", Status::Draft),
        ("active", Status::Active),
        ("paused", Status::Paused),
    ];
}

impl Status {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        Status::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map_or("draft", |(n, _)| n)
    }
}

pub use nps_widget::config::PAGE_ONLY;

/// Checks a survey id: a slug of 1 to 64 of `a-z`, `0-9`, `_` and `-`.
pub fn check_id(id: &str) -> Result<(), &'static str> {
    let slug = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if slug {
        Ok(())
    } else {
        Err("id must be 1 to 64 characters of a-z, 0-9, _ and -")
    }
}

/// Checks a survey's name: 1 to 200 characters.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        Err("name must be 1 to 200 characters")
    } else {
        Ok(())
    }
}

/// A definition the widget cannot use: the sentence and the key it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The sentence, as the browser would say it.
    pub message: String,
    /// The key at fault (`definition.trigger`), for the form to put it beside its field.
    pub field: String,
}

/// Checks a definition with the widget's own reader: an object of config keys, none of them
/// page-only (nor `survey_id`, which is the survey's id).
pub fn check_definition(definition: &serde_json::Value) -> Result<(), Refused> {
    let refuse = |message: String, key: &str| Refused {
        message,
        field: if key.is_empty() {
            "definition".to_owned()
        } else {
            format!("definition.{key}")
        },
    };
    let Some(object) = definition.as_object() else {
        return Err(refuse(
            "definition must be an object of config keys".into(),
            "",
        ));
    };
    for key in object.keys() {
        if PAGE_ONLY.contains(&key.as_str()) {
            return Err(refuse(
                format!("\"{key}\" may only be set by the page that embeds the survey"),
                key,
            ));
        }
        if key == "survey_id" {
            return Err(refuse(
                "\"survey_id\" is the survey's id; a definition does not set it".into(),
                key,
            ));
        }
    }
    // The reader needs an endpoint, which only the page gives: any stands in for it.
    let mut entries = vec![("endpoint".to_owned(), Value::Text("/".into()))];
    if let Value::Map(keys) = value(definition) {
        entries.extend(keys);
    }
    config::parse(&Value::Map(entries), Source::Object).map_err(|e| {
        let message = e.message().to_owned();
        let key = named_key(&message, object.keys().map(String::as_str));
        refuse(message, key)
    })?;
    Ok(())
}

/// The top-level key a reader's sentence names (`"trigger" must be …`, `unknown key "x"`,
/// `audience[1]: …`), if it is one of `keys`.
fn named_key<'k>(message: &str, keys: impl Iterator<Item = &'k str>) -> &'k str {
    let mut best = "";
    let mut at = usize::MAX;
    for key in keys {
        if let Some(i) = message.find(key) {
            let before = message[..i].chars().last();
            let after = message[i + key.len()..].chars().next();
            let bounded = !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                && !after.is_some_and(|c| c.is_alphanumeric() || c == '_');
            if bounded && i < at {
                (best, at) = (key, i);
            }
        }
    }
    best
}

/// A JSON value as the widget's reader takes it (what the browser layer makes of a JS object).
pub fn value(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Value::Text(s.clone()),
        serde_json::Value::Array(items) => Value::List(items.iter().map(value).collect()),
        serde_json::Value::Object(map) => {
            Value::Map(map.iter().map(|(k, v)| (k.clone(), value(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_slugs() {
        for ok in ["nps", "q4-2026", "in_app", &"a".repeat(64)] {
            assert_eq!(check_id(ok), Ok(()), "{ok}");
        }
        for bad in ["", "Q4", "a b", "é", "a/b", &"a".repeat(65)] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn definitions_are_read_by_the_widgets_own_reader() {
        let good = json!({
            "trigger": "event", "events": ["report_exported"], "event_count": 2,
            "pages": ["/app/*"], "audience": [{"trait": "plan", "in": ["pro"]}],
            "strings": {"question": "Would you recommend {product}?", "fr": {"submit": "Envoyer"}},
            "sample_rate": 0.5, "position": "bottom-left", "theme": "dark",
        });
        assert_eq!(check_definition(&good), Ok(()));
        let table = [
            (json!([1]), "definition must be an object of config keys", "definition"),
            (
                json!({"trigger": "sometimes"}),
                "\"trigger\" must be \"load\", \"page_views\", \"scroll\", \"exit_intent\", \"manual\" or \"event\", got \"sometimes\"",
                "definition.trigger",
            ),
            (
                json!({"trigerr": "load"}),
                "unknown key \"trigerr\", did you mean \"trigger\"?",
                "definition.trigerr",
            ),
            (
                json!({"audience": [{"trait": "plan", "equals": "pro"}]}),
                "audience[0]: unknown operator \"equals\", did you mean \"is\"?",
                "definition.audience",
            ),
            (
                json!({"strings": {"questoin": "x"}}),
                "unknown key \"strings.questoin\", did you mean \"strings.question\"?",
                "definition.strings",
            ),
            (
                json!({"endpoint": "https://evil.example/collect"}),
                "\"endpoint\" may only be set by the page that embeds the survey",
                "definition.endpoint",
            ),
            (
                json!({"debug": true}),
                "\"debug\" may only be set by the page that embeds the survey",
                "definition.debug",
            ),
            (
                json!({"survey_id": "other"}),
                "\"survey_id\" is the survey's id; a definition does not set it",
                "definition.survey_id",
            ),
        ];
        for (definition, message, field) in table {
            let refused = check_definition(&definition).unwrap_err();
            assert_eq!(
                (refused.message.as_str(), refused.field.as_str()),
                (message, field)
            );
        }
        for key in PAGE_ONLY {
            assert!(check_definition(&json!({ key: 1 })).is_err(), "{key}");
        }
    }
}
