//! The in-app rules of who is asked where: `pages` (glob patterns over the page's path) and
//! `audience` (conditions on `user.traits`), with the dates those conditions read. Pure: the
//! browser layer passes in the path, the traits and the time.

use alloc::string::String;

use crate::config::{Condition, Test};
use crate::response::TraitValue;
use crate::text::push_uint;

/// A day in milliseconds.
pub const DAY_MS: f64 = 86_400_000.0;

/// Whether `text` matches the glob `pattern`: `*` matches any run of characters, `/`
/// included; everything else matches itself. One pass that backs up to the last `*`.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut i, mut j) = (0, 0);
    // Where the last `*` was, and where in the text it matched up to.
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if p.get(i) == Some(&b'*') {
            star = Some((i, j));
            i += 1;
        } else if p.get(i) == Some(&t[j]) {
            i += 1;
            j += 1;
        } else if let Some((si, sj)) = star {
            star = Some((si, sj + 1));
            (i, j) = (si + 1, sj + 1);
        } else {
            return false;
        }
    }
    while p.get(i) == Some(&b'*') {
        i += 1;
    }
    i == p.len()
}

/// Whether the card may show on this page by `pages`: the path (`address` is origin + path, for
/// patterns that start with `http://` or `https://`) must match a plain pattern, when there is
/// one, and no `!` pattern. `Err(Some(i))`: excluded by `pages[i]`; `Err(None)`: no plain
/// pattern matches.
pub fn page_allowed(pages: &[String], path: &str, address: &str) -> Result<(), Option<usize>> {
    let (mut plain, mut matched) = (false, false);
    for (i, pattern) in pages.iter().enumerate() {
        let (exclude, pattern) = match pattern.strip_prefix("!") {
            Some(rest) => (true, rest),
            None => (false, pattern.as_str()),
        };
        let absolute = pattern.starts_with("http://") || pattern.starts_with("https://");
        if glob(pattern, if absolute { address } else { path }) {
            if exclude {
                return Err(Some(i));
            }
            matched = true;
        }
        plain |= !exclude;
    }
    if plain && !matched {
        Err(None)
    } else {
        Ok(())
    }
}

/// The first `audience` condition these traits fail, by index; none when all hold.
pub fn audience_fails(
    audience: &[Condition],
    traits: &[(String, TraitValue)],
    now_ms: f64,
) -> Option<usize> {
    audience
        .iter()
        .position(|c| !holds(&c.test, trait_value(traits, &c.name), now_ms))
}

/// The value of the trait `name`, if the person has it.
pub fn trait_value<'t>(traits: &'t [(String, TraitValue)], name: &str) -> Option<&'t TraitValue> {
    traits.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

/// Whether a trait's value (none: the person does not have it) passes `test` at `now_ms`. A
/// missing trait fails every test but `exists: false`; a value of the wrong type fails.
pub fn holds(test: &Test, value: Option<&TraitValue>, now_ms: f64) -> bool {
    let Some(value) = value else {
        return *test == Test::Exists(false);
    };
    let number = match value {
        TraitValue::Number(n) => Some(*n),
        _ => None,
    };
    let age_days = || date_ms(value).map(|t| (now_ms - t) / DAY_MS);
    match test {
        Test::Is(want) => value == want,
        Test::IsNot(want) => value != want,
        Test::In(list) => list.contains(value),
        Test::Contains(part) => matches!(value, TraitValue::Text(t) if contains(t, part)),
        Test::AtLeast(min) => number.is_some_and(|n| n >= *min),
        Test::AtMost(max) => number.is_some_and(|n| n <= *max),
        Test::OlderThanDays(days) => age_days().is_some_and(|age| age >= *days),
        Test::NewerThanDays(days) => age_days().is_some_and(|age| age < *days),
        Test::Exists(want) => *want,
    }
}

/// `str::contains` without core's substring searcher (two-way, about a kilobyte of wasm).
fn contains(text: &str, part: &str) -> bool {
    let (t, p) = (text.as_bytes(), part.as_bytes());
    (0..=t.len().saturating_sub(p.len())).any(|i| t.get(i..i + p.len()) == Some(p))
}

/// A date trait in ms since the epoch: a number as it is, text as RFC 3339.
pub fn date_ms(value: &TraitValue) -> Option<f64> {
    match value {
        TraitValue::Number(n) => Some(*n),
        TraitValue::Text(t) => parse_date(t),
        TraitValue::Bool(_) => None,
    }
}

