//! The surveys the dashboard manages: `POST`/`GET /v1/surveys`, `GET`/`PUT /v1/surveys/{id}`,
//! `GET /v1/surveys/{id}/versions` (reads for any role, changes for admins; a change with
//! `If-Match: "<version>"` is refused with 412 when someone saved since), and the public
//! definition the widget loads, `GET /v1/surveys/{id}/definition`: no token, any origin, an
//! `ETag` per version, cacheable for a minute, 304 when unchanged; drafts are not served.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::auth::{AsAdmin, AsViewer};
use super::error::ApiError;
use super::openapi::{Changing, Reading, Refusal, WidgetResponse};
use super::{body, Shared};
use crate::model::given_choice;
use crate::store::{StoreError, Survey, SurveyChange};
use crate::survey::{self, Status};

/// The routes behind the token.
pub(super) fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(one, change))
        .routes(routes!(versions))
        .routes(routes!(preview))
}

/// `POST /v1/preview`: where the editor's preview posts what is clicked in it, answered
/// and forgotten.
#[utoipa::path(
    post,
    path = "/v1/preview",
    operation_id = "preview",
    tag = "surveys",
    request_body(content = WidgetResponse, content_type = "application/json"),
    responses(
        (status = 413, description = "The body is larger than the limit"),
        (status = 204, description = "Forgotten"),
        (status = 400, description = "A field is wrong; `field` names it", body = Refusal),
    )
)]
async fn preview(bytes: Bytes) -> Result<StatusCode, ApiError> {
    // Read as ingest reads it, so the preview says what ingest would; then forgotten.
    let response: nps_widget::response::Response = body::read(&bytes)?;
    response
        .validate()
        .map_err(|e| ApiError::bad(e.problem, e.field))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The public definition: outside the origin check (every site that embeds the survey asks
/// for it), CORS open to any origin for GET. It holds nothing secret: it is what the card
/// will say.
pub(super) fn public_router() -> OpenApiRouter<Shared> {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::GET])
        .allow_headers([header::IF_NONE_MATCH])
        .expose_headers([header::ETAG])
        .max_age(std::time::Duration::from_secs(86400));
    OpenApiRouter::new().routes(routes!(definition).layer(cors))
}

/// A survey's version as an entity tag: `"<version>"`.
fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

fn with_etag(version: i64, body: Value) -> HttpResponse {
    let mut response = Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

fn refused(e: StoreError) -> ApiError {
    match e {
        StoreError::SurveyExists(id) => ApiError::SurveyExists(id),
        StoreError::NoSuchSurvey => ApiError::NoSuchSurvey,
        StoreError::StaleSurvey(version) => ApiError::StaleSurvey(version),
        e => e.into(),
    }
}

/// `GET /v1/surveys`: every survey's current version.
#[utoipa::path(
    get,
    path = "/v1/surveys",
    operation_id = "listSurveys",
    tag = "surveys",
    security(("token" = [])),
    responses(
        (status = 200, description = "Every survey's current version", body = Vec<Object>),
        Reading,
    )
)]
async fn list(State(state): State<Shared>, _: AsViewer) -> Result<HttpResponse, ApiError> {
    Ok(Json(state.store.surveys().await?).into_response())
}

/// `GET /v1/surveys/{id}`, with its version as the `ETag`.
#[utoipa::path(
    get,
    path = "/v1/surveys/{id}",
    operation_id = "getSurvey",
    tag = "surveys",
    params(("id" = String, Path, description = "The survey's id")),
    security(("token" = [])),
    responses(
        (status = 200, description = "The survey, its version as the `ETag`", body = Object),
        (status = 404, description = "Not found", body = Refusal),
        Reading,
    )
)]
async fn one(
    State(state): State<Shared>,
    _: AsViewer,
    Path(id): Path<String>,
) -> Result<HttpResponse, ApiError> {
    let s = state
        .store
        .survey(&id)
        .await?
        .ok_or(ApiError::NoSuchSurvey)?;
    Ok(with_etag(s.version, json!(s)))
}

/// `GET /v1/surveys/{id}/versions`: newest first.
#[utoipa::path(
    get,
    path = "/v1/surveys/{id}/versions",
    operation_id = "listSurveyVersions",
    tag = "surveys",
    params(("id" = String, Path, description = "The survey's id")),
    security(("token" = [])),
    responses(
        (status = 200, description = "Every version saved, newest first", body = Vec<Object>),
        (status = 404, description = "Not found", body = Refusal),
        Reading,
    )
)]
async fn versions(
    State(state): State<Shared>,
    _: AsViewer,
    Path(id): Path<String>,
) -> Result<HttpResponse, ApiError> {
    let all = state.store.survey_versions(&id).await?;
    if all.is_empty() {
        return Err(ApiError::NoSuchSurvey);
    }
    Ok(Json(all).into_response())
}

/// `POST /v1/surveys` with `{"id", "name", "definition"}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewSurvey {
    /// Its id: 1 to 64 of a-z, 0-9, `_` and `-`.
    #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
    id: String,
    /// Its name, 1 to 200 characters, not blank.
    #[schema(
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        max_length = 200
    )]
    name: String,
    /// What the card asks and when: the widget's configuration keys (see the README).
    #[serde(default = "empty")]
    #[schema(value_type = Option<Object>)]
    definition: Value,
}

