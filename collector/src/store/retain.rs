//! Retention (`--retain-days N`): responses shown more than N days ago keep what the reports
//! count (score, segment, survey, account, dates, state) and lose who gave them and what they
//! wrote: user id, email, comment and url cleared, the stored body's copies of them (and the
//! user's traits, hash and the referrer) taken out, their notes deleted, the referrals made
//! from them no longer naming the referrer, the account's latest comment cleared when it was
//! theirs, and a person whose latest answer it was counted under the response's id instead of
//! theirs (as an anonymous answer is). The NPS and the trend of old periods do not change.
//!
//! The chore goes a day at a time from the oldest day not yet done (`chores.done_through`),
//! a batch of responses at a time, each batch one transaction: it can stop anywhere and go on.

use serde_json::Value;
use sqlx::{Any, Row, Transaction};

use super::sql::{pieces, Sql};
use super::{Result, Store};
use crate::clock;

/// Responses per transaction.
const BATCH: i64 = 500;

/// What one run of the chore did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Retained {
    /// Responses shown before this day were anonymised (`YYYY-MM-DD`).
    pub cutoff: String,
    /// Responses anonymised by this run.
    pub responses: u64,
    /// Notes deleted by this run.
    pub notes: u64,
}

/// When a chore last ran and what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoreRun {
    /// RFC 3339.
    pub at: String,
    /// Its result, as JSON.
    pub result: String,
}

/// The body as kept after retention: the person and what they wrote taken out.
fn anonymised_body(body: &str) -> String {
    let Ok(mut value) = serde_json::from_str::<Value>(body) else {
        // Not JSON (never stored so): nothing of it can be kept safely.
        return "{}".to_owned();
    };
    if let Some(object) = value.as_object_mut() {
        object.remove("comment");
        if let Some(user) = object.get_mut("user").and_then(Value::as_object_mut) {
            for key in ["id", "email", "hash", "traits"] {
                user.remove(key);
            }
        }
        if let Some(context) = object.get_mut("context").and_then(Value::as_object_mut) {
            context.remove("referrer");
            if context.contains_key("url") {
                context.insert("url".into(), Value::String(String::new()));
            }
        }
    }
    value.to_string()
}

impl Store {
    /// Anonymises the responses shown before `days` days before `now_ms`; records the run in
    /// `chores`.
    pub async fn retain(&self, days: u32, now_ms: i64) -> Result<Retained> {
        let today = time::OffsetDateTime::from_unix_timestamp(now_ms / 1000)
            .map_or(time::OffsetDateTime::UNIX_EPOCH, |t| t)
            .date();
        let cutoff = clock::day(today - time::Duration::days(i64::from(days)));
        let mut done = Retained {
            cutoff: cutoff.clone(),
            ..Retained::default()
        };
        // The counted responses, a day at a time from the first one not yet done.
        let through: Option<String> =
            sqlx::query("SELECT done_through FROM chores WHERE name = 'retain'")
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?
                .flatten();
        let mut day: Option<String> = sqlx::query(
            "SELECT MIN(shown_day) FROM responses WHERE shown_day >= $1 AND shown_day < $2
             AND anonymised = 0",
        )
        .bind(through.clone().unwrap_or_default())
        .bind(cutoff.as_str())
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?;
        while let Some(d) = day {
            loop {
                let (responses, notes) = self.anonymise_batch("responses", Some(&d), "").await?;
                done.responses += responses;
                done.notes += notes;
                if responses < BATCH as u64 {
                    break;
                }
            }
            sqlx::query("UPDATE chores SET done_through = $1 WHERE name = 'retain'")
                .bind(d.as_str())
                .execute(&self.pool)
                .await?;
            day = sqlx::query(
                "SELECT MIN(shown_day) FROM responses WHERE shown_day > $1 AND shown_day < $2
                 AND anonymised = 0",
            )
            .bind(d.as_str())
            .bind(cutoff.as_str())
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        }
        // The internal people's: few, in one pass.
        loop {
            let (responses, notes) = self
                .anonymise_batch("internal_responses", None, &cutoff)
                .await?;
            done.responses += responses;
            done.notes += notes;
            if responses < BATCH as u64 {
                break;
            }
        }
        sqlx::query("UPDATE chores SET last_run_at = $1, last_result = $2 WHERE name = 'retain'")
            .bind(clock::rfc3339(now_ms))
            .bind(serde_json::to_string(&done).unwrap_or_default())
            .execute(&self.pool)
            .await?;
        Ok(done)
    }

