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
use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Row};
use tokio::sync::{mpsc, oneshot};

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
];

const UPSERT: &str = "INSERT INTO responses (id, survey_id, score, segment, silent_reason, comment,
        contact_consent, referral_clicked, state, rank, user_id, account_id, email, url,
        locale, shown_at, answered_at, completed_at, body, received_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
        $19, $20, $21)
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
}

/// The response store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    writer: mpsc::Sender<Job>,
}

/// A stored change waiting to be forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// Queue position.
    pub seq: i64,
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
        };
        store.migrate().await?;
        tokio::spawn(write_loop(store.pool.clone(), jobs, forward));
        Ok(store)
    }

    /// The database behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    async fn migrate(&self) -> Result<(), String> {
        let err = |e: sqlx::Error| format!("migrating the database: {e}");
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .execute(&self.pool)
            .await
            .map_err(err)?;
        let done: i64 =
            sqlx::query("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM schema_version")
                .fetch_one(&self.pool)
                .await
                .map_err(err)?
                .get(0);
        let serial = match self.backend {
            Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Backend::Postgres => "BIGSERIAL PRIMARY KEY",
        };
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(done as usize) {
            let sql = sql.replace("{serial}", serial);
            let mut tx = self.pool.begin().await.map_err(err)?;
            sqlx::query(&sql).execute(&mut *tx).await.map_err(err)?;
            sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                .bind(i as i64 + 1)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            tx.commit().await.map_err(err)?;
        }
        Ok(())
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

    /// Stored responses matching `filter`, newest first.
    pub async fn rows(&self, filter: &Filter) -> Result<Vec<Stored>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, survey_id, CAST(score AS BIGINT), segment, silent_reason, comment,
                CAST(contact_consent AS BIGINT), state, user_id, account_id, email, shown_at,
                answered_at, body
             FROM responses
             WHERE ($1 = '' OR survey_id = $1) AND ($2 = '' OR segment = $2)
               AND ($3 = '' OR shown_at >= $3) AND ($4 = '' OR shown_at < $4)
             ORDER BY shown_at DESC, id LIMIT $5",
        )
        .bind(filter.survey_id.clone().unwrap_or_default())
        .bind(filter.segment.clone().unwrap_or_default())
        .bind(filter.from.clone().unwrap_or_default())
        .bind(filter.to.clone().unwrap_or_default())
        .bind(filter.limit)
        .fetch_all(&self.pool)
        .await?;
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
                })
            })
            .collect()
    }

    /// The first `limit` queued forwards, oldest first.
    pub async fn queued(&self, limit: i64) -> Result<Vec<Forward>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT seq, body, CAST(attempts AS BIGINT), next_at FROM forwards
             ORDER BY seq LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Forward {
                    seq: r.try_get(0)?,
                    body: r.try_get(1)?,
                    attempts: r.try_get(2)?,
                    next_at: r.try_get(3)?,
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
async fn write_loop(pool: AnyPool, mut jobs: mpsc::Receiver<Job>, forward: bool) {
    let mut batch = Vec::with_capacity(BATCH);
    while jobs.recv_many(&mut batch, BATCH).await > 0 {
        match write_batch(&pool, &batch, forward).await {
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
    batch: &[Job],
    forward: bool,
) -> Result<Vec<Upsert>, sqlx::Error> {
    let mut tx = pool.begin().await?;
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
