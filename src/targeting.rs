//! Who is asked and when: the trigger, sampling, the recontact and dismissal waits, and one
//! card per page. Pure: the browser layer passes in what it remembered, the time, the page's
//! scroll depth and a random number, and stores what comes back.
//!
//! What is remembered lives in localStorage per survey id and user id, as a short text
//! (`v=4;s=1;a=1700000000000;d=`), so a corrupt or foreign value simply reads as "nothing
//! remembered". What follows from it, "not asked before T" ([`quiet_until`]), is written with
//! it (`q=`), where the script-tag loader reads it before fetching anything (the quiet path).

use alloc::string::String;

use crate::config::{Config, Trigger};
use crate::rules::{audience_fails, page_allowed, DAY_MS};
use crate::text::push_uint;

/// What the widget remembers about one person and one survey.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Memory {
    /// Views of the site so far (page loads and in-app route changes).
    pub page_views: u32,
    /// Whether this person is in the sample; decided once, then kept.
    pub sampled: Option<bool>,
    /// When they last answered (ms since the epoch).
    pub answered_ms: Option<f64>,
    /// When they last closed the card without answering.
    pub dismissed_ms: Option<f64>,
    /// Until when they will not be asked ([`quiet_until`]), for the script-tag loader, which
    /// reads it here before fetching anything (`js/gate.js`); written, never read back.
    pub quiet_ms: Option<f64>,
    /// How many times the survey's `events` have been tracked since it last showed.
    pub events: u32,
    /// When this browser first knew this person (for `first_seen_days`).
    pub first_seen_ms: Option<f64>,
}

impl Memory {
    /// The stored text.
    pub fn encode(&self) -> String {
        let mut out = String::from("v=");
        push_uint(&mut out, u64::from(self.page_views));
        out.push_str(";s=");
        out.push_str(match self.sampled {
            Some(true) => "1",
            Some(false) => "0",
            None => "",
        });
        for (key, value) in [
            (";a=", self.answered_ms),
            (";d=", self.dismissed_ms),
            (";q=", self.quiet_ms),
            (";e=", Some(f64::from(self.events))),
            (";f=", self.first_seen_ms),
        ] {
            out.push_str(key);
            if let Some(ms) = value {
                push_uint(&mut out, ms.max(0.0) as u64);
            }
        }
        out
    }

    /// Reads the stored text; anything unreadable is forgotten, field by field.
    pub fn decode(text: &str) -> Memory {
        let mut m = Memory::default();
        for part in crate::text::parts(text, b';') {
            let Some((key, value)) = crate::text::cut(part, b'=') else {
                continue;
            };
            let number = || crate::text::parse_uint(value);
            match key {
                "v" => m.page_views = number().map_or(0, |n| n.min(u64::from(u32::MAX)) as u32),
                "s" => {
                    m.sampled = match value {
                        "1" => Some(true),
                        "0" => Some(false),
                        _ => None,
                    }
                }
                "a" => m.answered_ms = number().map(|n| n as f64),
                "d" => m.dismissed_ms = number().map(|n| n as f64),
                "e" => m.events = number().map_or(0, |n| n.min(u64::from(u32::MAX)) as u32),
                "f" => m.first_seen_ms = number().map(|n| n as f64),
                _ => {}
            }
        }
        m
    }
}

/// The throttling rules of one survey.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    /// Share of people ever asked, 0–1.
    pub sample_rate: f64,
    /// Days after an answer before asking again.
    pub recontact_days: u32,
    /// Days after a dismissal before asking again.
    pub dismiss_cooldown_days: u32,
    /// Days this browser must have known the person first.
    pub first_seen_days: u32,
    /// Days after another survey of the site asked.
    pub wait_days_between_surveys: u32,
}

impl Rules {
    /// The rules a config sets.
    pub fn of(config: &Config) -> Rules {
        Rules {
            sample_rate: config.sample_rate,
            recontact_days: config.recontact_days,
            dismiss_cooldown_days: config.dismiss_cooldown_days,
            first_seen_days: config.first_seen_days,
            wait_days_between_surveys: config.wait_days_between_surveys,
        }
    }
}

