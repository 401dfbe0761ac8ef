//! The types both sides of the collector share: what the store fills and the HTTP layer and
//! the reports read (rows, counts, filters), and the closed sets of names a query or a body
//! may use (segments, follow-up states, intervals, formats), each written once here. Kept in
//! one module so that no two modules import each other.

use nps_widget::segment::{Segment, Tally};
use serde::Serialize;
use time::{Date, OffsetDateTime};

/// A closed set of names read from a query or a body: the table is the one place its allowed
/// values are written; the error messages and the dashboard (through `/v1/choices`) read it.
pub trait Choice: Sized + Copy + 'static {
    /// The parameter's name in messages (`segment`).
    const NAME: &'static str;
    /// Every value with its name, in the order they are listed.
    const ALL: &'static [(&'static str, Self)];

    /// The value called `name`.
    fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The names, for the dashboard.
    fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|(n, _)| *n).collect()
    }

    /// `segment must be promoter, passive, detractor or silent`.
    fn expected() -> String {
        let names = Self::names();
        match names.split_last() {
            Some((last, [])) => format!("{} must be {last}", Self::NAME),
            Some((last, rest)) => format!("{} must be {} or {last}", Self::NAME, rest.join(", ")),
            None => format!("{} has no allowed value", Self::NAME),
        }
    }
}

/// Reads an optional [`Choice`] from a query or a body, refusing any other name with
/// [`Choice::expected`] as the message.
pub fn choice<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Choice,
{
    let name = <Option<String> as serde::Deserialize>::deserialize(d)?;
    match name {
        None => Ok(None),
        Some(name) => T::parse(&name)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(T::expected())),
    }
}

/// Like [`choice`], for a body key that changes something: absent is `None` (left as it is),
/// `null` is refused (there is no state "none" to set).
pub fn given_choice<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Choice,
{
    match choice(d)? {
        Some(value) => Ok(Some(value)),
        None => Err(serde::de::Error::custom(T::expected())),
    }
}

impl Choice for Segment {
    const NAME: &'static str = "segment";
    const ALL: &'static [(&'static str, Segment)] = &[
        ("promoter", Segment::Promoter),
        ("passive", Segment::Passive),
        ("detractor", Segment::Detractor),
        ("silent", Segment::Silent),
    ];
}

/// Where closing the loop on one response stands, in the order a response moves through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Nobody has acted on it yet.
    New,
    /// Someone reached out.
    Contacted,
    /// Closed: the problem is handled.
    Resolved,
    /// A promoter or passive was asked for a referral.
    ReferralAsked,
    /// Closed: they referred someone.
    Referred,
}

impl Choice for Status {
    const NAME: &'static str = "status";
    const ALL: &'static [(&'static str, Status)] = &[
        ("new", Status::New),
        ("contacted", Status::Contacted),
        ("resolved", Status::Resolved),
        ("referral_asked", Status::ReferralAsked),
        ("referred", Status::Referred),
    ];
}

impl Status {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        Status::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map_or("new", |(n, _)| n)
    }

    /// Only promoters and passives can be asked for a referral.
    pub fn is_referral(self) -> bool {
        matches!(self, Status::ReferralAsked | Status::Referred)
    }

    /// Closes the follow-up; every other state leaves it open.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Resolved | Status::Referred)
    }

    /// The states that close a follow-up, as SQL literals of our own constants.
    pub fn closed_sql() -> String {
        Status::ALL
            .iter()
            .filter(|(_, s)| s.is_closed())
            .map(|(n, _)| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The follow-up states a list can be narrowed to: one state, or every open one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Not resolved, not referred.
    Open,
    /// Exactly this state.
    Is(Status),
}

impl Choice for StatusFilter {
    const NAME: &'static str = "status";
    const ALL: &'static [(&'static str, StatusFilter)] = &[
        ("new", StatusFilter::Is(Status::New)),
        ("contacted", StatusFilter::Is(Status::Contacted)),
        ("resolved", StatusFilter::Is(Status::Resolved)),
        ("referral_asked", StatusFilter::Is(Status::ReferralAsked)),
        ("referred", StatusFilter::Is(Status::Referred)),
        ("open", StatusFilter::Open),
    ];
}

