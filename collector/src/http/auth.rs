//! Who may read: the bearer token as an extractor, so a handler that serves respondents' data
//! says so in its signature (`_: Reader`); and the origin check on cross-site writes.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::Shared;

/// Proof that the request carries the read token (or that the collector runs without one,
/// on loopback only: see `Settings::check_exposure`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Reader;

impl FromRequestParts<Shared> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Reader, ApiError> {
        let Some(token) = &state.token else {
            return Ok(Reader);
        };
        let given = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given.is_some_and(|given| given.as_bytes() == token.as_bytes()) {
            Ok(Reader)
        } else {
            Err(ApiError::Unauthorized)
        }
    }
}

/// Refuses cross-origin writes from origins not on the allow-list (CORS only stops the
/// browser from reading the answer; this stops the write itself).
pub(super) async fn check_origin(
    State(state): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(origin) = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
    {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let same = origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host);
        if !same
            && !state.allow_origins.iter().any(|o| o == origin)
            && request.method() != Method::OPTIONS
        {
            return ApiError::OriginNotAllowed.into_response();
        }
    }
    next.run(request).await
}
