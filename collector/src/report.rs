//! From the database's counts to what a team acts on: the NPS with its segment counts and
//! trend, the per-account view, the lists as CSV rows, the trend as SVG. The counting happens
//! in SQL (`store`); these functions only shape its (small, bounded) results. The NPS
//! arithmetic is the widget's own (`nps_widget::segment`).

use nps_widget::segment::Tally;
use serde::Serialize;

use crate::stats::{self, round1};
use crate::store::{AccountCounts, PeriodCounts, Stored};

/// Trend buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// ISO weeks, named by their Monday (`2026-11-23`).
    Week,
    /// Calendar months (`2026-11`).
    Month,
}

impl Interval {
    /// `week` or `month`.
    pub fn parse(name: &str) -> Option<Interval> {
        match name {
            "week" => Some(Interval::Week),
            "month" => Some(Interval::Month),
            _ => None,
        }
    }
}

/// NPS and counts for a set of responses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// −100..100, `null` when nobody answered.
    pub nps: Option<f64>,
    /// Every response, silent ones included.
    pub responses: u64,
    /// Scored responses.
    pub answers: u64,
    /// 9–10.
    pub promoters: u64,
    /// 7–8.
    pub passives: u64,
    /// 0–6.
    pub detractors: u64,
    /// Shown, never answered.
    pub silent: u64,
    /// 95 % margin of error of `nps`, in NPS points (adjusted Wald); `null` without answers.
    pub margin_of_error: Option<f64>,
}

impl From<Tally> for Figures {
    fn from(t: Tally) -> Figures {
        Figures {
            nps: t.nps().map(round1),
            margin_of_error: stats::margin_of_error(&t).map(round1),
            responses: t.answers() + t.silents,
            answers: t.answers(),
            promoters: t.promoters,
            passives: t.passives,
            detractors: t.detractors,
            silent: t.silents,
        }
    }
}

/// One bucket of the trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Period {
    /// `2026-11-23` (week of) or `2026-11` (month).
    pub period: String,
    /// The figures of the responses shown in that period.
    #[serde(flatten)]
    pub figures: Figures,
    /// Fewer than 30 answers: the score moves a lot by chance.
    pub small_sample: bool,
}

/// `GET /v1/summary`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// All responses in the range.
    #[serde(flatten)]
    pub figures: Figures,
    /// Answers / (answers + silent), 0–1; `null` when nobody was asked.
    pub response_rate: Option<f64>,
    /// `week` or `month`.
    pub interval: &'static str,
    /// Oldest period first.
    pub trend: Vec<Period>,
}

/// The summary of the periods the database counted: the totals are their sum.
pub fn summarize(periods: Vec<PeriodCounts>, interval: Interval) -> Summary {
    let mut all = Tally::default();
    for p in &periods {
        all.promoters += p.tally.promoters;
        all.passives += p.tally.passives;
        all.detractors += p.tally.detractors;
        all.silents += p.tally.silents;
    }
    Summary {
        response_rate: stats::response_rate(&all).map(|r| (r * 1000.0).round() / 1000.0),
        figures: all.into(),
        interval: match interval {
            Interval::Week => "week",
            Interval::Month => "month",
        },
        trend: periods
            .into_iter()
            .filter(|p| !p.period.is_empty())
            .map(|p| Period {
                period: p.period,
                small_sample: p.tally.answers() < stats::SMALL_SAMPLE,
                figures: p.tally.into(),
            })
            .collect(),
    }
}

