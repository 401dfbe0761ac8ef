//! The survey state machine: Asking → FollowUp(segment) → Thanks, or Silent.
//!
//! Each event returns the response to deliver, if any, so the browser layer only has to render
//! [`Survey::step`] and hand deliveries to the outbox. Time comes in as RFC 3339 text from the
//! caller's clock.

use crate::response::{Context, Response, SilentReason, State, User, SCHEMA_VERSION};
use crate::segment::{Score, Segment};
use alloc::{borrow::ToOwned, string::String};

/// What the card shows now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The 0–10 question.
    Asking,
    /// The follow-up written for this segment.
    FollowUp(Segment),
    /// The thank-you for this segment.
    Thanks(Segment),
    /// The card is gone: closed, answered and closed, or the person left.
    Closed,
}

/// One time a person was asked, from the card appearing to the last delivery.
#[derive(Debug, Clone)]
pub struct Survey {
    step: Step,
    response: Response,
}

impl Survey {
    /// A survey shown at `now`, under a fresh `id` (a UUID v4).
    pub fn new(id: String, survey_id: &str, user: User, context: Context, now: String) -> Survey {
        Survey {
            step: Step::Asking,
            response: Response {
                schema: SCHEMA_VERSION,
                id,
                survey_id: survey_id.to_owned(),
                score: None,
                segment: Segment::Silent,
                silent_reason: None,
                comment: None,
                contact_consent: None,
                referral_clicked: None,
                state: State::Partial,
                user,
                context,
                shown_at: now,
                answered_at: None,
                completed_at: None,
                survey_version: None,
            },
        }
    }

    /// The same survey, its responses naming the version of the definition it was shown
    /// from (`survey_url`).
    pub fn of_version(mut self, version: Option<u32>) -> Survey {
        self.response.survey_version = version;
        self
    }

    /// What to render.
    pub fn step(&self) -> Step {
        self.step
    }

    /// The response as it stands.
    pub fn response(&self) -> &Response {
        &self.response
    }

    /// Updates who is answering (after `identify`); the next delivery carries it.
    pub fn identify(&mut self, user: User) {
        self.response.user = user;
    }

    /// A score was chosen: classify, move to the follow-up, deliver `partial` at once so an
    /// abandoned follow-up loses nothing. Only while asking.
    pub fn choose(&mut self, score: Score, now: String) -> Option<&Response> {
        if self.step != Step::Asking {
            return None;
        }
        let segment = score.segment();
        self.response.score = Some(score.value());
        self.response.segment = segment;
        self.response.answered_at = Some(now);
        self.step = Step::FollowUp(segment);
        Some(&self.response)
    }

    /// The follow-up was sent. An empty comment is no comment; consent only counts for
    /// detractors, the only ones asked. ASCII spaces are trimmed here; the card also trims
    /// Unicode's (`String.prototype.trim`), which keeps core's Unicode tables out of the wasm.
    pub fn submit(&mut self, comment: &str, consent: bool, now: String) -> Option<&Response> {
        let Step::FollowUp(segment) = self.step else {
            return None;
        };
        let comment = comment.trim_ascii();
        if !comment.is_empty() {
            self.response.comment = Some(comment.to_owned());
        }
        if segment == Segment::Detractor {
            self.response.contact_consent = Some(consent);
        }
        Some(self.finish(segment, now))
    }

    /// The follow-up was skipped: still `complete`, without a comment.
    pub fn skip(&mut self, now: String) -> Option<&Response> {
        let Step::FollowUp(segment) = self.step else {
            return None;
        };
        Some(self.finish(segment, now))
    }

    fn finish(&mut self, segment: Segment, now: String) -> &Response {
        self.response.state = State::Complete;
        self.response.completed_at = Some(now);
        self.step = Step::Thanks(segment);
        &self.response
    }

    /// The promoter (or passive, where the site asks them too) followed the referral link:
    /// an update under the same id.
    pub fn referral_clicked(&mut self) -> Option<&Response> {
        if !matches!(
            self.step,
            Step::Thanks(Segment::Promoter) | Step::Thanks(Segment::Passive)
        ) {
            return None;
        }
        self.response.referral_clicked = Some(true);
        Some(&self.response)
    }

    /// The close button or Escape. Before a score that makes the person silent (`dismissed`);
    /// during the follow-up the partial already delivered stands, so nothing more is sent.
    pub fn close(&mut self, now: String) -> Option<&Response> {
        let was = self.step;
        self.step = Step::Closed;
        match was {
            Step::Asking => Some(self.silence(SilentReason::Dismissed, now)),
            _ => None,
        }
    }

    /// The page is being hidden or left while the card is shown: unanswered means silent
    /// (`ignored`). The card stays, in case the person comes back to it.
    pub fn leave(&mut self, now: String) -> Option<&Response> {
        if self.step != Step::Asking || self.response.silent_reason.is_some() {
            return None;
        }
        Some(self.silence(SilentReason::Ignored, now))
    }

    fn silence(&mut self, reason: SilentReason, now: String) -> &Response {
        self.response.segment = Segment::Silent;
        self.response.silent_reason = Some(reason);
        self.response.state = State::Complete;
        self.response.answered_at = Some(now.clone());
        self.response.completed_at = Some(now);
        &self.response
    }

