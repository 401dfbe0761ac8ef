//! Reaching people outside the site: the personal links' key, what a link's response holds,
//! the people of a list who have an email (mail merge), the detractor alerts' queue and the
//! digests sent.

use sqlx::Row;

use super::sql::Sql;
use super::{count, Result, Store};
use crate::model::{Filter, StatusFilter};

/// One person of a list, for a mail merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Their address.
    pub email: String,
    /// Their id, if a response gave one.
    pub user_id: Option<String>,
    /// Their account.
    pub account_id: Option<String>,
    /// The language their latest response was in.
    pub locale: Option<String>,
}

/// A detractor alert that is due, with what its text says.
#[derive(Debug, Clone)]
pub struct Alert {
    /// The response.
    pub response_id: String,
    /// The chat URL.
    pub target: String,
    /// Failed attempts so far.
    pub attempts: i64,
    /// 0–6.
    pub score: Option<i64>,
    /// The account.
    pub account_id: Option<String>,
    /// The person's id.
    pub user_id: Option<String>,
    /// The person's email.
    pub email: Option<String>,
    /// Their comment.
    pub comment: Option<String>,
}

impl Store {
    /// The key personal links are signed with: made once (32 random bytes) and kept in the
    /// database, so every collector of one database signs and checks with the same key.
    pub async fn link_key(&self) -> Result<Vec<u8>> {
        let mut fresh = [0u8; 32];
        getrandom::getrandom(&mut fresh).map_err(|e| super::StoreError::Random(e.to_string()))?;
        sqlx::query(
            "INSERT INTO secrets (name, value) VALUES ('link', $1) ON CONFLICT (name) DO NOTHING",
        )
        .bind(crate::team::hex(&fresh))
        .execute(&self.pool)
        .await?;
        let stored: String = sqlx::query("SELECT value FROM secrets WHERE name = 'link'")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok(stored.into_bytes())
    }

    /// The segment, state and score of response `id`, if stored.
    pub async fn answer_of(&self, id: &str) -> Result<Option<(String, String, Option<i64>)>> {
        let row = sqlx::query(
            "SELECT segment, state, CAST(score AS BIGINT) FROM responses WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => Some((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)),
            None => None,
        })
    }

    /// The distinct people with an email among the responses of `filter`, by email, at most
    /// `filter.limit` after `after` (keyset, so a list of any size streams in pages).
    pub async fn people(&self, filter: &Filter, after: Option<&str>) -> Result<Vec<Person>> {
        let mut sql = Sql::new(
            self.backend,
            "SELECT email, MAX(user_id), MAX(account_id), MAX(locale) FROM responses",
        );
        sql.filter(filter);
        sql.and().push("email IS NOT NULL");
        sql.and().push("email <> ''");
        if let Some(after) = after {
            sql.and().push("email > ").push_bind(after);
        }
        sql.push(" GROUP BY email ORDER BY email LIMIT ")
            .push_bind_int(filter.limit.max(1));
        let rows = sql.build().fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|r| {
                Ok(Person {
                    email: r.try_get(0)?,
                    user_id: r.try_get(1)?,
                    account_id: r.try_get(2)?,
                    locale: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Responses of `filter` whose follow-up is still open (not resolved, not referred).
    pub async fn open_follow_ups(&self, filter: &Filter) -> Result<u64> {
        let mut sql = Sql::new(
            self.backend,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM responses
             LEFT JOIN follow_ups f ON f.response_id = responses.id",
        );
        sql.filter(filter).status(Some(StatusFilter::Open));
        sql.and().push("segment <> 'silent'");
        let row = sql.build().fetch_one(&self.pool).await?;
        Ok(count(&row, 0)?)
    }

    /// Alerts due at `now_ms` and not waiting for a retry, oldest first.
    pub async fn due_alerts(&self, now_ms: i64, limit: i64) -> Result<Vec<Alert>> {
        let rows = sqlx::query(
            "SELECT n.response_id, n.target, n.attempts, CAST(r.score AS BIGINT), r.account_id,
                r.user_id, r.email, r.comment
             FROM notices n JOIN responses r ON r.id = n.response_id
             WHERE n.sent_at IS NULL AND n.due_at <= $1 AND n.next_at <= $1
             ORDER BY n.due_at LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Alert {
                    response_id: r.try_get(0)?,
                    target: r.try_get(1)?,
                    attempts: r.try_get(2)?,
                    score: r.try_get(3)?,
                    account_id: r.try_get(4)?,
                    user_id: r.try_get(5)?,
                    email: r.try_get(6)?,
                    comment: r.try_get(7)?,
                })
            })
            .collect()
    }

    /// The chat took the alert: it is never sent again.
    pub async fn alert_sent(&self, response_id: &str, target: &str, now_ms: i64) -> Result<()> {
        sqlx::query("UPDATE notices SET sent_at = $1 WHERE response_id = $2 AND target = $3")
            .bind(now_ms)
            .bind(response_id)
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The alert failed again: try it at `next_at_ms`.
    pub async fn alert_later(
        &self,
        response_id: &str,
        target: &str,
        attempts: i64,
        next_at_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE notices SET attempts = $1, next_at = $2 WHERE response_id = $3 AND target = $4",
        )
        .bind(attempts)
        .bind(next_at_ms)
        .bind(response_id)
        .bind(target)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Alerts sent (and still waiting) so far: for tests and `/metrics`.
    pub async fn alerts(&self) -> Result<(u64, u64)> {
        let row = sqlx::query(
            "SELECT CAST(SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN sent_at IS NULL THEN 1 ELSE 0 END) AS BIGINT) FROM notices",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((count(&row, 0)?, count(&row, 1)?))
    }

    /// Claims the digest of `period` (`weekly:2026-11-30`) for this collector: `false` when
    /// one was claimed already (by this or another collector).
    pub async fn claim_digest(&self, period: &str, now_ms: i64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO digests (period, sent_at) VALUES ($1, $2) ON CONFLICT (period) DO NOTHING",
        )
        .bind(period)
        .bind(now_ms)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    /// Gives a claimed digest back (its sending failed), so it is tried again.
    pub async fn unclaim_digest(&self, period: &str) -> Result<()> {
        sqlx::query("DELETE FROM digests WHERE period = $1")
            .bind(period)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