/// Reads RFC 3339 (`2026-11-20T09:30:00Z`, `…+01:00`, fractions of a second ignored) and a bare
/// date (`2026-11-20`, midnight UTC) into ms since the epoch.
pub fn parse_date(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        let mut n = 0;
        for d in digits {
            if !d.is_ascii_digit() {
                return None;
            }
            n = n * 10 + i64::from(d - b'0');
        }
        Some(n)
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-')) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) as f64 * DAY_MS;
    if b.len() == 10 {
        return Some(ms);
    }
    if !(matches!(b[10], b'T' | b't' | b' ') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    ms += ((hour * 60 + minute) * 60 + second) as f64 * 1000.0;
    let mut i = 19;
    if sep(i, b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => Some(ms),
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && sep(i + 3, b':') => {
            let offset = ((num(i + 1, 2)? * 60 + num(i + 4, 2)?) * 60_000) as f64;
            Some(if sign == b'+' { ms - offset } else { ms + offset })
        }
        _ => None,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// Appends the UTC date of `ms` as `YYYY-MM-DD` (Hinnant's `civil_from_days`).
pub fn push_date(out: &mut String, ms: f64) {
    let z = (ms as i64).div_euclid(86_400_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    for (n, width) in [(year, 4), (month, 2), (day, 2)] {
        if width == 2 {
            out.push('-');
            if n < 10 {
                out.push('0');
            }
        }
        push_uint(out, n.max(0) as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Test;
    use alloc::{borrow::ToOwned, vec, vec::Vec};

    const NOW: f64 = 1_795_000_000_000.0; // 2026-11-18T11:06:40Z

    fn pages(list: &[&str]) -> Vec<String> {
        list.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn globs_match_any_run_across_slashes() {
        let table = [
            ("/app/*", "/app/reports", true),
            ("/app/*", "/app/reports/2026/q4", true),
            ("/app/*", "/app", false),
            ("/app*", "/app", true),
            ("*", "", true),
            ("", "", true),
            ("", "/", false),
            ("/a*b*c", "/axxbyyc", true),
            ("/a*b*c", "/axxbyy", false),
            ("*/billing", "/app/settings/billing", true),
            ("/app/billing*", "/app/billing/plan", true),
            ("/app/billing*", "/app/bill", false),
            ("/app/*/edit", "/app/1/2/edit", true),
            ("/ü*", "/über", true),
            ("/**", "/x", true),
        ];
        for (pattern, path, want) in table {
            assert_eq!(glob(pattern, path), want, "{pattern:?} on {path:?}");
        }
    }

    #[test]
    fn pages_need_a_plain_match_and_no_exclusion() {
        let rules = pages(&["/app/*", "!/app/billing*"]);
        let table = [
            ("/app/reports", Ok(())),
            ("/app/billing/plan", Err(Some(1))),
            ("/pricing", Err(None)),
            ("/app", Err(None)),
        ];
        for (path, want) in table {
            assert_eq!(page_allowed(&rules, path, ""), want, "{path}");
        }
        // An exclusion wins even when it comes first, or matches a page a plain one names.
        let first = pages(&["!/app/billing*", "/app/*"]);
        assert_eq!(page_allowed(&first, "/app/billing", ""), Err(Some(0)));
        // Only exclusions: every other page.
        let only = pages(&["!/checkout*"]);
        assert_eq!(page_allowed(&only, "/", ""), Ok(()));
        assert_eq!(page_allowed(&only, "/checkout/pay", ""), Err(Some(0)));
        // None: every page.
        assert_eq!(page_allowed(&[], "/anything", ""), Ok(()));
        // http(s) patterns read the origin and the path.
        let origin = pages(&["https://app.example.com/*"]);
        assert_eq!(
            page_allowed(&origin, "/x", "https://app.example.com/x"),
            Ok(())
        );
        assert_eq!(
            page_allowed(&origin, "/x", "https://www.example.com/x"),
            Err(None)
        );
    }

    fn text(s: &str) -> TraitValue {
        TraitValue::Text(s.to_owned())
    }

    #[test]
    fn each_operator_at_its_edges() {
        let n = TraitValue::Number;
        let days_ago = |d: f64| n(NOW - d * DAY_MS);
        let table: Vec<(Test, Option<TraitValue>, bool)> = vec![
            (Test::Is(text("pro")), Some(text("pro")), true),
            (Test::Is(text("pro")), Some(text("Pro")), false),
            (Test::Is(n(1.0)), Some(text("1")), false),
            (Test::Is(TraitValue::Bool(true)), Some(TraitValue::Bool(true)), true),
            (Test::IsNot(text("free")), Some(text("pro")), true),
            (Test::IsNot(text("free")), Some(text("free")), false),
            (Test::IsNot(text("free")), None, false),
            (Test::In(vec![text("pro"), text("team")]), Some(text("team")), true),
            (Test::In(vec![text("pro"), text("team")]), Some(text("free")), false),
            (Test::In(vec![]), Some(text("free")), false),
            (Test::Contains("@acme.".into()), Some(text("a@acme.com")), true),
            (Test::Contains("".into()), Some(text("")), true),
            (Test::Contains("acme".into()), Some(text("ac")), false),
            (Test::Contains("1".into()), Some(n(1.0)), false),
            (Test::AtLeast(5.0), Some(n(5.0)), true),
            (Test::AtLeast(5.0), Some(n(4.99)), false),
            (Test::AtLeast(5.0), Some(text("9")), false),
            (Test::AtMost(5.0), Some(n(5.0)), true),
            (Test::AtMost(5.0), Some(n(5.01)), false),
            (Test::OlderThanDays(30.0), Some(days_ago(30.0)), true),
            (Test::OlderThanDays(30.0), Some(days_ago(29.999)), false),
            (Test::NewerThanDays(30.0), Some(days_ago(29.999)), true),
            (Test::NewerThanDays(30.0), Some(days_ago(30.0)), false),
            (Test::OlderThanDays(30.0), Some(text("2026-10-19")), true),
            (Test::OlderThanDays(30.0), Some(text("2026-10-20")), false),
            (Test::OlderThanDays(30.0), Some(text("2026-10-19T11:06:40Z")), true),
            (Test::OlderThanDays(30.0), Some(text("2026-10-19T11:06:41Z")), false),
            (Test::OlderThanDays(30.0), Some(text("last month")), false),
            (Test::OlderThanDays(0.0), Some(TraitValue::Bool(true)), false),
            (Test::Exists(true), Some(text("")), true),
            (Test::Exists(true), None, false),
            (Test::Exists(false), None, true),
            (Test::Exists(false), Some(n(0.0)), false),
            (Test::AtLeast(0.0), None, false),
        ];
        for (test, value, want) in table {
            assert_eq!(holds(&test, value.as_ref(), NOW), want, "{test:?} on {value:?}");
        }
    }

    #[test]
    fn the_first_failing_condition_is_named() {
        let c = |name: &str, test| Condition {
            name: name.to_owned(),
            test,
        };
        let audience = [
            c("plan", Test::In(vec![text("pro"), text("team")])),
            c("signed_up_at", Test::OlderThanDays(30.0)),
        ];
        let traits = |plan: &str, signed: &str| {
            vec![
                ("plan".to_owned(), text(plan)),
                ("signed_up_at".to_owned(), text(signed)),
            ]
        };
        assert_eq!(
            audience_fails(&audience, &traits("pro", "2026-10-01T00:00:00Z"), NOW),
            None
        );
        assert_eq!(
            audience_fails(&audience, &traits("free", "2026-10-01T00:00:00Z"), NOW),
            Some(0)
        );
        assert_eq!(
            audience_fails(&audience, &traits("pro", "2026-11-09T00:00:00Z"), NOW),
            Some(1)
        );
        assert_eq!(audience_fails(&audience, &[], NOW), Some(0));
        assert_eq!(audience_fails(&[], &[], NOW), None);
    }

    #[test]
    fn dates_read_as_rfc_3339_and_print_as_days() {
        let table = [
            ("1970-01-01", Some(0.0)),
            ("1970-01-01T00:00:00Z", Some(0.0)),
            ("2026-11-18T11:06:40Z", Some(NOW)),
            ("2026-11-18t11:06:40.123456z", Some(NOW)),
            ("2026-11-18T12:06:40+01:00", Some(NOW)),
            ("2026-11-18T09:36:40-01:30", Some(NOW)),
            ("2000-02-29", Some(951_782_400_000.0)),
            ("2026-13-01", None),
            ("2026-11-19T25:00:00Z", None),
            ("2026-11-19T09:46:40", None),
            ("2026-11-19T09:46Z", None),
            ("2026/11/19", None),
            ("", None),
            ("20261119", None),
        ];
        for (text, want) in table {
            assert_eq!(parse_date(text), want, "{text:?}");
        }
        for (ms, want) in [
            (0.0, "1970-01-01"),
            (NOW, "2026-11-18"),
            (951_782_400_000.0, "2000-02-29"),
            (951_782_399_999.0, "2000-02-28"),
            (-1.0, "1969-12-31"),
            (4_102_444_800_000.0, "2100-01-01"),
        ] {
            let mut out = String::new();
            push_date(&mut out, ms);
            assert_eq!(out, want, "{ms}");
        }
        // Every day of four centuries reads back as itself.
        for day in -1000..146_097 {
            let mut out = String::new();
            push_date(&mut out, f64::from(day) * DAY_MS);
            assert_eq!(parse_date(&out), Some(f64::from(day) * DAY_MS), "{out}");
        }
    }
}
