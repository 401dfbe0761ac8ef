//! Durable storage of responses: SQLite by default (one file, WAL, `synchronous=FULL` so a 2xx
//! means the response is on disk), PostgreSQL when the URL says `postgres://`. Both get the same
//! migrations on start and the same queries, through sqlx's `Any` driver.
//!
//! Upserts by `id` never go backwards: a late `partial` cannot overwrite a `complete` (see
//! `Response::rank`). Writes go through one writer task that commits whatever has queued up in
//! one transaction (group commit): each request still gets its answer only after the commit,
//! and a disk flush is shared by every response in the batch instead of paid by each.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nps_widget::response::Response;
use nps_widget::segment::{Segment, Tally};
use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Row};
use tokio::sync::{mpsc, oneshot};

use serde::Serialize;

use crate::report::Interval;

/// `'a', 'b'` for an SQL `IN` list of our own constants.
fn quoted(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One local file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Schema migrations, applied in order once each. The SQL is the same on both databases but
/// for `{serial}`, an auto-increment key.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE responses (
        id TEXT PRIMARY KEY,
        survey_id TEXT NOT NULL,
        score INTEGER,
        segment TEXT NOT NULL,
        silent_reason TEXT,
        comment TEXT,
        contact_consent INTEGER,
        referral_clicked INTEGER,
        state TEXT NOT NULL,
        rank INTEGER NOT NULL,
        user_id TEXT,
        account_id TEXT,
        email TEXT,
        url TEXT NOT NULL,
        locale TEXT NOT NULL,
        shown_at TEXT NOT NULL,
        answered_at TEXT,
        completed_at TEXT,
        body TEXT NOT NULL,
        received_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )",
    "CREATE INDEX responses_survey_shown ON responses (survey_id, shown_at)",
    "CREATE INDEX responses_account ON responses (account_id)",
    // The webhook queue: each stored change waits here until the forward target took it.
    "CREATE TABLE forwards (
        seq {serial},
        response_id TEXT NOT NULL,
        body TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_at BIGINT NOT NULL
    )",
    // What the reports read, so that each is an index scan: the summary and trend (all surveys,
    // or one), the lists per segment (keyset by shown_at, id), the accounts.
    // The day a response was shown (`YYYY-MM-DD`): the trend groups by it in index order,
    // with no sort, and the range filters narrow the index scan by it.
    "ALTER TABLE responses ADD COLUMN shown_day TEXT",
    "UPDATE responses SET shown_day = substr(shown_at, 1, 10)",
    "CREATE INDEX responses_day_segment ON responses (shown_day, segment)",
    "CREATE INDEX responses_survey_day_segment ON responses (survey_id, shown_day, segment)",
    "DROP INDEX responses_survey_shown",
    "CREATE INDEX responses_segment_shown ON responses (segment, shown_at, id)",
    "CREATE INDEX responses_account_shown ON responses (account_id, shown_at, segment, answered_at)",
    "DROP INDEX responses_account",
    // Leases: which collector drains the webhook queue while several share one database.
    "CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, until_ms BIGINT NOT NULL)",
    "INSERT INTO leases (name, holder, until_ms) VALUES ('forward', '', 0)",
    // Closing the loop: a follow-up state per response, apart from the response itself, so
    // that the widget re-delivering a response never resets it; notes are append-only.
    "CREATE TABLE follow_ups (
        response_id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        owner TEXT,
        updated_at TEXT NOT NULL
    )",
    "CREATE INDEX follow_ups_status ON follow_ups (status)",
    "CREATE TABLE notes (
        seq {serial},
        response_id TEXT NOT NULL,
        text TEXT NOT NULL,
        author TEXT,
        at TEXT NOT NULL
    )",
    "CREATE INDEX notes_response ON notes (response_id, seq)",
];

/// The follow-up states, in the order a response moves through them.
pub const STATUSES: &[&str] = &["new", "contacted", "resolved", "referral_asked", "referred"];
/// States only promoters and passives can be in.
pub const REFERRAL_STATUSES: &[&str] = &["referral_asked", "referred"];
/// States that close a follow-up; every other one is open.
pub const CLOSED_STATUSES: &[&str] = &["resolved", "referred"];

