//! Every way a request can fail, as one enum that answers with today's JSON shape:
//! `{"error": "<what is wrong>", "field": "<the parameter, header or body field>"}`.
//! Handlers return `Result<_, ApiError>` and use `?`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::store::StoreError;
use crate::team::Role;

/// A request the collector will not (or cannot) answer as asked.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: a parameter or a body field is wrong.
    #[error("{message}")]
    BadRequest {
        /// What is wrong, in words.
        message: String,
        /// The parameter or field (`segment`, `user.id`, `body`).
        field: String,
    },
    /// 401: no token, or one the collector does not know.
    #[error("a bearer token is required")]
    Unauthorized,
    /// 403: the token's role is too little for this.
    #[error("this needs the {} role; this token is a {}", .needed.as_str(), .has.as_str())]
    Forbidden {
        /// The least role that may.
        needed: Role,
        /// The token's.
        has: Role,
    },
    /// 403: a response naming a user or an account without a valid `user.hash`.
    #[error("{0}")]
    IdentityRefused(&'static str),
    /// 403: a cross-origin write from an origin not on the allow-list.
    #[error("origin not allowed")]
    OriginNotAllowed,
    /// 404: no token with the name in the path.
    #[error("no token with this name")]
    NoSuchToken,
    /// 409: a token with this name exists.
    #[error("a token named {0} exists already; revoke it first")]
    TokenExists(String),
    /// 409: a survey with this id exists.
    #[error("a survey with the id {0} exists already")]
    SurveyExists(String),
    /// 404: no survey with the id in the path (or, for its public definition, a draft).
    #[error("no survey with this id")]
    NoSuchSurvey,
    /// 412: the survey was saved by someone else since the version `If-Match` names.
    #[error("the survey changed since: it is at version {0} now; reload it and save again")]
    StaleSurvey(i64),
    /// 403 or 410: a personal link that was changed, or has expired.
    #[error("{0}")]
    LinkRefused(crate::link::Refused),
    /// 409: the change does not fit what it changes as it stands (a referral asked of a
    /// detractor's answer); `field` names what stands in the way.
    #[error("{message}")]
    Conflict {
        /// What is in the way, in words.
        message: String,
        /// The field or parameter it is about.
        field: &'static str,
    },
    /// 409: the digest was asked for, and there is no chat to send it to.
    #[error("no --notify URL is set: there is no chat to send the digest to")]
    NoChat,
    /// 404: no response with the id in the path.
    #[error("no response with this id")]
    NoSuchResponse,
    /// 404: no account with the id in the path (neither a record nor a response).
    #[error("no account with this id")]
    NoSuchAccount,
    /// 404: no referral with the id in the path.
    #[error("no referral with this id")]
    NoSuchReferral,
    /// 404: no annotation with the id in the path (or a deleted one).
    #[error("no annotation with this id")]
    NoSuchAnnotation,
    /// 415: ingest takes JSON only.
    #[error("Content-Type must be application/json")]
    NotJson,
    /// 429: this address sent too many responses; retry after that many seconds.
    #[error("too many requests from this address, retry later")]
    TooManyRequests(u64),
    /// 503: a response could not be stored; the widget keeps it and retries.
    #[error("could not store the response, retry")]
    NotStored(#[source] StoreError),
    /// 503: a read failed.
    #[error("the database did not answer, retry")]
    Store(#[from] StoreError),
}

impl ApiError {
    /// A 400 naming `field`.
    pub fn bad(message: impl Into<String>, field: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            message: message.into(),
            field: field.into(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } | ApiError::IdentityRefused(_) => StatusCode::FORBIDDEN,
            ApiError::OriginNotAllowed => StatusCode::FORBIDDEN,
            ApiError::LinkRefused(crate::link::Refused::Invalid) => StatusCode::FORBIDDEN,
            ApiError::LinkRefused(crate::link::Refused::Expired | crate::link::Refused::Erased) => {
                StatusCode::GONE
            }
            ApiError::NoChat | ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::NoSuchResponse
            | ApiError::NoSuchToken
            | ApiError::NoSuchAccount
            | ApiError::NoSuchReferral
            | ApiError::NoSuchAnnotation => StatusCode::NOT_FOUND,
            ApiError::TokenExists(_) | ApiError::SurveyExists(_) => StatusCode::CONFLICT,
            ApiError::NoSuchSurvey => StatusCode::NOT_FOUND,
            ApiError::StaleSurvey(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotStored(_) | ApiError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            ApiError::BadRequest { field, .. } => Some(field),
            ApiError::Unauthorized | ApiError::Forbidden { .. } => Some("Authorization"),
            ApiError::IdentityRefused(_) => Some("user.hash"),
            ApiError::NoSuchToken | ApiError::TokenExists(_) => Some("name"),
            ApiError::OriginNotAllowed => Some("Origin"),
            ApiError::LinkRefused(_) => Some("token"),
            ApiError::NoChat => Some("--notify"),
            ApiError::Conflict { field, .. } => Some(field),
            ApiError::NoSuchResponse
            | ApiError::NoSuchSurvey
            | ApiError::SurveyExists(_)
            | ApiError::NoSuchAccount
            | ApiError::NoSuchReferral
            | ApiError::NoSuchAnnotation => Some("id"),
            ApiError::StaleSurvey(_) => Some("If-Match"),
            ApiError::NotJson => Some("Content-Type"),
            ApiError::TooManyRequests(_) | ApiError::NotStored(_) | ApiError::Store(_) => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::NotStored(e) => tracing::error!(error = %e, "storing a response"),
            ApiError::Store(e) => tracing::error!(error = %e, "reading the database"),
            _ => {}
        }
        let body = match self.field() {
            Some(field) => json!({ "error": self.to_string(), "field": field }),
            None => json!({ "error": self.to_string() }),
        };
        let mut response = (self.status(), Json(body)).into_response();
        if let ApiError::TooManyRequests(wait) = self {
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}
