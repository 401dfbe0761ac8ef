//! A person's data: everything held about them (`person`, GDPR art. 15), erased everywhere in
//! one transaction (`erase`, art. 17), and the personal links issued to them (`links`).
//!
//! Where a person's data lives, and how an erasure clears it:
//! - `responses`, `internal_responses`: their rows deleted (by user id, or by email);
//! - `follow_ups`, `notes`: those of their responses, deleted;
//! - `forwards` (queued webhooks), `notices` (queued alerts), `crm_changes`, `crm_sent`: theirs
//!   deleted; the webhook target gets one `person.erased` event instead (digests only);
//! - `referrals` made from their answers: deleted (they would not exist had they never
//!   answered);
//! - `links` issued to them: deleted, and a link signed for them before the erasure answers
//!   410 from then on (`erasures` keeps the digests it is checked against);
//! - `account_totals`, `account_people`, `account_months`: their accounts' rows counted again
//!   from the responses left, so every report equals one of a database that never had them.

use std::collections::BTreeSet;

use sqlx::{Any, Row, Transaction};

use super::sql::{pieces, Sql};
use super::totals::{Counted, Totals};
use super::{Backend, Result, Store};
use crate::clock;

/// Whom a request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// The site's own user id.
    UserId(String),
    /// An email address (compared without case).
    Email(String),
}

impl Who {
    /// The column and the value it is matched by.
    fn condition(&self) -> (&'static str, String) {
        match self {
            Who::UserId(id) => ("user_id = ", id.clone()),
            Who::Email(email) => ("LOWER(email) = ", email.to_lowercase()),
        }
    }

    /// What the audit trail and the webhook name them by: a digest, never the value.
    pub fn digest(&self) -> String {
        match self {
            Who::UserId(id) => format!("user:{}", crate::team::digest(id)),
            Who::Email(email) => format!("email:{}", crate::team::digest(&email.to_lowercase())),
        }
    }
}

/// What an erasure removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Erased {
    /// Responses (internal ones included).
    pub responses: u64,
    /// Notes on their follow-ups.
    pub notes: u64,
    /// Personal links issued to them.
    pub links: u64,
    /// Queued webhook deliveries.
    pub forwards: u64,
    /// Queued alerts.
    pub notices: u64,
    /// Follow-ups of their responses.
    pub follow_ups: u64,
    /// Referrals made from their answers.
    pub referrals: u64,
}

/// A personal link issued, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IssuedLink {
    /// The id of the response it records.
    pub response_id: String,
    /// Its survey.
    pub survey_id: String,
    /// Whom it is for.
    pub user_id: Option<String>,
    /// Their account.
    pub account_id: Option<String>,
    /// Their email.
    pub email: Option<String>,
    /// When it was signed.
    pub issued_at: String,
    /// Seconds since the epoch after which it is refused.
    pub expires_at: i64,
    /// The token's name that made it.
    pub issued_by: String,
}

/// The tables responses live in: the counted ones and the internal people's.
const TABLES: [&str; 2] = ["responses", "internal_responses"];

