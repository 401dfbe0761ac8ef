//! A person's data: `GET /v1/people?user_id=…` or `?email=…` (admin) hands over everything
//! held about them (GDPR art. 15); `DELETE` erases it everywhere, in one transaction (art. 17),
//! and answers `{"erased": {"responses", "notes", "links", "forwards", "notices", …}}`. Both
//! are in the audit trail under the person's digest, never their id or address.

use axum::extract::State;
use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::audit::Audited;
use super::auth::AsAdmin;
use super::error::ApiError;
use super::Shared;
use crate::store::Who;

/// The people routes.
pub(super) fn router() -> Router<Shared> {
    Router::new().route("/v1/people", get(export).delete(erase))
}

/// Whom a request names: one of the two.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonQuery {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

/// The person of the query, or a 400 that says what to give.
fn who(uri: &Uri) -> Result<Who, ApiError> {
    let raw = uri.query().unwrap_or_default();
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
    let q: PersonQuery = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        ApiError::bad(e.into_inner().to_string(), field)
    })?;
    let given = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    match (given(q.user_id), given(q.email)) {
        (Some(_), Some(_)) => Err(ApiError::bad(
            "name the person by user_id or by email, not both",
            "email",
        )),
        (Some(id), None) if id.chars().count() <= 256 => Ok(Who::UserId(id)),
        (None, Some(email)) if email.chars().count() <= 320 => Ok(Who::Email(email)),
        (Some(_), None) => Err(ApiError::bad("must be at most 256 characters", "user_id")),
        (None, Some(_)) => Err(ApiError::bad("must be at most 320 characters", "email")),
        (None, None) => Err(ApiError::bad(
            "whom? give ?user_id=… or ?email=…",
            "user_id",
        )),
    }
}

/// `GET /v1/people`: everything held about the person, as JSON.
async fn export(
    State(state): State<Shared>,
    _: AsAdmin,
    uri: Uri,
) -> Result<HttpResponse, ApiError> {
    let who = who(&uri)?;
    let person = state.store.person(&who).await?;
    let mut response = ([(header::CACHE_CONTROL, "no-store")], Json(person)).into_response();
    response.extensions_mut().insert(Audited {
        action: "person.export".into(),
        object: who.digest(),
        detail: None,
    });
    Ok(response)
}

/// `DELETE /v1/people`: the person erased; what went.
async fn erase(
    State(state): State<Shared>,
    _: AsAdmin,
    uri: Uri,
) -> Result<HttpResponse, ApiError> {
    let who = who(&uri)?;
    let erased = state.store.erase(&who).await?;
    tracing::info!(person = %who.digest(), responses = erased.responses, "erased a person");
    let detail = serde_json::to_string(&erased).ok();
    let mut response = Json(json!({ "erased": erased })).into_response();
    response.extensions_mut().insert(Audited {
        action: "person.erase".into(),
        object: who.digest(),
        detail,
    });
    Ok(response)
}
