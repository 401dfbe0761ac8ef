//! Surveys and every version of each: `surveys` holds the current one, `survey_versions`
//! every one ever saved (the current included), so a report can say which wording an answer
//! saw and a revert is one more version. A change is one write transaction that checks the
//! version it started from, so two people editing at once never overwrite each other.

use sqlx::Row;

use super::{Result, Store, StoreError};
use crate::clock;
use crate::model::Choice;
use crate::survey::Status;

/// One version of a survey.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Survey {
    /// The slug the widget's `survey_id` becomes.
    pub id: String,
    /// What the team calls it.
    pub name: String,
    /// Draft, active or paused.
    pub status: Status,
    /// 1, 2, … one more on every change.
    pub version: i64,
    /// The widget's config keys this version sets.
    pub definition: serde_json::Value,
    /// Who saved this version.
    pub changed_by: String,
    /// When.
    pub changed_at: String,
}

/// What a change sets; what it leaves out stays.
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// A new name.
    pub name: Option<String>,
    /// A new definition (checked by the caller).
    pub definition: Option<serde_json::Value>,
    /// A new status.
    pub status: Option<Status>,
}

const COLUMNS: &str = "id, name, status, version, definition, changed_by, changed_at";

fn survey(row: &sqlx::any::AnyRow) -> Result<Survey> {
    let definition: String = row.try_get(4)?;
    Ok(Survey {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        // A name this code wrote; anything else reads as a draft, which is never served.
        status: Status::parse(&row.try_get::<String, _>(2)?).unwrap_or(Status::Draft),
        version: row.try_get(3)?,
        definition: serde_json::from_str(&definition).unwrap_or(serde_json::Value::Null),
        changed_by: row.try_get(5)?,
        changed_at: row.try_get(6)?,
    })
}

impl Store {
    /// Makes survey `id` as a draft at version 1; `SurveyExists` when the id is taken.
    pub async fn create_survey(
        &self,
        id: &str,
        name: &str,
        definition: &serde_json::Value,
        by: &str,
    ) -> Result<Survey> {
        let made = Survey {
            id: id.to_owned(),
            name: name.to_owned(),
            status: Status::Draft,
            version: 1,
            definition: definition.clone(),
            changed_by: by.to_owned(),
            changed_at: clock::now_rfc3339(),
        };
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO surveys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (id) DO NOTHING"
        ))
        .bind(&made.id)
        .bind(&made.name)
        .bind(made.status.as_str())
        .bind(made.version)
        .bind(made.definition.to_string())
        .bind(&made.changed_by)
        .bind(&made.changed_at)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::SurveyExists(id.to_owned()));
        }
        keep_version(&mut tx, &made).await?;
        tx.commit().await?;
        Ok(made)
    }

    /// Every survey's current version, by id.
    pub async fn surveys(&self) -> Result<Vec<Survey>> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM surveys ORDER BY id"))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(survey)
            .collect()
    }

    /// Survey `id`'s current version.
    pub async fn survey(&self, id: &str) -> Result<Option<Survey>> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM surveys WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(survey)
            .transpose()
    }

    /// Every version of survey `id`, newest first.
    pub async fn survey_versions(&self, id: &str) -> Result<Vec<Survey>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM survey_versions WHERE id = $1 ORDER BY version DESC"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(survey)
        .collect()
    }

    /// One version of survey `id`.
    pub async fn survey_version(&self, id: &str, version: i64) -> Result<Option<Survey>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM survey_versions WHERE id = $1 AND version = $2"
        ))
        .bind(id)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(survey)
        .transpose()
    }

    /// Saves `change` to survey `id` as teammate `by`: one more version. With `expected`, only
    /// if the survey is still at that version (`StaleSurvey` with the current one otherwise);
    /// `NoSuchSurvey` when there is none.
    pub async fn change_survey(
        &self,
        id: &str,
        change: Change,
        expected: Option<i64>,
        by: &str,
    ) -> Result<Survey> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM surveys WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let current = match row {
            Some(row) => survey(&row)?,
            None => return Err(StoreError::NoSuchSurvey),
        };
        if expected.is_some_and(|v| v != current.version) {
            return Err(StoreError::StaleSurvey(current.version));
        }
        let next = Survey {
            id: current.id,
            name: change.name.unwrap_or(current.name),
            status: change.status.unwrap_or(current.status),
            version: current.version + 1,
            definition: change.definition.unwrap_or(current.definition),
            changed_by: by.to_owned(),
            changed_at: clock::now_rfc3339(),
        };
        let updated = sqlx::query(
            "UPDATE surveys SET name = $1, status = $2, version = $3, definition = $4,
                changed_by = $5, changed_at = $6
             WHERE id = $7 AND version = $8",
        )
        .bind(&next.name)
        .bind(next.status.as_str())
        .bind(next.version)
        .bind(next.definition.to_string())
        .bind(&next.changed_by)
        .bind(&next.changed_at)
        .bind(&next.id)
        .bind(current.version)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            // Another writer got in between (PostgreSQL's read committed): say so.
            return Err(StoreError::StaleSurvey(current.version + 1));
        }
        keep_version(&mut tx, &next).await?;
        tx.commit().await?;
        Ok(next)
    }
}

async fn keep_version(tx: &mut sqlx::Transaction<'static, sqlx::Any>, s: &Survey) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO survey_versions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ))
    .bind(&s.id)
    .bind(&s.name)
    .bind(s.status.as_str())
    .bind(s.version)
    .bind(s.definition.to_string())
    .bind(&s.changed_by)
    .bind(&s.changed_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
