//! Durable storage of responses: SQLite by default (one file, WAL, flushed before every
//! answer so a 2xx means the response is on disk), PostgreSQL when the URL says `postgres://`.
//! Both get the same migrations on start and the same queries, through sqlx's `Any` driver.
//!
//! One file per concern: `migrate` (the schema), `write` (the group-commit writer), `flush`
//! (the WAL's flush beside the SQLite writer), `alerts` (the detractor alerts the writer
//! queues), `sql` (a statement and its bound values, the filter's conditions), `responses`
//! (the lists), `reports` (summary, trend, tallies, comments), `accounts` (the per-account
//! view, from the running totals the schema keeps), `follow_ups`, `totals` (the accounts'
//! running totals, kept by the writer), `queue` (the webhook queue and its lease), `reach`
//! (links, people, alerts and digests), `tokens` (the team's tokens, by digest), `surveys` (the
//! surveys the dashboard manages, every version kept), `records` (the accounts' records: ARR,
//! plan, owner, renewal, imported or edited), `revenue` (the money reports), `referrals`,
//! `annotations` (notes on the trend), `people` (the people behind an account), `privacy`
//! (a person's data: handed over, erased; the links issued), `audit` (the audit trail),
//! `retain` (the retention chore).

mod accounts;
mod alerts;
mod annotations;
mod audit;
mod crm;
mod error;
mod flush;
mod follow_ups;
mod migrate;
mod people;
mod privacy;
mod queue;
mod reach;
mod records;
mod referrals;
mod reports;
mod responses;
mod retain;
mod revenue;
mod sql;
mod surveys;
mod tokens;
mod totals;
mod write;

use std::time::Duration;

use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Row};
use tokio::sync::mpsc;

pub use accounts::{AccountKey, Page};
pub use annotations::{AnnotationChange, AnnotationFilter};
pub use audit::AuditEntry;
pub use error::{Result, StoreError};
pub use privacy::{Erased, IssuedLink, Who};
pub use reach::{Alert, Person};
pub use records::{Imported, RecordChange};
pub use referrals::NewReferral;
pub use retain::{ChoreRun, Retained};
pub use surveys::{Change as SurveyChange, Survey};
pub use tokens::TokenInfo;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One local file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// SQLite's page cache of the writer's connection, in KiB (negative `cache_size`): the
/// indexes and running totals every batch touches stay in memory as the table grows past a
/// million rows, instead of being read back from the file (the default is 2 MiB).
const SQLITE_WRITER_CACHE_KIB: i64 = 64 * 1024;
/// The page cache of each other connection (reports, the forwarder, follow-ups): reports
/// read their index ranges once, so a large cache would only hold memory.
const SQLITE_READER_CACHE_KIB: i64 = 8 * 1024;
/// Connections to SQLite besides the writer's: readers, the forwarder, follow-up changes.
const SQLITE_CONNECTIONS: u32 = 4;
/// WAL pages written before a checkpoint copies them back: fewer, larger checkpoints while
/// ingest runs (the default is 1,000 pages, 4 MB).
const SQLITE_CHECKPOINT_PAGES: i64 = 16_000;

/// What the writer queues beside each stored change, in the same transaction.
#[derive(Debug, Clone, Default)]
pub struct Queues {
    /// Every change, for the webhook (`--forward`).
    pub forward: bool,
    /// The chat URLs a detractor is announced to (`--notify`).
    pub notify: Vec<String>,
    /// How long a detractor's partial waits for its comment before the alert goes anyway.
    pub notify_delay_ms: i64,
    /// The accounts, people and answers each change touches, for the CRM sync (`--crm`).
    pub crm: bool,
}

impl Queues {
    /// Only the webhook queue, or none.
    pub fn forward(forward: bool) -> Queues {
        Queues {
            forward,
            ..Queues::default()
        }
    }
}

