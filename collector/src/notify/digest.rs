//! The digest (`--digest daily|weekly`, or `POST /v1/digest`): the period's NPS with its
//! margin and change, the response rate, the passives' top themes, the open follow-ups and the
//! accounts that fell silent, computed by the database and posted to the team's chats. Each
//! period is claimed by its key before it is sent, so one collector sends it.

use std::time::Duration;

use serde::Serialize;
use time::{Duration as Span, OffsetDateTime, Time};

use super::chat::Chat;

/// Comments read for the digest's passive themes.
const THEME_COMMENTS: i64 = 5_000;

use crate::model::{Bound, Choice, Filter};
use crate::reach::chat;
use crate::store::{Store, StoreError};
use crate::{clock::now_ms, stats, themes};

/// How often the digest goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    /// Each day after midnight UTC, about the day before.
    Day,
    /// Each Monday after midnight UTC, about the week before.
    Week,
}

impl Choice for Every {
    const NAME: &'static str = "--digest";
    const ALL: &'static [(&'static str, Every)] = &[("daily", Every::Day), ("weekly", Every::Week)];
}

impl Every {
    /// `daily` or `weekly`.
    fn name(self) -> &'static str {
        Every::ALL
            .iter()
            .find(|(_, e)| *e == self)
            .map_or("weekly", |(n, _)| *n)
    }

    fn span(self) -> Span {
        match self {
            Every::Day => Span::days(1),
            Every::Week => Span::days(7),
        }
    }

    /// The start of the period `at` falls in (midnight UTC; a week starts on Monday).
    fn start_of(self, at: OffsetDateTime) -> OffsetDateTime {
        let day = at.replace_time(Time::MIDNIGHT);
        match self {
            Every::Day => day,
            Every::Week => day - Span::days(i64::from(at.weekday().number_days_from_monday())),
        }
    }
}

/// The digest: what the team looks at on Monday morning.
#[derive(Debug, Clone, Serialize)]
pub struct Digest {
    /// The chat text.
    pub text: String,
    /// The period's NPS, if anyone answered.
    pub nps: Option<f64>,
    /// Its margin of error.
    pub margin_of_error: Option<f64>,
    /// Answers in the period.
    pub answers: u64,
    /// Whether the change against the period before is beyond chance.
    pub significant: bool,
    /// Open follow-ups of the period.
    pub open_follow_ups: u64,
    /// Accounts silent this period that were not the period before.
    pub new_silent_accounts: Vec<String>,
}

