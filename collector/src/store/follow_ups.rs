//! Closing the loop: a follow-up state per response, apart from the response itself (the
//! widget re-delivering a response never resets it), and append-only notes. Every change is
//! queued for the webhook in the same transaction.

use sqlx::Row;

use super::responses::status;
use super::{Result, Store};
use crate::clock;
use crate::model::{FollowUp, Note, Status};

impl Store {
    /// A response's follow-up with its notes (the default one if nobody touched it).
    pub async fn follow_up(&self, id: &str) -> Result<FollowUp> {
        let mut follow_up = match sqlx::query(
            "SELECT status, owner, updated_at, updated_by FROM follow_ups WHERE response_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        {
            Some(r) => FollowUp {
                status: status(r.try_get(0)?),
                owner: r.try_get(1)?,
                updated_at: r.try_get(2)?,
                updated_by: r.try_get(3)?,
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

    /// Queues `event` for the webhook in `tx`, when forwarding.
    async fn queue_event(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        response_id: &str,
        event: serde_json::Value,
    ) -> Result<()> {
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

    /// Sets the status and/or the owner of response `id`'s follow-up (checked by the caller),
    /// as teammate `by`, and queues the change for the webhook, in one transaction; the
    /// follow-up after it.
    pub async fn set_follow_up(
        &self,
        id: &str,
        status: Option<Status>,
        owner: Option<Option<&str>>,
        by: &str,
    ) -> Result<FollowUp> {
        let now = clock::now_rfc3339();
        let mut tx = self.begin_write().await?;
        let current = sqlx::query("SELECT status, owner FROM follow_ups WHERE response_id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let (old_status, old_owner): (Status, Option<String>) = match current {
            Some(r) => (super::responses::status(r.try_get(0)?), r.try_get(1)?),
            None => (Status::New, None),
        };
        let status = status.unwrap_or(old_status);
        let owner = match owner {
            Some(o) => o.map(str::to_owned),
            None => old_owner,
        };
        sqlx::query(
            "INSERT INTO follow_ups (response_id, status, owner, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (response_id) DO UPDATE SET status = excluded.status,
                owner = excluded.owner, updated_at = excluded.updated_at,
                updated_by = excluded.updated_by",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(&owner)
        .bind(&now)
        .bind(by)
        .execute(&mut *tx)
        .await?;
        if old_status.is_closed() != status.is_closed() {
            let change = if status.is_closed() { 1 } else { -1 };
            self.count_closed(&mut tx, id, change).await?;
        }
        let event = serde_json::json!({
            "type": "follow_up.updated", "response_id": id,
            "follow_up": {"status": status, "owner": owner, "updated_at": now, "updated_by": by},
        });
        self.queue_event(&mut tx, id, event).await?;
        tx.commit().await?;
        self.follow_up(id).await
    }

    /// Moves response `id`'s account's closed follow-ups by `change` (its survey's scope and
    /// the all-surveys one), in `tx`: the accounts list reads its open follow-ups from there.
    pub(super) async fn count_closed(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        id: &str,
        change: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE account_totals SET closed = closed + $1
             WHERE account_id = (SELECT account_id FROM responses WHERE id = $2)
               AND (scope = '' OR scope = (SELECT survey_id FROM responses WHERE id = $3))",
        )
        .bind(change)
        .bind(id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "UPDATE account_months SET closed = closed + $1
             WHERE account_id = (SELECT account_id FROM responses WHERE id = $2)
               AND month = (SELECT substr(shown_day, 1, 7) FROM responses WHERE id = $3)
               AND (scope = '' OR scope = (SELECT survey_id FROM responses WHERE id = $4))",
        )
        .bind(change)
        .bind(id)
        .bind(id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        if self.crm {
            // Its open follow-ups are on the account's CRM record.
            let account: Option<String> =
                sqlx::query("SELECT account_id FROM responses WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await?
                    .map(|r| r.try_get(0))
                    .transpose()?
                    .flatten();
            if let Some(account) = account {
                super::crm::queue_account(tx, self.backend, &account).await?;
            }
        }
        Ok(())
    }

    /// Appends a note by teammate `author` to response `id`'s follow-up and queues it for
    /// the webhook.
    pub async fn add_note(&self, id: &str, text: &str, author: Option<&str>) -> Result<Note> {
        let note = Note {
            text: text.to_owned(),
            author: author.map(str::to_owned),
            at: clock::now_rfc3339(),
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
}