/// Trend buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// ISO weeks, named by their Monday (`2026-11-23`).
    Week,
    /// Calendar months (`2026-11`).
    Month,
}

impl Choice for Interval {
    const NAME: &'static str = "interval";
    const ALL: &'static [(&'static str, Interval)] =
        &[("week", Interval::Week), ("month", Interval::Month)];
}

impl Interval {
    /// `week` or `month`.
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Week => "week",
            Interval::Month => "month",
        }
    }
}

/// What a list is answered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// A JSON array (the default).
    #[default]
    Json,
    /// A CSV download (RFC 4180), for a spreadsheet or a CRM import.
    Csv,
}

impl Choice for Format {
    const NAME: &'static str = "format";
    const ALL: &'static [(&'static str, Format)] = &[("json", Format::Json), ("csv", Format::Csv)];
}

/// One end of a date range: a whole day, or an instant (converted to UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// `2026-11-01`: from the start of that UTC day.
    Day(Date),
    /// `2026-11-01T09:30:00+01:00`.
    Instant(OffsetDateTime),
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    /// A new response.
    Inserted,
    /// A later (or equal) state of a known response.
    Updated,
    /// An earlier state than the one stored: kept the stored one.
    Stale,
}

/// Which stored responses a query wants.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this survey.
    pub survey_id: Option<String>,
    /// Only this segment.
    pub segment: Option<Segment>,
    /// Shown at or after this.
    pub from: Option<Bound>,
    /// Shown before this (a day bound: before that day).
    pub to: Option<Bound>,
    /// At most this many, newest first.
    pub limit: i64,
    /// Keyset cursor: only responses after this `(shown_at, id)` in the newest-first order.
    pub after: Option<(String, String)>,
    /// Only responses whose follow-up is in this state.
    pub status: Option<StatusFilter>,
    /// Only this account's responses.
    pub account_id: Option<String>,
    /// Only responses whose follow-up this teammate owns.
    pub owner: Option<String>,
    /// Only responses to this version of their survey's definition.
    pub survey_version: Option<i64>,
    /// The internal people's responses instead (the lists only; no report counts them).
    pub internal: bool,
}

impl Filter {
    /// The same filter over every segment: what the reports that count per segment read.
    pub fn without_segment(&self) -> Filter {
        Filter {
            segment: None,
            ..self.clone()
        }
    }

    /// Whether a date bound (or a survey version) narrows it: the accounts' running totals
    /// cover all time and every version.
    pub fn has_dates(&self) -> bool {
        self.from.is_some() || self.to.is_some() || self.survey_version.is_some()
    }
}

/// One stored response, as the read API needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// Response id.
    pub id: String,
    /// Survey id.
    pub survey_id: String,
    /// 0–10, or `None` for silent responses.
    pub score: Option<i64>,
    /// `promoter`, `passive`, `detractor` or `silent`.
    pub segment: String,
    /// Why silent, if silent.
    pub silent_reason: Option<String>,
    /// The follow-up comment.
    pub comment: Option<String>,
    /// The detractor's consent to be contacted.
    pub contact_consent: Option<bool>,
    /// `partial` or `complete`.
    pub state: String,
    /// The site's user id.
    pub user_id: Option<String>,
    /// The site's account id.
    pub account_id: Option<String>,
    /// The user's email.
    pub email: Option<String>,
    /// When the card was shown (RFC 3339).
    pub shown_at: String,
    /// When the score (or the dismissal) came.
    pub answered_at: Option<String>,
    /// The JSON body as the widget sent it.
    pub body: String,
    /// Where closing the loop stands (notes filled by the store's `with_notes`).
    pub follow_up: FollowUp,
}

/// A response's follow-up: where closing the loop stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    /// `new` until someone changes it.
    pub status: Status,
    /// Who works on it (an email, a name).
    pub owner: Option<String>,
    /// When the state or owner last changed.
    pub updated_at: Option<String>,
    /// The teammate (their token's name) who changed it last.
    pub updated_by: Option<String>,
    /// Oldest first.
    pub notes: Vec<Note>,
}

