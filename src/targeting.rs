//! Who is asked and when: the trigger, sampling, the recontact and dismissal waits, and one
//! card per page. Pure: the browser layer passes in what it remembered, the time, the page's
//! scroll depth and a random number, and stores what comes back.
//!
//! What is remembered lives in localStorage per survey id and user id, as a short text
//! (`v=4;s=1;a=1700000000000;d=`), so a corrupt or foreign value simply reads as "nothing
//! remembered". What follows from it, "not asked before T" ([`quiet_until`]), is written with
//! it (`q=`), where the script-tag loader reads it before fetching anything (the quiet path).

use alloc::string::String;

use crate::config::Trigger;
use crate::text::push_uint;

const DAY_MS: f64 = 86_400_000.0;

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
}

/// Why the card is not shown now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Another card was already shown on this page.
    AlreadyShownOnThisPage,
    /// This person is outside the sample.
    NotSampled,
    /// They answered less than `recontact_days` ago.
    AnsweredRecently,
    /// They closed the card less than `dismiss_cooldown_days` ago.
    DismissedRecently,
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
) -> Result<(), Skip> {
    if shown_on_page {
        return Err(Skip::AlreadyShownOnThisPage);
    }
    if memory.sampled == Some(false) {
        return Err(Skip::NotSampled);
    }
    let within =
        |at: Option<f64>, days: u32| at.is_some_and(|t| now_ms - t < f64::from(days) * DAY_MS);
    if within(memory.answered_ms, rules.recontact_days) {
        return Err(Skip::AnsweredRecently);
    }
    if within(memory.dismissed_ms, rules.dismiss_cooldown_days) {
        return Err(Skip::DismissedRecently);
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
pub fn quiet_until(memory: &Memory, rules: &Rules, now_ms: f64) -> Option<f64> {
    let cap = now_ms + QUIET_MAX_MS;
    if memory.sampled == Some(false) {
        return Some(cap);
    }
    let wait = |at: Option<f64>, days: u32| at.map_or(0.0, |t| t + f64::from(days) * DAY_MS);
    let until = wait(memory.answered_ms, rules.recontact_days)
        .max(wait(memory.dismissed_ms, rules.dismiss_cooldown_days));
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

/// Whether `trigger` has fired, `views` pages into the visit, for `page` (the `delay_ms` wait
/// comes after this).
pub fn fired(trigger: Trigger, views: u32, page: &Page) -> bool {
    match trigger {
        Trigger::Load => true,
        Trigger::PageViews(n) => views >= n,
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
    let search = search.strip_prefix("?").unwrap_or(search);
    crate::text::parts(search, b'&').any(|p| p == "nps_preview=1" || p == "nps_preview=true")
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Rules = Rules {
        sample_rate: 1.0,
        recontact_days: 90,
        dismiss_cooldown_days: 14,
    };
    const NOW: f64 = 1_795_000_000_000.0;

    fn days_ago(d: f64) -> Option<f64> {
        Some(NOW - d * DAY_MS)
    }

    #[test]
    fn memory_round_trips_and_garbage_reads_as_nothing() {
        let m = Memory {
            page_views: 7,
            sampled: Some(true),
            answered_ms: Some(1_700_000_000_000.0),
            dismissed_ms: None,
            quiet_ms: Some(1_700_000_500_000.0),
        };
        assert_eq!(m.encode(), "v=7;s=1;a=1700000000000;d=;q=1700000500000");
        let m = Memory {
            quiet_ms: None,
            ..m
        };
        assert_eq!(m.encode(), "v=7;s=1;a=1700000000000;d=;q=");
        assert_eq!(Memory::decode(&m.encode()), m);
        assert_eq!(Memory::decode("<script>"), Memory::default());
        assert_eq!(
            Memory::decode("v=x;s=maybe;a=-5;d=12"),
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
        assert_eq!(may_show(&m, &half, NOW, false), Err(Skip::NotSampled));
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
    fn an_answer_waits_recontact_days_and_a_dismissal_the_cooldown() {
        let cases = [
            (
                Memory {
                    answered_ms: days_ago(89.9),
                    ..Memory::default()
                },
                Err(Skip::AnsweredRecently),
            ),
            (
                Memory {
                    answered_ms: days_ago(90.0),
                    ..Memory::default()
                },
                Ok(()),
            ),
            (
                Memory {
                    dismissed_ms: days_ago(13.9),
                    ..Memory::default()
                },
                Err(Skip::DismissedRecently),
            ),
            (
                Memory {
                    dismissed_ms: days_ago(14.0),
                    ..Memory::default()
                },
                Ok(()),
            ),
            (Memory::default(), Ok(())),
        ];
        for (memory, want) in cases {
            assert_eq!(may_show(&memory, &RULES, NOW, false), want, "{memory:?}");
        }
        let never_again = Rules {
            recontact_days: 0,
            ..RULES
        };
        assert_eq!(
            may_show(
                &Memory {
                    answered_ms: days_ago(0.0),
                    ..Memory::default()
                },
                &never_again,
                NOW,
                false
            ),
            Ok(()),
            "0 days: ask again at once"
        );
    }

    #[test]
    fn the_quiet_gate_holds_while_a_wait_runs_and_never_more_than_a_day() {
        let answered = |days| Memory {
            answered_ms: days_ago(days),
            ..Memory::default()
        };
        let cases = [
            (Memory::default(), None),
            (answered(90.0), None),
            (answered(89.5), Some(NOW + 0.5 * DAY_MS)),
            (answered(10.0), Some(NOW + DAY_MS)),
            (
                Memory {
                    dismissed_ms: days_ago(13.75),
                    ..Memory::default()
                },
                Some(NOW + 0.25 * DAY_MS),
            ),
            (
                Memory {
                    answered_ms: days_ago(89.9),
                    dismissed_ms: days_ago(13.5),
                    ..Memory::default()
                },
                Some(NOW + 0.5 * DAY_MS),
            ),
            (
                Memory {
                    sampled: Some(false),
                    ..Memory::default()
                },
                Some(NOW + DAY_MS),
            ),
        ];
        for (memory, want) in cases {
            assert_eq!(quiet_until(&memory, &RULES, NOW), want, "{memory:?}");
            // The gate holds exactly when the widget would not ask.
            assert_eq!(
                may_show(&memory, &RULES, NOW, false).is_err(),
                want.is_some(),
                "{memory:?}"
            );
            assert!(want.is_none_or(|until| until <= NOW + QUIET_MAX_MS));
        }
        let ask_again_at_once = Rules {
            recontact_days: 0,
            ..RULES
        };
        assert_eq!(quiet_until(&answered(0.0), &ask_again_at_once, NOW), None);
    }

    #[test]
    fn one_card_per_page() {
        assert_eq!(
            may_show(&Memory::default(), &RULES, NOW, true),
            Err(Skip::AlreadyShownOnThisPage)
        );
    }

    #[test]
    fn triggers_fire_on_their_condition() {
        let page = |views, scrolled, leaving| (views, Page { scrolled, leaving });
        let table = [
            (Trigger::Load, page(1, 0.0, false), true),
            (Trigger::PageViews(3), page(2, 1.0, true), false),
            (Trigger::PageViews(3), page(3, 0.0, false), true),
            (Trigger::Scroll(0.5), page(1, 0.49, false), false),
            (Trigger::Scroll(0.5), page(1, 0.5, false), true),
            (Trigger::ExitIntent, page(9, 1.0, false), false),
            (Trigger::ExitIntent, page(1, 0.0, true), true),
            (Trigger::Manual, page(99, 1.0, true), false),
        ];
        for (trigger, (views, p), want) in table {
            assert_eq!(fired(trigger, views, &p), want, "{trigger:?} {views} {p:?}");
        }
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
    fn previews_are_asked_for_in_the_query() {
        assert!(is_preview("?nps_preview=1"));
        assert!(is_preview("?a=b&nps_preview=true"));
        assert!(!is_preview("?nps_preview=0"));
        assert!(!is_preview(""));
    }
}