/// The PostgreSQL advisory lock key held while migrating, so that collectors starting at once
/// migrate one after the other.
const MIGRATION_LOCK: i64 = 0x006e_7073_5f6d_6967;

const UPSERT: &str = "INSERT INTO responses (id, survey_id, score, segment, silent_reason, comment,
        contact_consent, referral_clicked, state, rank, user_id, account_id, email, url,
        locale, shown_at, answered_at, completed_at, body, received_at, updated_at, shown_day)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
        $19, $20, $21, $22)
     ON CONFLICT (id) DO UPDATE SET
        score = excluded.score, segment = excluded.segment,
        silent_reason = excluded.silent_reason, comment = excluded.comment,
        contact_consent = excluded.contact_consent,
        referral_clicked = excluded.referral_clicked, state = excluded.state,
        rank = excluded.rank, user_id = excluded.user_id,
        account_id = excluded.account_id, email = excluded.email, url = excluded.url,
        locale = excluded.locale, answered_at = excluded.answered_at,
        completed_at = excluded.completed_at, body = excluded.body,
        updated_at = excluded.updated_at
     WHERE excluded.rank >= responses.rank AND excluded.survey_id = responses.survey_id";

/// Most responses committed in one transaction.
const BATCH: usize = 512;

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

struct Job {
    response: Response,
    body: String,
    reply: oneshot::Sender<Result<Upsert, String>>,
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
    /// Where closing the loop stands (notes filled by [`Store::with_notes`]).
    pub follow_up: FollowUp,
}

/// Which stored responses a query wants.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this survey.
    pub survey_id: Option<String>,
    /// Only this segment.
    pub segment: Option<String>,
    /// Shown at or after this time (RFC 3339 or a date).
    pub from: Option<String>,
    /// Shown before this time (RFC 3339 or a date).
    pub to: Option<String>,
    /// At most this many, newest first.
    pub limit: i64,
    /// Keyset cursor: only responses after this `(shown_at, id)` in the newest-first order.
    pub after: Option<(String, String)>,
    /// Only responses whose follow-up is in this state (`open`: not resolved, not referred).
    pub status: Option<String>,
    /// Only this account's responses.
    pub account_id: Option<String>,
}

/// A response's follow-up: where closing the loop stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    /// One of [`STATUSES`]; `new` until someone changes it.
    pub status: String,
    /// Who works on it (an email, a name).
    pub owner: Option<String>,
    /// When the state or owner last changed.
    pub updated_at: Option<String>,
    /// Oldest first.
    pub notes: Vec<Note>,
}

impl Default for FollowUp {
    fn default() -> FollowUp {
        FollowUp {
            status: "new".into(),
            owner: None,
            updated_at: None,
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

impl Filter {
    /// The same filter over every segment: what the reports that count per segment read.
    fn without_segment(&self) -> Filter {
        Filter {
            segment: None,
            ..self.clone()
        }
    }
}

/// Each person's latest score per account, averaged, over the responses `where_sql` selects
/// (people without a user id count once per response): columns `account_id`, `mean_score`,
/// `people`.
fn means_sql(where_sql: &str) -> String {
    format!(
        "SELECT account_id, AVG(score * 1.0) AS mean_score, COUNT(*) AS people FROM (
            SELECT account_id, score, ROW_NUMBER() OVER (
                PARTITION BY account_id, COALESCE(user_id, id)
                ORDER BY answered_at DESC, id DESC) AS latest
            FROM responses{where_sql} AND score IS NOT NULL
         ) AS scored WHERE latest = 1 GROUP BY account_id"
    )
}

/// A `WHERE` clause and the values bound to its `$n` placeholders, in order.
#[derive(Debug, Default)]
struct Where {
    sql: String,
    binds: Vec<String>,
}

impl Where {
    /// The filter's conditions (only those it sets, so that each query can use its index).
    fn of(filter: &Filter) -> Where {
        let mut w = Where::default();
        if let Some(survey) = &filter.survey_id {
            w.push("survey_id = {}", survey);
        }
        if let Some(segment) = &filter.segment {
            w.push("segment = {}", segment);
        }
        if let Some(account) = &filter.account_id {
            w.push("account_id = {}", account);
        }
        // Bounds by day let the index narrow the scan and answer alone; a bound with a time
        // of day adds the exact comparison.
        if let Some(from) = &filter.from {
            w.push("shown_day >= {}", from.get(..10).unwrap_or(from));
            if from.len() > 10 {
                w.push("shown_at >= {}", from);
            }
        }
        if let Some(to) = &filter.to {
            if to.len() > 10 {
                w.push("shown_day <= {}", to.get(..10).unwrap_or(to));
                w.push("shown_at < {}", to);
            } else {
                w.push("shown_day < {}", to);
            }
        }
        w
    }

    /// Adds `condition`, with `{}` standing for the next placeholder bound to `value`.
    fn push(&mut self, condition: &str, value: &str) {
        self.binds.push(value.to_owned());
        let placeholder = format!("${}", self.binds.len());
        self.raw(&condition.replace("{}", &placeholder));
    }

    /// Adds a condition without a bound value.
    fn raw(&mut self, condition: &str) {
        self.sql.push_str(if self.sql.is_empty() {
            " WHERE "
        } else {
            " AND "
        });
        self.sql.push_str(condition);
    }

    /// The next placeholder's number.
    fn next(&self) -> usize {
        self.binds.len() + 1
    }

    fn bind<'q>(
        &'q self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for value in &self.binds {
            query = query.bind(value.as_str());
        }
        query
    }
}