/// The waits that follow a moment: after an answer, a dismissal, another survey's card, and
/// the first time this browser knew the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// `recontact_days` after an answer.
    Recontact,
    /// `dismiss_cooldown_days` after the card was closed.
    Cooldown,
    /// `wait_days_between_surveys` after another survey of the site asked.
    OtherSurvey,
    /// `first_seen_days` after this browser first knew the person.
    FirstSeen,
}

/// Why the card is not shown now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Skip {
    /// Another card was already shown on this page.
    AlreadyShownOnThisPage,
    /// This person is outside the sample.
    NotSampled,
    /// A wait runs: it started `at` and ends `until` (ms since the epoch).
    Waiting {
        /// Which.
        wait: Wait,
        /// When it started.
        at: f64,
        /// When it ends.
        until: f64,
    },
    /// `pages` rules this page out: excluded by `pages[i]`, or (none) no plain pattern matches.
    Page(Option<usize>),
    /// The person fails `audience[i]`.
    Audience(usize),
    /// The trigger has not fired yet.
    Trigger,
}

/// What the widget knows of this moment, beside its config and memory.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// Now, in ms since the epoch.
    pub now_ms: f64,
    /// Whether a card was already shown on this page.
    pub shown_on_page: bool,
    /// When another survey of this site last asked this person.
    pub other_asked_ms: Option<f64>,
    /// `location.pathname`.
    pub path: &'a str,
    /// Origin and path.
    pub address: &'a str,
    /// Scroll depth and exit intent.
    pub page: Page,
}

/// Whether the card may show now, every rule of `config` taken in turn (the trigger too, when
/// `trigger`); the first that holds it back is the answer.
pub fn decide(config: &Config, memory: &Memory, facts: &Facts, trigger: bool) -> Result<(), Skip> {
    may_show(
        memory,
        &Rules::of(config),
        facts.now_ms,
        facts.shown_on_page,
        facts.other_asked_ms,
    )?;
    page_allowed(&config.pages, facts.path, facts.address).map_err(Skip::Page)?;
    if let Some(i) = audience_fails(&config.audience, &config.user.traits, facts.now_ms) {
        return Err(Skip::Audience(i));
    }
    if trigger && !fired(config.trigger, memory, &facts.page) {
        return Err(Skip::Trigger);
    }
    Ok(())
}

/// The waits of a person: which, since when, how many days.
fn waits(
    memory: &Memory,
    rules: &Rules,
    other_asked_ms: Option<f64>,
) -> [(Wait, Option<f64>, u32); 4] {
    [
        (Wait::Recontact, memory.answered_ms, rules.recontact_days),
        (
            Wait::Cooldown,
            memory.dismissed_ms,
            rules.dismiss_cooldown_days,
        ),
        (
            Wait::OtherSurvey,
            other_asked_ms,
            rules.wait_days_between_surveys,
        ),
        (Wait::FirstSeen, memory.first_seen_ms, rules.first_seen_days),
    ]
}

/// The site's record of the last survey that asked a person (any survey id), kept in
/// localStorage beside each survey's memory: `<ms since the epoch>;<survey id>`.
pub fn asked_record(now_ms: f64, survey_id: &str) -> String {
    let mut out = String::new();
    push_uint(&mut out, now_ms.max(0.0) as u64);
    out.push(';');
    out.push_str(survey_id);
    out
}

/// When another survey than `survey_id` last asked, from [`asked_record`]'s text.
pub fn other_asked(record: &str, survey_id: &str) -> Option<f64> {
    let (at, survey) = crate::text::cut(record, b';')?;
    (survey != survey_id)
        .then(|| crate::text::parse_uint(at))
        .flatten()
        .map(|ms| ms as f64)
}

/// Decides sampling once: the first time, `random` (uniform in [0, 1)) puts this person in or
/// out, and the answer is kept.
pub fn sample(memory: &mut Memory, rules: &Rules, random: f64) -> bool {
    *memory
        .sampled
        .get_or_insert(random < rules.sample_rate.clamp(0.0, 1.0))
}

