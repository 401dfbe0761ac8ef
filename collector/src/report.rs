//! From the database's counts to what a team acts on: the NPS with its segment counts and
//! trend, the per-account view, (the lists as CSV are in `csv`, the trend as SVG in `chart`). The counting happens
//! in SQL (`store`); these functions only shape its (small, bounded) results. The NPS
//! arithmetic is the widget's own (`nps_widget::segment`).

use nps_widget::segment::Tally;
use serde::Serialize;

use crate::model::{AccountCounts, Interval, PeriodCounts, RevenueCounts};
use crate::stats::{self, round1};

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
    /// The survey's text changed in this period: the version whose wording began here (the
    /// trend of one survey, `?survey_id=`), so a jump that coincides with new wording shows
    /// as such.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_wording: Option<i64>,
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

/// Marks the periods of `summary` in which a version with new wording (a definition unlike the
/// one before it; a change of name or status alone is not one) was saved: `versions` as
/// (version, changed_at, definition), in any order.
pub fn mark_wording(
    summary: &mut Summary,
    mut versions: Vec<(i64, String, serde_json::Value)>,
    interval: Interval,
) {
    versions.sort_by_key(|v| v.0);
    for pair in versions.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        if before.2 == after.2 {
            continue;
        }
        let Some(period) = crate::clock::period_of(&after.1, interval) else {
            continue;
        };
        if let Some(p) = summary.trend.iter_mut().find(|p| p.period == period) {
            p.new_wording = Some(after.0);
        }
    }
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
        interval: interval.as_str(),
        trend: periods
            .into_iter()
            .filter(|p| !p.period.is_empty())
            .map(|p| Period {
                period: p.period,
                small_sample: p.tally.answers() < stats::SMALL_SAMPLE,
                new_wording: None,
                figures: p.tally.into(),
            })
            .collect(),
    }
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
    /// Its record's name (`null` without a record, as every field below).
    pub name: Option<String>,
    /// Annual recurring revenue, in the collector's currency.
    pub arr: Option<f64>,
    /// Its plan.
    pub plan: Option<String>,
    /// Who owns it.
    pub owner: Option<String>,
    /// `YYYY-MM-DD`.
    pub renewal_on: Option<String>,
    /// Its record in the CRM.
    pub crm_url: Option<String>,
    /// Anything else the record says.
    pub traits: Option<serde_json::Value>,
    /// In the upsell list: how far its ARR is below its plan's median.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<f64>,
}

/// Cents as an amount of the currency.
pub fn money(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// One segment's accounts and ARR in `GET /v1/revenue`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SegmentRevenue {
    /// Accounts in the segment.
    pub accounts: u64,
    /// Their ARR.
    pub arr: f64,
}

/// `GET /v1/revenue`: the money beside the score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revenue {
    /// ISO 4217.
    pub currency: String,
    /// Accounts with a record.
    pub accounts: u64,
    /// Their ARR.
    pub total_arr: f64,
    /// The ARR of the accounts that answered in the period.
    pub answered_arr: f64,
    /// `answered_arr ÷ total_arr` (0–1, three decimals); `null` without ARR.
    pub coverage: Option<f64>,
    /// The share that should answer (`--coverage-target`).
    pub coverage_target: f64,
    /// The ARR of detractor and silent accounts.
    pub at_risk_arr: f64,
    /// Σ(ARR × account NPS) ÷ Σ ARR over the accounts that answered; one decimal.
    pub weighted_nps: Option<f64>,
    /// Each segment's accounts and ARR, by the account's segment.
    pub by_segment: std::collections::BTreeMap<&'static str, SegmentRevenue>,
}

/// The revenue report of the database's counts.
pub fn revenue(counts: &RevenueCounts, currency: &str, coverage_target: f64) -> Revenue {
    let names = ["promoter", "passive", "detractor", "silent"];
    let by_segment = names
        .iter()
        .zip(counts.by_segment.iter())
        .map(|(name, m)| {
            (
                *name,
                SegmentRevenue {
                    accounts: m.accounts,
                    arr: money(m.arr_cents),
                },
            )
        })
        .collect();
    let [promoter, passive, detractor, silent] = counts.by_segment;
    let answered = promoter.arr_cents + passive.arr_cents + detractor.arr_cents;
    Revenue {
        currency: currency.to_owned(),
        accounts: counts.accounts,
        total_arr: money(counts.total_arr_cents),
        answered_arr: money(answered),
        coverage: (counts.total_arr_cents > 0)
            .then(|| (answered as f64 / counts.total_arr_cents as f64 * 1000.0).round() / 1000.0),
        coverage_target,
        at_risk_arr: money(detractor.arr_cents + silent.arr_cents),
        weighted_nps: (counts.weighted_arr_cents > 0)
            .then(|| round1(counts.weighted_sum / counts.weighted_arr_cents as f64)),
        by_segment,
    }
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
        let record = a.record.unwrap_or_default();
        Account {
            account_id: a.account_id,
            figures: a.tally.into(),
            last_answer_at: a.last_answer_at,
            latest_comment: a.latest_comment,
            segment: account_segment(a.mean_score),
            mean_score: a.mean_score.map(round1),
            people: a.people,
            open_follow_ups: a.open_follow_ups,
            gap: a.gap_cents.map(|g| g.round() / 100.0),
            name: record.name,
            arr: record.arr_cents.map(money),
            plan: record.plan,
            owner: record.owner,
            renewal_on: record.renewal_on,
            crm_url: record.crm_url,
            traits: record.traits,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A period's counts, for the tests here and the chart's.
    pub(crate) fn counts(period: &str, p: u64, pa: u64, d: u64, s: u64) -> PeriodCounts {
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
}