impl Default for FollowUp {
    fn default() -> FollowUp {
        FollowUp {
            status: Status::New,
            owner: None,
            updated_at: None,
            updated_by: None,
            notes: Vec::new(),
        }
    }
}

/// One note on a follow-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The note.
    pub text: String,
    /// Who wrote it.
    pub author: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

/// One period of the trend, counted by the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodCounts {
    /// `2026-11-23` (the week's Monday) or `2026-11`.
    pub period: String,
    /// Responses shown in that period, per segment.
    pub tally: Tally,
}

/// One account's figures, counted by the database.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountCounts {
    /// The site's account id.
    pub account_id: String,
    /// That account's responses per segment.
    pub tally: Tally,
    /// When someone of this account last scored (or dismissed).
    pub last_answer_at: Option<String>,
    /// The newest comment from this account.
    pub latest_comment: Option<String>,
    /// The mean of its people's latest scores; `None` when nobody answered.
    pub mean_score: Option<f64>,
    /// People who answered (each counted once).
    pub people: u64,
    /// Its responses whose follow-up is open (not resolved, not referred).
    pub open_follow_ups: u64,
    /// Its record, when it has one.
    pub record: Option<AccountRecord>,
    /// In the upsell list: how far its ARR is below its plan's median, in cents.
    pub gap_cents: Option<f64>,
}

/// An account's record: what it is worth and who looks after it, imported from the CRM or
/// edited in the dashboard. ARR is kept in cents so sums of it are exact.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct AccountRecord {
    /// The name the team knows it by.
    pub name: Option<String>,
    /// Annual recurring revenue, in cents of the collector's currency.
    pub arr_cents: Option<i64>,
    /// Its plan (the upsell list compares accounts on the same one).
    pub plan: Option<String>,
    /// The teammate (or anyone) who owns it.
    pub owner: Option<String>,
    /// `YYYY-MM-DD`.
    pub renewal_on: Option<String>,
    /// Its record in the CRM (http or https).
    pub crm_url: Option<String>,
    /// Anything else, as a JSON object.
    pub traits: Option<serde_json::Value>,
}

/// One person of an account, in `GET /v1/accounts/{id}/people`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountPerson {
    /// The site's user id (`null` for an anonymous response, counted as its own person).
    pub user_id: Option<String>,
    /// Their email, if the site said.
    pub email: Option<String>,
    /// Their role (the `--role-trait` user trait), if the site said.
    pub role: Option<String>,
    /// Their latest score; `null` when they never answered.
    pub score: Option<i64>,
    /// The segment of that score, or `silent`.
    pub segment: String,
    /// When they were last shown the card.
    pub last_asked_at: String,
    /// When they last scored.
    pub last_answered_at: Option<String>,
    /// Asked and never answered.
    pub silent: bool,
    /// A promoter who answered in the last 180 days: someone to ask for a reference.
    pub reference: bool,
}

/// A referral followed from the ask to the deal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Referral {
    /// Its number.
    pub id: i64,
    /// The response of the person who referred.
    pub response_id: String,
    /// That response's survey.
    pub survey_id: String,
    /// Their account.
    pub account_id: Option<String>,
    /// `promoter` or `passive`.
    pub referrer_segment: String,
    /// Their user id.
    pub referrer_user_id: Option<String>,
    /// Their email.
    pub referrer_email: Option<String>,
    /// Who was referred.
    pub name: String,
    /// Their company.
    pub company: Option<String>,
    /// Their email.
    pub email: Option<String>,
    /// Anything else.
    pub note: Option<String>,
    /// Where it stands.
    pub status: ReferralStatus,
    /// The won deal's value, in the collector's currency.
    pub value: Option<f64>,
    /// The deal in the CRM.
    pub crm_url: Option<String>,
    /// When it was recorded, and by whom.
    pub created_at: String,
    /// The teammate who recorded it.
    pub created_by: String,
    /// When it last changed.
    pub updated_at: String,
    /// The teammate who changed it last.
    pub updated_by: String,
}

