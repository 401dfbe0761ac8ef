//! The reader's tests: every key, its errors, and the README's table.

use super::error::not_an_object;
use super::read::is_locale_tag;
use super::*;
use crate::response::TraitValue;
use crate::text::{number_text, parse_decimal, parse_uint};

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
        vec![(None, Text::Question, "Rate {product}".into())]
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
        error(
            r#"{"endpoint": "/x", "referral": {"url": "https://g2.com/a", "segments": ["detractor"]}}"#
        ),
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
            (None, Text::Question, "Rate {product}".into()),
            (Some("fr".into()), Text::Question, "Notez {product}".into()),
            (
                Some("fr".into()),
                Text::PassivePlaceholder,
                "Dites-nous".into()
            ),
            (Some("he".into()), Text::Question, "?".into()),
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
    let readme = include_str!("../../README.md");
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

#[test]
fn each_table_names_every_variant_once() {
    for &(name, credentials) in CREDENTIALS {
        assert_eq!(
            credentials.as_str(),
            name,
            "CREDENTIALS is in the enum's order"
        );
    }
    assert_eq!(
        error(r#"{"endpoint": "/x", "theme": "blue"}"#),
        "\"theme\" must be \"auto\", \"light\" or \"dark\", got \"blue\""
    );
    assert_eq!(
        error(r#"{"endpoint": "/x", "trigger": "onload"}"#),
        "\"trigger\" must be \"load\", \"page_views\", \"scroll\", \"exit_intent\", \"manual\" or \"event\", got \"onload\""
    );
}

#[test]
fn in_app_targeting_keys_are_read() {
    let config = parse(
        &value(
            r#"{"endpoint": "/x", "trigger": "event", "events": ["report_exported", "shared"],
                "event_count": 2, "pages": ["/app/*", " !/app/billing* "],
                "audience": [{"trait": "plan", "in": ["pro", "team", 3, true]},
                             {"trait": "signed_up_at", "older_than_days": 30},
                             {"trait": "seats", "at_least": 2.5},
                             {"trait": "email", "contains": "@acme."},
                             {"trait": "beta", "exists": false},
                             {"trait": "role", "is_not": "guest"}],
                "first_seen_days": 3, "wait_days_between_surveys": 0}"#,
        ),
        Source::Object,
    )
    .unwrap();
    assert_eq!(config.trigger, Trigger::Event(2));
    assert_eq!(config.events, ["report_exported", "shared"]);
    assert_eq!(config.pages, ["/app/*", "!/app/billing*"]);
    let tests: Vec<(Operator, &[TraitValue])> = config
        .audience
        .iter()
        .map(|c| (c.operator, c.values.as_slice()))
        .collect();
    let text = |s: &str| TraitValue::Text(s.into());
    assert_eq!(
        tests,
        [
            (
                Operator::In,
                &[
                    text("pro"),
                    text("team"),
                    TraitValue::Number(3.0),
                    TraitValue::Bool(true)
                ][..]
            ),
            (Operator::OlderThanDays, &[TraitValue::Number(30.0)][..]),
            (Operator::AtLeast, &[TraitValue::Number(2.5)][..]),
            (Operator::Contains, &[text("@acme.")][..]),
            (Operator::Exists, &[TraitValue::Bool(false)][..]),
            (Operator::IsNot, &[text("guest")][..]),
        ]
    );
    assert_eq!(config.audience[1].name, "signed_up_at");
    assert_eq!(
        (config.first_seen_days, config.wait_days_between_surveys),
        (3, 0)
    );
    let defaults = Config::new("/x");
    assert_eq!(
        (defaults.first_seen_days, defaults.wait_days_between_surveys),
        (0, 7)
    );
    // event_count defaults to 1; attributes give lists comma-separated.
    let tag = parse(
        &value(
            r#"{"endpoint": "/x", "trigger": "event", "events": "a, b",
                "pages": "/app/*,!/app/billing*", "first_seen_days": "2"}"#,
        ),
        Source::Attributes,
    )
    .unwrap();
    assert_eq!(tag.trigger, Trigger::Event(1));
    assert_eq!(tag.events, ["a", "b"]);
    assert_eq!(tag.pages, ["/app/*", "!/app/billing*"]);
    assert_eq!(tag.first_seen_days, 2);
}

