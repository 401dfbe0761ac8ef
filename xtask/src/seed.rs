//! The demo's sample B2B base, sent through the collector's own API as a team would send it:
//! the accounts imported from a CRM export (`www/demo-accounts.csv`, HubSpot's company export
//! headers) by `POST /v1/accounts/import`, the people of those accounts answering through
//! `POST /v1/responses` over the last 90 days (roles, promoters, passives, detractors and
//! silent people, about a quarter with a comment written so the themes group), follow-ups
//! worked, referrals at every stage, and two notes on the trend.
//!
//! Deterministic: one fixed seed drives every choice, and every date is a number of days
//! before today, so a run on another day is the same base moved forward. Idempotent: a
//! database that already has the base (its first note is there) is left as it is, so what
//! the team changed in the dashboard stays; a run cut off half-way is completed, each step
//! an upsert or skipped when its result is already there.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use nps_widget::response::uuid_v4;
use serde_json::{json, Value};
use time::macros::{date, format_description};
use time::{Date, OffsetDateTime};

use crate::{root, Result};

/// `--referral-value` the demo starts the collector with: the average of the sample's two
/// won referrals, so the passives' themes are priced as the base's own deals are.
pub(crate) const REFERRAL_VALUE: &str = "36000";

/// The sample's CRM export, beside the demo page's survey.
pub(crate) const ACCOUNTS_CSV: &str = "www/demo-accounts.csv";

/// How the people of an account answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mood {
    /// Mostly 9s and 10s.
    Promoter,
    /// Mostly 7s and 8s.
    Passive,
    /// Mostly 6 and below.
    Detractor,
    /// Asked, and nobody answered.
    Silent,
    /// Never asked: the part of the revenue base the survey has not reached.
    Unasked,
}

/// Each account of the export (by its Record ID): how its people answer and how many people
/// it has. The CRM export says what the account is worth; this says what it thinks.
const BASE: &[(&str, Mood, usize)] = &[
    ("18302456701", Mood::Promoter, 3),
    ("18302456702", Mood::Passive, 6),
    ("18302456703", Mood::Promoter, 3),
    ("18302456704", Mood::Detractor, 9),
    ("18302456705", Mood::Detractor, 4),
    ("18302456706", Mood::Silent, 3),
    ("18302456707", Mood::Promoter, 5),
    ("18302456708", Mood::Passive, 9),
    ("18302456709", Mood::Promoter, 4),
    ("18302456710", Mood::Promoter, 8),
    ("18302456711", Mood::Passive, 3),
    ("18302456712", Mood::Detractor, 7),
    ("18302456713", Mood::Unasked, 3),
    ("18302456714", Mood::Passive, 5),
    ("18302456715", Mood::Promoter, 9),
    ("18302456716", Mood::Promoter, 6),
    ("18302456717", Mood::Detractor, 9),
    ("18302456718", Mood::Detractor, 3),
    ("18302456719", Mood::Silent, 4),
    ("18302456720", Mood::Passive, 6),
    ("18302456721", Mood::Passive, 8),
    ("18302456722", Mood::Unasked, 5),
    ("18302456723", Mood::Promoter, 5),
    ("18302456724", Mood::Passive, 8),
    ("18302456725", Mood::Passive, 3),
    ("18302456726", Mood::Silent, 7),
    ("18302456727", Mood::Promoter, 3),
    ("18302456728", Mood::Detractor, 5),
    ("18302456729", Mood::Promoter, 6),
    ("18302456730", Mood::Unasked, 6),
];

/// The scores each mood's people give, drawn from.
const PROMOTER_SCORES: &[u8] = &[10, 9, 10, 9, 8, 10, 9, 7, 10];
const PASSIVE_SCORES: &[u8] = &[8, 7, 8, 9, 7, 6, 8, 10, 7];
const DETRACTOR_SCORES: &[u8] = &[3, 6, 5, 2, 6, 4, 7, 5, 8, 0];

