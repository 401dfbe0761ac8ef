//! The people behind one account: each person once, with their role (a user trait read from
//! their latest response by the database's JSON functions), their latest score, when they
//! were last asked and last answered, and whether they would make a good reference.

use sqlx::Row;

use super::sql::Sql;
use super::{Backend, Result, Store};
use crate::model::AccountPerson;

/// Most people one account lists.
const MAX_PEOPLE: i64 = 1000;
/// A promoter who answered within this many days is a reference.
pub(super) const REFERENCE_DAYS: i64 = 180;

impl Store {
    /// The people of account `account` (in one survey, or all), references first, then by
    /// role (people without one last), then by user.
    pub async fn account_people(
        &self,
        account: &str,
        survey: Option<&str>,
        role_trait: &str,
    ) -> Result<Vec<AccountPerson>> {
        let role = match self.backend {
            // The trait's name is bound as a value: a JSON path with the name quoted.
            Backend::Sqlite => "json_extract(body, ?)",
            Backend::Postgres => "CAST(body AS JSONB) -> 'user' -> 'traits' ->> ?",
        };
        let mut sql = Sql::new(self.backend, "");
        sql.push(
            "SELECT user_id, email, role, score, segment, last_asked, last_answered FROM (
                SELECT user_id, email, ",
        );
        // `?` stands for the role's placeholder: pushed as a bound value in its place.
        let (before, after) = role.split_once('?').unwrap_or((role, ""));
        sql.push(before);
        match self.backend {
            Backend::Sqlite => {
                sql.push_bind(format!("$.user.traits.\"{}\"", role_trait.replace('"', "")))
            }
            Backend::Postgres => sql.push_bind(role_trait),
        };
        sql.push(after).push(
            " AS role, score, segment,
                MAX(shown_at) OVER (PARTITION BY COALESCE(user_id, id)) AS last_asked,
                MAX(CASE WHEN score IS NOT NULL THEN answered_at END)
                    OVER (PARTITION BY COALESCE(user_id, id)) AS last_answered,
                ROW_NUMBER() OVER (PARTITION BY COALESCE(user_id, id)
                    ORDER BY CASE WHEN score IS NULL THEN 1 ELSE 0 END,
                        COALESCE(answered_at, shown_at) DESC, id DESC) AS n
                FROM responses WHERE account_id = ",
        );
        sql.push_bind(account);
        if let Some(survey) = survey {
            sql.push(" AND survey_id = ").push_bind(survey);
        }
        sql.push(") AS latest WHERE n = 1 LIMIT ")
            .push_bind_int(MAX_PEOPLE);
        let since = crate::clock::rfc3339(crate::clock::now_ms() - REFERENCE_DAYS * 86_400_000);
        let mut people = Vec::new();
        for row in sql.build().fetch_all(&self.pool).await? {
            let score: Option<i64> = row.try_get(3)?;
            let last_answered_at: Option<String> = row.try_get(6)?;
            let segment: String = if score.is_some() {
                row.try_get(4)?
            } else {
                "silent".to_owned()
            };
            let reference = segment == "promoter"
                && last_answered_at
                    .as_deref()
                    .is_some_and(|at| at >= since.as_str());
            people.push(AccountPerson {
                user_id: row.try_get(0)?,
                email: row.try_get(1)?,
                role: row.try_get(2)?,
                silent: score.is_none(),
                score,
                segment,
                last_asked_at: row.try_get(5)?,
                last_answered_at,
                reference,
            });
        }
        people.sort_by(|a, b| {
            (!a.reference, a.role.is_none(), &a.role, &a.user_id).cmp(&(
                !b.reference,
                b.role.is_none(),
                &b.role,
                &b.user_id,
            ))
        });
        Ok(people)
    }
}