impl Store {
    /// Records personal links just signed.
    pub async fn record_links(&self, links: &[IssuedLink]) -> Result<()> {
        for piece in pieces(links) {
            let mut sql = Sql::new(
                self.backend,
                "INSERT INTO links (response_id, survey_id, user_id, account_id, email, issued_at,
                    expires_at, issued_by) VALUES ",
            );
            for (i, l) in piece.iter().enumerate() {
                sql.open_row(i)
                    .push_bind(l.response_id.as_str())
                    .push(", ")
                    .push_bind(l.survey_id.as_str())
                    .push(", ")
                    .push_bind_opt(l.user_id.clone())
                    .push(", ")
                    .push_bind_opt(l.account_id.clone())
                    .push(", ")
                    .push_bind_opt(l.email.clone())
                    .push(", ")
                    .push_bind(l.issued_at.as_str())
                    .push(", ")
                    .push_bind_int(l.expires_at)
                    .push(", ")
                    .push_bind(l.issued_by.as_str())
                    .push(")");
            }
            sql.push(
                " ON CONFLICT (response_id) DO UPDATE SET expires_at = excluded.expires_at,
                    issued_at = excluded.issued_at, issued_by = excluded.issued_by",
            );
            sql.build().execute(&self.pool).await?;
        }
        Ok(())
    }

    /// When the person a link names (by user id or email) was last erased, in seconds.
    pub async fn erased_at(
        &self,
        user_id: Option<&str>,
        email: Option<&str>,
    ) -> Result<Option<i64>> {
        let user = user_id.map(crate::team::digest);
        let email = email.map(|e| crate::team::digest(&e.to_lowercase()));
        if user.is_none() && email.is_none() {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT CAST(MAX(at_s) AS BIGINT) FROM erasures
             WHERE user_digest = $1 OR email_digest = $2",
        )
        .bind(user.unwrap_or_default())
        .bind(email.unwrap_or_default())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Everything held about `who`: their responses (with bodies, follow-ups and notes, the
    /// internal ones marked), the links issued to them, their accounts' records, the
    /// referrals made from their answers.
    pub async fn person(&self, who: &Who) -> Result<serde_json::Value> {
        use serde_json::json;
        let (column, value) = who.condition();
        let mut responses = Vec::new();
        for table in TABLES {
            let sql = format!(
                "SELECT r.id, r.survey_id, CAST(r.score AS BIGINT), r.segment, r.comment, r.state,
                    r.user_id, r.account_id, r.email, r.url, r.locale, r.shown_at, r.answered_at,
                    r.completed_at, r.received_at, r.body, f.status, f.owner, f.updated_at,
                    f.updated_by
                 FROM (SELECT * FROM {table} WHERE {column}$1) r
                 LEFT JOIN follow_ups f ON f.response_id = r.id ORDER BY r.shown_at, r.id"
            );
            for r in sqlx::query(&sql)
                .bind(value.as_str())
                .fetch_all(&self.pool)
                .await?
            {
                let id: String = r.try_get(0)?;
                let body: String = r.try_get(15)?;
                let notes: Vec<serde_json::Value> = sqlx::query(
                    "SELECT text, author, at FROM notes WHERE response_id = $1 ORDER BY seq",
                )
                .bind(id.as_str())
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|n| {
                    Ok(json!({
                        "text": n.try_get::<String, _>(0)?,
                        "author": n.try_get::<Option<String>, _>(1)?,
                        "at": n.try_get::<String, _>(2)?,
                    }))
                })
                .collect::<Result<_, sqlx::Error>>()?;
                let status: Option<String> = r.try_get(16)?;
                responses.push(json!({
                    "id": id,
                    "survey_id": r.try_get::<String, _>(1)?,
                    "score": r.try_get::<Option<i64>, _>(2)?,
                    "segment": r.try_get::<String, _>(3)?,
                    "comment": r.try_get::<Option<String>, _>(4)?,
                    "state": r.try_get::<String, _>(5)?,
                    "user_id": r.try_get::<Option<String>, _>(6)?,
                    "account_id": r.try_get::<Option<String>, _>(7)?,
                    "email": r.try_get::<Option<String>, _>(8)?,
                    "url": r.try_get::<String, _>(9)?,
                    "locale": r.try_get::<String, _>(10)?,
                    "shown_at": r.try_get::<String, _>(11)?,
                    "answered_at": r.try_get::<Option<String>, _>(12)?,
                    "completed_at": r.try_get::<Option<String>, _>(13)?,
                    "received_at": r.try_get::<String, _>(14)?,
                    "internal": table != "responses",
                    "body": serde_json::from_str::<serde_json::Value>(&body)
                        .unwrap_or(serde_json::Value::String(body)),
                    "follow_up": {
                        "status": status.unwrap_or_else(|| "new".into()),
                        "owner": r.try_get::<Option<String>, _>(17)?,
                        "updated_at": r.try_get::<Option<String>, _>(18)?,
                        "updated_by": r.try_get::<Option<String>, _>(19)?,
                        "notes": notes,
                    },
                }));
            }
        }
        let links = self.links_of(who).await?;
        let mut accounts: BTreeSet<String> = responses
            .iter()
            .filter_map(|r| r["account_id"].as_str().map(str::to_owned))
            .collect();
        accounts.extend(links.iter().filter_map(|l| l.account_id.clone()));
        let mut held_accounts = Vec::new();
        for account in accounts {
            let record = self.account_record(&account).await?;
            held_accounts.push(json!({ "account_id": account, "record": record }));
        }
        let ids: Vec<&str> = responses.iter().filter_map(|r| r["id"].as_str()).collect();
        let mut referrals = Vec::new();
        for piece in pieces(&ids) {
            let mut sql = Sql::new(
                self.backend,
                "SELECT response_id, name, company, email, note, status, created_at
                 FROM referrals WHERE response_id ",
            );
            sql.push_in(piece.iter().copied()).push(" ORDER BY seq");
            for r in sql.build().fetch_all(&self.pool).await? {
                referrals.push(json!({
                    "response_id": r.try_get::<String, _>(0)?,
                    "name": r.try_get::<String, _>(1)?,
                    "company": r.try_get::<Option<String>, _>(2)?,
                    "email": r.try_get::<Option<String>, _>(3)?,
                    "note": r.try_get::<Option<String>, _>(4)?,
                    "status": r.try_get::<String, _>(5)?,
                    "created_at": r.try_get::<String, _>(6)?,
                }));
            }
        }
        Ok(json!({
            "responses": responses,
            "links": links,
            "accounts": held_accounts,
            "referrals": referrals,
        }))
    }

    /// The links issued to `who`.
    async fn links_of(&self, who: &Who) -> Result<Vec<IssuedLink>> {
        let (column, value) = who.condition();
        let sql = format!(
            "SELECT response_id, survey_id, user_id, account_id, email, issued_at,
                CAST(expires_at AS BIGINT), issued_by FROM links WHERE {column}$1
             ORDER BY issued_at, response_id"
        );
        sqlx::query(&sql)
            .bind(value)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| {
                Ok(IssuedLink {
                    response_id: r.try_get(0)?,
                    survey_id: r.try_get(1)?,
                    user_id: r.try_get(2)?,
                    account_id: r.try_get(3)?,
                    email: r.try_get(4)?,
                    issued_at: r.try_get(5)?,
                    expires_at: r.try_get(6)?,
                    issued_by: r.try_get(7)?,
                })
            })
            .collect()
    }

    /// Erases `who` everywhere, in one transaction (see the module's doc); with the webhook
    /// on, queues one `person.erased` event.
    pub async fn erase(&self, who: &Who) -> Result<Erased> {
        let (column, value) = who.condition();
        let mut tx = self.begin_write().await?;
        let backend = self.backend;
        let mut erased = Erased::default();
        let mut accounts: BTreeSet<String> = BTreeSet::new();
        let mut users: BTreeSet<String> = BTreeSet::new();
        let mut ids: Vec<String> = Vec::new();
        for table in TABLES {
            let sql = format!("SELECT id, account_id, user_id FROM {table} WHERE {column}$1");
            let rows = sqlx::query(&sql)
                .bind(value.as_str())
                .fetch_all(&mut *tx)
                .await?;
            for r in rows {
                ids.push(r.try_get(0)?);
                if table == "responses" {
                    accounts.extend(r.try_get::<Option<String>, _>(1)?);
                }
                users.extend(r.try_get::<Option<String>, _>(2)?);
            }
        }
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let mut delete = async |table: &str,
                                column: &str|
               -> std::result::Result<u64, sqlx::Error> {
            let mut n = 0;
            for piece in pieces(&id_refs) {
                let mut sql = Sql::new(backend, &format!("DELETE FROM {table} WHERE {column} "));
                sql.push_in(piece.iter().copied());
                n += sql.build().execute(&mut *tx).await?.rows_affected();
            }
            Ok(n)
        };
        erased.notes = delete("notes", "response_id").await?;
        erased.follow_ups = delete("follow_ups", "response_id").await?;
        erased.forwards = delete("forwards", "response_id").await?;
        erased.notices = delete("notices", "response_id").await?;
        erased.referrals = delete("referrals", "response_id").await?;
        delete("crm_sent", "response_id").await?;
        erased.responses =
            delete("responses", "id").await? + delete("internal_responses", "id").await?;
        for piece in pieces(&id_refs) {
            let mut sql = Sql::new(
                backend,
                "DELETE FROM crm_changes WHERE kind = 'answer' AND item ",
            );
            sql.push_in(piece.iter().copied());
            sql.build().execute(&mut *tx).await?;
        }
        let user_refs: Vec<&str> = users.iter().map(String::as_str).collect();
        for piece in pieces(&user_refs) {
            let mut sql = Sql::new(
                backend,
                "DELETE FROM crm_changes WHERE kind = 'person' AND item ",
            );
            sql.push_in(piece.iter().copied());
            sql.build().execute(&mut *tx).await?;
        }
        erased.links = sqlx::query(&format!("DELETE FROM links WHERE {column}$1"))
            .bind(value.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        recount_accounts(&mut tx, backend, &accounts).await?;
        let (user_digest, email_digest) = match who {
            Who::UserId(id) => (Some(crate::team::digest(id)), None),
            Who::Email(e) => (None, Some(crate::team::digest(&e.to_lowercase()))),
        };
        let at_s = clock::now_ms() / 1000;
        sqlx::query("INSERT INTO erasures (at_s, user_digest, email_digest) VALUES ($1, $2, $3)")
            .bind(at_s)
            .bind(user_digest.clone())
            .bind(email_digest.clone())
            .execute(&mut *tx)
            .await?;
        if self.forward {
            let event = serde_json::json!({
                "type": "person.erased",
                "timestamp": clock::now_rfc3339(),
                "data": {
                    "user_id": match who { Who::UserId(id) => Some(id.as_str()), Who::Email(_) => None },
                    "email_sha256": email_digest,
                    "erased": &erased,
                },
            });
            sqlx::query(
                "INSERT INTO forwards (response_id, body, attempts, next_at) VALUES ($1, $2, 0, 0)",
            )
            .bind(format!("erased-{at_s}"))
            .bind(event.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(erased)
    }
}

/// Counts `accounts` again from the responses they have left: their rows of the running
/// totals are deleted, then every remaining response is added as the writer adds a batch,
/// and their closed follow-ups are counted.
pub(super) async fn recount_accounts(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    accounts: &BTreeSet<String>,
) -> std::result::Result<(), sqlx::Error> {
    let refs: Vec<&str> = accounts.iter().map(String::as_str).collect();
    for piece in pieces(&refs) {
        for table in ["account_totals", "account_people", "account_months"] {
            let mut sql = Sql::new(backend, &format!("DELETE FROM {table} WHERE account_id "));
            sql.push_in(piece.iter().copied());
            sql.build().execute(&mut **tx).await?;
        }
    }
    for account in &refs {
        let mut totals = Totals::default();
        let rows = sqlx::query(
            "SELECT id, survey_id, segment, account_id, user_id, CAST(score AS BIGINT),
                answered_at, comment, shown_day FROM responses WHERE account_id = $1",
        )
        .bind(*account)
        .fetch_all(&mut **tx)
        .await?;
        if rows.is_empty() {
            continue;
        }
        for row in rows {
            let day: String = row.try_get(8)?;
            totals.add(&Counted {
                id: row.try_get(0)?,
                survey_id: row.try_get(1)?,
                segment: row.try_get(2)?,
                account_id: row.try_get(3)?,
                user_id: row.try_get(4)?,
                score: row.try_get(5)?,
                answered_at: row.try_get(6)?,
                comment: row.try_get(7)?,
                month: day.get(..7).unwrap_or(&day).to_owned(),
            });
        }
        totals.apply(tx, backend).await?;
        sqlx::query(
            "UPDATE account_totals SET closed = (SELECT COUNT(*) FROM follow_ups f
                JOIN responses r ON r.id = f.response_id
                WHERE f.status IN ('resolved', 'referred') AND r.account_id = $1
                    AND (account_totals.scope = '' OR r.survey_id = account_totals.scope))
             WHERE account_id = $1",
        )
        .bind(*account)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "UPDATE account_months SET closed = (SELECT COUNT(*) FROM follow_ups f
                JOIN responses r ON r.id = f.response_id
                WHERE f.status IN ('resolved', 'referred') AND r.account_id = $1
                    AND substr(r.shown_day, 1, 7) = account_months.month
                    AND (account_months.scope = '' OR r.survey_id = account_months.scope))
             WHERE account_id = $1",
        )
        .bind(*account)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
