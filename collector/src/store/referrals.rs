//! Referrals followed from the ask to the deal: recorded against the response of the person
//! who referred (whose follow-up then becomes `referred`), moved through
//! opportunity to won or lost, and counted per segment of the referrer into a funnel.

use sqlx::Row;

use super::accounts::{account_figures, Months};
use super::sql::Sql;
use super::{count, Result, Store};
use crate::clock;
use crate::model::{Filter, FunnelCounts, Referral, ReferralStatus, Status};

/// Who was referred, as the teammate recorded it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewReferral {
    /// Their name.
    pub name: String,
    /// Their company.
    pub company: Option<String>,
    /// Their email.
    pub email: Option<String>,
    /// Anything else.
    pub note: Option<String>,
}

/// A referral's columns, in the order [`referral_of`] reads them.
const COLUMNS: &str = "seq, response_id, survey_id, account_id, referrer_segment,
    referrer_user_id, referrer_email, name, company, email, note, status, value_cents, crm_url,
    created_at, created_by, updated_at, updated_by";

fn referral_of(row: &sqlx::any::AnyRow) -> Result<Referral, sqlx::Error> {
    use crate::model::Choice;
    let status: String = row.try_get(11)?;
    Ok(Referral {
        id: row.try_get(0)?,
        response_id: row.try_get(1)?,
        survey_id: row.try_get(2)?,
        account_id: row.try_get(3)?,
        referrer_segment: row.try_get(4)?,
        referrer_user_id: row.try_get(5)?,
        referrer_email: row.try_get(6)?,
        name: row.try_get(7)?,
        company: row.try_get(8)?,
        email: row.try_get(9)?,
        note: row.try_get(10)?,
        status: ReferralStatus::parse(&status).unwrap_or(ReferralStatus::Referred),
        value: row.try_get::<Option<i64>, _>(12)?.map(|c| c as f64 / 100.0),
        crm_url: row.try_get(13)?,
        created_at: row.try_get(14)?,
        created_by: row.try_get(15)?,
        updated_at: row.try_get(16)?,
        updated_by: row.try_get(17)?,
    })
}

impl Store {
    /// Records a referral by the person behind response `response_id` (a promoter's or a
    /// passive's, checked by the caller), as teammate `by`; their follow-up then becomes
    /// `referred` (and is queued for the webhook as every follow-up change is).
    pub async fn add_referral(
        &self,
        response_id: &str,
        new: &NewReferral,
        by: &str,
    ) -> Result<Option<Referral>> {
        let now = clock::now_rfc3339();
        let mut tx = self.begin_write().await?;
        let Some(response) = sqlx::query(
            "SELECT survey_id, account_id, segment, user_id, email, shown_at FROM responses
             WHERE id = $1",
        )
        .bind(response_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let row = sqlx::query(&format!(
            "INSERT INTO referrals (response_id, survey_id, account_id, referrer_segment,
                referrer_user_id, referrer_email, shown_at, name, company, email, note, status,
                stage, value_cents, crm_url, created_at, created_by, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'referred', 1, NULL, NULL,
                $12, $13, $14, $15)
             RETURNING {COLUMNS}"
        ))
        .bind(response_id)
        .bind(response.try_get::<String, _>(0)?)
        .bind(response.try_get::<Option<String>, _>(1)?)
        .bind(response.try_get::<String, _>(2)?)
        .bind(response.try_get::<Option<String>, _>(3)?)
        .bind(response.try_get::<Option<String>, _>(4)?)
        .bind(response.try_get::<String, _>(5)?)
        .bind(&new.name)
        .bind(&new.company)
        .bind(&new.email)
        .bind(&new.note)
        .bind(&now)
        .bind(by)
        .bind(&now)
        .bind(by)
        .fetch_one(&mut *tx)
        .await?;
        let referral = referral_of(&row)?;
        tx.commit().await?;
        self.set_follow_up(response_id, Some(Status::Referred), None, by)
            .await?;
        Ok(Some(referral))
    }

