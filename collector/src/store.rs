//! Durable storage of responses: SQLite (one file, WAL, `synchronous=FULL` so a 2xx means the
//! response is on disk), migrated on start. Upserts by `id` never go backwards: a late
//! `partial` cannot overwrite a `complete` (see `Response::rank`).

use std::str::FromStr;

use nps_widget::response::Response;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

/// Schema migrations, applied in order once each.
const MIGRATIONS: &[&str] = &["CREATE TABLE responses (
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
        received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE INDEX responses_survey_shown ON responses (survey_id, shown_at);
    CREATE INDEX responses_account ON responses (account_id);"];

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

/// The response store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `url` (`sqlite://file.db`).
    pub async fn open(url: &str) -> Result<Store, String> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| format!("--db {url}: {e}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| format!("opening {url}: {e}"))?;
        let store = Store { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), String> {
        let err = |e: sqlx::Error| format!("migrating the database: {e}");
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .execute(&self.pool)
            .await
            .map_err(err)?;
        let done: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) FROM schema_version")
            .fetch_one(&self.pool)
            .await
            .map_err(err)?
            .get(0);
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(done as usize) {
            let mut tx = self.pool.begin().await.map_err(err)?;
            sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(err)?;
            sqlx::query("INSERT INTO schema_version (version) VALUES (?)")
                .bind(i as i64 + 1)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            tx.commit().await.map_err(err)?;
        }
        Ok(())
    }

    /// Stores a validated response, keyed by id; returns once it is durable.
    pub async fn upsert(&self, r: &Response, body: &str) -> Result<Upsert, sqlx::Error> {
        let existed: Option<i64> = sqlx::query("SELECT rank FROM responses WHERE id = ?")
            .bind(&r.id)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| row.get(0));
        let result = sqlx::query(
            "INSERT INTO responses (id, survey_id, score, segment, silent_reason, comment,
                contact_consent, referral_clicked, state, rank, user_id, account_id, email, url,
                locale, shown_at, answered_at, completed_at, body)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET
                score = excluded.score, segment = excluded.segment,
                silent_reason = excluded.silent_reason, comment = excluded.comment,
                contact_consent = excluded.contact_consent,
                referral_clicked = excluded.referral_clicked, state = excluded.state,
                rank = excluded.rank, user_id = excluded.user_id,
                account_id = excluded.account_id, email = excluded.email, url = excluded.url,
                locale = excluded.locale, answered_at = excluded.answered_at,
                completed_at = excluded.completed_at, body = excluded.body,
                updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE excluded.rank >= responses.rank AND excluded.survey_id = responses.survey_id",
        )
        .bind(&r.id)
        .bind(&r.survey_id)
        .bind(r.score.map(i64::from))
        .bind(r.segment.as_str())
        .bind(r.silent_reason.map(|s| s.as_str()))
        .bind(&r.comment)
        .bind(r.contact_consent)
        .bind(r.referral_clicked)
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
        .execute(&self.pool)
        .await?;
        Ok(match (existed, result.rows_affected()) {
            (None, _) => Upsert::Inserted,
            (Some(_), 0) => Upsert::Stale,
            (Some(_), _) => Upsert::Updated,
        })
    }

    /// Stored responses, newest first, as the JSON bodies the widget sent.
    pub async fn list(
        &self,
        segment: Option<&str>,
        limit: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT body FROM responses WHERE (?1 IS NULL OR segment = ?1)
             ORDER BY shown_at DESC, id LIMIT ?2",
        )
        .bind(segment)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }

    /// Number of stored responses.
    pub async fn count(&self) -> Result<i64, sqlx::Error> {
        Ok(sqlx::query("SELECT COUNT(*) FROM responses")
            .fetch_one(&self.pool)
            .await?
            .get(0))
    }
}
