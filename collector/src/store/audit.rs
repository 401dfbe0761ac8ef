//! The audit trail: one row per change made with a token (when, the token's name, the action,
//! the object), newest first a page at a time.

use sqlx::Row;

use super::{Result, Store};

/// One change in the trail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// Its place in the trail (the keyset cursor).
    pub seq: i64,
    /// RFC 3339.
    pub at: String,
    /// The token's name.
    pub actor: String,
    /// What was done: `PATCH /v1/responses/{id}/follow-up`, `person.erase`…
    pub action: String,
    /// What it was done to: the path's ids, or a person's digest.
    pub object: String,
    /// What the answer said of it, when it says something worth keeping (an erasure's counts).
    pub detail: Option<String>,
}

impl Store {
    /// Adds a change to the trail.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        object: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit (at, actor, action, object, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(crate::clock::now_rfc3339())
        .bind(actor)
        .bind(action)
        .bind(object)
        .bind(detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// At most `limit` changes before `before` (a `seq`; all when `None`), newest first.
    pub async fn audit_trail(&self, before: Option<i64>, limit: i64) -> Result<Vec<AuditEntry>> {
        sqlx::query(
            "SELECT CAST(seq AS BIGINT), at, actor, action, object, detail FROM audit
             WHERE seq < $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| {
            Ok(AuditEntry {
                seq: r.try_get(0)?,
                at: r.try_get(1)?,
                actor: r.try_get(2)?,
                action: r.try_get(3)?,
                object: r.try_get(4)?,
                detail: r.try_get(5)?,
            })
        })
        .collect()
    }
}
