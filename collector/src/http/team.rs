//! The team: `GET /v1/team` (who am I, and the team's names for the owner field: any role),
//! and the tokens (`GET`/`POST /v1/tokens`, `DELETE /v1/tokens/{name}`: admins only). A new
//! token is shown once, in the answer that made it.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::auth::{AsAdmin, AsViewer};
use super::error::ApiError;
use super::{body, Shared};
use crate::model::{choice, Choice};
use crate::store::StoreError;
use crate::team::{self, Role};

/// The team's routes.
pub(super) fn router() -> Router<Shared> {
    Router::new()
        .route("/v1/team", get(members))
        .route("/v1/crm", get(crm_sync))
        .route("/v1/tokens", get(list).post(create))
        .route("/v1/tokens/{name}", delete(revoke))
}

/// `GET /v1/crm`: the CRM sync's state (`crm: null` without `--crm`): its backlog, the items
/// the CRM refused with its answer, the last success and the last error.
async fn crm_sync(State(state): State<Shared>, _: AsViewer) -> Result<HttpResponse, ApiError> {
    let status = state.store.crm_status().await?;
    let mut body = serde_json::to_value(&status).unwrap_or_default();
    body["crm"] = json!(state.crm);
    Ok(Json(body).into_response())
}

/// `GET /v1/team`: the caller, and every teammate's name and role (never a token).
async fn members(
    State(state): State<Shared>,
    AsViewer(me): AsViewer,
) -> Result<HttpResponse, ApiError> {
    let team: Vec<_> = state
        .store
        .tokens()
        .await?
        .into_iter()
        .map(|t| json!({ "name": t.name, "role": t.role }))
        .collect();
    Ok(Json(json!({ "me": me, "team": team, "roles": Role::names() })).into_response())
}

/// `GET /v1/tokens`: name, role, created, last used.
async fn list(State(state): State<Shared>, _: AsAdmin) -> Result<HttpResponse, ApiError> {
    Ok(Json(state.store.tokens().await?).into_response())
}

/// `POST /v1/tokens` with `{"name": …, "role": …}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    #[serde(default, deserialize_with = "choice")]
    role: Option<Role>,
}

async fn create(
    State(state): State<Shared>,
    AsAdmin(admin): AsAdmin,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    let new: NewToken = body::read(&bytes)?;
    team::check_name(&new.name).map_err(|e| ApiError::bad(e, "name"))?;
    let role = new
        .role
        .ok_or_else(|| ApiError::bad(Role::expected(), Role::NAME))?;
    let token = match state.store.create_token(&new.name, role).await {
        Ok(token) => token,
        Err(StoreError::TokenExists(name)) => return Err(ApiError::TokenExists(name)),
        Err(e) => return Err(e.into()),
    };
    tracing::info!(by = %admin.name, name = %new.name, role = role.as_str(), "token made");
    Ok((
        StatusCode::CREATED,
        Json(json!({ "name": new.name, "role": role, "token": token })),
    )
        .into_response())
}

/// `DELETE /v1/tokens/{name}`: 204, or 404 when there is no such token.
async fn revoke(
    State(state): State<Shared>,
    AsAdmin(admin): AsAdmin,
    Path(name): Path<String>,
) -> Result<HttpResponse, ApiError> {
    if state.store.revoke_token(&name).await? {
        tracing::info!(by = %admin.name, name = %name, "token revoked");
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::NoSuchToken)
    }
}
