//! The in-app rules of who is asked where: `pages` (glob patterns over the page's path) and
//! `audience` (conditions on `user.traits`), with the dates those conditions read. Pure: the
//! browser layer passes in the path, the traits and the time.

use alloc::string::String;

use crate::config::{Condition, Operator};
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
        .position(|c| !holds(c.operator, &c.values, trait_value(traits, &c.name), now_ms))
}

/// The value of the trait `name`, if the person has it.
pub fn trait_value<'t>(traits: &'t [(String, TraitValue)], name: &str) -> Option<&'t TraitValue> {
    traits.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

/// Whether a trait's value (none: the person does not have it) passes `operator` with `want`
/// (the list of `in`, the one value of any other) at `now_ms`. A missing trait fails every test
/// but `exists: false`; a value of another type than the test reads fails.
pub fn holds(
    operator: Operator,
    want: &[TraitValue],
    value: Option<&TraitValue>,
    now_ms: f64,
) -> bool {
    let first = want.first();
    let Some(value) = value else {
        return operator == Operator::Exists && first == Some(&TraitValue::Bool(false));
    };
    let limit = match first {
        Some(TraitValue::Number(n)) => *n,
        _ => 0.0,
    };
    let number = match value {
        TraitValue::Number(n) => Some(*n),
        _ => None,
    };
    let age_days = || date_ms(value).map(|t| (now_ms - t) / DAY_MS);
    match operator {
        Operator::Is => first == Some(value),
        Operator::IsNot => first != Some(value),
        Operator::In => want.contains(value),
        Operator::Contains => matches!(
            (first, value),
            (Some(TraitValue::Text(part)), TraitValue::Text(t)) if contains(t, part)
        ),
        Operator::AtLeast => number.is_some_and(|n| n >= limit),
        Operator::AtMost => number.is_some_and(|n| n <= limit),
        Operator::OlderThanDays => age_days().is_some_and(|age| age >= limit),
        Operator::NewerThanDays => age_days().is_some_and(|age| age < limit),
        Operator::Exists => first == Some(&TraitValue::Bool(true)),
    }
}

