//! The statistics beside every NPS, as NPS points (−100..100) over answers only (silent
//! responses are not answers): the 95 % margin of error by the adjusted-Wald method, and
//! whether the change between two periods is real (a z-test on the adjusted values).
//!
//! Adjusted Wald adds three pseudo-answers (¾ promoter, ¾ detractor, 1½ passive), which keeps
//! the interval honest for small samples and for scores near ±100, where the plain Wald
//! interval collapses to zero width.

use nps_widget::segment::Tally;
use serde::Serialize;

/// The normal quantile for a two-sided 95 % interval.
const Z95: f64 = 1.96;

/// Periods with fewer answers than this are marked as small samples.
pub const SMALL_SAMPLE: u64 = 30;

/// The adjusted-Wald values of a tally, as fractions.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Adjusted {
    /// n′ = n + 3.
    n: f64,
    /// p′ − d′.
    nps: f64,
    /// var′ = p′ + d′ − (p′ − d′)².
    variance: f64,
}

fn adjusted(t: &Tally) -> Adjusted {
    let n = t.answers() as f64 + 3.0;
    let p = (t.promoters as f64 + 0.75) / n;
    let d = (t.detractors as f64 + 0.75) / n;
    Adjusted {
        n,
        nps: p - d,
        variance: p + d - (p - d) * (p - d),
    }
}

/// The 95 % margin of error in NPS points; `None` without answers (no score, no margin).
pub fn margin_of_error(t: &Tally) -> Option<f64> {
    if t.answers() == 0 {
        return None;
    }
    let a = adjusted(t);
    Some(100.0 * Z95 * (a.variance / a.n).sqrt())
}

/// Answers / (answers + silent); `None` when nobody was asked.
pub fn response_rate(t: &Tally) -> Option<f64> {
    let asked = t.answers() + t.silents;
    (asked > 0).then(|| t.answers() as f64 / asked as f64)
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// The plain NPS, one decimal; `null` without answers.
    pub nps: Option<f64>,
    /// Scored responses.
    pub answers: u64,
    /// 95 % margin of error in NPS points, one decimal.
    pub margin_of_error: Option<f64>,
}

/// `GET /v1/compare`: period b against period a.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The earlier (or reference) period.
    pub a: Side,
    /// The later period.
    pub b: Side,
    /// b.nps − a.nps in plain NPS points; `null` when either has no answers.
    pub difference: Option<f64>,
    /// (NPS′_b − NPS′_a) / √(var′_a/n′_a + var′_b/n′_b); `null` when either has no answers.
    pub z: Option<f64>,
    /// |z| > 1.96: the change is unlikely to be noise (95 %).
    pub significant: bool,
}

/// Rounds to one decimal, as every NPS figure is reported.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn side(t: &Tally) -> Side {
    Side {
        nps: t.nps().map(round1),
        answers: t.answers(),
        margin_of_error: margin_of_error(t).map(round1),
    }
}

/// Compares period `b` with period `a`.
pub fn compare(a: &Tally, b: &Tally) -> Comparison {
    let z = (a.answers() > 0 && b.answers() > 0).then(|| {
        let (x, y) = (adjusted(a), adjusted(b));
        (y.nps - x.nps) / (x.variance / x.n + y.variance / y.n).sqrt()
    });
    let difference = match (a.nps(), b.nps()) {
        (Some(x), Some(y)) => Some(round1(y - x)),
        _ => None,
    };
    Comparison {
        a: side(a),
        b: side(b),
        difference,
        z: z.map(|z| (z * 1000.0).round() / 1000.0),
        significant: z.is_some_and(|z| z.abs() > Z95),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(promoters: u64, passives: u64, detractors: u64) -> Tally {
        Tally {
            promoters,
            passives,
            detractors,
            silents: 0,
        }
    }

    /// Hand-computed: n′ = n + 3, p′ = (P + ¾)/n′, d′ = (D + ¾)/n′,
    /// margin = 100 · 1.96 · √((p′ + d′ − (p′ − d′)²)/n′).
    #[test]
    fn margins_match_hand_computed_values() {
        for (t, expected) in [
            // n′ = 4, p′ = 0.4375, d′ = 0.1875, var′ = 0.5625: 196 · √0.140625 = 73.5
            (tally(1, 0, 0), 73.5),
            (tally(3, 1, 1), 54.784),
            (tally(0, 0, 5), 45.009),
            // The seed example, 60/20/20: NPS 40 ± 15.5
            (tally(60, 20, 20), 15.455),
            // Large n: 6000/2000/2000
            (tally(6000, 2000, 2000), 1.568),
        ] {
            let m = margin_of_error(&t).unwrap();
            assert!((m - expected).abs() < 0.001, "{t:?}: {m} vs {expected}");
        }
        assert_eq!(margin_of_error(&Tally::default()), None, "no answers");
    }

    #[test]
    fn silents_count_in_the_response_rate_not_the_margin() {
        let mut t = tally(60, 20, 20);
        t.silents = 25;
        assert_eq!(margin_of_error(&t), margin_of_error(&tally(60, 20, 20)));
        assert_eq!(response_rate(&t), Some(0.8));
        assert_eq!(response_rate(&Tally::default()), None);
    }

    #[test]
    fn comparisons_match_hand_computed_z() {
        // 40/30/30 (NPS 10) then 60/20/20 (NPS 40): z = 2.568, real.
        let c = compare(&tally(40, 30, 30), &tally(60, 20, 20));
        assert_eq!(c.difference, Some(30.0));
        assert_eq!(c.z, Some(2.568));
        assert!(c.significant);
        assert_eq!(c.a.nps, Some(10.0));
        assert_eq!(c.b.margin_of_error, Some(15.5));
        // 45/30/25 then 50/30/20: +10 points on 100 answers each is noise (z = 0.876).
        let c = compare(&tally(45, 30, 25), &tally(50, 30, 20));
        assert_eq!(c.z, Some(0.876));
        assert!(!c.significant);
        // The same change on 10,000 answers each is real (z = 8.872).
        let c = compare(&tally(4500, 3000, 2500), &tally(5000, 3000, 2000));
        assert_eq!(c.z, Some(8.872));
        assert!(c.significant);
        // A drop has a negative z.
        assert_eq!(
            compare(&tally(60, 20, 20), &tally(40, 30, 30)).z,
            Some(-2.568)
        );
        let none = compare(&Tally::default(), &tally(1, 0, 0));
        assert_eq!(
            (none.z, none.difference, none.significant),
            (None, None, false)
        );
    }
}