/// The bucket a timestamp falls in; `None` for text that is not a date.
pub fn period_of(timestamp: &str, interval: Interval) -> Option<String> {
    let date = timestamp.get(..10)?;
    let mut parts = date.split('-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    match interval {
        Interval::Month => Some(format!("{year:04}-{month:02}")),
        Interval::Week => {
            let days = days_from_civil(year, month, day);
            // 1970-01-01 was a Thursday: Monday is 3 days before it.
            let monday = days - (days + 3).rem_euclid(7);
            Some(crate::store::rfc3339(monday * 86_400_000)[..10].to_owned())
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One account in `GET /v1/accounts`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    /// The site's account id.
    pub account_id: String,
    /// That account's figures.
    #[serde(flatten)]
    pub figures: Figures,
    /// When someone of this account last scored (or dismissed).
    pub last_answer_at: Option<String>,
    /// The newest comment from this account.
    pub latest_comment: Option<String>,
    /// From the mean of its people's latest scores: `promoter` (≥ 9), `passive` (≥ 7),
    /// `detractor`; `silent` when people were asked and nobody answered.
    pub segment: &'static str,
    /// That mean, one decimal.
    pub mean_score: Option<f64>,
    /// People who answered, each counted once.
    pub people: u64,
    /// Responses whose follow-up is open (not resolved, not referred).
    pub open_follow_ups: u64,
}

/// An account's segment from the mean of its people's latest scores.
pub fn account_segment(mean_score: Option<f64>) -> &'static str {
    match mean_score {
        None => "silent",
        Some(m) if m >= 9.0 => "promoter",
        Some(m) if m >= 7.0 => "passive",
        Some(_) => "detractor",
    }
}

impl From<AccountCounts> for Account {
    fn from(a: AccountCounts) -> Account {
        Account {
            account_id: a.account_id,
            figures: a.tally.into(),
            last_answer_at: a.last_answer_at,
            latest_comment: a.latest_comment,
            segment: account_segment(a.mean_score),
            mean_score: a.mean_score.map(round1),
            people: a.people,
            open_follow_ups: a.open_follow_ups,
        }
    }
}

/// The header of the accounts' CSV export (for a CRM import).
pub const ACCOUNTS_CSV_HEADER: &str = "account_id,segment,nps,margin_of_error,mean_score,people,promoters,passives,detractors,silent,open_follow_ups,last_answer_at,latest_comment\r\n";

/// One account as a CSV line.
pub fn push_account_csv_row(out: &mut String, a: &Account) {
    let number = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    let fields = [
        a.account_id.clone(),
        a.segment.to_owned(),
        number(a.figures.nps),
        number(a.figures.margin_of_error),
        number(a.mean_score),
        a.people.to_string(),
        a.figures.promoters.to_string(),
        a.figures.passives.to_string(),
        a.figures.detractors.to_string(),
        a.figures.silent.to_string(),
        a.open_follow_ups.to_string(),
        a.last_answer_at.clone().unwrap_or_default(),
        a.latest_comment.clone().unwrap_or_default(),
    ];
    push_csv_line(out, &fields);
}

/// The first line of the CSV export.
pub const CSV_HEADER: &str = "id,survey_id,segment,score,comment,contact_consent,user_id,account_id,email,state,silent_reason,shown_at,answered_at\r\n";

/// One response as a CSV line (RFC 4180), appended to `out`.
pub fn push_csv_row(out: &mut String, r: &Stored) {
    let fields = [
        r.id.clone(),
        r.survey_id.clone(),
        r.segment.clone(),
        r.score.map(|s| s.to_string()).unwrap_or_default(),
        r.comment.clone().unwrap_or_default(),
        r.contact_consent.map(|c| c.to_string()).unwrap_or_default(),
        r.user_id.clone().unwrap_or_default(),
        r.account_id.clone().unwrap_or_default(),
        r.email.clone().unwrap_or_default(),
        r.state.clone(),
        r.silent_reason.clone().unwrap_or_default(),
        r.shown_at.clone(),
        r.answered_at.clone().unwrap_or_default(),
    ];
    push_csv_line(out, &fields);
}

/// One CSV line of `fields`, ended by CRLF (RFC 4180).
fn push_csv_line(out: &mut String, fields: &[String]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_csv_field(out, f);
    }
    out.push_str("\r\n");
}

/// Quotes a field when it needs it; a leading `=`, `+`, `-` or `@` is prefixed with `'` so a
/// spreadsheet never runs a comment as a formula.
fn push_csv_field(out: &mut String, field: &str) {
    let guarded = field.starts_with(['=', '+', '-', '@']);
    let quote = guarded || field.contains([',', '"', '\n', '\r']);
    if quote {
        out.push('"');
    }
    if guarded {
        out.push('\'');
    }
    for c in field.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quote {
        out.push('"');
    }
}

