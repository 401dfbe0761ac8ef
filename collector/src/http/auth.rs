//! Who may do what: the bearer token as an extractor per role, so a handler says in its
//! signature what it needs (`AsViewer`, `AsMember`, `AsAdmin`) and gets the teammate behind
//! the request; and the origin check on cross-site writes.
//!
//! There is no open mode: every read needs a token. Tokens are looked up by their SHA-256
//! digest on every request (a token created or revoked elsewhere counts at once); `--token`
//! is an admin token compared in constant time. Wrong tokens are limited per client.

use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::{ClientIp, Shared};
use crate::team::{self, Member, Role};

/// The name `--token` acts under.
pub const BOOTSTRAP_NAME: &str = "admin";
/// How often a token's `last_used_at` is written.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// The teammate behind the request, whatever their role.
#[derive(Debug, Clone)]
pub(super) struct AsViewer(pub(super) Member);

/// A teammate who may change follow-ups and add notes.
#[derive(Debug, Clone)]
pub(super) struct AsMember(pub(super) Member);

/// A teammate who may manage the team (and surveys).
#[derive(Debug, Clone)]
pub(super) struct AsAdmin(pub(super) Member);

impl FromRequestParts<Shared> for AsViewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        authorize(parts, state, Role::Viewer).await.map(AsViewer)
    }
}

impl FromRequestParts<Shared> for AsMember {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        authorize(parts, state, Role::Member).await.map(AsMember)
    }
}

impl FromRequestParts<Shared> for AsAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        authorize(parts, state, Role::Admin).await.map(AsAdmin)
    }
}

/// The bearer token of a request, if it has one.
fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The teammate whose token the request carries, if their role is at least `needed`.
async fn authorize(parts: &Parts, state: &Shared, needed: Role) -> Result<Member, ApiError> {
    let given = bearer(parts).ok_or(ApiError::Unauthorized)?;
    let digest = team::digest(given);
    let bootstrap = state
        .admin_digest
        .as_deref()
        .is_some_and(|admin| team::same_digest(admin, &digest));
    let member = if bootstrap {
        Some(Member {
            name: BOOTSTRAP_NAME.to_owned(),
            role: Role::Admin,
        })
    } else {
        state.store.member_by_digest(&digest).await?
    };
    let Some(member) = member else {
        let client = parts.extensions.get::<ClientIp>().map(|c| c.0);
        if let (Some(ip), Some(wrong_tokens)) = (client, &state.wrong_tokens) {
            wrong_tokens
                .check(ip, Instant::now())
                .map_err(ApiError::TooManyRequests)?;
        }
        return Err(ApiError::Unauthorized);
    };
    if member.role < needed {
        return Err(ApiError::Forbidden {
            needed,
            has: member.role,
        });
    }
    if !bootstrap {
        touch(state, &member.name);
    }
    if let Some(actor) = parts.extensions.get::<super::audit::Actor>() {
        actor.set(&member.name);
    }
    Ok(member)
}

/// Records that `name`'s token was used, at most once a minute, without holding the request.
fn touch(state: &Shared, name: &str) {
    let now = Instant::now();
    {
        let mut seen = state.token_seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen
            .get(name)
            .is_some_and(|at| now.saturating_duration_since(*at) < TOUCH_EVERY)
        {
            return;
        }
        if seen.len() > 10_000 {
            seen.clear();
        }
        seen.insert(name.to_owned(), now);
    }
    let store = state.store.clone();
    let name = name.to_owned();
    tokio::spawn(async move {
        if let Err(e) = store.token_used(&name).await {
            tracing::warn!(error = %e, "noting a token's last use");
        }
    });
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
