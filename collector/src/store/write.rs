//! The one writer: every response goes through one task that commits whatever has queued up
//! in one transaction (group commit). Each request gets its answer only after the commit and
//! its flush to disk (on SQLite by `flush`, beside the writer, which meanwhile writes the next
//! batch), and a flush is shared by every response of a batch instead of paid by each.
//! Upserts by `id` never go backwards: a late `partial` cannot overwrite a `complete` (see
//! `Response::rank`). The accounts' running totals are kept in the same transaction
//! (`totals`).

use std::collections::HashMap;
use std::sync::Arc;

use nps_widget::response::Response;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Row, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::alerts::queue_alerts;
use super::flush::{Answers, Flusher};
use super::sql::{pieces, Sql};
use super::totals::{Counted, Totals};
use super::{Backend, Queues, Result, Store, StoreError};
use crate::clock;
use crate::model::Upsert;

/// The upsert of responses into `{table}`, before its `VALUES` rows.
const UPSERT_INTO: &str = "INSERT INTO {table} (id, survey_id, score, segment, silent_reason,
        comment, contact_consent, referral_clicked, state, rank, user_id, account_id, email, url,
        locale, shown_at, answered_at, completed_at, body, received_at, updated_at, shown_day,
        survey_version)
     VALUES ";

/// After its rows: a stored response is replaced only by a state at least as far along, of the
/// same survey.
const UPSERT_CONFLICT: &str = " ON CONFLICT (id) DO UPDATE SET
        score = excluded.score, segment = excluded.segment,
        silent_reason = excluded.silent_reason, comment = excluded.comment,
        contact_consent = excluded.contact_consent,
        referral_clicked = excluded.referral_clicked, state = excluded.state,
        rank = excluded.rank, user_id = excluded.user_id,
        account_id = excluded.account_id, email = excluded.email, url = excluded.url,
        locale = excluded.locale, answered_at = excluded.answered_at,
        completed_at = excluded.completed_at, body = excluded.body,
        updated_at = excluded.updated_at, survey_version = excluded.survey_version
     WHERE excluded.rank >= {table}.rank AND excluded.survey_id = {table}.survey_id";

/// Most responses committed in one transaction.
const BATCH: usize = 512;
/// How long the writer waits for the rest of the requests after a large batch, when only a
/// few have come back yet.
const STRAGGLERS: std::time::Duration = std::time::Duration::from_micros(300);

/// One response waiting for the writer, and where its answer goes.
pub(super) struct Job {
    response: Response,
    body: String,
    /// An internal person's: written to `internal_responses`, out of every total and alert.
    internal: bool,
    reply: oneshot::Sender<Result<Upsert>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.response.id)
    }
}

/// Starts the writer over `pool`; its queue holds a few batches. With `wal` (SQLite), the
/// answers wait for a [`Flusher`]'s flush of that file.
pub(super) fn spawn(
    pool: AnyPool,
    backend: Backend,
    queues: Queues,
    wal: Option<std::path::PathBuf>,
) -> mpsc::Sender<Job> {
    let (writer, jobs) = mpsc::channel(4 * BATCH);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => {
            let spawned = std::thread::Builder::new()
                .name("nps-writer".into())
                .spawn(move || {
                    let flusher = match wal.map(Flusher::start).transpose() {
                        Ok(flusher) => flusher,
                        Err(e) => {
                            tracing::error!(error = %e, "starting the WAL's flushing thread");
                            return;
                        }
                    };
                    runtime.block_on(write_loop(pool, backend, jobs, queues, flusher))
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "starting the writer thread");
            }
        }
        Err(e) => tracing::error!(error = %e, "starting the writer's runtime"),
    }
    writer
}

impl Store {
    /// Stores a validated response, keyed by id; returns once it is committed.
    pub async fn upsert(&self, response: Response, body: String) -> Result<Upsert> {
        self.upsert_as(response, body, false).await
    }

    /// Like [`Store::upsert`]; an `internal` person's response is kept apart
    /// (`internal_responses`): stored and listed with `?internal=true`, in no report, total,
    /// alert or CRM sync.
    pub async fn upsert_as(
        &self,
        response: Response,
        body: String,
        internal: bool,
    ) -> Result<Upsert> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Job {
                response,
                body,
                internal,
                reply,
            })
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