const FIRST_NAMES: &[&str] = &[
    "Avery", "Blake", "Carmen", "Devon", "Elena", "Farah", "Gabriel", "Hana", "Isaac", "Jonas",
    "Kira", "Liam", "Maya", "Nikhil", "Olivia", "Pablo", "Quinn", "Rosa", "Samir", "Tessa", "Umar",
    "Vera", "Wes", "Ximena", "Yusuf", "Zoe", "Amara", "Bruno", "Chloe", "Dmitri", "Esme", "Felix",
    "Greta", "Hugo", "Ines", "Jade", "Kofi", "Lena", "Mateo", "Nora", "Oscar",
];
const LAST_NAMES: &[&str] = &[
    "Chen",
    "Okafor",
    "Lindqvist",
    "Patel",
    "Moreau",
    "Haddad",
    "Kowalski",
    "Tanaka",
    "Romero",
    "Fischer",
    "Nakamura",
    "Byrne",
    "Silva",
    "Novak",
    "Adeyemi",
    "Larsen",
    "Costa",
    "Ivanova",
    "Murphy",
    "Schmidt",
    "Rossi",
    "Dubois",
    "Kim",
    "Walsh",
    "Mensah",
    "Berg",
    "Alvarez",
    "Quinn",
    "Sato",
    "Horvat",
    "Nguyen",
    "Oyelaran",
    "Price",
    "Vasquez",
    "Weber",
    "Yilmaz",
    "Zhou",
];

/// The pages of the sample product people answered on.
const PAGES: &[&str] = &[
    "/dashboard",
    "/reports",
    "/accounts",
    "/settings/team",
    "/inbox",
];

/// What people wrote, by segment: a few suggestions each, said in several ways, so the
/// themes find them; a comment "on nothing shared" now and then, as real comments have.
/// Detractors' comments on speed fall in the outage's days and those on price after the
/// pricing change: the notes on the trend explain the comments beside them.
struct Topic {
    /// Days before today its comments fall in (inclusive), when it is tied to a note.
    days: Option<(i64, i64)>,
    texts: &'static [&'static str],
}

const SUPPORT: Topic = Topic {
    days: None,
    texts: &[
        "Support is superb: a real person answers within the hour",
        "The support team fixed our setup the same day",
        "Great support, they walked us through SSO on one call",
        "Support always knows the product better than we do",
        "Fast, friendly support every time we ask",
        "Their support team feels like part of ours",
    ],
};
const EASY: Topic = Topic {
    days: None,
    texts: &[
        "Easy to set up: the whole team was using it in a day",
        "So easy to use that nobody needed training",
        "Easy to roll out to new hires",
        "Setting it up was easy, even for our non-technical staff",
        "Easy enough that our managers open it every Monday",
    ],
};
const INTEGRATIONS: Topic = Topic {
    days: None,
    texts: &[
        "A Salesforce integration would make it a 10",
        "Integration with Slack so alerts land in our channel",
        "We need a HubSpot integration to stop copying data by hand",
        "An integration with Microsoft Teams for the sales floor",
        "Better Salesforce integration: custom fields never sync",
        "A Jira integration for the engineering side",
        "Integrations with our CRM are the one thing missing",
    ],
};
const EXPORTS: Topic = Topic {
    days: None,
    texts: &[
        "Scheduled exports to our BI tool",
        "Export the charts as PDF for the board",
        "Let us export to Excel without reformatting",
        "Exports should keep our custom columns",
        "An export of the raw data for our analysts",
    ],
};
const PRICING: Topic = Topic {
    days: Some((1, 45)),
    texts: &[
        "The new pricing doubled our bill at renewal",
        "Too expensive since the price change, for a team our size",
        "Per-seat pricing punishes occasional users",
        "The price went up 30% and nothing else changed",
        "Pricing is now out of our budget",
        "We pay more for the same features since the pricing change",
    ],
};
const SLOW: Topic = Topic {
    days: Some((18, 24)),
    texts: &[
        "Dashboards were slow for days after the outage",
        "Everything is slow in the morning, pages take a minute",
        "Slow search makes it useless on customer calls",
        "The outage cost us a day and it is still slow",
        "Too slow to load with our data volume",
    ],
};
const IMPORT: Topic = Topic {
    days: None,
    texts: &[
        "The CSV import keeps failing on large files",
        "Import errors with no word on which row is wrong",
        "Our nightly import from the warehouse breaks every week",
        "Importing contacts duplicates half of them",
    ],
};
const PROMOTER_OTHER: Topic = Topic {
    days: None,
    texts: &["Keep doing what you do", "Nothing to add, thank you"],
};
const PASSIVE_OTHER: Topic = Topic {
    days: None,
    texts: &["Fine overall", "Good value, no complaints"],
};
const DETRACTOR_OTHER: Topic = Topic {
    days: None,
    texts: &["Not what we were promised", "Disappointed this year"],
};

/// The order each segment's comments take their topic in: the first topic is the most said.
const PROMOTER_TOPICS: &[&Topic] = &[
    &SUPPORT,
    &EASY,
    &SUPPORT,
    &EASY,
    &SUPPORT,
    &EASY,
    &PROMOTER_OTHER,
];
const PASSIVE_TOPICS: &[&Topic] = &[
    &INTEGRATIONS,
    &EXPORTS,
    &INTEGRATIONS,
    &INTEGRATIONS,
    &EXPORTS,
    &PASSIVE_OTHER,
];
const DETRACTOR_TOPICS: &[&Topic] = &[
    &PRICING,
    &SLOW,
    &IMPORT,
    &PRICING,
    &SLOW,
    &PRICING,
    &DETRACTOR_OTHER,
];