fn empty() -> Value {
    json!({})
}

fn check(definition: &Value) -> Result<(), ApiError> {
    survey::check_definition(definition).map_err(|r| ApiError::bad(r.message, r.field))
}

/// `POST /v1/surveys`: a new survey, a draft.
#[utoipa::path(
    post,
    path = "/v1/surveys",
    operation_id = "createSurvey",
    tag = "surveys",
    request_body(content = NewSurvey, content_type = "application/json"),
    security(("token" = [])),
    responses(
        (status = 413, description = "The body is larger than the limit"),
        (status = 201, description = "The survey, at version 1", body = Object),
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
    let new: NewSurvey = body::read(&bytes)?;
    survey::check_id(&new.id).map_err(|e| ApiError::bad(e, "id"))?;
    survey::check_name(&new.name).map_err(|e| ApiError::bad(e, "name"))?;
    check(&new.definition)?;
    let made = state
        .store
        .create_survey(&new.id, &new.name, &new.definition, &admin.name)
        .await
        .map_err(refused)?;
    tracing::info!(by = %admin.name, id = %made.id, "survey made");
    let mut response = with_etag(made.version, json!(made));
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// `PUT /v1/surveys/{id}` with any of `name`, `definition`, `status`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Edit {
    #[serde(default)]
    #[schema(
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        max_length = 200
    )]
    name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    definition: Option<Value>,
    #[serde(default, deserialize_with = "given_choice")]
    #[schema(schema_with = super::openapi::survey_status)]
    status: Option<Status>,
}

/// The version an `If-Match` names (`"3"`, `3`, or `W/"3"`); `*` or none: any.
fn expected_version(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let bare = text.strip_prefix("W/").unwrap_or(text);
    let bare = bare
        .strip_prefix('"')
        .and_then(|b| b.strip_suffix('"'))
        .unwrap_or(bare);
    let digits = (1..=18).contains(&bare.len()) && bare.bytes().all(|b| b.is_ascii_digit());
    digits
        .then(|| bare.parse::<i64>().ok())
        .flatten()
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad(
                "If-Match must be the survey's version in quotes, as its ETag gives it",
                "If-Match",
            )
        })
}

/// `PUT /v1/surveys/{id}`: a new version of it.
#[utoipa::path(
    put,
    path = "/v1/surveys/{id}",
    operation_id = "changeSurvey",
    tag = "surveys",
    params(("id" = String, Path, description = "The survey's id"), ("If-Match" = Option<String>, Header, pattern = r#"^\s*(\*|(W/)?("[0-9]{1,18}"|[0-9]{1,18}))\s*$"#, description = "The version it was read at, as its `ETag` gave it (`\"3\"`)")),
    request_body(content = Edit, content_type = "application/json"),
    security(("token" = [])),
    responses(
        (status = 413, description = "The body is larger than the limit"),
        (status = 200, description = "The survey at its new version", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        (status = 404, description = "Not found", body = Refusal),
        (status = 412, description = "Changed since the version `If-Match` names", body = Refusal),
        Changing,
    )
)]
async fn change(
    State(state): State<Shared>,
    AsAdmin(admin): AsAdmin,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    let edit: Edit = body::read(&bytes)?;
    if edit.name.is_none() && edit.definition.is_none() && edit.status.is_none() {
        return Err(ApiError::bad(
            "give at least one of name, definition and status",
            "body",
        ));
    }
    if let Some(name) = &edit.name {
        survey::check_name(name).map_err(|e| ApiError::bad(e, "name"))?;
    }
    if let Some(definition) = &edit.definition {
        check(definition)?;
    }
    let expected = expected_version(&headers)?;
    let saved: Survey = state
        .store
        .change_survey(
            &id,
            SurveyChange {
                name: edit.name,
                definition: edit.definition,
                status: edit.status,
            },
            expected,
            &admin.name,
        )
        .await
        .map_err(refused)?;
    tracing::info!(by = %admin.name, id = %saved.id, version = saved.version, "survey saved");
    Ok(with_etag(saved.version, json!(saved)))
}

/// `GET /v1/surveys/{id}/definition`: `{"id", "version", "status", "definition"}` of an active
/// or paused survey, 404 for a draft or an unknown id; 304 when `If-None-Match` names this
/// version.
#[utoipa::path(
    get,
    path = "/v1/surveys/{id}/definition",
    operation_id = "getSurveyDefinition",
    tag = "surveys",
    params(("id" = String, Path, description = "The survey's id"), ("If-None-Match" = Option<String>, Header, description = "The `ETag` of the copy held")),
    responses(
        (status = 200, description = "The active survey's id, version, status and definition", body = Object),
        (status = 304, description = "Unchanged since the `ETag` given"),
        (status = 404, description = "Not found", body = Refusal),
        (status = 503, description = "The database did not answer", body = Refusal),
    )
)]
async fn definition(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<HttpResponse, ApiError> {
    let s = match state.store.survey(&id).await? {
        Some(s) if s.status != Status::Draft => s,
        _ => return Err(ApiError::NoSuchSurvey),
    };
    let tag = etag(s.version);
    let cache = HeaderValue::from_static("public, max-age=60");
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == tag)
        });
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Json(json!({
            "id": s.id, "version": s.version, "status": s.status, "definition": s.definition,
        }))
        .into_response()
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, cache);
    Ok(response)
}
