//! The CRM sync's queue (`crm_changes`): the writer notes in a batch's transaction which
//! accounts, people and answers the batch changed, one row each however often they changed
//! (`version` counts the changes); the sync (`crate::crm`) reads what is due, sends it, and
//! removes a row only at the version it sent, so a change made meanwhile is sent next time.
//! `crm_sent` holds the answers whose history record the CRM has; `crm_state` the last
//! success and error, whichever collector sent them.

use std::collections::{BTreeSet, HashMap};

use nps_widget::response::{Response, State};
use sqlx::{Any, Row, Transaction};

use super::sql::{pieces, Sql};
use super::{count, Backend, Result, Store};
use crate::clock;
use crate::model::{CrmAccount, CrmAnswer, CrmChange, CrmRefused, CrmStatus};

/// The accounts, people and complete answers of `changed`, queued (or their version moved on).
pub(super) async fn queue_changes(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    changed: &[&Response],
) -> Result<(), sqlx::Error> {
    let mut items: BTreeSet<(&str, &str)> = BTreeSet::new();
    for r in changed {
        if let Some(account) = &r.user.account_id {
            items.insert(("account", account));
        }
        if let Some(user) = &r.user.id {
            if r.score.is_some() {
                items.insert(("person", user));
            }
        }
        if r.state == State::Complete && r.score.is_some() {
            items.insert(("response", &r.id));
        }
    }
    let items: Vec<_> = items.into_iter().collect();
    for rows in pieces(&items) {
        queue(tx, backend, rows).await?;
    }
    Ok(())
}

/// Queues `rows` (kind, item), or moves their version on.
async fn queue(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    rows: &[(&str, &str)],
) -> Result<(), sqlx::Error> {
    let mut sql = Sql::new(backend, "INSERT INTO crm_changes (kind, item) VALUES ");
    for (i, (kind, item)) in rows.iter().enumerate() {
        sql.open_row(i)
            .push_bind(*kind)
            .push(", ")
            .push_bind(*item)
            .push(")");
    }
    sql.push(
        " ON CONFLICT (kind, item) DO UPDATE SET version = crm_changes.version + 1,
            attempts = 0, next_at = 0, error = NULL",
    );
    sql.build().execute(&mut **tx).await?;
    Ok(())
}

/// An account whose follow-ups changed (its open follow-ups are on its CRM record).
pub(super) async fn queue_account(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    account: &str,
) -> Result<(), sqlx::Error> {
    queue(tx, backend, &[("account", account)]).await
}