/// The people referred, in the order referrals are recorded, and how far each got.
const REFERRALS: &[(&str, &str, &str, Stage)] = &[
    (
        "Jordan Blake",
        "Northgate Logistics",
        "Runs operations; evaluating survey tools this quarter",
        Stage::Won(30000.0),
    ),
    (
        "Amelia Ortiz",
        "Sunbeam Clinics",
        "Their patient team needs feedback by account",
        Stage::Won(42000.0),
    ),
    (
        "Ravi Menon",
        "Copperleaf Software",
        "Met at the user group; asked for a demo",
        Stage::Opportunity,
    ),
    (
        "Hannah Vogel",
        "Brightwater Labs",
        "Head of customer success, moving off spreadsheets",
        Stage::Opportunity,
    ),
    (
        "Tomás Ruiz",
        "Silverline Hotels",
        "Chose a cheaper tool in the end",
        Stage::Lost,
    ),
    (
        "Grace Liu",
        "Fernhill Retail",
        "Former colleague, call after their budget round",
        Stage::Referred,
    ),
    (
        "Owen Price",
        "Bayside Credit Union",
        "Wants the referral programme details",
        Stage::Referred,
    ),
    (
        "Sofia Marin",
        "Clearpath Travel",
        "A passive's tip: their CX lead is hiring",
        Stage::Opportunity,
    ),
];

/// How far a referral got.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    Referred,
    Opportunity,
    Won(f64),
    Lost,
}

/// The notes on the trend: what happened to the business when the score moved. The first is
/// the mark that the base is in a database.
fn annotations(today: i64) -> [Value; 2] {
    [
        json!({
            "date": day(today - 46),
            "text": "Pricing change: Starter and Growth move to per-seat prices",
        }),
        json!({
            "date": day(today - 21),
            "end_date": day(today - 19),
            "text": "Outage: dashboards slow or down in the EU region",
        }),
    ]
}

/// Notes the team wrote on the detractors it called, in order.
const NOTES: &[&str] = &[
    "Called them: walked through the per-seat prices, sending a quote for annual billing",
    "Apologised for the outage; they want a status page they can subscribe to",
    "Import fixed on our side, they confirmed the nightly job runs again",
];

/// A fixed sequence from a fixed seed (splitmix64): the same sample on every run.
pub(crate) struct Dice(u64);

impl Dice {
    pub(crate) fn new(seed: u64) -> Dice {
        Dice(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0 to `n - 1`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// `low` to `high`, both included.
    fn within(&mut self, low: i64, high: i64) -> i64 {
        low + self.below((high - low + 1) as u64) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    fn uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next().to_le_bytes());
        uuid_v4(bytes)
    }
}

/// Days since 1970-01-01 of a date.
fn days_of(date: Date) -> i64 {
    (date - date!(1970 - 01 - 01)).whole_days()
}

/// The date a number of days after 1970-01-01.
fn date_of(days: i64) -> Date {
    date!(1970 - 01 - 01) + time::Duration::days(days)
}

/// `YYYY-MM-DD`.
fn day(days: i64) -> String {
    date_of(days).to_string()
}

/// `YYYY-MM-DDTHH:MM:SS.000Z`, as the widget writes it.
fn timestamp(days: i64, seconds: i64) -> String {
    let at = date_of(days).midnight().assume_utc() + time::Duration::seconds(seconds);
    at.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].000Z"
    ))
    .unwrap_or_default()
}

/// Today (UTC), in days since 1970-01-01.
fn today() -> i64 {
    days_of(OffsetDateTime::now_utc().date())
}

/// A yearly renewal date moved to its next anniversary on or after `today`: a renewal the
/// file dates in the past has renewed since, for another year (29 February renews on the
/// 28th in a year without it). Other text as it is.
fn next_renewal(text: &str, today: i64) -> String {
    let Ok(renewal) = Date::parse(text, format_description!("[year]-[month]-[day]")) else {
        return text.to_owned();
    };
    let mut year = renewal.year();
    loop {
        let on = Date::from_calendar_date(year, renewal.month(), renewal.day())
            .or_else(|_| Date::from_calendar_date(year, renewal.month(), 28));
        match on {
            Ok(on) if days_of(on) >= today => return on.to_string(),
            Ok(_) => year += 1,
            Err(_) => return text.to_owned(),
        }
    }
}

