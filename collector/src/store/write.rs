//! The one writer: every response goes through one task that commits whatever has queued up
//! in one transaction (group commit). Each request still gets its answer only after the
//! commit, and a disk flush is shared by every response in the batch instead of paid by each.
//! Upserts by `id` never go backwards: a late `partial` cannot overwrite a `complete` (see
//! `Response::rank`).

use std::sync::Arc;

use nps_widget::response::Response;
use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use super::{Backend, Result, Store, StoreError};
use crate::clock;
use crate::model::Upsert;

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

/// One response waiting for the writer, and where its answer goes.
pub(super) struct Job {
    response: Response,
    body: String,
    reply: oneshot::Sender<Result<Upsert>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.response.id)
    }
}

/// Starts the writer over `pool`; its queue holds a few batches.
pub(super) fn spawn(pool: AnyPool, backend: Backend, forward: bool) -> mpsc::Sender<Job> {
    let (writer, jobs) = mpsc::channel(4 * BATCH);
    tokio::spawn(write_loop(pool, backend, jobs, forward));
    writer
}

impl Store {
    /// Stores a validated response, keyed by id; returns once it is committed.
    pub async fn upsert(&self, response: Response, body: String) -> Result<Upsert> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Job {
                response,
                body,
                reply,
            })
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
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
                tracing::error!(responses = batch.len(), error = %e, "storing a batch");
                let e = Arc::new(e);
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(StoreError::Batch(e.clone())));
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
    let mut tx = super::begin_write(pool, backend).await?;
    let now = clock::now_rfc3339();
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
