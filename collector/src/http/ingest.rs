//! `POST /v1/responses`: the widget's responses, validated, rate-limited per client, stored
//! (answered only once committed).

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::{Extension, Json};
use nps_widget::response::Response;
use serde_json::{json, Value};
use tower_http::cors::CorsLayer;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::error::ApiError;
use super::openapi::{Refusal, WidgetResponse};
use super::{body, responses, ClientIp, Shared};
use crate::identity::{self, Verdict};
use crate::link::Link;
use crate::model::Upsert;

/// The ingest route (the list of responses shares its path), the only one with `cors`: the
/// layer wraps the POST and its preflight, not the list.
pub(super) fn router(cors: CorsLayer) -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(ingest).map(|post| {
            post.options(|| async { StatusCode::NO_CONTENT })
                .layer(cors)
        }))
        .routes(routes!(responses::list))
}

/// `POST /v1/responses`: what the widget posts, stored or updated by its id.
#[utoipa::path(
    post,
    path = "/v1/responses",
    operation_id = "ingestResponse",
    tag = "ingest",
    request_body(
        content = WidgetResponse,
        content_type = "application/json",
        description = "One response, as `schema/response.v1.json` says"
    ),
    responses(
        (status = 201, description = "Stored", body = Stored),
        (status = 200, description = "Stored already: updated, or the newer state kept", body = Stored),
        (status = 400, description = "A field is wrong; `field` names it", body = Refusal),
        (status = 403, description = "Origin not allowed, or the identity is not signed", body = Refusal),
        (status = 413, description = "Larger than 16 KiB"),
        (status = 415, description = "Not `application/json`", body = Refusal),
        (status = 429, description = "Too many from this address; `Retry-After` says when", body = Refusal),
        (status = 503, description = "Not stored: the widget keeps it and retries", body = Refusal),
    )
)]
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

/// The response of a personal link: the link's person and survey, under the link's response
/// id, whatever the body says (the link is the proof of identity).
fn as_link(value: &mut Value, link: &Link, id: &str) -> Result<(), ApiError> {
    let Some(object) = value.as_object_mut() else {
        return Err(ApiError::bad("expected a JSON object", "body"));
    };
    object.insert("id".into(), id.into());
    object.insert("survey_id".into(), link.survey_id.clone().into());
    object.insert("user".into(), link.user());
    Ok(())
}

/// Whether a body carries `user.hash`, by a look at the bytes, no parse. A key spelled with
/// escapes (`"h\u0061sh"`) is missed here, and caught once typed (`store` then reads it as a
/// value after all, to take it out).
fn signed(bytes: &[u8]) -> bool {
    bytes.windows(6).any(|w| w == b"\"hash\"")
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
    let bytes = match body::without_nul(&bytes) {
        std::borrow::Cow::Borrowed(_) => bytes,
        std::borrow::Cow::Owned(clean) => Bytes::from(clean),
    };
    // The body is parsed once. A widget's unsigned answer becomes its type straight from the
    // bytes, which are stored as they came; a signed one or a personal link's is parsed into
    // a value, changed there (the link's person put in, the signature taken out), typed from
    // the value, and the value is what is stored.
    let (mut response, text) = if link.is_none() && !signed(&bytes) {
        let response: Response = body::read(&bytes)?;
        let value = match response.user.hash {
            None => None,
            Some(_) => Some(
                serde_json::from_slice(&bytes).map_err(|e| ApiError::bad(e.to_string(), "body"))?,
            ),
        };
        (response, value)
    } else {
        let mut value: Value =
            serde_json::from_slice(&bytes).map_err(|e| ApiError::bad(e.to_string(), "body"))?;
        if let Some((link, id)) = link {
            // The hosted page's body is a response in its own right (as the API document
            // says) before the link's id, survey and person take the place of its own.
            let own: Response = body::from_value(&value)?;
            own.validate()
                .map_err(|e| ApiError::bad(e.problem, e.field))?;
            as_link(&mut value, link, id)?;
        }
        let response: Response = body::from_value(&value)?;
        (response, Some(value))
    };
    response
        .validate()
        .map_err(|e| ApiError::bad(e.problem, e.field))?;
    if link.is_none() {
        check_identity(state, &response)?;
    }
    // The signature is checked, never kept: not stored, exported or forwarded.
    response.user.hash = None;
    let text = match text {
        Some(mut value) => {
            if let Some(user) = value.get_mut("user").and_then(Value::as_object_mut) {
                user.remove("hash");
            }
            value.to_string()
        }
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

/// What ingest answers.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Stored {
    /// The response's id.
    id: String,
    /// `inserted`, `updated` or `kept newer state`.
    #[schema(schema_with = stored_result)]
    result: String,
}

fn stored_result() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["inserted", "updated", "kept newer state"]))
        .build()
}