    /// The person came back to a card they had left and answered after all: forget the
    /// `ignored` so the answer is delivered as a normal response under the same id.
    pub fn resume(&mut self) {
        if self.step == Step::Asking && self.response.silent_reason == Some(SilentReason::Ignored) {
            self.response.silent_reason = None;
            self.response.state = State::Partial;
            self.response.answered_at = None;
            self.response.completed_at = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn survey() -> Survey {
        Survey::new(
            crate::response::uuid_v4([1; 16]),
            "default",
            User::default(),
            Context {
                url: "https://example.com/".into(),
                locale: "en".into(),
                referrer: None,
            },
            "2026-11-23T10:00:00.000Z".into(),
        )
    }

    fn t(second: u8) -> String {
        let mut s = String::from("2026-11-23T10:00:00.000Z");
        s.replace_range(17..19, &format!("{second:02}"));
        s
    }

    fn score(v: i64) -> Score {
        Score::new(v).unwrap()
    }

    #[test]
    fn choosing_delivers_partial_and_asks_the_segment_follow_up() {
        for (value, segment) in [
            (0, Segment::Detractor),
            (6, Segment::Detractor),
            (7, Segment::Passive),
            (8, Segment::Passive),
            (9, Segment::Promoter),
            (10, Segment::Promoter),
        ] {
            let mut s = survey();
            let sent = s.choose(score(value), t(3)).unwrap();
            assert_eq!(sent.state, State::Partial);
            assert_eq!(sent.score, Some(value as u8));
            assert_eq!(sent.segment, segment);
            assert_eq!(sent.validate(), Ok(()));
            assert_eq!(s.step(), Step::FollowUp(segment));
        }
    }

    #[test]
    fn submitting_completes_under_the_same_id_with_the_comment() {
        let mut s = survey();
        let partial = s.choose(score(9), t(3)).unwrap().clone();
        let complete = s.submit("  Love the speed  ", false, t(9)).unwrap();
        assert_eq!(complete.id, partial.id);
        assert_eq!(complete.state, State::Complete);
        assert_eq!(complete.comment.as_deref(), Some("Love the speed"));
        assert_eq!(complete.contact_consent, None, "only detractors are asked");
        assert_eq!(complete.completed_at, Some(t(9)));
        assert_eq!(complete.validate(), Ok(()));
        assert_eq!(s.step(), Step::Thanks(Segment::Promoter));
    }

    #[test]
    fn detractor_consent_is_recorded_either_way() {
        let mut s = survey();
        s.choose(score(2), t(1));
        let sent = s.submit("", true, t(2)).unwrap();
        assert_eq!(sent.contact_consent, Some(true));
        assert_eq!(sent.comment, None, "blank comment is no comment");
    }

    #[test]
    fn skipping_completes_without_a_comment() {
        let mut s = survey();
        s.choose(score(7), t(1));
        let sent = s.skip(t(2)).unwrap();
        assert_eq!(sent.state, State::Complete);
        assert_eq!(sent.comment, None);
        assert_eq!(s.step(), Step::Thanks(Segment::Passive));
    }

    #[test]
    fn closing_before_a_score_is_silent_dismissed() {
        let mut s = survey();
        let sent = s.close(t(4)).unwrap();
        assert_eq!(sent.segment, Segment::Silent);
        assert_eq!(sent.silent_reason, Some(SilentReason::Dismissed));
        assert_eq!(sent.score, None);
        assert_eq!(sent.validate(), Ok(()));
        assert_eq!(s.step(), Step::Closed);
        assert_eq!(
            s.choose(score(5), t(5)),
            None,
            "a closed card takes no score"
        );
    }

    #[test]
    fn closing_during_the_follow_up_keeps_the_partial() {
        let mut s = survey();
        s.choose(score(8), t(1));
        assert_eq!(s.close(t(2)), None);
        assert_eq!(s.response().state, State::Partial);
        assert_eq!(s.response().segment, Segment::Passive);
    }

    #[test]
    fn leaving_unanswered_is_silent_ignored_once() {
        let mut s = survey();
        let sent = s.leave(t(4)).unwrap();
        assert_eq!(sent.silent_reason, Some(SilentReason::Ignored));
        assert_eq!(s.leave(t(5)), None, "one ignored per showing");
        assert_eq!(
            s.step(),
            Step::Asking,
            "the card stays for a returning visitor"
        );
    }

    #[test]
    fn coming_back_after_leaving_answers_normally() {
        let mut s = survey();
        s.leave(t(4));
        s.resume();
        let sent = s.choose(score(10), t(8)).unwrap();
        assert_eq!(sent.silent_reason, None);
        assert_eq!(sent.segment, Segment::Promoter);
        assert_eq!(sent.validate(), Ok(()));
    }

    #[test]
    fn leaving_after_answering_sends_nothing() {
        let mut s = survey();
        s.choose(score(3), t(1));
        assert_eq!(s.leave(t(2)), None);
    }

    #[test]
    fn referral_click_is_an_update_for_promoters_and_passives_not_detractors() {
        let mut s = survey();
        s.choose(score(10), t(1));
        assert_eq!(s.referral_clicked(), None, "not before the thanks");
        s.skip(t(2));
        let sent = s.referral_clicked().unwrap();
        assert_eq!(sent.referral_clicked, Some(true));
        assert_eq!(sent.state, State::Complete);

        let mut p = survey();
        p.choose(score(8), t(1));
        p.skip(t(2));
        assert_eq!(
            p.referral_clicked().map(|r| r.referral_clicked),
            Some(Some(true)),
            "a passive the site asks for a referral"
        );

        let mut d = survey();
        d.choose(score(1), t(1));
        d.skip(t(2));
        assert_eq!(d.referral_clicked(), None);
    }

    #[test]
    fn events_out_of_order_are_ignored() {
        let mut s = survey();
        assert_eq!(s.submit("x", false, t(1)), None);
        assert_eq!(s.skip(t(1)), None);
        s.choose(score(9), t(2));
        assert_eq!(s.choose(score(1), t(3)), None, "first choice stands");
        assert_eq!(s.response().score, Some(9));
    }
}
