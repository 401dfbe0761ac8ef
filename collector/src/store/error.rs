//! What can go wrong in the store, each with a message an operator can act on.

use std::sync::Arc;

/// A store error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The `--db` URL names no database the collector knows.
    #[error("--db {0}: expected sqlite://FILE or postgres://USER@HOST/DB")]
    Url(String),
    /// The database could not be opened.
    #[error("opening {url}: {source}")]
    Open {
        /// The URL given.
        url: String,
        /// What the driver said.
        source: sqlx::Error,
    },
    /// A migration failed; nothing of it was applied.
    #[error("migrating the database: {0}")]
    Migrate(sqlx::Error),
    /// The database was written by a newer collector: this one changes nothing and stops.
    #[error(
        "the database is at schema version {database}, newer than this collector's {known}: \
         run the release that wrote it, or a newer one (nothing was changed)"
    )]
    Newer {
        /// The database's schema version.
        database: i64,
        /// The newest this collector knows.
        known: i64,
    },
    /// A query failed.
    #[error("the database: {0}")]
    Database(#[from] sqlx::Error),
    /// The batch a response was written in failed (shared by every response of the batch).
    #[error("storing a batch of responses: {0}")]
    Batch(Arc<sqlx::Error>),
    /// The WAL could not be flushed to disk after a batch was committed: the batch is not
    /// acknowledged (its requests get an error and are sent again).
    #[error("flushing the write-ahead log {path}: {source}")]
    Flush {
        /// The WAL file.
        path: String,
        /// What the system said.
        source: Arc<std::io::Error>,
    },
    /// The write loop has stopped (the collector is shutting down).
    #[error("the writer has stopped")]
    WriterStopped,
    /// A token with this name exists already.
    #[error("a token named {0} exists already; revoke it first")]
    TokenExists(String),
    /// A survey with this id exists already.
    #[error("a survey with the id {0} exists already")]
    SurveyExists(String),
    /// No survey with this id.
    #[error("no survey with this id")]
    NoSuchSurvey,
    /// The survey changed since the version the change started from (the current one).
    #[error("the survey is at version {0} now")]
    StaleSurvey(i64),
    /// The system gave no randomness for a new token.
    #[error("{0}")]
    Random(String),
}

/// The store's results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
