//! The lists: stored responses by filter, newest first, a page at a time by keyset, with
//! their follow-ups and notes.

use sqlx::Row;

use super::sql::Sql;
use super::{Result, Store};
use crate::model::{Filter, FollowUp, Note, Status, Stored};

impl Store {
    /// Stored responses matching `filter`, newest first (by `shown_at`, then `id`), at most
    /// `filter.limit` of them after the filter's cursor.
    pub async fn rows(&self, filter: &Filter) -> Result<Vec<Stored>> {
        let table = if filter.internal {
            "internal_responses AS responses"
        } else {
            "responses"
        };
        let mut sql = Sql::new(
            self.backend,
            &format!(
                "SELECT id, survey_id, CAST(score AS BIGINT), segment, silent_reason, comment,
                    CAST(contact_consent AS BIGINT), state, user_id, account_id, email, shown_at,
                    answered_at, body, f.status, f.owner, f.updated_at, f.updated_by
                 FROM {table} LEFT JOIN follow_ups f ON f.response_id = responses.id"
            ),
        );
        sql.filter(filter).status(filter.status);
        if let Some(owner) = &filter.owner {
            sql.and().push("f.owner = ").push_bind(owner.as_str());
        }
        if let Some((shown_at, id)) = &filter.after {
            // A row-value comparison: both databases turn it into one index range.
            sql.and()
                .push("(shown_at, id) < (")
                .push_bind(shown_at.as_str())
                .push(", ")
                .push_bind(id.as_str())
                .push(")");
        }
        sql.push(" ORDER BY shown_at DESC, id DESC LIMIT ")
            .push_bind_int(filter.limit.max(0));
        let rows = sql.build().fetch_all(&self.pool).await?;
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
                    follow_up: FollowUp {
                        status: status(r.try_get(14)?),
                        owner: r.try_get(15)?,
                        updated_at: r.try_get(16)?,
                        updated_by: r.try_get(17)?,
                        notes: Vec::new(),
                    },
                })
            })
            .collect()
    }

    /// Fills in the notes of `rows`' follow-ups, with one query.
    pub async fn with_notes(&self, rows: &mut [Stored]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut sql = Sql::new(
            self.backend,
            "SELECT response_id, text, author, at FROM notes WHERE response_id ",
        );
        sql.push_in(rows.iter().map(|r| r.id.as_str()))
            .push(" ORDER BY seq");
        for note in sql.build().fetch_all(&self.pool).await? {
            let id: String = note.try_get(0)?;
            if let Some(row) = rows.iter_mut().find(|r| r.id == id) {
                row.follow_up.notes.push(Note {
                    text: note.try_get(1)?,
                    author: note.try_get(2)?,
                    at: note.try_get(3)?,
                });
            }
        }
        Ok(())
    }

    /// The segment of response `id`, if it is stored.
    pub async fn segment_of(&self, id: &str) -> Result<Option<String>> {
        Ok(sqlx::query("SELECT segment FROM responses WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?)
    }
}

/// A stored follow-up state; `new` where nobody set one (or, defensively, a name this
/// version does not know).
pub(super) fn status(name: Option<String>) -> Status {
    use crate::model::Choice;
    name.as_deref()
        .and_then(Status::parse)
        .unwrap_or(Status::New)
}
