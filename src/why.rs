//! "Why not shown": the one console line per decision that `debug: true` (or `?nps_debug=1`)
//! asks for, naming the rule that held the card back, or the trigger that showed it. Written
//! from the parts, without `core::fmt`.

use alloc::string::String;

use crate::config::{push_all, Config, Operator, Trigger, TRIGGERS};
use crate::response::TraitValue;
use crate::rules::{push_date, trait_value};
use crate::targeting::{Memory, Skip, Wait};
use crate::text::{number_text, push_uint};

/// `nps-widget: not shown: <the rule>`, for the decision `skip` on the page at `path`.
pub fn not_shown(skip: &Skip, config: &Config, memory: &Memory, path: &str) -> String {
    let mut out = String::from("nps-widget: not shown: ");
    let o = &mut out;
    match *skip {
        Skip::AlreadyShownOnThisPage => o.push_str("a card was already shown on this page"),
        Skip::NotSampled => push_all(
            o,
            &["outside sample_rate ", &number_text(config.sample_rate)],
        ),
        Skip::Waiting { wait, at, until } => {
            let (rule, done) = match wait {
                Wait::Recontact => ("recontact: answered ", ", asks again after "),
                Wait::Cooldown => ("dismiss_cooldown_days: closed ", ", asks again after "),
                Wait::OtherSurvey => (
                    "wait_days_between_surveys: asked by another survey ",
                    ", asks again after ",
                ),
                Wait::FirstSeen => ("first_seen_days: first seen ", ", asks after "),
            };
            o.push_str(rule);
            push_date(o, at);
            o.push_str(done);
            push_date(o, until);
        }
        Skip::Page(rule) => {
            push_all(o, &["page ", path]);
            match rule.and_then(|i| config.pages.get(i)) {
                Some(pattern) => push_all(o, &[" is excluded by \"", pattern, "\""]),
                None => o.push_str(" matches none of pages"),
            }
        }
        Skip::Audience(i) => {
            if let Some(c) = config.audience.get(i) {
                push_all(o, &["audience: trait \"", &c.name, "\" is "]);
                match trait_value(&config.user.traits, &c.name) {
                    Some(v) => push_value(o, v),
                    None => o.push_str("missing"),
                }
                o.push_str(", needs ");
                push_test(o, c.operator, &c.values);
            }
        }
        Skip::Trigger => match config.trigger {
            Trigger::Event(n) => waiting(o, "event_count ", n, memory.events),
            Trigger::PageViews(n) => waiting(o, "page_views ", n, memory.page_views),
            trigger => push_all(o, &["waiting for trigger ", trigger_name(trigger)]),
        },
    }
    out
}

/// `nps-widget: shown: trigger event "report_exported"` (the event last tracked), `… trigger
/// load`, or `… forced` for `show({ force: true })`, `force` and previews.
pub fn shown(config: &Config, forced: bool, event: &str) -> String {
    let mut out = String::from("nps-widget: shown: ");
    if forced {
        out.push_str("forced");
    } else {
        push_all(&mut out, &["trigger ", trigger_name(config.trigger)]);
        if matches!(config.trigger, Trigger::Event(_)) {
            push_all(&mut out, &[" \"", event, "\""]);
        }
    }
    out
}

fn waiting(out: &mut String, rule: &str, needs: u32, seen: u32) {
    push_all(out, &["waiting for ", rule]);
    push_uint(out, u64::from(needs));
    out.push_str(" (seen ");
    push_uint(out, u64::from(seen));
    out.push(')');
}

/// The trigger's name, from the config's table of them.
fn trigger_name(trigger: Trigger) -> &'static str {
    let kind = core::mem::discriminant(&trigger);
    TRIGGERS
        .iter()
        .find(|(_, t)| core::mem::discriminant(t) == kind)
        .map_or("", |(name, _)| name)
}

fn push_value(out: &mut String, value: &TraitValue) {
    match value {
        TraitValue::Text(t) => push_all(out, &["\"", t, "\""]),
        TraitValue::Number(n) => out.push_str(&number_text(*n)),
        TraitValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
    }
}