/// The one writer: takes what has queued up (at most [`BATCH`]), commits it in one transaction,
/// then answers each request.
///
/// The writer holds its connection between batches: taking it from the pool and giving it back
/// costs a ping each way (sqlx tests a connection on release), two round trips per batch that
/// were a third of a small batch's time. After a failed batch the connection goes back and a
/// fresh one is taken.
async fn write_loop(
    pool: AnyPool,
    backend: Backend,
    mut jobs: mpsc::Receiver<Job>,
    queues: Queues,
    flusher: Option<Flusher>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut held: Option<PoolConnection<Any>> = None;
    let mut previous = 0;
    while jobs.recv_many(&mut batch, BATCH).await > 0 {
        if previous >= 16 && batch.len() < previous / 4 {
            // Under load the requests answered by the last batch come back within a
            // fraction of a millisecond; a batch of the first few to arrive would cost a whole
            // commit for them alone (batches alternated 63, 1, 63, 1 at 64 connections). The
            // thread is the writer's own, so it may wait.
            std::thread::sleep(STRAGGLERS);
            while batch.len() < BATCH {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
        previous = batch.len();
        let started = std::time::Instant::now();
        let written = match held.take() {
            Some(conn) => Ok(conn),
            None => pool.acquire().await,
        };
        let written = match written {
            Ok(mut conn) => {
                let result = write_batch(&mut conn, backend, &batch, &queues).await;
                if result.is_ok() {
                    held = Some(conn);
                }
                result
            }
            Err(e) => Err(e),
        };
        tracing::trace!(
            responses = batch.len(),
            micros = started.elapsed().as_micros(),
            "batch written"
        );
        match written {
            Ok(results) => {
                let answers: Answers = batch.drain(..).map(|j| j.reply).zip(results).collect();
                match &flusher {
                    // Blocks while the flusher is 8 batches behind: the writer waits for the
                    // disk then, as it did in every commit.
                    Some(flusher) => {
                        if let Err(unsent) = flusher.batches.send(answers) {
                            for (reply, _) in unsent.0 {
                                let _ = reply.send(Err(StoreError::WriterStopped));
                            }
                        }
                    }
                    None => {
                        for (reply, result) in answers {
                            let _ = reply.send(Ok(result));
                        }
                    }
                }
            }
            Err(e) => {
                tracing::error!(responses = batch.len(), error = %e, "storing a batch");
                let e = Arc::new(e);
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(StoreError::Batch(e.clone())));
                }
            }
        }
    }
}

/// Writes a batch in one transaction with a handful of statements: the batch's stored rows
/// are read at once, the order of the batch is played out here (a later state replaces an
/// earlier one, by the same rule the upsert's `WHERE` applies), then each response's final
/// state is written by multi-row upserts, the webhook queue gets every change, and the
/// accounts' totals their sum. Each statement is a round trip to the database's thread, and
/// round trips are what the writer's time goes to.
async fn write_batch(
    conn: &mut AnyConnection,
    backend: Backend,
    batch: &[Job],
    queues: &Queues,
) -> Result<Vec<Upsert>, sqlx::Error> {
    let mut tx: Transaction<'_, Any> = match backend {
        Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => conn.begin().await?,
    };
    let results = if batch.iter().any(|job| job.internal) {
        let (internal, counted): (Vec<&Job>, Vec<&Job>) = batch.iter().partition(|j| j.internal);
        let mut inside = write_rows(&mut tx, backend, &internal, queues, true)
            .await?
            .into_iter();
        let mut outside = write_rows(&mut tx, backend, &counted, queues, false)
            .await?
            .into_iter();
        batch
            .iter()
            .map(|job| {
                let next = if job.internal {
                    inside.next()
                } else {
                    outside.next()
                };
                next.unwrap_or(Upsert::Stale)
            })
            .collect()
    } else {
        let all: Vec<&Job> = batch.iter().collect();
        write_rows(&mut tx, backend, &all, queues, false).await?
    };
    tx.commit().await?;
    Ok(results)
}