/// A CSV file as a CRM writes it (quoted cells, `""` for a quote, no line breaks in cells):
/// its rows of cells.
fn read_csv(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let mut cells = Vec::new();
            let mut cell = String::new();
            let mut quoted = false;
            let mut chars = line.trim_end_matches('\r').chars().peekable();
            while let Some(c) = chars.next() {
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        cell.push('"');
                        chars.next();
                    }
                    ('"', _) => quoted = !quoted,
                    (',', false) => cells.push(std::mem::take(&mut cell)),
                    (c, _) => cell.push(c),
                }
            }
            cells.push(cell);
            cells
        })
        .collect()
}

/// Rows back into CSV, every cell quoted (as HubSpot exports).
fn write_csv(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// An account of the sample, from its export row and [`BASE`].
#[derive(Debug, Clone)]
struct Account {
    id: String,
    domain: String,
    owner: String,
    locale: &'static str,
    mood: Mood,
    people: usize,
}

/// The export as it is imported (renewals at their next anniversary), and its accounts.
fn accounts(csv: &str, today: i64) -> Result<(String, Vec<Account>)> {
    let mut rows = read_csv(csv);
    let header = rows.first().cloned().ok_or("the export is empty")?;
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("{ACCOUNTS_CSV}: no column {name:?}"))
    };
    let (id, domain, owner, renewal, country) = (
        column("Record ID")?,
        column("Company Domain Name")?,
        column("Company owner")?,
        column("Renewal Date")?,
        column("Country/Region")?,
    );
    let mut found = Vec::new();
    for row in rows.iter_mut().skip(1) {
        if row.len() != header.len() {
            return Err(format!("{ACCOUNTS_CSV}: a row of {} cells", row.len()));
        }
        row[renewal] = next_renewal(&row[renewal], today);
        let &(_, mood, people) = BASE
            .iter()
            .find(|(known, _, _)| *known == row[id])
            .ok_or_else(|| format!("{ACCOUNTS_CSV}: account {} is not in BASE", row[id]))?;
        found.push(Account {
            id: row[id].clone(),
            domain: row[domain].clone(),
            owner: row[owner].clone(),
            locale: if row[country] == "United Kingdom" {
                "en-GB"
            } else {
                "en-US"
            },
            mood,
            people,
        });
    }
    if found.len() != BASE.len() {
        return Err(format!(
            "{ACCOUNTS_CSV} has {} accounts, BASE {}",
            found.len(),
            BASE.len()
        ));
    }
    Ok((write_csv(&rows), found))
}

/// One response of the sample.
#[derive(Debug, Clone)]
struct Answer {
    id: String,
    /// The index of its account.
    account: usize,
    segment: &'static str,
    role: &'static str,
    /// Its person's latest response.
    latest: bool,
    comment: bool,
    body: Value,
}

/// A role per person of an account of `n`: a quarter decision makers, a third influencers,
/// the rest users (at least one of each where there are three).
fn role(i: usize, n: usize) -> &'static str {
    let deciders = (n / 4).max(1);
    let influencers = (n / 3).max(1);
    if i < deciders {
        "decision_maker"
    } else if i < deciders + influencers {
        "influencer"
    } else {
        "user"
    }
}

/// Every response of the sample, in the order they are posted.
fn answers(accounts: &[Account], survey: &str, today: i64) -> Vec<Answer> {
    let mut dice = Dice::new(0x4E50_535F_4445_4D4F);
    let mut turns: HashMap<&'static str, usize> = HashMap::new();
    // Per topic (by its first text), the comments said so far.
    let mut said: HashMap<&'static str, usize> = HashMap::new();
    let mut out = Vec::new();
    for (a, account) in accounts.iter().enumerate() {
        if account.mood == Mood::Unasked {
            continue;
        }
        for i in 0..account.people {
            let first = FIRST_NAMES[(a * 7 + i * 3) % FIRST_NAMES.len()];
            let last = LAST_NAMES[(a * 5 + i * 11) % LAST_NAMES.len()];
            let person = Person {
                user_id: format!("usr_{}{:02}", &account.id[account.id.len() - 2..], i + 1),
                email: format!(
                    "{}.{}@{}",
                    first.to_lowercase(),
                    last.to_lowercase(),
                    account.domain
                ),
                role: role(i, account.people),
            };
            let silent = account.mood == Mood::Silent || dice.chance(10);
            let twice = !silent && dice.chance(25);
            if twice {
                let score = score_of(account.mood, &mut dice);
                let days = dice.within(60, 89);
                out.push(answer(
                    &mut dice,
                    account,
                    a,
                    &person,
                    survey,
                    today,
                    days,
                    Some(score),
                    None,
                    false,
                ));
            }
            let last_day = if twice { 59 } else { 89 };
            if silent {
                let days = dice.within(1, last_day);
                out.push(answer(
                    &mut dice, account, a, &person, survey, today, days, None, None, true,
                ));
                continue;
            }
            let score = score_of(account.mood, &mut dice);
            let (segment, topics, percent) = match score {
                9..=10 => ("promoter", PROMOTER_TOPICS, 20),
                7..=8 => ("passive", PASSIVE_TOPICS, 45),
                _ => ("detractor", DETRACTOR_TOPICS, 60),
            };
            let mut comment = None;
            let mut days = dice.within(1, last_day);
            if dice.chance(percent) {
                let turn = turns.entry(segment).or_default();
                let topic = topics[*turn % topics.len()];
                *turn += 1;
                let n = said.entry(topic.texts[0]).or_default();
                comment = Some(topic.texts[*n % topic.texts.len()]);
                *n += 1;
                if let Some((low, high)) = topic.days {
                    days = dice.within(low, high.min(last_day));
                }
            }
            out.push(answer(
                &mut dice,
                account,
                a,
                &person,
                survey,
                today,
                days,
                Some(score),
                comment,
                true,
            ));
        }
    }
    out
}