fn push_test(out: &mut String, operator: Operator, values: &[TraitValue]) {
    let (before, after) = match operator {
        Operator::Is => ("", ""),
        Operator::IsNot => ("anything but ", ""),
        Operator::In => ("one of ", ""),
        Operator::Contains => ("text containing ", ""),
        Operator::AtLeast => ("at least ", ""),
        Operator::AtMost => ("at most ", ""),
        Operator::OlderThanDays => ("a date over ", " days ago"),
        Operator::NewerThanDays => ("a date within ", " days"),
        Operator::Exists => {
            let set = values.first() == Some(&TraitValue::Bool(true));
            out.push_str(if set { "it set" } else { "it absent" });
            return;
        }
    };
    out.push_str(before);
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_value(out, v);
    }
    out.push_str(after);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Condition;
    use crate::rules::{parse_date, DAY_MS};
    use alloc::{borrow::ToOwned, vec};

    fn config() -> Config {
        let mut c = Config::new("/x");
        c.trigger = Trigger::Event(2);
        c.events = vec!["report_exported".to_owned()];
        c.pages = vec!["/app/*".to_owned(), "!/app/billing*".to_owned()];
        let text = |s: &str| TraitValue::Text(s.to_owned());
        let cond = |name: &str, operator, values| Condition {
            name: name.to_owned(),
            operator,
            values,
        };
        let n = |x: f64| vec![TraitValue::Number(x)];
        c.audience = vec![
            cond("plan", Operator::In, vec![text("pro"), text("team")]),
            cond("seats", Operator::AtLeast, n(2.5)),
            cond("signed_up_at", Operator::OlderThanDays, n(30.0)),
            cond("beta", Operator::Exists, vec![TraitValue::Bool(true)]),
            cond("role", Operator::IsNot, vec![text("guest")]),
            cond("email", Operator::Contains, vec![text("@acme.")]),
        ];
        c.user.traits = vec![
            ("plan".to_owned(), text("free")),
            ("seats".to_owned(), TraitValue::Number(1.0)),
            ("signed_up_at".to_owned(), text("2026-11-20")),
        ];
        c
    }

    #[test]
    fn each_rule_says_what_held_the_card_back() {
        let c = config();
        let day = |d: &str| parse_date(d).unwrap();
        let m = Memory {
            events: 1,
            page_views: 4,
            ..Memory::default()
        };
        let table = [
            (
                Skip::Page(Some(1)),
                "page /app/billing/plan is excluded by \"!/app/billing*\"",
            ),
            (Skip::Page(None), "page /app/billing/plan matches none of pages"),
            (
                Skip::Audience(0),
                "audience: trait \"plan\" is \"free\", needs one of \"pro\", \"team\"",
            ),
            (
                Skip::Audience(1),
                "audience: trait \"seats\" is 1, needs at least 2.5",
            ),
            (
                Skip::Audience(2),
                "audience: trait \"signed_up_at\" is \"2026-11-20\", needs a date over 30 days ago",
            ),
            (
                Skip::Audience(3),
                "audience: trait \"beta\" is missing, needs it set",
            ),
            (
                Skip::Audience(4),
                "audience: trait \"role\" is missing, needs anything but \"guest\"",
            ),
            (
                Skip::Audience(5),
                "audience: trait \"email\" is missing, needs text containing \"@acme.\"",
            ),
            (Skip::Trigger, "waiting for event_count 2 (seen 1)"),
            (
                Skip::Waiting {
                    wait: Wait::Recontact,
                    at: day("2026-11-20T15:00:00Z"),
                    until: day("2026-11-20T15:00:00Z") + 90.0 * DAY_MS,
                },
                "recontact: answered 2026-11-20, asks again after 2027-02-18",
            ),
            (
                Skip::Waiting {
                    wait: Wait::Cooldown,
                    at: day("2026-11-20"),
                    until: day("2026-12-04"),
                },
                "dismiss_cooldown_days: closed 2026-11-20, asks again after 2026-12-04",
            ),
            (
                Skip::Waiting {
                    wait: Wait::OtherSurvey,
                    at: day("2026-11-28"),
                    until: day("2026-12-05"),
                },
                "wait_days_between_surveys: asked by another survey 2026-11-28, asks again after 2026-12-05",
            ),
            (
                Skip::Waiting {
                    wait: Wait::FirstSeen,
                    at: day("2026-11-30"),
                    until: day("2026-12-30"),
                },
                "first_seen_days: first seen 2026-11-30, asks after 2026-12-30",
            ),
            (Skip::NotSampled, "outside sample_rate 1"),
            (
                Skip::AlreadyShownOnThisPage,
                "a card was already shown on this page",
            ),
        ];
        for (skip, want) in table {
            assert_eq!(
                not_shown(&skip, &c, &m, "/app/billing/plan"),
                alloc::format!("nps-widget: not shown: {want}")
            );
        }
        let views = Config {
            trigger: Trigger::PageViews(3),
            ..config()
        };
        assert_eq!(
            not_shown(&Skip::Trigger, &views, &m, "/"),
            "nps-widget: not shown: waiting for page_views 3 (seen 4)"
        );
        let scroll = Config {
            trigger: Trigger::Scroll(0.5),
            ..config()
        };
        assert_eq!(
            not_shown(&Skip::Trigger, &scroll, &m, "/"),
            "nps-widget: not shown: waiting for trigger scroll"
        );
    }

    #[test]
    fn a_shown_card_names_its_trigger() {
        assert_eq!(
            shown(&config(), false, "report_exported"),
            "nps-widget: shown: trigger event \"report_exported\""
        );
        assert_eq!(
            shown(&Config::new("/x"), false, ""),
            "nps-widget: shown: trigger load"
        );
        assert_eq!(shown(&config(), true, ""), "nps-widget: shown: forced");
    }
}