/// The response store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    writer: mpsc::Sender<write::Job>,
    forward: bool,
    crm: bool,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `url`: `sqlite://file.db` or
    /// `postgres://user@host/db`.
    pub async fn open(url: &str) -> Result<Store> {
        Store::open_with(url, Queues::default()).await
    }

    /// Like [`Store::open`]; the writer also fills `queues` (the webhook's, the alerts'), in
    /// the same transaction as each change.
    pub async fn open_with(url: &str, queues: Queues) -> Result<Store> {
        install_default_drivers();
        let (backend, url) = backend_of(url)?;
        let pool = match backend {
            Backend::Sqlite => {
                connect(
                    backend,
                    &url,
                    SQLITE_CONNECTIONS,
                    SQLITE_READER_CACHE_KIB,
                    "FULL",
                )
                .await?
            }
            Backend::Postgres => connect(backend, &url, 16, 0, "FULL").await?,
        };
        migrate::run(&pool, backend).await?;
        // SQLite takes one writer at a time anyway: the write loop gets a connection of its
        // own, with the large cache, whose commits leave the WAL's flush to `flush::Flusher`
        // (the answers wait for it; the next batch does not); PostgreSQL's writer shares the
        // pool and flushes in its commits.
        let (write_pool, flush) = match backend {
            Backend::Sqlite => {
                let options: sqlx::sqlite::SqliteConnectOptions =
                    url.parse().map_err(|source| StoreError::Open {
                        url: url.clone(),
                        source,
                    })?;
                let mut wal = options.get_filename().as_os_str().to_owned();
                wal.push("-wal");
                (
                    connect(backend, &url, 1, SQLITE_WRITER_CACHE_KIB, "NORMAL").await?,
                    Some(std::path::PathBuf::from(wal)),
                )
            }
            Backend::Postgres => (pool.clone(), None),
        };
        let (forward, crm) = (queues.forward, queues.crm);
        let writer = write::spawn(write_pool, backend, queues, flush);
        Ok(Store {
            pool,
            backend,
            writer,
            forward,
            crm,
        })
    }

    /// The database behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A write transaction. SQLite: the write lock taken up front. A deferred transaction
    /// that reads first cannot wait for the lock when another connection wrote meanwhile: it
    /// fails with SQLITE_BUSY instead of waiting out the busy timeout.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(begin_write(&self.pool, self.backend).await?)
    }

    /// Recomputes the accounts' running totals from the stored responses, for a database
    /// filled by other means than the collector (a bulk import, the report benchmark).
    pub async fn rebuild_account_totals(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM account_people")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM account_totals")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM account_months")
            .execute(&mut *tx)
            .await?;
        for sql in migrate::TOTALS_FROM_RESPONSES
            .iter()
            .chain(migrate::TOTALS_EXTRAS.iter())
            .chain(migrate::MONTHS_FROM_RESPONSES.iter())
        {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// `nps-collector backup FILE`: a consistent copy of the SQLite database at `to` while it
    /// serves (`VACUUM INTO` reads one snapshot: every response committed, and so
    /// acknowledged, before it began is in the copy, whatever the writer does meanwhile).
    /// `to` must not exist. PostgreSQL's own tool does this for PostgreSQL: the error says so.
    pub async fn backup(&self, to: &std::path::Path) -> std::result::Result<(), String> {
        if self.backend == Backend::Postgres {
            return Err(
                "backup: for PostgreSQL use pg_dump -Fc (restore with pg_restore); this command \
                 copies an SQLite database"
                    .into(),
            );
        }
        if to.exists() {
            return Err(format!(
                "backup {}: the file exists; give a new file name",
                to.display()
            ));
        }
        let target = to
            .to_str()
            .ok_or_else(|| format!("backup {}: the path is not UTF-8", to.display()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await
            .map_err(|e| format!("backup {}: {e}", to.display()))?;
        Ok(())
    }

    /// The database's schema version (one per migration applied), and this collector's.
    pub async fn schema_version(&self) -> Result<(i64, i64)> {
        let row =
            sqlx::query("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM schema_version")
                .fetch_one(&self.pool)
                .await?;
        Ok((row.try_get(0)?, migrate::known()))
    }

    /// For the upgrade test only: creates (or opens) the database at `url` and applies the
    /// migrations up to schema `version` and no further (a database already past it is left
    /// as it is), so that the test can fill it the way the collector of that version did
    /// before today's collector opens it. The pool is opened as [`Store::open`] opens it, and
    /// closed before this returns.
    #[doc(hidden)]
    pub async fn migrate_to(url: &str, version: i64) -> Result<()> {
        install_default_drivers();
        let (backend, url) = backend_of(url)?;
        let pool = connect(backend, &url, 1, SQLITE_READER_CACHE_KIB, "FULL").await?;
        let migrated = migrate::run_to(&pool, backend, version).await;
        pool.close().await;
        migrated
    }

    /// For the upgrade test only: every migration's SQL as `backend` runs it, in order (the
    /// first is schema version 1), so that the test can replay the steps that fill the running
    /// totals.
    #[doc(hidden)]
    pub fn migration_steps(backend: Backend) -> Vec<String> {
        migrate::steps(backend)
    }

    /// Number of stored responses.
    pub async fn count(&self) -> Result<i64> {
        Ok(
            sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM responses")
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?,
        )
    }
}

/// The database `url` names, and the URL sqlx opens (an SQLite file is created if missing).
fn backend_of(url: &str) -> Result<(Backend, String)> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let mut u = format!("sqlite:{rest}");
        if !rest.contains("mode=") {
            u.push_str(if rest.contains('?') { "&" } else { "?" });
            u.push_str("mode=rwc");
        }
        Ok((Backend::Sqlite, u))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok((Backend::Postgres, url.to_owned()))
    } else {
        Err(StoreError::Url(url.to_owned()))
    }
}