#[test]
fn in_app_targeting_errors_name_the_place() {
    let table = [
        (
            r#"{"audience": [{"trait": "plan", "is": "pro"}, {"trait": "plan", "equals": "pro"}]}"#,
            "audience[1]: unknown operator \"equals\", did you mean \"is\"?",
        ),
        (
            r#"{"audience": [{"trait": "plan", "is_nt": "pro"}]}"#,
            "audience[0]: unknown operator \"is_nt\", did you mean \"is_not\"?",
        ),
        (
            r#"{"audience": [{"trait": "plan", "matches": "p.*"}]}"#,
            "audience[0]: unknown operator \"matches\", expected \"is\", \"is_not\", \"in\", \"contains\", \"at_least\", \"at_most\", \"older_than_days\", \"newer_than_days\" or \"exists\"",
        ),
        (
            r#"{"audience": [{"trait": "plan", "in": ["team"], "is": "pro"}]}"#,
            "audience[0]: one operator per condition, got a second: \"is\"",
        ),
        (
            r#"{"audience": [{"is": "pro"}]}"#,
            "\"audience[0].trait\" is required",
        ),
        (
            r#"{"audience": [{"trait": "plan"}]}"#,
            "audience[0]: needs an operator: \"is\", \"is_not\", \"in\", \"contains\", \"at_least\", \"at_most\", \"older_than_days\", \"newer_than_days\" or \"exists\"",
        ),
        (
            r#"{"audience": [{"trait": "seats", "at_least": "2"}]}"#,
            "\"audience[0].at_least\" must be a number, got \"2\"",
        ),
        (
            r#"{"audience": [{"trait": "plan", "in": ["pro", ["x"]]}]}"#,
            "\"audience[0].in\" must be a list of texts, numbers or true/false, got a list",
        ),
        (
            r#"{"audience": [{"trait": "d", "older_than_days": 1.5}]}"#,
            "\"audience[0].older_than_days\" must be a whole number of days from 0 to 36500, got 1.5",
        ),
        (
            r#"{"audience": [{"trait": "b", "exists": "yes"}]}"#,
            "\"audience[0].exists\" must be true or false, got \"yes\"",
        ),
        (
            r#"{"audience": {"trait": "plan"}}"#,
            "\"audience\" must be a list of conditions, got an object",
        ),
        (
            r#"{"trigger": "event", "events": ["a"], "event_count": 0}"#,
            "\"event_count\" must be a whole number from 1 to 1000, got 0",
        ),
        (r#"{"trigger": "event"}"#, "\"events\" is required"),
        (r#"{"trigger": "event", "events": []}"#, "\"events\" is required"),
        (
            r#"{"pages": ["/app/*", ""]}"#,
            "\"pages[1]\" must be text of 1 to 2000 characters, got \"\"",
        ),
        (
            r#"{"pages": "/app/*"}"#,
            "\"pages\" must be a list of texts, got \"/app/*\"",
        ),
        (
            r#"{"first_seen_days": -1}"#,
            "\"first_seen_days\" must be a whole number from 0 to 3650, got -1",
        ),
        (
            r#"{"wait_days_between_surveys": true}"#,
            "\"wait_days_between_surveys\" must be a whole number from 0 to 3650, got true",
        ),
    ];
    for (json, want) in table {
        let mut with_endpoint = String::from(r#"{"endpoint": "/x", "#);
        with_endpoint.push_str(&json[1..]);
        assert_eq!(error(&with_endpoint), want, "{json}");
    }
}

#[test]
fn a_definition_goes_over_the_page_but_for_the_page_only_keys() {
    let page = value(
        r#"{"endpoint": "/v1/responses", "survey_url": "/v1/surveys/nps/definition",
            "user": {"id": "u1"}, "strings": {"question": "Page's question"}, "debug": true,
            "survey_id": "page"}"#,
    );
    let definition = value(
        r#"{"strings": {"question": "What one thing would make it a 10?"},
            "endpoint": "https://elsewhere.example/", "debug": false, "trigger": "manual",
            "survey_id": "nope", "headers": {"X-Evil": "1"}}"#,
    );
    let merged = parse(&merge(page, definition, "nps"), Source::Object).unwrap();
    assert_eq!(merged.endpoint, "/v1/responses", "the page's endpoint");
    assert!(
        merged.debug && merged.headers.is_empty(),
        "page-only keys stay the page's"
    );
    assert_eq!(merged.user.id.as_deref(), Some("u1"));
    assert_eq!(merged.survey_id, "nps", "the survey's id");
    assert_eq!(merged.trigger, Trigger::Manual);
    assert_eq!(merged.strings[0].2, "What one thing would make it a 10?");
    assert_eq!(
        merged.survey_url.as_deref(),
        Some("/v1/surveys/nps/definition")
    );
    for key in PAGE_ONLY {
        assert!(KEYS.contains(&key), "{key} is a config key");
    }
}
