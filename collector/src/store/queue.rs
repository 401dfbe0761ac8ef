//! The webhook queue: each stored change waits in `forwards` until the target took it, and the
//! `leases` table says which collector drains it while several share one database.

use sqlx::Row;

use super::{Result, Store};
use crate::model::Forward;

impl Store {
    /// Takes or renews the lease `name` for `holder` until `now_ms + ttl_ms`; `false` when
    /// another holder's lease is still running.
    pub async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool> {
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
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        sqlx::query("UPDATE leases SET until_ms = 0 WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The first `limit` queued forwards, oldest first.
    pub async fn queued(&self, limit: i64) -> Result<Vec<Forward>> {
        let rows = sqlx::query(
            "SELECT seq, response_id, body, CAST(attempts AS BIGINT), next_at FROM forwards
             ORDER BY seq LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let forwards = rows
            .into_iter()
            .map(|r| {
                Ok(Forward {
                    seq: r.try_get(0)?,
                    response_id: r.try_get(1)?,
                    body: r.try_get(2)?,
                    attempts: r.try_get(3)?,
                    next_at: r.try_get(4)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(forwards)
    }

    /// The forward target took `seq`: it leaves the queue.
    pub async fn forwarded(&self, seq: i64) -> Result<()> {
        sqlx::query("DELETE FROM forwards WHERE seq = $1")
            .bind(seq)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// `seq` failed again: try it at `next_at_ms`.
    pub async fn forward_later(&self, seq: i64, attempts: i64, next_at_ms: i64) -> Result<()> {
        sqlx::query("UPDATE forwards SET attempts = $1, next_at = $2 WHERE seq = $3")
            .bind(attempts)
            .bind(next_at_ms)
            .bind(seq)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Number of forwards still queued.
    pub async fn queued_forwards(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM forwards")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }
}
