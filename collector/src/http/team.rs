//! The team: `GET /v1/team` (who am I, and the team's names for the owner field: any role),
//! and the tokens (`GET`/`POST /v1/tokens`, `DELETE /v1/tokens/{name}`: admins only). A new
//! token is shown once, in the answer that made it.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{AsAdmin, AsViewer};
use super::error::ApiError;
use super::openapi::{Changing, Reading, Refusal};
use super::{body, Shared};
use crate::model::{choice, Choice};
use crate::store::StoreError;
use crate::team::{self, Role};

/// The team's routes.
pub(super) fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(members))
        .routes(routes!(crm_sync))
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}

/// `GET /v1/crm`: the CRM sync's state (`crm: null` without `--crm`): its backlog, the items
/// the CRM refused with its answer, the last success and the last error.
#[utoipa::path(
    get,
    path = "/v1/crm",
    operation_id = "getCrmSync",
    tag = "team",
    security(("token" = [])),
    responses(
        (status = 200, description = "The CRM sync: its backlog, refused items, last success and error", body = Object),
        Reading,
    )
)]
async fn crm_sync(State(state): State<Shared>, _: AsViewer) -> Result<HttpResponse, ApiError> {
    let status = state.store.crm_status().await?;
    let mut body = serde_json::to_value(&status).unwrap_or_default();
    body["crm"] = json!(state.crm);
    Ok(Json(body).into_response())
}

/// `GET /v1/team`: the caller, and every teammate's name and role (never a token).
#[utoipa::path(
    get,
    path = "/v1/team",
    operation_id = "getTeam",
    tag = "team",
    security(("token" = [])),
    responses(
        (status = 200, description = "The caller, and every teammate's name and role", body = Object),
        Reading,
    )
)]
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
#[utoipa::path(
    get,
    path = "/v1/tokens",
    operation_id = "listTokens",
    tag = "team",
    security(("token" = [])),
    responses(
        (status = 200, description = "Each token's name, role, made and last used (never the token)", body = Vec<Object>),
        Changing,
    )
)]
async fn list(State(state): State<Shared>, _: AsAdmin) -> Result<HttpResponse, ApiError> {
    Ok(Json(state.store.tokens().await?).into_response())
}

/// `POST /v1/tokens` with `{"name": …, "role": …}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewToken {
    /// The teammate's name: ASCII letters, digits, `.`, `_`, `-` or `@`.
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$")]
    name: String,
    #[serde(default, deserialize_with = "choice")]
    #[schema(schema_with = super::openapi::role, required = true)]
    role: Option<Role>,
}

/// `POST /v1/tokens`: a token for a teammate, shown this once.
#[utoipa::path(
    post,
    path = "/v1/tokens",
    operation_id = "createToken",
    tag = "team",
    request_body(content = NewToken, content_type = "application/json"),
    security(("token" = [])),
    responses(
        (status = 413, description = "The body is larger than the limit"),
        (status = 201, description = "The name, the role and the token", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        (status = 409, description = "It exists already, or cannot be done now", body = Refusal),
        Changing,
    )
)]
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
#[utoipa::path(
    delete,
    path = "/v1/tokens/{name}",
    operation_id = "revokeToken",
    tag = "team",
    params(("name" = String, Path, description = "The token's name")),
    security(("token" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "Not found", body = Refusal),
        Changing,
    )
)]
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
