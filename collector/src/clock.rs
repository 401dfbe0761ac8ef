//! Dates and times, through the `time` crate: now as the widget writes timestamps
//! (`2026-11-23T09:50:45.123Z`), the query's date bounds read exactly (impossible dates
//! refused, offsets converted to UTC), and the trend's buckets.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::model::{Bound, Interval};

/// `2026-11-23T09:50:45.123Z`: what the widget's `toISOString()` writes, so that stored
/// timestamps compare as text in time order.
const STAMP: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
/// `2026-11-23`.
const DAY: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]");

/// Now as RFC 3339 UTC with milliseconds, like the widget's timestamps.
pub fn now_rfc3339() -> String {
    stamp(OffsetDateTime::now_utc())
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(stamp)
        .unwrap_or_default()
}

/// An instant in the stored form (UTC, milliseconds).
pub fn stamp(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(STAMP)
        .unwrap_or_default()
}

/// Milliseconds since the epoch of an RFC 3339 time, if it is one.
pub fn parse_ms(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(|at| (at.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// A day in the stored form (`shown_day`).
pub fn day(date: Date) -> String {
    date.format(DAY).unwrap_or_default()
}

/// A query's date bound: `YYYY-MM-DD` or an RFC 3339 date-time; `None` for anything else,
/// impossible dates (`2026-02-31`) included.
pub fn parse_bound(text: &str) -> Option<Bound> {
    if text.len() == 10 {
        return Date::parse(text, DAY).ok().map(Bound::Day);
    }
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(|at| Bound::Instant(at.to_offset(UtcOffset::UTC)))
}

/// The bucket a stored timestamp falls in (`2026-11-23`, the week's Monday, or `2026-11`): the
/// calendar the databases' own week and month grouping is checked against (tests/store.rs);
/// `None` for text that does not start with a date.
pub fn period_of(timestamp: &str, interval: Interval) -> Option<String> {
    let date = Date::parse(timestamp.get(..10)?, DAY).ok()?;
    Some(match interval {
        Interval::Month => format!("{:04}-{:02}", date.year(), u8::from(date.month())),
        Interval::Week => {
            let back = date.weekday().number_days_from_monday();
            day(date - time::Duration::days(i64::from(back)))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc_with_milliseconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_427_445_123), "2026-11-23T09:50:45.123Z");
    }

    #[test]
    fn weeks_are_named_by_their_monday() {
        for (ts, monday) in [
            ("2026-11-23T00:00:00Z", "2026-11-23"), // a Monday
            ("2026-11-29T23:59:59Z", "2026-11-23"), // the Sunday after
            ("2026-11-22T12:00:00Z", "2026-11-16"),
            ("2027-01-01T12:00:00Z", "2026-12-28"), // across a year end
            ("2024-02-29T12:00:00Z", "2024-02-26"), // a leap day
        ] {
            assert_eq!(
                period_of(ts, Interval::Week).as_deref(),
                Some(monday),
                "{ts}"
            );
        }
        assert_eq!(period_of("not a date", Interval::Week), None);
        assert_eq!(period_of("2026-13-01T00:00:00Z", Interval::Month), None);
        assert_eq!(
            period_of("2026-11-23T00:00:00Z", Interval::Month).as_deref(),
            Some("2026-11")
        );
    }

    #[test]
    fn bounds_are_exact_dates_or_rfc3339_times_in_utc() {
        assert!(matches!(parse_bound("2026-11-01"), Some(Bound::Day(_))));
        for impossible in ["2026-02-31", "2026-13-01", "yesterday", "2026-11-01x", ""] {
            assert_eq!(parse_bound(impossible), None, "{impossible}");
        }
        let Some(Bound::Instant(at)) = parse_bound("2026-11-01T09:30:00+01:00") else {
            panic!("an RFC 3339 time with an offset is a bound");
        };
        assert_eq!(stamp(at), "2026-11-01T08:30:00.000Z");
    }
}