struct Person {
    user_id: String,
    email: String,
    role: &'static str,
}

fn score_of(mood: Mood, dice: &mut Dice) -> u8 {
    dice.pick(match mood {
        Mood::Promoter => PROMOTER_SCORES,
        Mood::Passive => PASSIVE_SCORES,
        _ => DETRACTOR_SCORES,
    })
}

/// One response body, as the widget would post it.
#[allow(clippy::too_many_arguments)]
fn answer(
    dice: &mut Dice,
    account: &Account,
    index: usize,
    person: &Person,
    survey: &str,
    today: i64,
    days: i64,
    score: Option<u8>,
    comment: Option<&str>,
    latest: bool,
) -> Answer {
    let id = dice.uuid();
    let shown = dice.within(8 * 3600, 18 * 3600);
    let page = dice.pick(PAGES);
    let segment = match score {
        None => "silent",
        Some(9..=10) => "promoter",
        Some(7..=8) => "passive",
        Some(_) => "detractor",
    };
    let mut body = json!({
        "schema": 1,
        "id": id,
        "survey_id": survey,
        "score": score,
        "segment": segment,
        "state": "complete",
        "user": {
            "id": person.user_id,
            "account_id": account.id,
            "email": person.email,
            "traits": {"role": person.role},
        },
        "context": {
            "url": format!("https://app.acme-analytics.example{page}"),
            "locale": account.locale,
        },
        "shown_at": timestamp(today - days, shown),
    });
    let object = body.as_object_mut().expect("an object");
    match score {
        None => {
            let reason = dice.pick(&["ignored", "dismissed"]);
            object.insert("silent_reason".into(), reason.into());
        }
        Some(_) => {
            let answered = shown + dice.within(3, 40);
            object.insert(
                "answered_at".into(),
                timestamp(today - days, answered).into(),
            );
            object.insert(
                "completed_at".into(),
                timestamp(today - days, answered + dice.within(8, 90)).into(),
            );
            if let Some(text) = comment {
                object.insert("comment".into(), text.into());
            }
            if segment == "detractor" && comment.is_some() {
                object.insert("contact_consent".into(), dice.chance(70).into());
            }
            if segment == "promoter" && dice.chance(30) {
                object.insert("referral_clicked".into(), true.into());
            }
        }
    }
    Answer {
        id,
        account: index,
        segment,
        role: person.role,
        latest,
        comment: comment.is_some(),
        body,
    }
}

/// The collector's API, as a teammate's script calls it.
pub(crate) struct Api {
    agent: ureq::Agent,
    base: String,
    bearer: String,
}

