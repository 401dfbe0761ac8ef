//! A person's data: `GET /v1/people?user_id=…` or `?email=…` (admin) hands over everything
//! held about them (GDPR art. 15); `DELETE` erases it everywhere, in one transaction (art. 17),
//! and answers `{"erased": {"responses", "notes", "links", "forwards", "notices", …}}`. Both
//! are in the audit trail under the person's digest, never their id or address.

use axum::extract::State;
use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::audit::Audited;
use super::auth::AsAdmin;
use super::error::ApiError;
use super::openapi::{Changing, Refusal};
use super::Shared;
use crate::store::Who;

/// The people routes.
pub(super) fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(export, erase))
}

/// Whom a request names: one of the two.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PersonQuery {
    /// The person's user id (or give `email`).
    #[serde(default)]
    #[param(
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        max_length = 256
    )]
    user_id: Option<String>,
    /// The person's email (or give `user_id`).
    #[serde(default)]
    #[param(
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        max_length = 320
    )]
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
    // Given is given: a blank one is refused, not read as absent.
    for (value, field) in [(&q.user_id, "user_id"), (&q.email, "email")] {
        if value.as_ref().is_some_and(|v| v.trim().is_empty()) {
            return Err(ApiError::bad("must not be blank", field));
        }
    }
    let given = |v: Option<String>| v.map(|v| v.trim().to_owned());
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
#[utoipa::path(
    get,
    path = "/v1/people",
    operation_id = "exportPerson",
    tag = "privacy",
    params(PersonQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "Everything held about them: responses, follow-ups and notes, links, accounts", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        Changing,
    )
)]
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
#[utoipa::path(
    delete,
    path = "/v1/people",
    operation_id = "erasePerson",
    tag = "privacy",
    params(PersonQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "What was erased: the counts of responses, notes, links, forwards and notices", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        Changing,
    )
)]
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