    /// Referral `id`, if there is one.
    pub async fn referral(&self, id: i64) -> Result<Option<Referral>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM referrals WHERE seq = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(referral_of).transpose()?)
    }

    /// Moves referral `id` to `status` (with the won deal's value in cents) and/or sets its
    /// CRM link, as teammate `by`: the referral after it, `None` if there is none.
    pub async fn change_referral(
        &self,
        id: i64,
        status: Option<ReferralStatus>,
        value_cents: Option<Option<i64>>,
        crm_url: Option<Option<String>>,
        by: &str,
    ) -> Result<Option<Referral>> {
        let mut sql = Sql::new(self.backend, "UPDATE referrals SET updated_at = ");
        sql.push_bind(clock::now_rfc3339())
            .push(", updated_by = ")
            .push_bind(by);
        if let Some(status) = status {
            sql.push(", status = ").push_bind(status.as_str());
            // A lost deal keeps the stage it reached.
            if let Some(stage) = status.stage() {
                sql.push(", stage = ").push_bind_int(stage);
            }
        }
        if let Some(value) = value_cents {
            sql.push(", value_cents = ").push_bind_int_opt(value);
        }
        if let Some(url) = crm_url {
            sql.push(", crm_url = ").push_bind_opt(url);
        }
        sql.push(" WHERE seq = ").push_bind_int(id);
        let done = sql.build().execute(&self.pool).await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.referral(id).await
    }

    /// The referrals of the responses `filter` selects (by the referrer's survey, account,
    /// and the day their response was shown), newest first, after `before` (a referral
    /// number), `filter.limit` of them; only those in `status` when given.
    pub async fn referrals(
        &self,
        filter: &Filter,
        status: Option<ReferralStatus>,
        before: Option<i64>,
    ) -> Result<Vec<Referral>> {
        let mut sql = Sql::new(self.backend, &format!("SELECT {COLUMNS} FROM referrals"));
        push_conditions(&mut sql, filter);
        if let Some(status) = status {
            sql.and().push("status = ").push_bind(status.as_str());
        }
        if let Some(before) = before {
            sql.and().push("seq < ").push_bind_int(before);
        }
        sql.push(" ORDER BY seq DESC LIMIT ")
            .push_bind_int(filter.limit.max(1));
        let rows = sql.build().fetch_all(&self.pool).await?;
        Ok(rows
            .iter()
            .map(referral_of)
            .collect::<Result<Vec<_>, _>>()?)
    }

    /// The referral funnel of promoters and passives (in that order) over the responses
    /// `filter` selects.
    pub async fn referral_funnel(&self, filter: &Filter) -> Result<[FunnelCounts; 2]> {
        let filter = filter.without_segment();
        let mut funnel = [FunnelCounts::default(); 2];
        let at = |segment: &str| match segment {
            "promoter" => Some(0),
            "passive" => Some(1),
            _ => None,
        };
        // The referrals: few rows, read whole.
        let mut sql = Sql::new(
            self.backend,
            "SELECT referrer_segment, CAST(COUNT(*) AS BIGINT),
                CAST(SUM(CASE WHEN stage >= 2 THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN status = 'won' THEN 1 ELSE 0 END) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN status = 'won' THEN value_cents END), 0) AS BIGINT)
             FROM referrals",
        );
        push_conditions(&mut sql, &filter);
        sql.push(" GROUP BY referrer_segment");
        for row in sql.build().fetch_all(&self.pool).await? {
            let Some(i) = at(&row.try_get::<String, _>(0)?) else {
                continue;
            };
            funnel[i].referrals = count(&row, 1)?;
            funnel[i].opportunities = count(&row, 2)?;
            funnel[i].won = count(&row, 3)?;
            funnel[i].won_value_cents = row.try_get::<Option<i64>, _>(4)?.unwrap_or(0);
        }
        // Asked: the follow-ups, few, read by their status's index first, their responses
        // looked up by id.
        let mut sql = Sql::new(
            self.backend,
            "SELECT segment, CAST(COUNT(*) AS BIGINT) FROM follow_ups f CROSS JOIN responses",
        );
        sql.and()
            .push("responses.id = f.response_id")
            .and()
            .push("f.status IN ('referral_asked', 'referred')")
            .filter(&filter)
            .push(" GROUP BY segment");
        for row in sql.build().fetch_all(&self.pool).await? {
            if let Some(i) = at(&row.try_get::<String, _>(0)?) {
                funnel[i].asked = count(&row, 1)?;
            }
        }
        // Clicked: the referral links clicked, by their partial index.
        let mut sql = Sql::new(
            self.backend,
            "SELECT segment, CAST(COUNT(*) AS BIGINT) FROM responses",
        );
        sql.and()
            .push("referral_clicked = 1")
            .filter(&filter)
            .push(" GROUP BY segment");
        for row in sql.build().fetch_all(&self.pool).await? {
            if let Some(i) = at(&row.try_get::<String, _>(0)?) {
                funnel[i].clicked = count(&row, 1)?;
            }
        }
        // People of each segment: over all time from the accounts' totals (people in
        // accounts, by their latest score); in a date range, the answers of the segment given
        // in it by people of accounts (a person who answered twice counts twice), summed by
        // month from the accounts' counts and counted from the responses of partial months.
        if filter.has_dates() {
            let mut sql = Sql::new(
                self.backend,
                "SELECT CAST(COALESCE(SUM(p), 0) AS BIGINT), CAST(COALESCE(SUM(pa), 0) AS BIGINT)
                 FROM (",
            );
            match Months::of(&filter) {
                Some(months) => months.figures(&mut sql, &filter),
                None => account_figures(&mut sql, &filter),
            }
            sql.push(") AS t");
            let row = sql.build().fetch_one(&self.pool).await?;
            funnel[0].people = count(&row, 0)?;
            funnel[1].people = count(&row, 1)?;
        } else {
            let mut sql = Sql::new(
                self.backend,
                "SELECT CAST(COALESCE(SUM(people_promoters), 0) AS BIGINT),
                    CAST(COALESCE(SUM(people_passives), 0) AS BIGINT)
                 FROM account_totals WHERE scope = ",
            );
            sql.push_bind(filter.survey_id.clone().unwrap_or_default());
            if let Some(account) = &filter.account_id {
                sql.push(" AND account_id = ").push_bind(account.as_str());
            }
            let row = sql.build().fetch_one(&self.pool).await?;
            funnel[0].people = count(&row, 0)?;
            funnel[1].people = count(&row, 1)?;
        }
        Ok(funnel)
    }
}

/// The filter's survey, account and dates over the referrals (the day is the referrer's
/// response's).
fn push_conditions(sql: &mut Sql, filter: &Filter) {
    if let Some(survey) = &filter.survey_id {
        sql.and().push("survey_id = ").push_bind(survey.as_str());
    }
    if let Some(account) = &filter.account_id {
        sql.and().push("account_id = ").push_bind(account.as_str());
    }
    if let Some(from) = &filter.from {
        sql.and().push("shown_at >= ").push_bind(bound_text(from));
    }
    if let Some(to) = &filter.to {
        sql.and().push("shown_at < ").push_bind(bound_text(to));
    }
}

/// A bound as the stored timestamps compare: a day from its midnight.
fn bound_text(bound: &crate::model::Bound) -> String {
    match bound {
        crate::model::Bound::Day(date) => clock::day(*date),
        crate::model::Bound::Instant(at) => clock::stamp(*at),
    }
}