    /// When the chore `name` last ran, and what it did.
    pub async fn chore(&self, name: &str) -> Result<Option<ChoreRun>> {
        let row = sqlx::query("SELECT last_run_at, last_result FROM chores WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let at: Option<String> = row.try_get(0)?;
        let result: Option<String> = row.try_get(1)?;
        Ok(at.map(|at| ChoreRun {
            at,
            result: result.unwrap_or_default(),
        }))
    }

    /// One transaction: up to [`BATCH`] responses of `table` not yet anonymised, shown on
    /// `day` (or, without one, before `before`); how many, and the notes deleted.
    async fn anonymise_batch(
        &self,
        table: &str,
        day: Option<&str>,
        before: &str,
    ) -> Result<(u64, u64)> {
        let condition = if day.is_some() {
            "shown_day = $1"
        } else {
            "shown_day < $1"
        };
        let rows = sqlx::query(&format!(
            "SELECT id, user_id, body, answered_at FROM {table}
             WHERE {condition} AND anonymised = 0 LIMIT {BATCH}"
        ))
        .bind(day.unwrap_or(before))
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Ok((0, 0));
        }
        let mut tx = self.pool.begin().await?;
        let mut ids = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get(0)?;
            let user_id: Option<String> = row.try_get(1)?;
            let body: String = row.try_get(2)?;
            let answered_at: Option<String> = row.try_get(3)?;
            sqlx::query(&format!(
                "UPDATE {table} SET user_id = NULL, email = NULL, comment = NULL, url = '',
                 body = $1, anonymised = 1 WHERE id = $2"
            ))
            .bind(anonymised_body(&body))
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
            if table == "responses" {
                // The key the totals order answers by (`Counted::key`).
                let key = format!("{}|{id}", answered_at.unwrap_or_default());
                if let Some(user) = user_id {
                    sqlx::query(
                        "UPDATE account_people SET person = $1 WHERE person = $2 AND latest_key = $3",
                    )
                    .bind(id.as_str())
                    .bind(user)
                    .bind(key.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query(
                    "UPDATE account_totals SET latest_comment = NULL WHERE latest_comment_key = $1",
                )
                .bind(key)
                .execute(&mut *tx)
                .await?;
            }
            ids.push(id);
        }
        let notes = clear_linked(&mut tx, self.backend, &ids).await?;
        tx.commit().await?;
        Ok((ids.len() as u64, notes))
    }
}

/// Deletes the notes of the responses `ids` and takes the referrer out of their referrals;
/// the notes deleted.
async fn clear_linked(
    tx: &mut Transaction<'_, Any>,
    backend: super::Backend,
    ids: &[String],
) -> std::result::Result<u64, sqlx::Error> {
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut notes = 0;
    for piece in pieces(&refs) {
        let mut sql = Sql::new(backend, "DELETE FROM notes WHERE response_id ");
        sql.push_in(piece.iter().copied());
        notes += sql.build().execute(&mut **tx).await?.rows_affected();
        let mut sql = Sql::new(
            backend,
            "UPDATE referrals SET referrer_user_id = NULL, referrer_email = NULL WHERE response_id ",
        );
        sql.push_in(piece.iter().copied());
        sql.build().execute(&mut **tx).await?;
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_keeps_what_is_counted_and_loses_the_person() {
        let body = r#"{"schema":1,"id":"r1","survey_id":"default","score":3,"segment":"detractor",
            "comment":"call me, Ann","user":{"id":"u1","email":"ann@example.com","hash":"h",
            "account_id":"acme","traits":{"plan":"pro"}},"context":{"url":"https://x/?ann",
            "locale":"en","referrer":"https://y"},"shown_at":"2024-01-01T00:00:00Z"}"#;
        let kept: Value = serde_json::from_str(&anonymised_body(body)).unwrap();
        assert_eq!(kept["score"], 3);
        assert_eq!(kept["segment"], "detractor");
        assert_eq!(kept["user"]["account_id"], "acme");
        assert_eq!(kept["context"]["url"], "");
        assert_eq!(kept["context"]["locale"], "en");
        assert_eq!(kept["shown_at"], "2024-01-01T00:00:00Z");
        let text = kept.to_string();
        for gone in ["Ann", "ann@", "u1", "pro", "\"h\"", "https://"] {
            assert!(!text.contains(gone), "{gone} is still in {text}");
        }
        assert_eq!(anonymised_body("not json"), "{}");
    }
}
