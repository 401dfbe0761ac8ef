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

use super::error::ApiError;
use super::{body, responses, ClientIp, Shared};
use crate::model::Upsert;

/// The ingest route (the list of responses shares its path).
pub(super) fn router() -> Router<Shared> {
    Router::new().route("/v1/responses", post(ingest).get(responses::list))
}

async fn ingest(
    State(state): State<Shared>,
    Extension(ClientIp(client)): Extension<ClientIp>,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResponse {
    let response = store(&state, client, &headers, body).await.into_response();
    state.metrics.ingested(response.status().as_u16());
    response
}

async fn store(
    state: &super::AppState,
    client: std::net::IpAddr,
    headers: &HeaderMap,
    bytes: Bytes,
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
    let response: Response = body::read(&bytes)?;
    response
        .validate()
        .map_err(|e| ApiError::bad(e.problem, e.field))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let id = response.id.clone();
    let result = state
        .store
        .upsert(response, text)
        .await
        .map_err(ApiError::NotStored)?;
    let (status, stored) = match result {
        Upsert::Inserted => (StatusCode::CREATED, "inserted"),
        Upsert::Updated => (StatusCode::OK, "updated"),
        Upsert::Stale => (StatusCode::OK, "kept newer state"),
    };
    Ok((status, Json(json!({ "id": id, "result": stored }))).into_response())
}