/// `str::contains` without core's substring searcher (two-way, about a kilobyte of wasm).
fn contains(text: &str, part: &str) -> bool {
    let (t, p) = (text.as_bytes(), part.as_bytes());
    let mut i = 0;
    while i + p.len() <= t.len() {
        if t.get(i..i + p.len()) == Some(p) {
            return true;
        }
        i += 1;
    }
    false
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
/// date (`2026-11-20`, midnight UTC) into ms since the epoch. One pass over a template of the
/// text's shape, `d` for a digit.
pub fn parse_date(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    // year, month, day, hour, minute, second; then the offset's hours and minutes.
    let mut n = [0i64; 8];
    let (mut field, mut i) = (0, 0);
    let mut read = |template: &[u8], field: &mut usize, i: &mut usize| -> Option<()> {
        for &want in template {
            let c = *b.get(*i)?;
            if want == b'd' && c.is_ascii_digit() {
                n[*field] = n[*field] * 10 + i64::from(c - b'0');
            } else if c == want
                || (want == b'T' && matches!(c, b't' | b' '))
                || (want == b'+' && c == b'-')
            {
                *field += 1;
            } else {
                return None;
            }
            *i += 1;
        }
        Some(())
    };
    read(b"dddd-dd-dd", &mut field, &mut i)?;
    let mut offset = 0;
    if i < b.len() {
        read(b"Tdd:dd:dd", &mut field, &mut i)?;
        if b.get(i) == Some(&b'.') {
            i += 1;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        let sign = match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(b'+') => -1,
            Some(b'-') => 1,
            _ => return None,
        };
        if sign != 0 {
            field = 5;
            read(b"+dd:dd", &mut field, &mut i)?;
            if i != b.len() {
                return None;
            }
            offset = sign * (n[6] * 60 + n[7]) * 60_000;
        }
    }
    let [year, month, day, hour, minute, second, ..] = n;
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let ms = days_from_civil(year, month, day) * 86_400_000
        + ((hour * 60 + minute) * 60 + second) * 1000
        + offset;
    Some(ms as f64)
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

    fn t(s: &str) -> Vec<TraitValue> {
        vec![text(s)]
    }

    #[test]
    fn each_operator_at_its_edges() {
        use Operator::*;
        let n = TraitValue::Number;
        let v = |x: f64| vec![TraitValue::Number(x)];
        let days_ago = |d: f64| n(NOW - d * DAY_MS);
        let list = |items: &[&str]| items.iter().map(|s| text(s)).collect::<Vec<_>>();
        let b = |x: bool| vec![TraitValue::Bool(x)];
        let table: Vec<(Operator, Vec<TraitValue>, Option<TraitValue>, bool)> = vec![
            (Is, t("pro"), Some(text("pro")), true),
            (Is, t("pro"), Some(text("Pro")), false),
            (Is, v(1.0), Some(text("1")), false),
            (Is, v(1.0), Some(n(1.0)), true),
            (Is, b(true), Some(TraitValue::Bool(true)), true),
            (Is, b(true), Some(text("true")), false),
            (IsNot, t("free"), Some(text("pro")), true),
            (IsNot, t("free"), Some(text("free")), false),
            (IsNot, t("free"), None, false),
            (In, list(&["pro", "team"]), Some(text("team")), true),
            (In, list(&["pro", "team"]), Some(text("free")), false),
            (In, list(&[]), Some(text("free")), false),
            (In, vec![n(3.0)], Some(n(3.0)), true),
            (Contains, t("@acme."), Some(text("a@acme.com")), true),
            (Contains, t(""), Some(text("")), true),
            (Contains, t("acme"), Some(text("ac")), false),
            (Contains, t("é"), Some(text("café")), true),
            (Contains, t("1"), Some(n(1.0)), false),
            (AtLeast, v(5.0), Some(n(5.0)), true),
            (AtLeast, v(5.0), Some(n(4.99)), false),
            (AtLeast, v(5.0), Some(text("9")), false),
            (AtMost, v(5.0), Some(n(5.0)), true),
            (AtMost, v(5.0), Some(n(5.01)), false),
            (OlderThanDays, v(30.0), Some(days_ago(30.0)), true),
            (OlderThanDays, v(30.0), Some(days_ago(29.999)), false),
            (NewerThanDays, v(30.0), Some(days_ago(29.999)), true),
            (NewerThanDays, v(30.0), Some(days_ago(30.0)), false),
            (OlderThanDays, v(30.0), Some(text("2026-10-19")), true),
            (OlderThanDays, v(30.0), Some(text("2026-10-20")), false),
            (
                OlderThanDays,
                v(30.0),
                Some(text("2026-10-19T11:06:40Z")),
                true,
            ),
            (
                OlderThanDays,
                v(30.0),
                Some(text("2026-10-19T11:06:41Z")),
                false,
            ),
            (OlderThanDays, v(30.0), Some(text("last month")), false),
            (OlderThanDays, v(0.0), Some(TraitValue::Bool(true)), false),
            (Exists, b(true), Some(text("")), true),
            (Exists, b(true), None, false),
            (Exists, b(false), None, true),
            (Exists, b(false), Some(n(0.0)), false),
            (AtLeast, v(0.0), None, false),
        ];
        for (op, want, value, expected) in table {
            assert_eq!(
                holds(op, &want, value.as_ref(), NOW),
                expected,
                "{op:?} {want:?} on {value:?}"
            );
        }
    }

    #[test]
    fn the_first_failing_condition_is_named() {
        let c = |name: &str, operator, values| Condition {
            name: name.to_owned(),
            operator,
            values,
        };
        let audience = [
            c("plan", Operator::In, vec![text("pro"), text("team")]),
            c(
                "signed_up_at",
                Operator::OlderThanDays,
                vec![TraitValue::Number(30.0)],
            ),
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
            ("2026-11-19T09:46:40+0100", None),
            ("2026-11-19T09:46:40Z ", None),
            ("2026-11-19T09:46:40*01:00", None),
            ("2026-11-19T", None),
            ("2026-00-19", None),
            ("2026-11-32", None),
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