/// The digest of the period `[end - span, end)` against the one before it.
pub async fn digest(
    store: &Store,
    every: Every,
    end: OffsetDateTime,
    public_url: &str,
) -> Result<Digest, StoreError> {
    let start = end - every.span();
    let before = start - every.span();
    let range = |from: OffsetDateTime, to: OffsetDateTime| Filter {
        from: Some(Bound::Instant(from)),
        to: Some(Bound::Instant(to)),
        limit: 1000,
        ..Filter::default()
    };
    let this = range(start, end);
    let last = range(before, start);
    let now = store.tally(&this).await?;
    let then = store.tally(&last).await?;
    let comparison = stats::compare(&then, &now);
    let passives = Filter {
        segment: Some(nps_widget::segment::Segment::Passive),
        ..this.clone()
    };
    let comments = store.comments(&passives, THEME_COMMENTS).await?;
    let found = themes::themes(&comments, 3, now.answers());
    let open = store.open_follow_ups(&this).await?;
    let silent = crate::model::AccountQuery {
        segment: Some(nps_widget::segment::Segment::Silent),
        ..Default::default()
    };
    let silent_now = store.account_counts(&this, 0, &silent).await?;
    let silent_then: std::collections::HashSet<String> = store
        .account_counts(&last, 0, &silent)
        .await?
        .into_iter()
        .map(|a| a.account_id)
        .collect();
    let new_silent: Vec<String> = silent_now
        .into_iter()
        .map(|a| a.account_id)
        .filter(|a| !silent_then.contains(a))
        .collect();

    let day = |at: OffsetDateTime| crate::clock::day(at.date());
    let mut text = format!(
        "*{} NPS digest* ({} to {})\n",
        match every {
            Every::Day => "Daily",
            Every::Week => "Weekly",
        },
        day(start),
        day(end - Span::seconds(1)),
    );
    match (now.nps(), stats::margin_of_error(&now)) {
        (Some(nps), Some(margin)) => text.push_str(&format!(
            "NPS {:+.1} ± {:.1} from {} answers ({} promoters, {} passives, {} detractors)\n",
            nps,
            margin,
            now.answers(),
            now.promoters,
            now.passives,
            now.detractors
        )),
        _ => text.push_str("No answers this period.\n"),
    }
    let period = match every {
        Every::Day => "the day before",
        Every::Week => "the week before",
    };
    match comparison.difference {
        Some(d) if comparison.significant => text.push_str(&format!(
            "Against {period}: {d:+.1} points, a real change (beyond chance at 95 %)\n"
        )),
        Some(d) => text.push_str(&format!(
            "Against {period}: {d:+.1} points, within chance\n"
        )),
        None => text.push_str(&format!("Against {period}: nothing to compare with\n")),
    }
    match stats::response_rate(&now) {
        Some(rate) => text.push_str(&format!(
            "Response rate: {:.0} % ({} of {} asked)\n",
            rate * 100.0,
            now.answers(),
            now.answers() + now.silents
        )),
        None => text.push_str("Response rate: nobody was asked\n"),
    }
    if found.themes.is_empty() {
        text.push_str("Top passive themes: none yet\n");
    } else {
        let list: Vec<String> = found
            .themes
            .iter()
            .map(|t| format!("\u{201c}{}\u{201d} ({})", chat(&t.theme), t.count))
            .collect();
        text.push_str(&format!("Top passive themes: {}\n", list.join(", ")));
    }
    text.push_str(&format!("Open follow-ups: {open}\n"));
    let shown: Vec<String> = new_silent.iter().take(5).map(|a| chat(a)).collect();
    text.push_str(&format!(
        "New silent accounts: {}{}{}\n",
        new_silent.len(),
        if shown.is_empty() { "" } else { " (" },
        if shown.is_empty() {
            String::new()
        } else {
            format!(
                "{}{})",
                shown.join(", "),
                if new_silent.len() > shown.len() {
                    ", …"
                } else {
                    ""
                }
            )
        }
    ));
    text.push_str(&format!(
        "<{}/dashboard|Open the dashboard>",
        public_url.trim_end_matches('/')
    ));
    Ok(Digest {
        text,
        nps: comparison.b.nps,
        margin_of_error: comparison.b.margin_of_error,
        answers: now.answers(),
        significant: comparison.significant,
        open_follow_ups: open,
        new_silent_accounts: new_silent,
    })
}

/// Sends the digest of each period as it ends, until `stop`. The first period a database
/// sees is only marked: a collector started on Thursday does not send a digest of a week it
/// was not told to watch.
pub async fn run_digests(
    store: Store,
    chat: Chat,
    every: Every,
    public_url: String,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    while !*stop.borrow() {
        if let Err(e) = digest_due(&store, &chat, every, &public_url).await {
            tracing::warn!(error = %e, "sending the digest");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
            _ = stop.changed() => {}
        }
    }
}

async fn digest_due(
    store: &Store,
    chat: &Chat,
    every: Every,
    public_url: &str,
) -> Result<(), StoreError> {
    let end = every.start_of(OffsetDateTime::now_utc());
    let key = format!("{}:{}", every.name(), crate::clock::day(end.date()));
    if store
        .claim_digest(&format!("{}:first", every.name()), now_ms())
        .await?
    {
        store.claim_digest(&key, now_ms()).await?;
        return Ok(());
    }
    if !store.claim_digest(&key, now_ms()).await? {
        return Ok(());
    }
    let d = digest(store, every, end, public_url).await?;
    if chat.post_all(&d.text).await == 0 {
        store.unclaim_digest(&key).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn periods_start_at_midnight_and_weeks_on_monday() {
        let thursday = datetime!(2026-12-03 15:20 UTC);
        assert_eq!(
            Every::Day.start_of(thursday),
            datetime!(2026-12-03 0:00 UTC)
        );
        assert_eq!(
            Every::Week.start_of(thursday),
            datetime!(2026-11-30 0:00 UTC)
        );
        let monday = datetime!(2026-11-30 0:00 UTC);
        assert_eq!(Every::Week.start_of(monday), monday);
        assert_eq!(Every::parse("weekly"), Some(Every::Week));
        assert_eq!(Every::parse("hourly"), None);
        assert_eq!(Every::expected(), "--digest must be daily or weekly");
        assert_eq!(Every::Day.name(), "daily");
    }
}