impl Store {
    /// Up to `limit` changes of `kind` due at `now_ms`, not refused, in item order.
    pub async fn crm_due(&self, kind: &str, now_ms: i64, limit: i64) -> Result<Vec<CrmChange>> {
        let rows = sqlx::query(
            "SELECT kind, item, version, attempts FROM crm_changes
             WHERE kind = $1 AND error IS NULL AND next_at <= $2 ORDER BY item LIMIT $3",
        )
        .bind(kind)
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CrmChange {
                    kind: r.try_get(0)?,
                    item: r.try_get(1)?,
                    version: r.try_get(2)?,
                    attempts: r.try_get(3)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// What the CRM said of a batch, in one transaction: `taken` leave the queue (unless
    /// they changed again since they were read), the answers among them are recorded as
    /// sent, `refused` are kept with the CRM's message.
    pub async fn crm_settle(
        &self,
        taken: &[&CrmChange],
        refused: &[(&CrmChange, String)],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let now = clock::now_rfc3339();
        for change in taken {
            sqlx::query("DELETE FROM crm_changes WHERE kind = $1 AND item = $2 AND version = $3")
                .bind(&change.kind)
                .bind(&change.item)
                .bind(change.version)
                .execute(&mut *tx)
                .await?;
            if change.kind == "response" {
                sqlx::query(
                    "INSERT INTO crm_sent (response_id, sent_at) VALUES ($1, $2)
                     ON CONFLICT (response_id) DO NOTHING",
                )
                .bind(&change.item)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
            }
        }
        for (change, error) in refused {
            sqlx::query(
                "UPDATE crm_changes SET error = $1, attempts = attempts + 1
                 WHERE kind = $2 AND item = $3 AND version = $4",
            )
            .bind(error)
            .bind(&change.kind)
            .bind(&change.item)
            .bind(change.version)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// `change` could not be sent (the CRM was down, said to wait): try again at `next_at_ms`.
    pub async fn crm_later(&self, change: &CrmChange, next_at_ms: i64) -> Result<()> {
        sqlx::query(
            "UPDATE crm_changes SET attempts = attempts + 1, next_at = $1
             WHERE kind = $2 AND item = $3",
        )
        .bind(next_at_ms)
        .bind(&change.kind)
        .bind(&change.item)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// What the CRM's records of `ids` get, from the running totals of all surveys and the
    /// account records; in the order of `ids`, those without totals left out.
    pub async fn crm_accounts(&self, ids: &[&str]) -> Result<Vec<CrmAccount>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(
            self.backend,
            "SELECT t.account_id, r.name, t.promoters, t.passives, t.detractors, t.silent,
                t.score_sum, t.people, t.last_answer_at, t.closed
             FROM account_totals t LEFT JOIN account_records r ON r.account_id = t.account_id
             WHERE t.scope = '' AND t.account_id ",
        );
        sql.push_in(ids.iter().copied());
        let mut found = HashMap::new();
        for r in sql.build().fetch_all(&self.pool).await? {
            let n = |i| count(&r, i).map(|n| n as i64);
            let (p, pa, d, s) = (n(2)?, n(3)?, n(4)?, n(5)?);
            let score_sum: i64 = r.try_get::<Option<i64>, _>(6)?.unwrap_or(0);
            let people = n(7)?;
            let answers = p + pa + d;
            let mean = (people > 0).then(|| score_sum as f64 / people as f64);
            let account = CrmAccount {
                account_id: r.try_get(0)?,
                name: r.try_get(1)?,
                nps: (answers > 0)
                    .then(|| ((p - d) as f64 * 1000.0 / answers as f64).round() / 10.0),
                segment: if answers == 0 && s > 0 {
                    "silent"
                } else {
                    crate::report::account_segment(mean)
                },
                people,
                last_response_at: r.try_get(8)?,
                open_follow_ups: (answers + s - n(9)?).max(0),
            };
            found.insert(account.account_id.clone(), account);
        }
        Ok(ids.iter().filter_map(|id| found.remove(*id)).collect())
    }

    /// Each of `users`' latest answer (with a score), in the order of `users`.
    pub async fn crm_people(&self, users: &[&str]) -> Result<Vec<CrmAnswer>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(self.backend, ANSWERS);
        sql.and()
            .push("user_id ")
            .push_in(users.iter().copied())
            .and()
            .push("score IS NOT NULL");
        let mut latest: HashMap<String, CrmAnswer> = HashMap::new();
        for r in sql.build().fetch_all(&self.pool).await? {
            let answer = answer_of(&r)?;
            let Some(user) = answer.user_id.clone() else {
                continue;
            };
            let newer = latest.get(&user).is_none_or(|seen| {
                (&answer.answered_at, &answer.response_id) > (&seen.answered_at, &seen.response_id)
            });
            if newer {
                latest.insert(user, answer);
            }
        }
        Ok(users.iter().filter_map(|u| latest.remove(*u)).collect())
    }

    /// The answers of `ids` the CRM has no history record of yet, in the order of `ids`.
    pub async fn crm_answers(&self, ids: &[&str]) -> Result<Vec<CrmAnswer>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(self.backend, ANSWERS);
        sql.and()
            .push("id ")
            .push_in(ids.iter().copied())
            .and()
            .push(
                "score IS NOT NULL AND NOT EXISTS (SELECT 1 FROM crm_sent WHERE response_id = id)",
            );
        let mut found = HashMap::new();
        for r in sql.build().fetch_all(&self.pool).await? {
            let answer = answer_of(&r)?;
            found.insert(answer.response_id.clone(), answer);
        }
        Ok(ids.iter().filter_map(|id| found.remove(*id)).collect())
    }

    /// Notes a send that succeeded, or the error of one that did not.
    pub async fn crm_outcome(&self, error: Option<&str>) -> Result<()> {
        let now = clock::now_rfc3339();
        match error {
            None => {
                sqlx::query("UPDATE crm_state SET last_success_at = $1 WHERE name = 'crm'")
                    .bind(now)
                    .execute(&self.pool)
                    .await?
            }
            Some(error) => {
                sqlx::query(
                    "UPDATE crm_state SET last_error = $1, last_error_at = $2 WHERE name = 'crm'",
                )
                .bind(error)
                .bind(now)
                .execute(&self.pool)
                .await?
            }
        };
        Ok(())
    }

    /// The sync's backlog, refused items and last outcomes.
    pub async fn crm_status(&self) -> Result<CrmStatus> {
        let counts = sqlx::query(
            "SELECT CAST(COALESCE(SUM(CASE WHEN error IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN error IS NULL THEN 0 ELSE 1 END), 0) AS BIGINT)
             FROM crm_changes",
        )
        .fetch_one(&self.pool)
        .await?;
        let state = sqlx::query(
            "SELECT last_success_at, last_error, last_error_at FROM crm_state WHERE name = 'crm'",
        )
        .fetch_optional(&self.pool)
        .await?;
        let refused = sqlx::query(
            "SELECT kind, item, error FROM crm_changes WHERE error IS NOT NULL
             ORDER BY kind, item LIMIT 50",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut status = CrmStatus {
            backlog: count(&counts, 0)? as i64,
            refused: count(&counts, 1)? as i64,
            ..CrmStatus::default()
        };
        if let Some(state) = state {
            status.last_success_at = state.try_get(0)?;
            status.last_error = state.try_get(1)?;
            status.last_error_at = state.try_get(2)?;
        }
        for r in refused {
            status.refused_items.push(CrmRefused {
                kind: r.try_get(0)?,
                item: r.try_get(1)?,
                error: r.try_get(2)?,
            });
        }
        Ok(status)
    }
}

/// The columns [`answer_of`] reads.
const ANSWERS: &str = "SELECT id, user_id, email, account_id, score, segment, comment,
    COALESCE(answered_at, shown_at) FROM responses";

/// A row of [`ANSWERS`].
fn answer_of(r: &sqlx::any::AnyRow) -> Result<CrmAnswer, sqlx::Error> {
    Ok(CrmAnswer {
        response_id: r.try_get(0)?,
        user_id: r.try_get(1)?,
        email: r.try_get(2)?,
        account_id: r.try_get(3)?,
        score: r.try_get(4)?,
        segment: r.try_get(5)?,
        comment: r.try_get(6)?,
        answered_at: r.try_get(7)?,
    })
}