/// Writes `batch` into `responses`, with its queues and totals, or (`internal`) into
/// `internal_responses`, with the webhook's queue only.
async fn write_rows(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    batch: &[&Job],
    queues: &Queues,
    internal: bool,
) -> Result<Vec<Upsert>, sqlx::Error> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let table = if internal {
        "internal_responses"
    } else {
        "responses"
    };
    let now = clock::now_rfc3339();
    let mut stored: HashMap<String, (i64, Counted)> = HashMap::new();
    let ids: Vec<&str> = batch.iter().map(|job| job.response.id.as_str()).collect();
    let select = format!(
        "SELECT id, survey_id, segment, account_id, user_id, CAST(score AS BIGINT),
            answered_at, comment, CAST(rank AS BIGINT), shown_day FROM {table} WHERE id "
    );
    for piece in pieces(&ids) {
        let mut sql = Sql::new(backend, &select);
        sql.push_in(piece.iter().copied());
        for row in sql.build().fetch_all(&mut **tx).await? {
            let counted = Counted {
                id: row.try_get(0)?,
                survey_id: row.try_get(1)?,
                segment: row.try_get(2)?,
                account_id: row.try_get(3)?,
                user_id: row.try_get(4)?,
                score: row.try_get(5)?,
                answered_at: row.try_get(6)?,
                comment: row.try_get(7)?,
                month: month_of(&row.try_get::<String, _>(9)?),
            };
            stored.insert(counted.id.clone(), (row.try_get(8)?, counted));
        }
    }
    let mut totals = Totals::default();
    let mut results = Vec::with_capacity(batch.len());
    // Per id, the job whose state is written; and every job that changed something.
    let mut last: HashMap<&str, usize> = HashMap::new();
    let mut changes = Vec::new();
    for (i, Job { response: r, .. }) in batch.iter().copied().enumerate() {
        let rank = i64::from(r.rank());
        let result = match stored.get(&r.id) {
            None => Upsert::Inserted,
            Some((stored_rank, old)) if rank >= *stored_rank && old.survey_id == r.survey_id => {
                Upsert::Updated
            }
            Some(_) => Upsert::Stale,
        };
        results.push(result);
        if result == Upsert::Stale {
            continue;
        }
        // The shown day is the first write's (an update keeps it).
        let month = match stored.get(&r.id) {
            Some((_, old)) => {
                totals.remove(old);
                old.month.clone()
            }
            None => month_of(&r.shown_at),
        };
        let new = Counted {
            id: r.id.clone(),
            survey_id: r.survey_id.clone(),
            segment: r.segment.as_str().to_owned(),
            account_id: r.user.account_id.clone(),
            user_id: r.user.id.clone(),
            score: r.score.map(i64::from),
            answered_at: r.answered_at.clone(),
            comment: r.comment.clone(),
            month,
        };
        totals.add(&new);
        stored.insert(r.id.clone(), (rank, new));
        last.insert(r.id.as_str(), i);
        changes.push(i);
    }
    let mut written: Vec<usize> = last.into_values().collect();
    written.sort_unstable();
    let (upsert_into, upsert_conflict) = (
        UPSERT_INTO.replace("{table}", table),
        UPSERT_CONFLICT.replace("{table}", table),
    );
    for piece in pieces(&written) {
        let mut sql = Sql::new(backend, &upsert_into);
        for (n, &i) in piece.iter().enumerate() {
            let Job {
                response: r, body, ..
            } = batch[i];
            sql.open_row(n)
                .push_bind(r.id.as_str())
                .push(", ")
                .push_bind(r.survey_id.as_str())
                .push(", ")
                .push_bind_int_opt(r.score.map(i64::from))
                .push(", ")
                .push_bind(r.segment.as_str())
                .push(", ")
                .push_bind_opt(r.silent_reason.map(|s| s.as_str().to_owned()))
                .push(", ")
                .push_bind_opt(r.comment.clone())
                .push(", ")
                .push_bind_int_opt(r.contact_consent.map(i64::from))
                .push(", ")
                .push_bind_int_opt(r.referral_clicked.map(i64::from))
                .push(", ")
                .push_bind(r.state.as_str())
                .push(", ")
                .push_bind_int(i64::from(r.rank()))
                .push(", ")
                .push_bind_opt(r.user.id.clone())
                .push(", ")
                .push_bind_opt(r.user.account_id.clone())
                .push(", ")
                .push_bind_opt(r.user.email.clone())
                .push(", ")
                .push_bind(r.context.url.as_str())
                .push(", ")
                .push_bind(r.context.locale.as_str())
                .push(", ")
                .push_bind(r.shown_at.as_str())
                .push(", ")
                .push_bind_opt(r.answered_at.clone())
                .push(", ")
                .push_bind_opt(r.completed_at.clone())
                .push(", ")
                .push_bind(body.as_str())
                .push(", ")
                .push_bind(now.as_str())
                .push(", ")
                .push_bind(now.as_str())
                .push(", ")
                .push_bind(r.shown_at.get(..10).unwrap_or(&r.shown_at))
                .push(", ")
                .push_bind_int_opt(r.survey_version.map(i64::from))
                .push(")");
        }
        sql.push(&upsert_conflict);
        sql.build().execute(&mut **tx).await?;
    }
    if queues.forward {
        for piece in pieces(&changes) {
            let mut sql = Sql::new(
                backend,
                "INSERT INTO forwards (response_id, body, attempts, next_at) VALUES ",
            );
            for (n, &i) in piece.iter().enumerate() {
                let Job {
                    response: r, body, ..
                } = batch[i];
                sql.open_row(n)
                    .push_bind(r.id.as_str())
                    .push(", ")
                    .push_bind(body.as_str())
                    .push(", 0, 0)");
            }
            sql.build().execute(&mut **tx).await?;
        }
    }
    if internal {
        return Ok(results);
    }
    if queues.crm {
        let changed: Vec<&Response> = changes.iter().map(|&i| &batch[i].response).collect();
        super::crm::queue_changes(tx, backend, &changed).await?;
    }
    if !queues.notify.is_empty() {
        let changed: Vec<&Response> = changes.iter().map(|&i| &batch[i].response).collect();
        queue_alerts(tx, backend, &changed, queues).await?;
    }
    totals.apply(tx, backend).await?;
    Ok(results)
}

/// The month (`YYYY-MM`) of a shown day or time, as `account_months` keys it.
fn month_of(shown: &str) -> String {
    shown.get(..7).unwrap_or(shown).to_owned()
}