/// Whether the card may be shown now by its trigger (a `show({ force: true })` or a preview
/// skips this).
pub fn may_show(
    memory: &Memory,
    rules: &Rules,
    now_ms: f64,
    shown_on_page: bool,
    other_asked_ms: Option<f64>,
) -> Result<(), Skip> {
    if shown_on_page {
        return Err(Skip::AlreadyShownOnThisPage);
    }
    if memory.sampled == Some(false) {
        return Err(Skip::NotSampled);
    }
    for (wait, at, days) in waits(memory, rules, other_asked_ms) {
        if let Some(at) = at {
            let until = at + f64::from(days) * DAY_MS;
            if now_ms < until {
                return Err(Skip::Waiting { wait, at, until });
            }
        }
    }
    Ok(())
}

/// The furthest ahead a quiet gate reaches: a change of rules (a new survey, a higher sample
/// rate) reaches everyone within a day.
pub const QUIET_MAX_MS: f64 = DAY_MS;

/// Until when this person will not be asked (ms since the epoch, at most [`QUIET_MAX_MS`]
/// ahead of `now_ms`): outside the sample, or within the wait after an answer or a dismissal;
/// none when they may be asked now. This is what the loader's gate holds, so a page view in
/// that time loads nothing but the loader.
pub fn quiet_until(
    memory: &Memory,
    rules: &Rules,
    now_ms: f64,
    other_asked_ms: Option<f64>,
) -> Option<f64> {
    let cap = now_ms + QUIET_MAX_MS;
    if memory.sampled == Some(false) {
        return Some(cap);
    }
    let mut until = 0.0_f64;
    for (_, at, days) in waits(memory, rules, other_asked_ms) {
        if let Some(at) = at {
            until = until.max(at + f64::from(days) * DAY_MS);
        }
    }
    (until > now_ms).then_some(until.min(cap))
}

/// What the page is doing, as far as triggers care (the views of the site are in [`Memory`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Page {
    /// How far down the page has been scrolled, 0–1 (1 when it does not scroll).
    pub scrolled: f64,
    /// The pointer left toward the top (desktop) or a fast scroll up (touch).
    pub leaving: bool,
}

/// Whether `trigger` has fired, with what `memory` counted (page views, events) and for
/// `page` (the `delay_ms` wait comes after this).
pub fn fired(trigger: Trigger, memory: &Memory, page: &Page) -> bool {
    match trigger {
        Trigger::Load => true,
        Trigger::PageViews(n) => memory.page_views >= n,
        Trigger::Event(n) => memory.events >= n,
        Trigger::Scroll(depth) => page.scrolled >= depth,
        Trigger::ExitIntent => page.leaving,
        Trigger::Manual => false,
    }
}

/// Scroll depth from the page's metrics: the share of the page that has been on screen.
pub fn scroll_depth(scroll_top: f64, viewport: f64, height: f64) -> f64 {
    if height <= viewport || height <= 0.0 {
        return 1.0;
    }
    ((scroll_top + viewport) / height).clamp(0.0, 1.0)
}

/// Whether a `?nps_preview=1` (or `&nps_preview=1`) query asks to skip targeting.
pub fn is_preview(search: &str) -> bool {
    asks(search, "nps_preview")
}

/// Whether a `?nps_debug=1` query asks for the console's explanations.
pub fn is_debug(search: &str) -> bool {
    asks(search, "nps_debug")
}

