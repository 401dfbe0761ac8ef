//! The team's tokens: a name, a role and the token's SHA-256 digest (never the token). Every
//! request looks its digest up here, so a token created or revoked by any collector of the
//! database (or by `nps-collector token`) counts on the next request.

use sqlx::Row;

use super::{Result, Store, StoreError};
use crate::clock;
use crate::model::Choice;
use crate::team::{self, Member, Role};

/// One token as the team sees it: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenInfo {
    /// Who holds it.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// When it was made.
    pub created_at: String,
    /// When a request last carried it (to the minute).
    pub last_used_at: Option<String>,
}

fn role(text: &str) -> Role {
    Role::parse(text).unwrap_or(Role::Viewer)
}

impl Store {
    /// Makes a token for `name` with `role`; the token, which only this answer ever shows.
    pub async fn create_token(&self, name: &str, role: Role) -> Result<String> {
        let token = team::new_token().map_err(StoreError::Random)?;
        let inserted = sqlx::query(
            "INSERT INTO tokens (name, role, digest, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(team::digest(&token))
        .bind(clock::now_rfc3339())
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::TokenExists(name.to_owned()));
        }
        Ok(token)
    }

    /// Every token, by name.
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        sqlx::query("SELECT name, role, created_at, last_used_at FROM tokens ORDER BY name")
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| {
                Ok(TokenInfo {
                    name: r.try_get(0)?,
                    role: role(r.try_get::<String, _>(1)?.as_str()),
                    created_at: r.try_get(2)?,
                    last_used_at: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Deletes `name`'s token; whether there was one.
    pub async fn revoke_token(&self, name: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM tokens WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The teammate whose token has `digest`, if any.
    pub async fn member_by_digest(&self, digest: &str) -> Result<Option<Member>> {
        let row = sqlx::query("SELECT name, role, digest FROM tokens WHERE digest = $1")
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let stored: String = row.try_get(2)?;
        if !team::same_digest(&stored, digest) {
            return Ok(None);
        }
        Ok(Some(Member {
            name: row.try_get(0)?,
            role: role(row.try_get::<String, _>(1)?.as_str()),
        }))
    }

    /// Notes that `name`'s token was used now.
    pub async fn token_used(&self, name: &str) -> Result<()> {
        sqlx::query("UPDATE tokens SET last_used_at = $1 WHERE name = $2")
            .bind(clock::now_rfc3339())
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
