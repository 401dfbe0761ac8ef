//! `POST /v1/responses`: the widget's responses, validated, rate-limited per client, stored
//! (answered only once committed).

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::post;
use axum::{Extension, Json, Router};
use nps_widget::response::Response;
use serde_json::json;
use tower_http::cors::CorsLayer;

use super::error::ApiError;
use super::{body, responses, ClientIp, Shared};
use crate::identity::{self, Verdict};
use crate::link::Link;
use crate::model::Upsert;

/// The ingest route (the list of responses shares its path), the only one with `cors`: the
/// layer wraps the POST and its preflight, not the list.
pub(super) fn router(cors: CorsLayer) -> Router<Shared> {
    Router::new().route(
        "/v1/responses",
        post(ingest)
            .options(|| async { StatusCode::NO_CONTENT })
            .layer(cors)
            .get(responses::list),
    )
}

async fn ingest(
    State(state): State<Shared>,
    Extension(ClientIp(client)): Extension<ClientIp>,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResponse {
    let response = store(&state, client, &headers, body, None)
        .await
        .into_response();
    state.metrics.ingested(response.status().as_u16());
    response
}

/// With `--identity-secret`, a response naming a user or an account must carry the site's
/// signature of both (see `identity`); with `--require-identity`, every response must.
fn check_identity(state: &super::AppState, response: &Response) -> Result<(), ApiError> {
    let Some(secret) = &state.identity_secret else {
        return Ok(());
    };
    let user = &response.user;
    match identity::verify(
        secret,
        user.id.as_deref(),
        user.account_id.as_deref(),
        user.hash.as_deref(),
    ) {
        Verdict::Verified => Ok(()),
        Verdict::Anonymous if !state.require_identity => Ok(()),
        Verdict::Anonymous => Err(ApiError::IdentityRefused(
            "this collector takes signed-in users only: give user.id and user.hash",
        )),
        Verdict::Missing => Err(ApiError::IdentityRefused(
            "user.id and user.account_id need user.hash, the site server's signature of them",
        )),
        Verdict::Forged => Err(ApiError::IdentityRefused(
            "user.hash does not match user.id and user.account_id",
        )),
    }
}

/// The body as stored: the same JSON without `user.hash`.
fn without_hash(bytes: &[u8]) -> Result<String, ApiError> {
    let mut value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::bad(e.to_string(), "body"))?;
    if let Some(user) = value.get_mut("user").and_then(|u| u.as_object_mut()) {
        user.remove("hash");
    }
    Ok(value.to_string())
}

/// The response of a personal link: the link's person and survey, under the link's response
/// id, whatever the body says (the link is the proof of identity).
fn as_link(bytes: &[u8], link: &Link, id: &str) -> Result<Bytes, ApiError> {
    let mut value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::bad(e.to_string(), "body"))?;
    let Some(object) = value.as_object_mut() else {
        return Err(ApiError::bad("expected a JSON object", "body"));
    };
    object.insert("id".into(), id.into());
    object.insert("survey_id".into(), link.survey_id.clone().into());
    object.insert("user".into(), link.user());
    Ok(Bytes::from(value.to_string()))
}

/// Stores a response: from the widget on a site (`link` is `None`: the identity it claims is
/// checked), or from a personal link's page (`link` with its response id).
pub(super) async fn store(
    state: &super::AppState,
    client: std::net::IpAddr,
    headers: &HeaderMap,
    bytes: Bytes,
    link: Option<(&Link, &str)>,
) -> Result<HttpResponse, ApiError> {
    if let Some(limiter) = &state.limiter {
        limiter
            .check(client, Instant::now())
            .map_err(ApiError::TooManyRequests)?;
    }
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_type {
        return Err(ApiError::NotJson);
    }
    let bytes = match link {
        Some((link, id)) => as_link(&bytes, link, id)?,
        None => bytes,
    };
    let mut response: Response = body::read(&bytes)?;
    response
        .validate()
        .map_err(|e| ApiError::bad(e.problem, e.field))?;
    if link.is_none() {
        check_identity(state, &response)?;
    }
    let text = match response.user.hash.take() {
        // The signature is checked, never kept: not stored, exported or forwarded.
        Some(_) => without_hash(&bytes)?,
        None => String::from_utf8_lossy(&bytes).into_owned(),
    };
    let id = response.id.clone();
    let internal = state.internal.matches(&response.user);
    let result = state
        .store
        .upsert_as(response, text, internal)
        .await
        .map_err(ApiError::NotStored)?;
    let (status, stored) = match result {
        Upsert::Inserted => (StatusCode::CREATED, "inserted"),
        Upsert::Updated => (StatusCode::OK, "updated"),
        Upsert::Stale => (StatusCode::OK, "kept newer state"),
    };
    Ok((status, Json(json!({ "id": id, "result": stored }))).into_response())
}