/// Whether the query sets `name` to `1` or `true`.
fn asks(search: &str, name: &str) -> bool {
    let search = search.strip_prefix("?").unwrap_or(search);
    crate::text::parts(search, b'&').any(|p| {
        crate::text::cut(p, b'=').is_some_and(|(k, v)| k == name && (v == "1" || v == "true"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Condition, Operator};
    use crate::response::TraitValue;
    use alloc::{borrow::ToOwned, vec};

    const RULES: Rules = Rules {
        sample_rate: 1.0,
        recontact_days: 90,
        dismiss_cooldown_days: 14,
        first_seen_days: 0,
        wait_days_between_surveys: 7,
    };
    const NOW: f64 = 1_795_000_000_000.0;

    fn days_ago(d: f64) -> Option<f64> {
        Some(NOW - d * DAY_MS)
    }

    fn waiting(wait: Wait, days_ago: f64, days: f64) -> Result<(), Skip> {
        let at = NOW - days_ago * DAY_MS;
        Err(Skip::Waiting {
            wait,
            at,
            until: at + days * DAY_MS,
        })
    }

    #[test]
    fn memory_round_trips_and_garbage_reads_as_nothing() {
        let m = Memory {
            page_views: 7,
            sampled: Some(true),
            answered_ms: Some(1_700_000_000_000.0),
            dismissed_ms: None,
            quiet_ms: Some(1_700_000_500_000.0),
            events: 2,
            first_seen_ms: Some(1_600_000_000_000.0),
        };
        assert_eq!(
            m.encode(),
            "v=7;s=1;a=1700000000000;d=;q=1700000500000;e=2;f=1600000000000"
        );
        let m = Memory {
            quiet_ms: None,
            ..m
        };
        assert_eq!(
            m.encode(),
            "v=7;s=1;a=1700000000000;d=;q=;e=2;f=1600000000000"
        );
        assert_eq!(Memory::decode(&m.encode()), m);
        // What an earlier version wrote still reads.
        assert_eq!(
            Memory::decode("v=3;s=1;a=;d=5"),
            Memory {
                page_views: 3,
                sampled: Some(true),
                dismissed_ms: Some(5.0),
                ..Memory::default()
            }
        );
        assert_eq!(Memory::decode("<script>"), Memory::default());
        assert_eq!(
            Memory::decode("v=x;s=maybe;a=-5;d=12;e=many"),
            Memory {
                dismissed_ms: Some(12.0),
                ..Memory::default()
            }
        );
    }

    #[test]
    fn sampling_is_decided_once_and_kept() {
        let half = Rules {
            sample_rate: 0.5,
            ..RULES
        };
        let mut m = Memory::default();
        assert!(!sample(&mut m, &half, 0.7));
        assert!(
            !sample(&mut m, &half, 0.1),
            "a later roll does not change it"
        );
        assert_eq!(may_show(&m, &half, NOW, false, None), Err(Skip::NotSampled));
        let mut m = Memory::default();
        assert!(sample(&mut m, &half, 0.49));
        assert!(!sample(
            &mut Memory::default(),
            &Rules {
                sample_rate: 0.0,
                ..RULES
            },
            0.0
        ));
        assert!(sample(&mut Memory::default(), &RULES, 0.999_999));
    }

    #[test]
    fn each_wait_holds_its_days_and_names_itself() {
        let first_30 = Rules {
            first_seen_days: 30,
            ..RULES
        };
        let cases = [
            (
                Memory {
                    answered_ms: days_ago(89.9),
                    ..Memory::default()
                },
                RULES,
                None,
                waiting(Wait::Recontact, 89.9, 90.0),
            ),
            (
                Memory {
                    answered_ms: days_ago(90.0),
                    ..Memory::default()
                },
                RULES,
                None,
                Ok(()),
            ),
            (
                Memory {
                    dismissed_ms: days_ago(13.9),
                    ..Memory::default()
                },
                RULES,
                None,
                waiting(Wait::Cooldown, 13.9, 14.0),
            ),
            (
                Memory {
                    dismissed_ms: days_ago(14.0),
                    ..Memory::default()
                },
                RULES,
                None,
                Ok(()),
            ),
            (
                Memory::default(),
                RULES,
                days_ago(6.5),
                waiting(Wait::OtherSurvey, 6.5, 7.0),
            ),
            (Memory::default(), RULES, days_ago(7.0), Ok(())),
            (
                Memory {
                    first_seen_ms: days_ago(29.0),
                    ..Memory::default()
                },
                first_30,
                None,
                waiting(Wait::FirstSeen, 29.0, 30.0),
            ),
            (
                Memory {
                    first_seen_ms: days_ago(30.0),
                    ..Memory::default()
                },
                first_30,
                None,
                Ok(()),
            ),
            (
                Memory {
                    first_seen_ms: days_ago(0.0),
                    ..Memory::default()
                },
                RULES,
                None,
                Ok(()),
            ),
            (Memory::default(), RULES, None, Ok(())),
        ];
        for (memory, rules, other, want) in cases {
            assert_eq!(
                may_show(&memory, &rules, NOW, false, other),
                want,
                "{memory:?} {other:?}"
            );
        }
        let never_again = Rules {
            recontact_days: 0,
            ..RULES
        };
        let just_answered = Memory {
            answered_ms: days_ago(0.0),
            ..Memory::default()
        };
        assert_eq!(
            may_show(&just_answered, &never_again, NOW, false, None),
            Ok(()),
            "0 days: ask again at once"
        );
    }

    #[test]
    fn the_site_record_names_the_survey_that_asked() {
        let record = asked_record(NOW, "onboarding");
        assert_eq!(record, "1795000000000;onboarding");
        assert_eq!(other_asked(&record, "quarterly"), Some(NOW));
        assert_eq!(other_asked(&record, "onboarding"), None, "its own survey");
        assert_eq!(other_asked("garbage", "quarterly"), None);
        assert_eq!(other_asked("x;y", "quarterly"), None);
        assert_eq!(
            other_asked(&asked_record(NOW, "a;b"), "a"),
            Some(NOW),
            "ids with the separator"
        );
    }

    #[test]
    fn the_quiet_gate_holds_while_a_wait_runs_and_never_more_than_a_day() {
        let answered = |days| Memory {
            answered_ms: days_ago(days),
            ..Memory::default()
        };
        let cases = [
            (Memory::default(), None, None),
            (answered(90.0), None, None),
            (answered(89.5), None, Some(NOW + 0.5 * DAY_MS)),
            (answered(10.0), None, Some(NOW + DAY_MS)),
            (
                Memory {
                    dismissed_ms: days_ago(13.75),
                    ..Memory::default()
                },
                None,
                Some(NOW + 0.25 * DAY_MS),
            ),
            (
                Memory {
                    answered_ms: days_ago(89.9),
                    dismissed_ms: days_ago(13.5),
                    ..Memory::default()
                },
                None,
                Some(NOW + 0.5 * DAY_MS),
            ),
            (
                Memory {
                    sampled: Some(false),
                    ..Memory::default()
                },
                None,
                Some(NOW + DAY_MS),
            ),
            (Memory::default(), days_ago(6.75), Some(NOW + 0.25 * DAY_MS)),
            (Memory::default(), days_ago(7.0), None),
        ];
        for (memory, other, want) in cases {
            assert_eq!(quiet_until(&memory, &RULES, NOW, other), want, "{memory:?}");
            // The gate holds exactly when the widget would not ask.
            assert_eq!(
                may_show(&memory, &RULES, NOW, false, other).is_err(),
                want.is_some(),
                "{memory:?}"
            );
            assert!(want.is_none_or(|until| until <= NOW + QUIET_MAX_MS));
        }
        let ask_again_at_once = Rules {
            recontact_days: 0,
            ..RULES
        };
        assert_eq!(
            quiet_until(&answered(0.0), &ask_again_at_once, NOW, None),
            None
        );
    }

    #[test]
    fn one_card_per_page() {
        assert_eq!(
            may_show(&Memory::default(), &RULES, NOW, true, None),
            Err(Skip::AlreadyShownOnThisPage)
        );
    }

    #[test]
    fn triggers_fire_on_their_condition() {
        let at = |views, events| Memory {
            page_views: views,
            events,
            ..Memory::default()
        };
        let page = |scrolled, leaving| Page { scrolled, leaving };
        let table = [
            (Trigger::Load, at(1, 0), page(0.0, false), true),
            (Trigger::PageViews(3), at(2, 9), page(1.0, true), false),
            (Trigger::PageViews(3), at(3, 0), page(0.0, false), true),
            (Trigger::Scroll(0.5), at(1, 0), page(0.49, false), false),
            (Trigger::Scroll(0.5), at(1, 0), page(0.5, false), true),
            (Trigger::ExitIntent, at(9, 0), page(1.0, false), false),
            (Trigger::ExitIntent, at(1, 0), page(0.0, true), true),
            (Trigger::Manual, at(99, 99), page(1.0, true), false),
            (Trigger::Event(2), at(99, 1), page(1.0, true), false),
            (Trigger::Event(2), at(1, 2), page(0.0, false), true),
        ];
        for (trigger, memory, p, want) in table {
            assert_eq!(
                fired(trigger, &memory, &p),
                want,
                "{trigger:?} {memory:?} {p:?}"
            );
        }
    }

    /// The issue's own example: Pro users who signed up over 30 days ago, on the app's pages
    /// but not billing, after their second export.
    fn in_app() -> Config {
        let mut c = Config::new("/v1/responses");
        c.trigger = Trigger::Event(2);
        c.events = vec!["report_exported".to_owned()];
        c.pages = vec!["/app/*".to_owned(), "!/app/billing*".to_owned()];
        c.audience = vec![
            Condition {
                name: "plan".to_owned(),
                operator: Operator::In,
                values: vec![
                    TraitValue::Text("pro".to_owned()),
                    TraitValue::Text("team".to_owned()),
                ],
            },
            Condition {
                name: "signed_up_at".to_owned(),
                operator: Operator::OlderThanDays,
                values: vec![TraitValue::Number(30.0)],
            },
        ];
        c.user.traits = vec![
            ("plan".to_owned(), TraitValue::Text("pro".to_owned())),
            (
                "signed_up_at".to_owned(),
                TraitValue::Number(NOW - 40.0 * DAY_MS),
            ),
        ];
        c
    }

    fn facts(path: &str) -> Facts<'_> {
        Facts {
            now_ms: NOW,
            shown_on_page: false,
            other_asked_ms: None,
            path,
            address: "",
            page: Page::default(),
        }
    }

    #[test]
    fn every_rule_is_taken_in_turn() {
        let config = in_app();
        let after = |events| Memory {
            events,
            ..Memory::default()
        };
        let decide_at = |config: &Config, memory: &Memory, path: &str| {
            decide(config, memory, &facts(path), true)
        };
        assert_eq!(decide_at(&config, &after(2), "/app/reports"), Ok(()));
        assert_eq!(
            decide_at(&config, &after(1), "/app/reports"),
            Err(Skip::Trigger)
        );
        assert_eq!(
            decide(&config, &after(1), &facts("/app/reports"), false),
            Ok(()),
            "show() does not wait for the trigger"
        );
        assert_eq!(
            decide_at(&config, &after(2), "/app/billing/plan"),
            Err(Skip::Page(Some(1)))
        );
        let mut free = in_app();
        free.user.traits[0].1 = TraitValue::Text("free".to_owned());
        assert_eq!(
            decide_at(&free, &after(2), "/app/reports"),
            Err(Skip::Audience(0))
        );
        let mut new = in_app();
        new.user.traits[1].1 = TraitValue::Number(NOW - 10.0 * DAY_MS);
        assert_eq!(
            decide_at(&new, &after(2), "/app/reports"),
            Err(Skip::Audience(1))
        );
        // The waits come before the page: a person who answered is not asked anywhere.
        let answered = Memory {
            answered_ms: days_ago(1.0),
            ..after(2)
        };
        assert_eq!(
            decide_at(&config, &answered, "/pricing"),
            waiting(Wait::Recontact, 1.0, 90.0)
        );
    }

    #[test]
    fn scroll_depth_counts_what_has_been_on_screen() {
        assert_eq!(
            scroll_depth(0.0, 800.0, 800.0),
            1.0,
            "a page that does not scroll"
        );
        assert_eq!(scroll_depth(0.0, 500.0, 2000.0), 0.25);
        assert_eq!(scroll_depth(1500.0, 500.0, 2000.0), 1.0);
        assert_eq!(scroll_depth(-20.0, 500.0, 1000.0), 0.48);
    }

    #[test]
    fn previews_and_debug_are_asked_for_in_the_query() {
        assert!(is_preview("?nps_preview=1"));
        assert!(is_preview("?a=b&nps_preview=true"));
        assert!(!is_preview("?nps_preview=0"));
        assert!(!is_preview("?x_nps_preview=1"));
        assert!(!is_preview(""));
        assert!(is_debug("?nps_debug=1"));
        assert!(is_debug("?q=1&nps_debug=true"));
        assert!(!is_debug("?nps_preview=1"));
    }
}