impl Api {
    pub(crate) fn new(base: &str, token: &str) -> Api {
        Api {
            agent: ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(10)))
                .http_status_as_error(false)
                .build()
                .into(),
            base: base.trim_end_matches('/').to_owned(),
            bearer: format!("Bearer {token}"),
        }
    }

    /// Waits until the collector answers its health check (30 s at most).
    pub(crate) fn wait(&self) -> Result {
        let started = Instant::now();
        while self
            .agent
            .get(format!("{}/healthz", self.base))
            .call()
            .is_err()
        {
            if started.elapsed() > Duration::from_secs(30) {
                return Err(format!(
                    "the collector did not answer at {} within 30 s",
                    self.base
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    }

    /// One request: its status and its JSON (`null` for no body). A 429 (the ingest's rate
    /// limit) is waited out and sent again.
    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, &str)>,
    ) -> Result<(u16, Value)> {
        let url = format!("{}{path}", self.base);
        let failed = |e: &dyn std::fmt::Display| format!("{method} {path}: {e}");
        let mut attempts = 0;
        loop {
            let request = ureq::http::Request::builder()
                .method(method)
                .uri(&url)
                .header("Authorization", &self.bearer);
            let sent = match body {
                Some((kind, text)) => self.agent.run(
                    request
                        .header("Content-Type", kind)
                        .body(text)
                        .map_err(|e| failed(&e))?,
                ),
                None => self.agent.run(request.body(()).map_err(|e| failed(&e))?),
            };
            let mut response = sent.map_err(|e| failed(&e))?;
            let status = response.status().as_u16();
            if status == 429 && attempts < 10 {
                attempts += 1;
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(1);
                std::thread::sleep(Duration::from_secs(wait.min(10)));
                continue;
            }
            let text = response
                .body_mut()
                .read_to_string()
                .map_err(|e| failed(&e))?;
            let value = if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            };
            return Ok((status, value));
        }
    }

    /// A request that must answer one of `ok`; its JSON.
    pub(crate) fn expect(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, &str)>,
        ok: &[u16],
    ) -> Result<Value> {
        let (status, value) = self.call(method, path, body)?;
        if ok.contains(&status) {
            Ok(value)
        } else {
            Err(format!("{method} {path}: {status} {value}"))
        }
    }

    pub(crate) fn get(&self, path: &str) -> Result<Value> {
        self.expect("GET", path, None, &[200])
    }

    /// A JSON body that must answer one of `ok`.
    pub(crate) fn send(&self, method: &str, path: &str, body: &Value, ok: &[u16]) -> Result<Value> {
        let text = body.to_string();
        self.expect(method, path, Some(("application/json", &text)), ok)
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seeded {
    /// The database already had the base: nothing was changed.
    Already,
    /// The base was sent (or completed).
    Done {
        /// The import's answer: created, updated, unchanged.
        imported: (u64, u64, u64),
        accounts: usize,
        people: usize,
        responses: usize,
        comments: usize,
        follow_ups: usize,
        notes: usize,
        referrals: usize,
        annotations: usize,
    },
}

impl std::fmt::Display for Seeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Seeded::Already => write!(
                f,
                "the sample data is already in this database: left as it is"
            ),
            Seeded::Done {
                imported: (created, updated, unchanged),
                accounts,
                people,
                responses,
                comments,
                follow_ups,
                notes,
                referrals,
                annotations,
            } => write!(
                f,
                "sample data: {accounts} accounts imported from {ACCOUNTS_CSV} ({created} created, \
                 {updated} updated, {unchanged} unchanged), {responses} responses from {people} \
                 people ({comments} with a comment), {follow_ups} follow-ups worked ({notes} \
                 notes), {referrals} referrals, {annotations} notes on the trend"
            ),
        }
    }
}

