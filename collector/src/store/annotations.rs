//! Notes on the trend: what happened to the business on a day or over a range ("pricing
//! change", "outage 3–5 March"), for everything, one survey or one account. Deleting one
//! keeps it, marked with who deleted it and when.

use sqlx::Row;

use super::sql::Sql;
use super::{Result, Store};
use crate::clock;
use crate::model::Annotation;

/// The fields of a new annotation, or of a change (each `None` keeps the stored value;
/// `Some(None)` clears an optional one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnnotationChange {
    /// `YYYY-MM-DD`.
    pub date: Option<String>,
    /// The last day of a range.
    pub end_date: Option<Option<String>>,
    /// What happened.
    pub text: Option<String>,
    /// Only this survey.
    pub survey_id: Option<Option<String>>,
    /// Only this account.
    pub account_id: Option<Option<String>>,
}

/// Which annotations a list wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnnotationFilter {
    /// Those of this survey and those for every survey.
    pub survey_id: Option<String>,
    /// Those of this account only.
    pub account_id: Option<String>,
    /// Ending on or after this day.
    pub from: Option<String>,
    /// Starting before this day.
    pub to: Option<String>,
}

const COLUMNS: &str =
    "seq, day, end_day, text, survey_id, account_id, author, created_at, updated_at";

fn annotation_of(row: &sqlx::any::AnyRow) -> Result<Annotation, sqlx::Error> {
    Ok(Annotation {
        id: row.try_get(0)?,
        date: row.try_get(1)?,
        end_date: row.try_get(2)?,
        text: row.try_get(3)?,
        survey_id: row.try_get(4)?,
        account_id: row.try_get(5)?,
        author: row.try_get(6)?,
        created_at: row.try_get(7)?,
        updated_at: row.try_get(8)?,
    })
}

impl Store {
    /// Writes a new annotation (its `date` and `text` given, checked by the caller) by
    /// teammate `author`.
    pub async fn add_annotation(&self, new: &AnnotationChange, author: &str) -> Result<Annotation> {
        let now = clock::now_rfc3339();
        let row = sqlx::query(&format!(
            "INSERT INTO annotations (day, end_day, text, survey_id, account_id, author,
                created_at, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
        ))
        .bind(new.date.clone().unwrap_or_default())
        .bind(new.end_date.clone().flatten())
        .bind(new.text.clone().unwrap_or_default())
        .bind(new.survey_id.clone().flatten())
        .bind(new.account_id.clone().flatten())
        .bind(author)
        .bind(&now)
        .bind(&now)
        .bind(author)
        .fetch_one(&self.pool)
        .await?;
        Ok(annotation_of(&row)?)
    }

    /// Annotation `id`, unless deleted.
    pub async fn annotation(&self, id: i64) -> Result<Option<Annotation>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM annotations WHERE seq = $1 AND deleted_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(annotation_of).transpose()?)
    }

    /// Applies `change` to annotation `id` as teammate `by`; the annotation after it, `None`
    /// if there is none (or it was deleted).
    pub async fn change_annotation(
        &self,
        id: i64,
        change: &AnnotationChange,
        by: &str,
    ) -> Result<Option<Annotation>> {
        let mut sql = Sql::new(self.backend, "UPDATE annotations SET updated_at = ");
        sql.push_bind(clock::now_rfc3339())
            .push(", updated_by = ")
            .push_bind(by);
        if let Some(date) = &change.date {
            sql.push(", day = ").push_bind(date.as_str());
        }
        if let Some(end) = &change.end_date {
            sql.push(", end_day = ").push_bind_opt(end.clone());
        }
        if let Some(text) = &change.text {
            sql.push(", text = ").push_bind(text.as_str());
        }
        if let Some(survey) = &change.survey_id {
            sql.push(", survey_id = ").push_bind_opt(survey.clone());
        }
        if let Some(account) = &change.account_id {
            sql.push(", account_id = ").push_bind_opt(account.clone());
        }
        sql.push(" WHERE deleted_at IS NULL AND seq = ")
            .push_bind_int(id);
        if sql.build().execute(&self.pool).await?.rows_affected() == 0 {
            return Ok(None);
        }
        self.annotation(id).await
    }

    /// Marks annotation `id` deleted by teammate `by`; whether there was one to delete.
    pub async fn delete_annotation(&self, id: i64, by: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE annotations SET deleted_at = $1, deleted_by = $2
             WHERE seq = $3 AND deleted_at IS NULL",
        )
        .bind(clock::now_rfc3339())
        .bind(by)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The annotations `filter` selects, by date (at most 1,000: notes a team writes by
    /// hand). With a survey, those for every survey come too; with an account, those for
    /// that account only.
    pub async fn annotations(&self, filter: &AnnotationFilter) -> Result<Vec<Annotation>> {
        let mut sql = Sql::new(
            self.backend,
            &format!("SELECT {COLUMNS} FROM annotations WHERE deleted_at IS NULL"),
        );
        if let Some(survey) = &filter.survey_id {
            sql.push(" AND (survey_id IS NULL OR survey_id = ")
                .push_bind(survey.as_str())
                .push(")");
        }
        if let Some(account) = &filter.account_id {
            sql.push(" AND account_id = ").push_bind(account.as_str());
        }
        if let Some(from) = &filter.from {
            sql.push(" AND COALESCE(end_day, day) >= ")
                .push_bind(from.as_str());
        }
        if let Some(to) = &filter.to {
            sql.push(" AND day < ").push_bind(to.as_str());
        }
        sql.push(" ORDER BY day, seq LIMIT 1000");
        let rows = sql.build().fetch_all(&self.pool).await?;
        Ok(rows
            .iter()
            .map(annotation_of)
            .collect::<Result<Vec<_>, _>>()?)
    }
}
