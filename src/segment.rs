//! Scores, segments and the NPS arithmetic: the domain facts every other module leans on.
//!
//! Pure: no browser, no clock. The collector uses the same code, so the widget and the
//! dashboard can never disagree on who is a promoter.

use serde::{Deserialize, Serialize};

/// An answer on the 0–10 scale. The only way to make one is [`Score::new`], so holding a
/// `Score` proves it is in range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Score(u8);

/// A number that is not on the 0–10 scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreOutOfRange;

impl ScoreOutOfRange {
    /// What a site owner or an API client reads.
    pub const MESSAGE: &'static str = "score must be a whole number from 0 to 10";
}

impl Score {
    /// The highest answer on the scale.
    pub const MAX: u8 = 10;

    /// Accepts 0 to 10; anything else is an error, never a clamp.
    pub fn new(value: i64) -> Result<Score, ScoreOutOfRange> {
        if (0..=i64::from(Self::MAX)).contains(&value) {
            Ok(Score(value as u8))
        } else {
            Err(ScoreOutOfRange)
        }
    }

    /// The number chosen.
    pub fn value(self) -> u8 {
        self.0
    }

    /// The segment this answer puts the respondent in.
    pub fn segment(self) -> Segment {
        match self.0 {
            0..=6 => Segment::Detractor,
            7..=8 => Segment::Passive,
            _ => Segment::Promoter,
        }
    }
}

/// Who a respondent is, for acting on them: promoters are asked for referrals, passives what
/// would earn a 9 or 10, detractors are contacted, silents were asked and did not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Segment {
    /// 9–10.
    Promoter,
    /// 7–8.
    Passive,
    /// 0–6.
    Detractor,
    /// Asked, but gave no score.
    Silent,
}

impl Segment {
    /// Every segment, in the order reports list them.
    pub const ALL: [Segment; 4] = [
        Segment::Promoter,
        Segment::Passive,
        Segment::Detractor,
        Segment::Silent,
    ];

    /// The wire name, as in the response schema.
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::Promoter => "promoter",
            Segment::Passive => "passive",
            Segment::Detractor => "detractor",
            Segment::Silent => "silent",
        }
    }

    /// The inverse of [`Segment::as_str`].
    pub fn parse(name: &str) -> Option<Segment> {
        Segment::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// Counts per segment, from which the score is derived (never stored beside them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Answers of 9 or 10.
    pub promoters: u64,
    /// Answers of 7 or 8.
    pub passives: u64,
    /// Answers of 0 to 6.
    pub detractors: u64,
    /// People asked who did not answer; not part of the score.
    pub silents: u64,
}

impl Tally {
    /// Counts one more respondent of `segment`.
    pub fn add(&mut self, segment: Segment) {
        match segment {
            Segment::Promoter => self.promoters += 1,
            Segment::Passive => self.passives += 1,
            Segment::Detractor => self.detractors += 1,
            Segment::Silent => self.silents += 1,
        }
    }

    /// Everyone who gave a score; silents are not answers.
    pub fn answers(&self) -> u64 {
        self.promoters + self.passives + self.detractors
    }

    /// % promoters − % detractors, from −100 to +100, passives in the denominator. `None` when
    /// nobody answered: an empty survey has no score, not a score of zero.
    pub fn nps(&self) -> Option<f64> {
        let answers = self.answers();
        if answers == 0 {
            return None;
        }
        let diff = self.promoters as f64 - self.detractors as f64;
        Some(diff * 100.0 / answers as f64)
    }
}

impl FromIterator<Segment> for Tally {
    fn from_iter<I: IntoIterator<Item = Segment>>(iter: I) -> Self {
        let mut tally = Tally::default();
        for segment in iter {
            tally.add(segment);
        }
        tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_fall_into_their_segments_at_every_boundary() {
        let table = [
            (0, Segment::Detractor),
            (6, Segment::Detractor),
            (7, Segment::Passive),
            (8, Segment::Passive),
            (9, Segment::Promoter),
            (10, Segment::Promoter),
        ];
        for (value, segment) in table {
            assert_eq!(
                Score::new(value).unwrap().segment(),
                segment,
                "score {value}"
            );
        }
    }

    #[test]
    fn every_score_on_the_scale_has_exactly_one_segment() {
        let tally: Tally = (0..=10).map(|v| Score::new(v).unwrap().segment()).collect();
        assert_eq!(
            (tally.detractors, tally.passives, tally.promoters),
            (7, 2, 2)
        );
    }

    #[test]
    fn scores_off_the_scale_are_errors() {
        for value in [-1, 11, 255, i64::MIN, i64::MAX] {
            assert_eq!(Score::new(value), Err(ScoreOutOfRange), "score {value}");
        }
    }

    #[test]
    fn seed_example_sixty_twenty_twenty_is_forty() {
        let tally = Tally {
            promoters: 60,
            passives: 20,
            detractors: 20,
            silents: 0,
        };
        assert_eq!(tally.nps(), Some(40.0));
    }

    #[test]
    fn silents_do_not_move_the_score() {
        let tally = Tally {
            promoters: 60,
            passives: 20,
            detractors: 20,
            silents: 500,
        };
        assert_eq!(tally.nps(), Some(40.0));
        assert_eq!(tally.answers(), 100);
    }

    #[test]
    fn score_spans_minus_hundred_to_plus_hundred() {
        let all = |s: Segment| std::iter::repeat_n(s, 7).collect::<Tally>();
        assert_eq!(all(Segment::Promoter).nps(), Some(100.0));
        assert_eq!(all(Segment::Detractor).nps(), Some(-100.0));
        assert_eq!(all(Segment::Passive).nps(), Some(0.0));
    }

    #[test]
    fn nobody_answered_means_no_score_not_zero() {
        assert_eq!(Tally::default().nps(), None);
        let only_silent: Tally = [Segment::Silent, Segment::Silent].into_iter().collect();
        assert_eq!(only_silent.nps(), None);
    }

    #[test]
    fn segment_names_round_trip() {
        for segment in Segment::ALL {
            assert_eq!(Segment::parse(segment.as_str()), Some(segment));
        }
        assert_eq!(Segment::parse("Promoter"), None);
    }
}