/// A pool of at most `max` connections to `url`: SQLite's in WAL, with `synchronous` and a
/// page cache of `cache_kib`; PostgreSQL's planning each execution.
async fn connect(
    backend: Backend,
    url: &str,
    max: u32,
    cache_kib: i64,
    synchronous: &'static str,
) -> Result<AnyPool> {
    let mut options = AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10));
    if backend == Backend::Sqlite {
        // A local file's connection does not break between uses: no ping before each
        // (a round trip to the database's thread, paid by every batch of the writer).
        options = options.test_before_acquire(false);
        options = options.after_connect(move |conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute(format!("PRAGMA synchronous = {synchronous}").as_str())
                    .await?;
                conn.execute("PRAGMA busy_timeout = 10000").await?;
                conn.execute(format!("PRAGMA cache_size = -{cache_kib}").as_str())
                    .await?;
                conn.execute(
                    format!("PRAGMA wal_autocheckpoint = {SQLITE_CHECKPOINT_PAGES}").as_str(),
                )
                .await?;
                conn.execute("PRAGMA temp_store = MEMORY").await?;
                Ok(())
            })
        });
    } else {
        // Prepared statements are kept per connection; PostgreSQL's generic plan for one,
        // made while a table was small, stays a sequential scan as the table grows
        // (measured: the batch's look-ups by id went from 0.1 ms to 3 ms, ingest from
        // 4 k/s to 0.5 k/s over 30,000 responses). A plan for each execution's values
        // costs a fraction of a millisecond and follows the data.
        options = options.after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("SET plan_cache_mode = force_custom_plan")
                    .await?;
                Ok(())
            })
        });
    }
    options
        .connect(url)
        .await
        .map_err(|source| StoreError::Open {
            url: url.to_owned(),
            source,
        })
}

async fn begin_write(
    pool: &AnyPool,
    backend: Backend,
) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    }
}

/// A count column read as the `u64` it is (`NULL`, from an empty `SUM`, is 0).
fn count(row: &sqlx::any::AnyRow, i: usize) -> Result<u64, sqlx::Error> {
    Ok(row.try_get::<Option<i64>, _>(i)?.unwrap_or(0).max(0) as u64)
}

/// Four count columns from `first` on: promoters, passives, detractors, silent.
fn tally(row: &sqlx::any::AnyRow, first: usize) -> Result<nps_widget::segment::Tally, sqlx::Error> {
    Ok(nps_widget::segment::Tally {
        promoters: count(row, first)?,
        passives: count(row, first + 1)?,
        detractors: count(row, first + 2)?,
        silents: count(row, first + 3)?,
    })
}