/// Counts per segment, as SQL columns over rows that have a `segment` and a count `n`.
const SEGMENT_SUMS: &str = "CAST(SUM(CASE WHEN segment = 'promoter' THEN n ELSE 0 END) AS BIGINT),
    CAST(SUM(CASE WHEN segment = 'passive' THEN n ELSE 0 END) AS BIGINT),
    CAST(SUM(CASE WHEN segment = 'detractor' THEN n ELSE 0 END) AS BIGINT),
    CAST(SUM(CASE WHEN segment = 'silent' THEN n ELSE 0 END) AS BIGINT)";

fn tally(row: &sqlx::any::AnyRow, first: usize) -> Result<Tally, sqlx::Error> {
    let count = |i: usize| -> Result<u64, sqlx::Error> {
        Ok(row
            .try_get::<Option<i64>, _>(first + i)?
            .unwrap_or(0)
            .max(0) as u64)
    };
    Ok(Tally {
        promoters: count(0)?,
        passives: count(1)?,
        detractors: count(2)?,
        silents: count(3)?,
    })
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
}

/// The response store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    writer: mpsc::Sender<Job>,
    forward: bool,
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

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.response.id)
    }
}

/// Now as RFC 3339 UTC with milliseconds, like the widget's timestamps.
pub fn now_rfc3339() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(now.as_millis() as i64)
}

/// Milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ` (civil-from-days, proleptic
/// Gregorian).
pub fn rfc3339(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `url`: `sqlite://file.db` or
    /// `postgres://user@host/db`.
    pub async fn open(url: &str) -> Result<Store, String> {
        Store::open_with(url, false).await
    }

    /// Like [`Store::open`]; with `forward`, every stored change is also queued for the
    /// webhook, in the same transaction.
    pub async fn open_with(url: &str, forward: bool) -> Result<Store, String> {
        install_default_drivers();
        let (backend, url) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let mut u = format!("sqlite:{rest}");
            if !rest.contains("mode=") {
                u.push_str(if rest.contains('?') { "&" } else { "?" });
                u.push_str("mode=rwc");
            }
            (Backend::Sqlite, u)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            return Err(format!(
                "--db {url}: expected sqlite://FILE or postgres://USER@HOST/DB"
            ));
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            .acquire_timeout(Duration::from_secs(10));
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    Ok(())
                })
            });
        }
        let pool = options
            .connect(&url)
            .await
            .map_err(|e| format!("opening {url}: {e}"))?;
        let (writer, jobs) = mpsc::channel(4 * BATCH);
        let store = Store {
            pool,
            backend,
            writer,
            forward,
        };
        store.migrate().await?;
        tokio::spawn(write_loop(store.pool.clone(), backend, jobs, forward));
        Ok(store)
    }

    /// The database behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the migrations not yet applied, holding a lock so that collectors started at
    /// once against one database migrate one at a time (PostgreSQL: an advisory lock for the
    /// transaction; SQLite: an immediate transaction, which takes the file's write lock).
    async fn migrate(&self) -> Result<(), String> {
        let err = |e: sqlx::Error| format!("migrating the database: {e}");
        let mut conn = self.pool.acquire().await.map_err(err)?;
        match self.backend {
            Backend::Sqlite => {
                conn.execute("BEGIN IMMEDIATE").await.map_err(err)?;
            }
            Backend::Postgres => {
                conn.execute("BEGIN").await.map_err(err)?;
                sqlx::query(
                    "SELECT CAST(1 AS BIGINT) FROM (SELECT pg_advisory_xact_lock($1)) AS locked",
                )
                .bind(MIGRATION_LOCK)
                .fetch_one(&mut *conn)
                .await
                .map_err(err)?;
            }
        }
        let result = async {
            sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                .execute(&mut *conn)
                .await?;
            let done: i64 =
                sqlx::query("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM schema_version")
                    .fetch_one(&mut *conn)
                    .await?
                    .try_get(0)?;
            let serial = match self.backend {
                Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
                Backend::Postgres => "BIGSERIAL PRIMARY KEY",
            };
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(done as usize) {
                sqlx::query(&sql.replace("{serial}", serial))
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                    .bind(i as i64 + 1)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok::<_, sqlx::Error>(())
        }
        .await;
        match result {
            Ok(()) => conn.execute("COMMIT").await.map(|_| ()).map_err(err),
            Err(e) => {
                let _ = conn.execute("ROLLBACK").await;
                Err(err(e))
            }
        }
    }

    /// Stores a validated response, keyed by id; returns once it is committed.
    pub async fn upsert(&self, response: Response, body: String) -> Result<Upsert, String> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Job {
                response,
                body,
                reply,
            })
            .await
            .map_err(|_| "the writer has stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "the writer has stopped".to_owned())?
    }

    /// Stored responses matching `filter`, newest first (by `shown_at`, then `id`), at most
    /// `filter.limit` of them after the filter's cursor.
    pub async fn rows(&self, filter: &Filter) -> Result<Vec<Stored>, sqlx::Error> {
        let mut w = Where::of(filter);
        match filter.status.as_deref() {
            None => {}
            Some("open") => w.raw(&format!(
                "COALESCE(f.status, 'new') NOT IN ({})",
                quoted(CLOSED_STATUSES)
            )),
            Some(status) => w.push("COALESCE(f.status, 'new') = {}", status),
        }
        if let Some((shown_at, id)) = &filter.after {
            let (a, b) = (w.next(), w.next() + 1);
            w.binds.push(shown_at.clone());
            w.binds.push(id.clone());
            // A row-value comparison: both databases turn it into one index range.
            w.raw(&format!("(shown_at, id) < (${a}, ${b})"));
        }
        let sql = format!(
            "SELECT id, survey_id, CAST(score AS BIGINT), segment, silent_reason, comment,
                CAST(contact_consent AS BIGINT), state, user_id, account_id, email, shown_at,
                answered_at, body, f.status, f.owner, f.updated_at
             FROM responses LEFT JOIN follow_ups f ON f.response_id = responses.id{}
             ORDER BY shown_at DESC, id DESC LIMIT {}",
            w.sql,
            filter.limit.max(0)
        );
        let rows = w.bind(sqlx::query(&sql)).fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|r| {
                Ok(Stored {
                    id: r.try_get(0)?,
                    survey_id: r.try_get(1)?,
                    score: r.try_get(2)?,
                    segment: r.try_get(3)?,
                    silent_reason: r.try_get(4)?,
                    comment: r.try_get(5)?,
                    contact_consent: r.try_get::<Option<i64>, _>(6)?.map(|c| c != 0),
                    state: r.try_get(7)?,
                    user_id: r.try_get(8)?,
                    account_id: r.try_get(9)?,
                    email: r.try_get(10)?,
                    shown_at: r.try_get(11)?,
                    answered_at: r.try_get(12)?,
                    body: r.try_get(13)?,
                    follow_up: FollowUp {
                        status: r
                            .try_get::<Option<String>, _>(14)?
                            .unwrap_or_else(|| "new".into()),
                        owner: r.try_get(15)?,
                        updated_at: r.try_get(16)?,
                        notes: Vec::new(),
                    },
                })
            })
            .collect()
    }

    /// Responses matching `filter` (its segment and limit aside), counted per segment and
    /// period by the database, oldest period first. Rows are first counted per day and
    /// segment (an index scan), then the days are folded into weeks or months.
    pub async fn period_counts(
        &self,
        filter: &Filter,
        interval: Interval,
    ) -> Result<Vec<PeriodCounts>, sqlx::Error> {
        let w = Where::of(&filter.without_segment());
        let period = match (interval, self.backend) {
            (Interval::Month, _) => "substr(day, 1, 7)",
            (Interval::Week, Backend::Sqlite) => "date(day, 'weekday 0', '-6 days')",
            (Interval::Week, Backend::Postgres) => {
                "to_char(date_trunc('week', CAST(day AS timestamp)), 'YYYY-MM-DD')"
            }
        };
        let sql = format!(
            "SELECT period, {SEGMENT_SUMS} FROM (
                SELECT {period} AS period, segment, n FROM (
                    SELECT shown_day AS day, segment, COUNT(*) AS n
                    FROM responses{} GROUP BY shown_day, segment
                ) AS days
             ) AS periods
             GROUP BY period ORDER BY period",
            w.sql
        );
        let rows = w.bind(sqlx::query(&sql)).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(PeriodCounts {
                    period: r.try_get::<Option<String>, _>(0)?.unwrap_or_default(),
                    tally: tally(r, 1)?,
                })
            })
            .collect()
    }

    /// Per-account figures of the responses matching `filter` (its segment aside), lowest
    /// NPS first (accounts without answers last), then by id; `filter.limit` accounts from
    /// `offset`; with `segment`, only the accounts in that segment. An account's segment
    /// comes from the mean of its people's latest scores (each user counted once); `silent`
    /// when people there were asked and nobody answered. The latest comment, the means and
    /// the open follow-ups of the listed accounts come from queries over just those accounts.
    pub async fn account_counts(
        &self,
        filter: &Filter,
        offset: i64,
        segment: Option<Segment>,
    ) -> Result<Vec<AccountCounts>, sqlx::Error> {
        let mut w = Where::of(&filter.without_segment());
        w.raw("account_id IS NOT NULL");
        // Silent accounts are found by their counts; the scored segments need each
        // account's mean, over every account, before the filter.
        let (joined, condition) = match segment {
            None => (String::new(), ""),
            Some(Segment::Silent) => (String::new(), "WHERE p + pa + d = 0 AND s > 0"),
            Some(scored) => (
                format!(
                    "JOIN ({}) AS m ON m.account_id = accounts.account_id",
                    means_sql(&w.sql)
                ),
                match scored {
                    Segment::Promoter => "WHERE m.mean_score >= 9",
                    Segment::Passive => "WHERE m.mean_score >= 7 AND m.mean_score < 9",
                    _ => "WHERE m.mean_score < 7",
                },
            ),
        };
        let sql = format!(
            "SELECT accounts.account_id, p, pa, d, s, last_answer_at FROM (
                SELECT account_id,
                    CAST(SUM(CASE WHEN segment = 'promoter' THEN 1 ELSE 0 END) AS BIGINT) AS p,
                    CAST(SUM(CASE WHEN segment = 'passive' THEN 1 ELSE 0 END) AS BIGINT) AS pa,
                    CAST(SUM(CASE WHEN segment = 'detractor' THEN 1 ELSE 0 END) AS BIGINT) AS d,
                    CAST(SUM(CASE WHEN segment = 'silent' THEN 1 ELSE 0 END) AS BIGINT) AS s,
                    MAX(answered_at) AS last_answer_at
                FROM responses{} GROUP BY account_id
             ) AS accounts {joined} {condition}
             ORDER BY CASE WHEN p + pa + d = 0 THEN 1 ELSE 0 END,
                (p - d) * 1.0 / CASE WHEN p + pa + d = 0 THEN 1 ELSE p + pa + d END,
                accounts.account_id
             LIMIT {} OFFSET {}",
            w.sql,
            filter.limit.max(0),
            offset.max(0)
        );
        let rows = w.bind(sqlx::query(&sql)).fetch_all(&self.pool).await?;
        let mut accounts = rows
            .iter()
            .map(|r| {
                Ok(AccountCounts {
                    account_id: r.try_get(0)?,
                    tally: tally(r, 1)?,
                    last_answer_at: r.try_get(5)?,
                    latest_comment: None,
                    mean_score: None,
                    people: 0,
                    open_follow_ups: 0,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        if accounts.is_empty() {
            return Ok(accounts);
        }
        // The same conditions, narrowed to the listed accounts.
        let mut page = Where::of(&filter.without_segment());
        let first = page.next();
        let list: Vec<String> = (0..accounts.len())
            .map(|i| format!("${}", first + i))
            .collect();
        page.raw(&format!("account_id IN ({})", list.join(", ")));
        page.binds
            .extend(accounts.iter().map(|a| a.account_id.clone()));

        let sql = format!(
            "SELECT account_id, comment FROM (
                SELECT account_id, comment, ROW_NUMBER() OVER (
                    PARTITION BY account_id ORDER BY answered_at DESC, id DESC) AS newest
                FROM responses{} AND comment IS NOT NULL AND comment <> ''
             ) AS commented WHERE newest = 1",
            page.sql
        );
        for row in page.bind(sqlx::query(&sql)).fetch_all(&self.pool).await? {
            let id: String = row.try_get(0)?;
            if let Some(a) = accounts.iter_mut().find(|a| a.account_id == id) {
                a.latest_comment = row.try_get(1)?;
            }
        }
        let sql = format!(
            "SELECT account_id, CAST(mean_score AS DOUBLE PRECISION), CAST(people AS BIGINT)
             FROM ({}) AS means",
            means_sql(&page.sql)
        );
        for row in page.bind(sqlx::query(&sql)).fetch_all(&self.pool).await? {
            let id: String = row.try_get(0)?;
            if let Some(a) = accounts.iter_mut().find(|a| a.account_id == id) {
                a.mean_score = row.try_get(1)?;
                a.people = row.try_get::<i64, _>(2)?.max(0) as u64;
            }
        }
        let sql = format!(
            "SELECT account_id, CAST(COUNT(*) AS BIGINT)
             FROM responses LEFT JOIN follow_ups f ON f.response_id = responses.id{}
                AND COALESCE(f.status, 'new') NOT IN ({})
             GROUP BY account_id",
            page.sql,
            quoted(CLOSED_STATUSES)
        );
        for row in page.bind(sqlx::query(&sql)).fetch_all(&self.pool).await? {
            let id: String = row.try_get(0)?;
            if let Some(a) = accounts.iter_mut().find(|a| a.account_id == id) {
                a.open_follow_ups = row.try_get::<i64, _>(1)?.max(0) as u64;
            }
        }
        Ok(accounts)
    }

    /// Fills in the notes of `rows`' follow-ups, with one query.
    pub async fn with_notes(&self, rows: &mut [Stored]) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = (1..=rows.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT response_id, text, author, at FROM notes WHERE response_id IN ({})
             ORDER BY seq",
            list.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for r in rows.iter() {
            query = query.bind(r.id.as_str());
        }
        for note in query.fetch_all(&self.pool).await? {
            let id: String = note.try_get(0)?;
            if let Some(row) = rows.iter_mut().find(|r| r.id == id) {
                row.follow_up.notes.push(Note {
                    text: note.try_get(1)?,
                    author: note.try_get(2)?,
                    at: note.try_get(3)?,
                });
            }
        }
        Ok(())
    }

    /// The segment of response `id`, if it is stored.
    pub async fn segment_of(&self, id: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::query("SELECT segment FROM responses WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get(0))
            .transpose()
    }

    /// A response's follow-up with its notes (the default one if nobody touched it).
    pub async fn follow_up(&self, id: &str) -> Result<FollowUp, sqlx::Error> {
        let mut follow_up = match sqlx::query(
            "SELECT status, owner, updated_at FROM follow_ups WHERE response_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        {
            Some(r) => FollowUp {
                status: r.try_get(0)?,
                owner: r.try_get(1)?,
                updated_at: r.try_get(2)?,
                notes: Vec::new(),
            },
            None => FollowUp::default(),
        };
        for note in
            sqlx::query("SELECT text, author, at FROM notes WHERE response_id = $1 ORDER BY seq")
                .bind(id)
                .fetch_all(&self.pool)
                .await?
        {
            follow_up.notes.push(Note {
                text: note.try_get(0)?,
                author: note.try_get(1)?,
                at: note.try_get(2)?,
            });
        }
        Ok(follow_up)
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Queues `event` for the webhook in `tx`, when forwarding.
    async fn queue_event(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        response_id: &str,
        event: serde_json::Value,
    ) -> Result<(), sqlx::Error> {
        if self.forward {
            sqlx::query(
                "INSERT INTO forwards (response_id, body, attempts, next_at) VALUES ($1, $2, 0, 0)",
            )
            .bind(response_id)
            .bind(event.to_string())
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// Sets the status and/or the owner of response `id`'s follow-up (checked by the caller)
    /// and queues the change for the webhook, in one transaction; the follow-up after it.
    pub async fn set_follow_up(
        &self,
        id: &str,
        status: Option<&str>,
        owner: Option<Option<&str>>,
    ) -> Result<FollowUp, sqlx::Error> {
        let now = now_rfc3339();
        let mut tx = self.begin_write().await?;
        let current = sqlx::query("SELECT status, owner FROM follow_ups WHERE response_id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let (old_status, old_owner): (String, Option<String>) = match current {
            Some(r) => (r.try_get(0)?, r.try_get(1)?),
            None => ("new".into(), None),
        };
        let status = status.map(str::to_owned).unwrap_or(old_status);
        let owner = match owner {
            Some(o) => o.map(str::to_owned),
            None => old_owner,
        };
        sqlx::query(
            "INSERT INTO follow_ups (response_id, status, owner, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (response_id) DO UPDATE SET status = excluded.status,
                owner = excluded.owner, updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(&status)
        .bind(&owner)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        let event = serde_json::json!({
            "type": "follow_up.updated", "response_id": id,
            "follow_up": {"status": status, "owner": owner, "updated_at": now},
        });
        self.queue_event(&mut tx, id, event).await?;
        tx.commit().await?;
        self.follow_up(id).await
    }

    /// Appends a note to response `id`'s follow-up and queues it for the webhook.
    pub async fn add_note(
        &self,
        id: &str,
        text: &str,
        author: Option<&str>,
    ) -> Result<Note, sqlx::Error> {
        let note = Note {
            text: text.to_owned(),
            author: author.map(str::to_owned),
            at: now_rfc3339(),
        };
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO notes (response_id, text, author, at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(&note.text)
            .bind(&note.author)
            .bind(&note.at)
            .execute(&mut *tx)
            .await?;
        let event = serde_json::json!({
            "type": "note.added", "response_id": id, "note": note,
        });
        self.queue_event(&mut tx, id, event).await?;
        tx.commit().await?;
        Ok(note)
    }

    /// Responses matching `filter` (segment aside), counted per segment.
    pub async fn tally(&self, filter: &Filter) -> Result<Tally, sqlx::Error> {
        let w = Where::of(&filter.without_segment());
        let sql = format!(
            "SELECT {SEGMENT_SUMS} FROM (
                SELECT segment, COUNT(*) AS n FROM responses{} GROUP BY segment
             ) AS segments",
            w.sql
        );
        let row = w.bind(sqlx::query(&sql)).fetch_one(&self.pool).await?;
        tally(&row, 0)
    }

    /// The latest comments of `filter`'s responses (with their id and locale), newest first,
    /// at most `limit`: what the themes are found in.
    pub async fn comments(
        &self,
        filter: &Filter,
        limit: i64,
    ) -> Result<Vec<(String, String, String)>, sqlx::Error> {
        let mut w = Where::of(filter);
        w.raw("comment IS NOT NULL AND comment <> ''");
        let sql = format!(
            "SELECT id, comment, locale FROM responses{} ORDER BY shown_at DESC, id DESC LIMIT {}",
            w.sql,
            limit.max(0)
        );
        w.bind(sqlx::query(&sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT CAST(1 AS BIGINT)")
            .fetch_one(&self.pool)
            .await
            .map(|_| ())
    }

    /// Takes or renews the lease `name` for `holder` until `now_ms + ttl_ms`; `false` when
    /// another holder's lease is still running.
    pub async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        let taken = sqlx::query(
            "UPDATE leases SET holder = $1, until_ms = $2
             WHERE name = $3 AND (holder = $1 OR until_ms < $4)",
        )
        .bind(holder)
        .bind(now_ms + ttl_ms)
        .bind(name)
        .bind(now_ms)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(taken == 1)
    }

    /// Gives the lease `name` up, if `holder` has it, so that another collector can take it
    /// at once (on shutdown).
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE leases SET until_ms = 0 WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// The first `limit` queued forwards, oldest first.
    pub async fn queued(&self, limit: i64) -> Result<Vec<Forward>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT seq, response_id, body, CAST(attempts AS BIGINT), next_at FROM forwards
             ORDER BY seq LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Forward {
                    seq: r.try_get(0)?,
                    response_id: r.try_get(1)?,
                    body: r.try_get(2)?,
                    attempts: r.try_get(3)?,
                    next_at: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// The forward target took `seq`: it leaves the queue.
    pub async fn forwarded(&self, seq: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM forwards WHERE seq = $1")
            .bind(seq)
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// `seq` failed again: try it at `next_at_ms`.
    pub async fn forward_later(
        &self,
        seq: i64,
        attempts: i64,
        next_at_ms: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE forwards SET attempts = $1, next_at = $2 WHERE seq = $3")
            .bind(attempts)
            .bind(next_at_ms)
            .bind(seq)
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// Number of forwards still queued.
    pub async fn queued_forwards(&self) -> Result<i64, sqlx::Error> {
        sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM forwards")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)
    }

    /// Number of stored responses.
    pub async fn count(&self) -> Result<i64, sqlx::Error> {
        sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM responses")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)
    }
}

/// The one writer: takes what has queued up (at most [`BATCH`]), commits it in one transaction,
/// then answers each request.
async fn write_loop(pool: AnyPool, backend: Backend, mut jobs: mpsc::Receiver<Job>, forward: bool) {
    let mut batch = Vec::with_capacity(BATCH);
    while jobs.recv_many(&mut batch, BATCH).await > 0 {
        match write_batch(&pool, backend, &batch, forward).await {
            Ok(results) => {
                for (job, result) in batch.drain(..).zip(results) {
                    let _ = job.reply.send(Ok(result));
                }
            }
            Err(e) => {
                eprintln!("nps-collector: storing {} responses: {e}", batch.len());
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

async fn write_batch(
    pool: &AnyPool,
    backend: Backend,
    batch: &[Job],
    forward: bool,
) -> Result<Vec<Upsert>, sqlx::Error> {
    // SQLite: take the write lock up front. A deferred transaction that reads first cannot
    // wait for the lock when another connection (the forwarder) wrote meanwhile: it fails
    // with SQLITE_BUSY instead of waiting out the busy timeout.
    let mut tx = match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    };
    let now = now_rfc3339();
    let mut results = Vec::with_capacity(batch.len());
    for Job {
        response: r, body, ..
    } in batch
    {
        let existed = sqlx::query("SELECT rank FROM responses WHERE id = $1")
            .bind(&r.id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        let written = sqlx::query(UPSERT)
            .bind(&r.id)
            .bind(&r.survey_id)
            .bind(r.score.map(i64::from))
            .bind(r.segment.as_str())
            .bind(r.silent_reason.map(|s| s.as_str()))
            .bind(&r.comment)
            .bind(r.contact_consent.map(i64::from))
            .bind(r.referral_clicked.map(i64::from))
            .bind(r.state.as_str())
            .bind(i64::from(r.rank()))
            .bind(&r.user.id)
            .bind(&r.user.account_id)
            .bind(&r.user.email)
            .bind(&r.context.url)
            .bind(&r.context.locale)
            .bind(&r.shown_at)
            .bind(&r.answered_at)
            .bind(&r.completed_at)
            .bind(body)
            .bind(&now)
            .bind(&now)
            .bind(r.shown_at.get(..10).unwrap_or(&r.shown_at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if forward && written > 0 {
            sqlx::query(
                "INSERT INTO forwards (response_id, body, attempts, next_at) VALUES ($1, $2, 0, 0)",
            )
            .bind(&r.id)
            .bind(body)
            .execute(&mut *tx)
            .await?;
        }
        results.push(match (existed, written) {
            (false, _) => Upsert::Inserted,
            (true, 0) => Upsert::Stale,
            (true, _) => Upsert::Updated,
        });
    }
    tx.commit().await?;
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn timestamps_are_rfc3339_utc_with_milliseconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_427_445_123), "2026-11-23T09:50:45.123Z");
    }
}