/// The trend as an SVG line chart: NPS from −100 to 100 per period, with the number of
/// answers under each point. Only our own numbers and period names go in, never respondent text.
pub fn trend_svg(summary: &Summary) -> String {
    const W: f64 = 640.0;
    const H: f64 = 240.0;
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 16.0;
    const TOP: f64 = 16.0;
    const BOTTOM: f64 = 48.0;
    let plot_h = H - TOP - BOTTOM;
    let y = |nps: f64| TOP + (100.0 - nps) / 200.0 * plot_h;
    let n = summary.trend.len().max(1);
    let step = (W - LEFT - RIGHT) / n as f64;
    let x = |i: usize| LEFT + step * (i as f64 + 0.5);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" role=\"img\" \
         font-family=\"system-ui,sans-serif\" font-size=\"11\"><title>NPS by {}</title>",
        summary.interval
    );
    for level in [-100, -50, 0, 50, 100] {
        let ly = y(f64::from(level));
        let stroke = if level == 0 { "#6b7280" } else { "#e5e7eb" };
        out.push_str(&format!(
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{ly:.1}\" y2=\"{ly:.1}\" stroke=\"{stroke}\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#4b5563\">{level}</text>",
            W - RIGHT,
            LEFT - 6.0,
            ly + 4.0
        ));
    }
    // The 95 % band: NPS ± margin of error, clipped to the scale.
    let band: Vec<(f64, f64, f64)> = summary
        .trend
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let (v, m) = (p.figures.nps?, p.figures.margin_of_error?);
            Some((x(i), y((v + m).min(100.0)), y((v - m).max(-100.0))))
        })
        .collect();
    if band.len() > 1 {
        let upper = band.iter().map(|(px, hi, _)| format!("{px:.1},{hi:.1}"));
        let lower = band
            .iter()
            .rev()
            .map(|(px, _, lo)| format!("{px:.1},{lo:.1}"));
        let all: Vec<String> = upper.chain(lower).collect();
        out.push_str(&format!(
            "<polygon fill=\"#c7d2fe\" fill-opacity=\"0.6\" stroke=\"none\" points=\"{}\"><title>95 % margin of error</title></polygon>",
            all.join(" ")
        ));
    } else if let Some((px, hi, lo)) = band.first() {
        out.push_str(&format!(
            "<line x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{hi:.1}\" y2=\"{lo:.1}\" stroke=\"#c7d2fe\" stroke-width=\"8\"/>"
        ));
    }
    let points: Vec<(f64, f64)> = summary
        .trend
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.figures.nps.map(|v| (x(i), y(v))))
        .collect();
    if points.len() > 1 {
        let path: Vec<String> = points
            .iter()
            .map(|(px, py)| format!("{px:.1},{py:.1}"))
            .collect();
        out.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"#4338ca\" stroke-width=\"2.5\" points=\"{}\"/>",
            path.join(" ")
        ));
    }
    let label_every = n.div_ceil(8);
    for (i, p) in summary.trend.iter().enumerate() {
        if let Some(v) = p.figures.nps {
            // Small samples are hollow points: visible, but not to be read as facts.
            let (fill, note) = if p.small_sample {
                ("#ffffff", " (fewer than 30 answers)")
            } else {
                ("#4338ca", "")
            };
            out.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{fill}\" stroke=\"#4338ca\" stroke-width=\"2\"><title>{}: NPS {v} ± {}, {} answers{note}</title></circle>",
                x(i),
                y(v),
                p.period,
                p.figures.margin_of_error.unwrap_or_default(),
                p.figures.answers
            ));
        }
        if i % label_every == 0 {
            out.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#374151\">{}</text>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#6b7280\">n={}</text>",
                x(i),
                H - BOTTOM + 18.0,
                p.period,
                x(i),
                H - BOTTOM + 32.0,
                p.figures.answers
            ));
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(period: &str, p: u64, pa: u64, d: u64, s: u64) -> PeriodCounts {
        PeriodCounts {
            period: period.into(),
            tally: Tally {
                promoters: p,
                passives: pa,
                detractors: d,
                silents: s,
            },
        }
    }

    fn row(segment: &str, comment: Option<&str>, account: Option<&str>) -> Stored {
        Stored {
            id: format!("{segment}-1"),
            survey_id: "default".into(),
            score: Some(2),
            segment: segment.into(),
            silent_reason: None,
            comment: comment.map(Into::into),
            contact_consent: None,
            state: "complete".into(),
            user_id: None,
            account_id: account.map(Into::into),
            email: None,
            shown_at: "2026-11-23T10:00:00Z".into(),
            answered_at: Some("2026-11-23T10:00:00Z".into()),
            body: "{}".into(),
            follow_up: Default::default(),
        }
    }

    #[test]
    fn seed_example_sixty_twenty_twenty_is_forty() {
        let s = summarize(
            vec![counts("2026-10", 4, 0, 0, 0), counts("2026-11", 2, 2, 2, 3)],
            Interval::Month,
        );
        assert_eq!(s.figures.nps, Some(40.0));
        assert_eq!(
            (s.figures.responses, s.figures.answers, s.figures.silent),
            (13, 10, 3)
        );
        assert_eq!(s.trend.len(), 2);
        assert_eq!(s.trend[1].period, "2026-11");
        assert_eq!(s.trend[1].figures.nps, Some(0.0));
    }

    #[test]
    fn summaries_carry_margins_response_rate_and_small_samples() {
        let mut periods = vec![counts("2026-10", 1, 0, 0, 0)];
        periods.push(counts("2026-11", 59, 20, 20, 25));
        let s = summarize(periods, Interval::Month);
        assert_eq!(s.figures.nps, Some(40.0));
        assert_eq!(s.figures.margin_of_error, Some(15.5));
        assert_eq!(s.response_rate, Some(0.8));
        assert!(s.trend[0].small_sample);
        assert_eq!(s.trend[0].figures.margin_of_error, Some(73.5));
        assert!(!s.trend[1].small_sample);
    }

    #[test]
    fn accounts_are_classified_by_their_peoples_mean_score() {
        for (mean, segment) in [
            (None, "silent"),
            (Some(10.0), "promoter"),
            (Some(9.0), "promoter"),
            (Some(8.99), "passive"),
            (Some(7.0), "passive"),
            (Some(6.99), "detractor"),
            (Some(0.0), "detractor"),
        ] {
            assert_eq!(account_segment(mean), segment, "{mean:?}");
        }
    }

    #[test]
    fn no_answers_means_no_score_not_zero() {
        let s = summarize(vec![counts("2026-11-23", 0, 0, 0, 1)], Interval::Week);
        assert_eq!(s.figures.nps, None);
        assert_eq!(summarize(vec![], Interval::Week).figures.nps, None);
    }

    #[test]
    fn the_trend_chart_plots_each_scored_period() {
        let periods = vec![
            counts("2026-10", 1, 0, 0, 0),
            counts("2026-11", 0, 0, 1, 0),
            counts("2026-12", 0, 0, 0, 1),
        ];
        let svg = trend_svg(&summarize(periods, Interval::Month));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert_eq!(
            svg.matches("<circle").count(),
            2,
            "a period without answers has no point"
        );
        assert!(svg.contains("2026-10: NPS 100 ± 73.5, 1 answers (fewer than 30 answers)"));
        assert!(svg.contains("2026-11: NPS -100 ± 73.5, 1 answers (fewer than 30 answers)"));
        assert!(svg.contains("<polygon"), "the margin-of-error band");
        assert!(svg.contains(">2026-12</text>"));
        assert!(svg.ends_with("</svg>"));
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
    }

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let mut text = CSV_HEADER.to_owned();
        push_csv_row(
            &mut text,
            &row(
                "detractor",
                Some("=HYPERLINK(\"x\")\nsecond line"),
                Some("a,b"),
            ),
        );
        let line = text.lines().nth(1).unwrap();
        assert!(line.contains("\"'=HYPERLINK(\"\"x\"\")"), "{line}");
        assert!(text.contains("\"a,b\""));
        assert!(text.starts_with("id,survey_id,segment,score,comment,"));
        assert!(text.ends_with("\r\n"));
    }
}