/// One segment's referral funnel, counted by the database.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FunnelCounts {
    /// Follow-ups that reached `referral_asked` (or `referred`).
    pub asked: u64,
    /// Responses whose referral link was clicked.
    pub clicked: u64,
    /// Referrals recorded.
    pub referrals: u64,
    /// Those that became an opportunity (or went further).
    pub opportunities: u64,
    /// Those won.
    pub won: u64,
    /// Their value, in cents.
    pub won_value_cents: i64,
    /// The people of the segment in the period.
    pub people: u64,
}

/// A note on the trend: a day or a range, for everything or one survey or account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    /// Its number.
    pub id: i64,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The last day of a range.
    pub end_date: Option<String>,
    /// What happened.
    pub text: String,
    /// Only this survey's trend (`null`: every survey).
    pub survey_id: Option<String>,
    /// Only this account (`null`: every account).
    pub account_id: Option<String>,
    /// The teammate who wrote it.
    pub author: String,
    /// When.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

/// How the accounts list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccountSort {
    /// Lowest NPS first (the default: who needs help).
    #[default]
    Nps,
    /// Largest ARR first.
    Arr,
    /// Soonest renewal first.
    RenewalOn,
}

impl Choice for AccountSort {
    const NAME: &'static str = "sort";
    const ALL: &'static [(&'static str, AccountSort)] = &[
        ("nps", AccountSort::Nps),
        ("arr", AccountSort::Arr),
        ("renewal_on", AccountSort::RenewalOn),
    ];
}

/// A list of accounts worth a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opportunity {
    /// Promoter and passive accounts paying less than the median of their plan.
    Upsell,
}

impl Choice for Opportunity {
    const NAME: &'static str = "opportunity";
    const ALL: &'static [(&'static str, Opportunity)] = &[("upsell", Opportunity::Upsell)];
}

/// What narrows and orders the accounts list besides the responses' [`Filter`].
#[derive(Debug, Clone, Default)]
pub struct AccountQuery {
    /// Only the accounts in this segment (the account's own).
    pub segment: Option<Segment>,
    /// Only the accounts this person owns.
    pub owner: Option<String>,
    /// Only the accounts on this plan.
    pub plan: Option<String>,
    /// Only the accounts renewing before this day (`YYYY-MM-DD`).
    pub renewal_before: Option<String>,
    /// The order.
    pub sort: AccountSort,
    /// The upsell list instead (its own order: the largest gap first).
    pub opportunity: Option<Opportunity>,
}

/// Where a referral stands, from the ask to the deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    /// Someone was named.
    Referred,
    /// It became an opportunity in the pipeline.
    Opportunity,
    /// The deal was won (with its value).
    Won,
    /// The deal was lost.
    Lost,
}

impl Choice for ReferralStatus {
    const NAME: &'static str = "status";
    const ALL: &'static [(&'static str, ReferralStatus)] = &[
        ("referred", ReferralStatus::Referred),
        ("opportunity", ReferralStatus::Opportunity),
        ("won", ReferralStatus::Won),
        ("lost", ReferralStatus::Lost),
    ];
}

impl ReferralStatus {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map_or("referred", |(n, _)| n)
    }

    /// How far along the funnel this state is (a lost deal keeps the stage it reached).
    pub fn stage(self) -> Option<i64> {
        match self {
            ReferralStatus::Referred => Some(1),
            ReferralStatus::Opportunity => Some(2),
            ReferralStatus::Won => Some(3),
            ReferralStatus::Lost => None,
        }
    }
}

/// One segment's accounts and their ARR (cents).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SegmentMoney {
    /// Accounts whose segment is this one.
    pub accounts: u64,
    /// Their ARR, in cents (accounts without a record count 0).
    pub arr_cents: i64,
}