/// Sends the sample base to the collector at `api` for survey `survey`, unless the database
/// has it already (`resume` sends it anyway, each step skipped where its result is there:
/// the path a run cut off half-way takes).
pub(crate) fn seed(api: &Api, survey: &str, resume: bool) -> Result<Seeded> {
    let today = today();
    let notes_on_trend = annotations(today);
    let marker = notes_on_trend[0]["text"].as_str().unwrap_or_default();
    let existing = api.get("/v1/annotations")?;
    let existing: HashSet<&str> = existing
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["text"].as_str())
        .collect();
    if existing.contains(marker) && !resume {
        return Ok(Seeded::Already);
    }

    // 1. The accounts, through the import a site owner uploads a CRM export to.
    let csv = std::fs::read_to_string(root().join(ACCOUNTS_CSV))
        .map_err(|e| format!("{ACCOUNTS_CSV}: {e}"))?;
    let (csv, accounts) = accounts(&csv, today)?;
    let done = api.expect(
        "POST",
        "/v1/accounts/import",
        Some(("text/csv", &csv)),
        &[200],
    )?;
    if done["errors"].as_array().is_some_and(|e| !e.is_empty()) {
        return Err(format!("the import refused rows of {ACCOUNTS_CSV}: {done}"));
    }
    let count = |key: &str| done[key].as_u64().unwrap_or(0);
    let imported = (count("created"), count("updated"), count("unchanged"));

    // 2. The responses, through the ingest the widget posts to, four at a time.
    let answers = answers(&accounts, survey, today);
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let answers = &answers;
                scope.spawn(move || {
                    answers
                        .iter()
                        .skip(w)
                        .step_by(4)
                        .filter_map(|a| {
                            api.send("POST", "/v1/responses", &a.body, &[200, 201])
                                .err()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|_| vec!["a worker panicked".into()])
            })
            .collect()
    });
    if let Some(first) = failures.first() {
        return Err(format!(
            "{} of {} responses were refused, the first: {first}",
            failures.len(),
            answers.len()
        ));
    }

    // 3. The follow-ups: detractors called (some resolved, with notes), promoters and a few
    // passives asked for a referral.
    let latest = |segment: &str| {
        answers
            .iter()
            .filter(move |a| a.latest && a.segment == segment)
            .collect::<Vec<_>>()
    };
    let mut detractors = latest("detractor");
    // The ones who wrote first: those are the calls worth making.
    detractors.sort_by_key(|a| !a.comment);
    let mut worked: Vec<(&Answer, &str)> = Vec::new();
    for (i, a) in detractors.iter().take(9).enumerate() {
        worked.push((a, if i < 6 { "contacted" } else { "resolved" }));
    }
    let askable = |a: &&Answer| a.role != "user";
    let promoters: Vec<&Answer> = latest("promoter").into_iter().filter(askable).collect();
    let passives: Vec<&Answer> = latest("passive").into_iter().filter(askable).collect();
    for a in promoters.iter().take(9).chain(passives.iter().take(3)) {
        worked.push((a, "referral_asked"));
    }
    let existing_referrals = api.get(&format!("/v1/referrals?survey_id={survey}&limit=1000"))?;
    let referred: HashMap<&str, (i64, &str)> = existing_referrals
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some((
                r["response_id"].as_str()?,
                (r["id"].as_i64()?, r["status"].as_str()?),
            ))
        })
        .collect();
    for (a, status) in &worked {
        // A follow-up whose referral is recorded is `referred` already: not moved back.
        if referred.contains_key(a.id.as_str()) {
            continue;
        }
        let owner = &accounts[a.account].owner;
        api.send(
            "PATCH",
            &format!("/v1/responses/{}/follow-up", a.id),
            &json!({"status": status, "owner": owner}),
            &[200],
        )?;
    }

    // The notes on the calls, unless they are there.
    let listed = api.get(&format!(
        "/v1/responses?survey_id={survey}&segment=detractor&limit=1000"
    ))?;
    let mut noted: HashSet<(String, String)> = HashSet::new();
    for r in listed.as_array().into_iter().flatten() {
        for n in r["follow_up"]["notes"].as_array().into_iter().flatten() {
            if let (Some(id), Some(text)) = (r["id"].as_str(), n["text"].as_str()) {
                noted.insert((id.to_owned(), text.to_owned()));
            }
        }
    }
    let called = [detractors.first(), detractors.get(1), detractors.get(6)];
    let mut notes = 0;
    for (a, text) in called.into_iter().zip(NOTES) {
        let Some(a) = a else { continue };
        notes += 1;
        if noted.contains(&(a.id.clone(), (*text).to_owned())) {
            continue;
        }
        api.send(
            "POST",
            &format!("/v1/responses/{}/notes", a.id),
            &json!({"text": text}),
            &[201],
        )?;
    }

    // 4. The referrals: seven from promoters, one from a passive, each taken as far as its
    // stage (a lost deal through the opportunity it was).
    let referrers = promoters.iter().take(7).chain(passives.iter().take(1));
    let mut referrals = 0;
    for (a, &(name, company, note, stage)) in referrers.zip(REFERRALS) {
        referrals += 1;
        let (id, status) = match referred.get(a.id.as_str()) {
            Some(&(id, status)) => (id, status.to_owned()),
            None => {
                let email = format!(
                    "{}@{}.example",
                    name.split(' ').next().unwrap_or(name).to_lowercase(),
                    company.split(' ').next().unwrap_or(company).to_lowercase()
                );
                let made = api.send(
                    "POST",
                    &format!("/v1/responses/{}/referrals", a.id),
                    &json!({"name": name, "company": company, "email": email, "note": note}),
                    &[201],
                )?;
                let id = made["id"].as_i64().ok_or("a referral without an id")?;
                (id, "referred".to_owned())
            }
        };
        // Only a referral still where it was recorded is moved: one the team moved stays.
        if status != "referred" {
            continue;
        }
        let path = format!("/v1/referrals/{id}");
        let opportunity = json!({"status": "opportunity"});
        match stage {
            Stage::Referred => {}
            Stage::Opportunity => {
                api.send("PATCH", &path, &opportunity, &[200])?;
            }
            Stage::Won(value) => {
                api.send("PATCH", &path, &opportunity, &[200])?;
                let deal = format!("https://crm.example.com/record/0-3/{}", 47_100 + id);
                api.send(
                    "PATCH",
                    &path,
                    &json!({"status": "won", "value": value, "crm_url": deal}),
                    &[200],
                )?;
            }
            Stage::Lost => {
                api.send("PATCH", &path, &opportunity, &[200])?;
                api.send("PATCH", &path, &json!({"status": "lost"}), &[200])?;
            }
        }
    }

    // 5. The notes on the trend, the first one last of all: it marks the base as complete.
    for note in notes_on_trend.iter().rev() {
        if !existing.contains(note["text"].as_str().unwrap_or_default()) {
            api.send("POST", "/v1/annotations", note, &[201])?;
        }
    }

    let people: HashSet<&str> = answers
        .iter()
        .filter_map(|a| a.body["user"]["id"].as_str())
        .collect();
    Ok(Seeded::Done {
        imported,
        accounts: accounts.len(),
        people: people.len(),
        responses: answers.len(),
        comments: answers.iter().filter(|a| a.comment).count(),
        follow_ups: worked.len(),
        notes,
        referrals,
        annotations: notes_on_trend.len(),
    })
}

/// An amount of the demo's currency (USD) for its messages: `$84,000`.
pub(crate) fn dollars(amount: f64) -> String {
    let whole = amount.round() as i64;
    let digits = whole.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}${out}", if whole < 0 { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_days() {
        assert_eq!(day(0), "1970-01-01");
        assert_eq!(day(days_of(date!(2000 - 02 - 29))), "2000-02-29");
        assert_eq!(day(days_of(date!(2026 - 12 - 07))), "2026-12-07");
        for z in [-800_000, -1, 0, 59, 10_957, 20_429, 400_000] {
            assert_eq!(days_of(date_of(z)), z);
        }
        assert_eq!(timestamp(20_429, 3_723), "2025-12-07T01:02:03.000Z");
        assert_eq!(timestamp(20_429, 86_401), "2025-12-08T00:00:01.000Z");
    }

    #[test]
    fn renewals_move_to_their_next_anniversary() {
        let today = days_of(date!(2027 - 03 - 01));
        assert_eq!(next_renewal("2027-01-15", today), "2028-01-15");
        assert_eq!(next_renewal("2027-03-01", today), "2027-03-01");
        assert_eq!(next_renewal("2027-06-30", today), "2027-06-30");
        assert_eq!(next_renewal("2024-02-29", today), "2028-02-29");
        assert_eq!(
            next_renewal("2024-02-29", days_of(date!(2028 - 03 - 01))),
            "2029-02-28"
        );
        assert_eq!(next_renewal("soon", today), "soon");
    }

    #[test]
    fn the_export_reads_back_as_written() {
        let csv = "\"Record ID\",\"Company name\"\n\"1\",\"Willow & Finch, \"\"Ltd\"\"\"\n";
        let rows = read_csv(csv);
        assert_eq!(rows[1], ["1", "Willow & Finch, \"Ltd\""]);
        assert_eq!(write_csv(&rows), csv);
    }

    #[test]
    fn the_sample_is_the_same_on_every_run_and_a_quarter_comments() {
        let csv = std::fs::read_to_string(root().join(ACCOUNTS_CSV)).unwrap();
        let today = days_of(date!(2026 - 12 - 07));
        let (_, accounts) = accounts(&csv, today).unwrap();
        let one = answers(&accounts, "demo", today);
        let two = answers(&accounts, "demo", today);
        let ids = |a: &[Answer]| a.iter().map(|a| a.body.to_string()).collect::<Vec<_>>();
        assert_eq!(ids(&one), ids(&two));
        let distinct: HashSet<&str> = one.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(distinct.len(), one.len());
        let comments = one.iter().filter(|a| a.comment).count();
        let share = comments as f64 / one.len() as f64;
        assert!((0.2..=0.33).contains(&share), "{comments} of {}", one.len());
        for segment in ["promoter", "passive", "detractor", "silent"] {
            assert!(one.iter().any(|a| a.segment == segment), "no {segment}");
        }
        for a in &one {
            let shown = a.body["shown_at"].as_str().unwrap();
            assert!(shown < day(today).as_str() && shown >= day(today - 90).as_str());
        }
    }

    #[test]
    fn amounts_read_as_dollars() {
        assert_eq!(dollars(84_000.0), "$84,000");
        assert_eq!(dollars(999.0), "$999");
        assert_eq!(dollars(1_234_567.4), "$1,234,567");
    }
}