/// What the revenue report is made of, counted by the database.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RevenueCounts {
    /// Accounts with a record.
    pub accounts: u64,
    /// Their ARR, in cents.
    pub total_arr_cents: i64,
    /// Promoters, passives, detractors, silent: each segment's accounts and ARR.
    pub by_segment: [SegmentMoney; 4],
    /// Σ ARR × account NPS over the accounts that answered and have an ARR (cents × points).
    pub weighted_sum: f64,
    /// Σ ARR of those accounts, in cents.
    pub weighted_arr_cents: i64,
}

/// A stored change waiting to be forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// Queue position.
    pub seq: i64,
    /// The response this change is of.
    pub response_id: String,
    /// The response body as stored.
    pub body: String,
    /// Failed attempts so far.
    pub attempts: i64,
    /// Not before this time (ms since the epoch).
    pub next_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_list_the_allowed_values_from_the_table() {
        assert_eq!(
            Segment::expected(),
            "segment must be promoter, passive, detractor or silent"
        );
        assert_eq!(
            Status::expected(),
            "status must be new, contacted, resolved, referral_asked or referred"
        );
        assert_eq!(
            StatusFilter::expected(),
            "status must be new, contacted, resolved, referral_asked, referred or open"
        );
        assert_eq!(Interval::expected(), "interval must be week or month");
        assert_eq!(Format::expected(), "format must be json or csv");
    }

    #[test]
    fn names_parse_back_to_their_values() {
        for (name, status) in Status::ALL {
            assert_eq!(Status::parse(name), Some(*status));
            assert_eq!(status.as_str(), *name);
        }
        assert_eq!(Status::parse("called"), None);
        assert_eq!(Status::closed_sql(), "'resolved', 'referred'");
    }
}

/// One queued CRM change: an account, a person or an answer, at the version read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrmChange {
    /// `account`, `person` or `response`.
    pub kind: String,
    /// The account id, the user id or the response id.
    pub item: String,
    /// Changes of the item so far; the row is removed only at the version sent.
    pub version: i64,
    /// Sends that failed.
    pub attempts: i64,
}

/// What the CRM's company or account record gets.
#[derive(Debug, Clone, PartialEq)]
pub struct CrmAccount {
    /// The widget's account id.
    pub account_id: String,
    /// The record's name, if it has one.
    pub name: Option<String>,
    /// The account's NPS over all time, one decimal; `None` before an answer.
    pub nps: Option<f64>,
    /// `promoter`, `passive`, `detractor` or `silent`, by its people's mean score.
    pub segment: &'static str,
    /// People whose latest score counts in its mean.
    pub people: i64,
    /// When its latest answer came.
    pub last_response_at: Option<String>,
    /// Its responses whose follow-up is not closed.
    pub open_follow_ups: i64,
}

/// A person's latest answer, for the CRM's contact; also one answer, for its history record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrmAnswer {
    /// The response's id.
    pub response_id: String,
    /// The site's user id.
    pub user_id: Option<String>,
    /// Their email, if the site said.
    pub email: Option<String>,
    /// Their account, if any.
    pub account_id: Option<String>,
    /// 0–10.
    pub score: i64,
    /// `promoter`, `passive` or `detractor`.
    pub segment: String,
    /// What they wrote, if anything.
    pub comment: Option<String>,
    /// When it was answered (or shown, for an answer without the time).
    pub answered_at: String,
}

/// The sync's state, for `/v1/crm`, `/metrics` and `/readyz`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CrmStatus {
    /// Changes waiting to be sent.
    pub backlog: i64,
    /// Items the CRM refused, each with its answer, not retried until they change again.
    pub refused: i64,
    /// When the last send went through.
    pub last_success_at: Option<String>,
    /// The last failure or refusal, in the CRM's words.
    pub last_error: Option<String>,
    /// When that was.
    pub last_error_at: Option<String>,
    /// The first refused items, newest change first.
    pub refused_items: Vec<CrmRefused>,
}

/// An item the CRM refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrmRefused {
    /// `account`, `person` or `response`.
    pub kind: String,
    /// Its id.
    pub item: String,
    /// The CRM's answer.
    pub error: String,
}
