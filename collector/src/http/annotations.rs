//! Notes on the trend: `POST /v1/annotations` (member), `GET` (by survey, account, dates),
//! `PATCH /v1/annotations/{id}`, `DELETE` (soft: the note is kept with who deleted it). The
//! author is the token's name.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::Json;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{AsMember, AsViewer};
use super::error::ApiError;
use super::openapi::{Changing, Reading, Refusal};
use super::{body, Shared};
use crate::model::{Annotation, Bound};
use crate::store::{AnnotationChange, AnnotationFilter};

/// Longest annotation.
const MAX_TEXT: usize = 400;

/// The annotation routes.
pub(super) fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(change, delete))
}

/// A body of `POST` (date and text required) or `PATCH` (any key).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AnnotationChange)]
struct Body {
    /// The day it is about, `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(format = Date)]
    date: Option<String>,
    /// The last day of a range (not before `date`); `null`: one day.
    #[serde(default, deserialize_with = "body::present")]
    #[schema(value_type = Option<String>, format = Date)]
    end_date: Option<Option<String>>,
    /// The note: not blank, at most 400 characters.
    #[serde(default)]
    #[schema(
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        max_length = 400
    )]
    text: Option<String>,
    /// Only on this survey's trend; `null`: on every trend.
    #[serde(default, deserialize_with = "body::present")]
    #[schema(value_type = Option<String>)]
    survey_id: Option<Option<String>>,
    /// Only on this account's trend.
    #[serde(default, deserialize_with = "body::present")]
    #[schema(value_type = Option<String>)]
    account_id: Option<Option<String>>,
}

/// What `POST` takes: a [`Body`] whose day and text are there.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewAnnotation {
    #[schema(format = Date)]
    date: String,
    #[schema(format = Date)]
    #[serde(default)]
    end_date: Option<String>,
    #[schema(
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        max_length = 400
    )]
    text: String,
    #[serde(default)]
    survey_id: Option<String>,
    #[serde(default)]
    account_id: Option<String>,
}

/// `YYYY-MM-DD`, a real day, or a 400 naming `field`.
fn day(text: &str, field: &str) -> Result<String, ApiError> {
    match crate::clock::parse_bound(text) {
        Some(Bound::Day(date)) => Ok(crate::clock::day(date)),
        _ => Err(ApiError::bad(
            format!("{field} must be a date (YYYY-MM-DD), got {text:?}"),
            field,
        )),
    }
}

/// Empty scopes are none.
fn scope(value: Option<Option<String>>) -> Option<Option<String>> {
    value.map(|v| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
}

impl Body {
    /// The checked change; `current` is the stored annotation a `PATCH` changes.
    fn checked(self, current: Option<&Annotation>) -> Result<AnnotationChange, ApiError> {
        let date = self.date.as_deref().map(|d| day(d, "date")).transpose()?;
        let end_date = match self.end_date {
            None => None,
            Some(None) => Some(None),
            Some(Some(end)) => Some(Some(day(&end, "end_date")?)),
        };
        let start = date
            .clone()
            .or_else(|| current.map(|a| a.date.clone()))
            .ok_or_else(|| ApiError::bad("missing field `date`", "date"))?;
        let end = match &end_date {
            Some(end) => end.clone(),
            None => current.and_then(|a| a.end_date.clone()),
        };
        if end.as_ref().is_some_and(|end| *end < start) {
            return Err(ApiError::bad(
                "end_date must be on or after date",
                "end_date",
            ));
        }
        let text = match self.text {
            Some(t) => {
                let t = t.trim().to_owned();
                if t.is_empty() {
                    return Err(ApiError::bad("text must not be empty", "text"));
                }
                if t.chars().count() > MAX_TEXT {
                    return Err(ApiError::bad(
                        format!("text is longer than {MAX_TEXT} characters"),
                        "text",
                    ));
                }
                Some(t)
            }
            None if current.is_none() => return Err(ApiError::bad("missing field `text`", "text")),
            None => None,
        };
        Ok(AnnotationChange {
            date,
            end_date,
            text,
            survey_id: scope(self.survey_id),
            account_id: scope(self.account_id),
        })
    }
}

/// `POST /v1/annotations`: a note on the trend, by the token's teammate.
#[utoipa::path(
    post,
    path = "/v1/annotations",
    operation_id = "addAnnotation",
    tag = "annotations",
    request_body(content = NewAnnotation, content_type = "application/json"),
    security(("token" = [])),
    responses(
        (status = 413, description = "The body is larger than the limit"),
        (status = 201, description = "The annotation", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        Changing,
    )
)]
async fn add(
    State(state): State<Shared>,
    AsMember(member): AsMember,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    let new: NewAnnotation = body::read(&bytes)?;
    let new = Body {
        date: Some(new.date),
        end_date: new.end_date.map(Some),
        text: Some(new.text),
        survey_id: new.survey_id.map(Some),
        account_id: new.account_id.map(Some),
    }
    .checked(None)?;
    let made = state.store.add_annotation(&new, &member.name).await?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

fn number(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| ApiError::NoSuchAnnotation)
}

/// `PATCH /v1/annotations/{id}`: the keys given changed.
#[utoipa::path(
    patch,
    path = "/v1/annotations/{id}",
    operation_id = "changeAnnotation",
    tag = "annotations",
    params(("id" = i64, Path, description = "The annotation's id")),
    request_body(content = Body, content_type = "application/json"),
    security(("token" = [])),
    responses(
        (status = 413, description = "The body is larger than the limit"),
        (status = 200, description = "The annotation as it is now", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        (status = 404, description = "Not found", body = Refusal),
        Changing,
    )
)]
async fn change(
    State(state): State<Shared>,
    AsMember(member): AsMember,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Annotation>, ApiError> {
    let id = number(&id)?;
    let current = state
        .store
        .annotation(id)
        .await?
        .ok_or(ApiError::NoSuchAnnotation)?;
    let change: Body = body::read(&bytes)?;
    let change = change.checked(Some(&current))?;
    let after = state
        .store
        .change_annotation(id, &change, &member.name)
        .await?
        .ok_or(ApiError::NoSuchAnnotation)?;
    Ok(Json(after))
}

/// `DELETE /v1/annotations/{id}`: deleted (kept, with who deleted it).
#[utoipa::path(
    delete,
    path = "/v1/annotations/{id}",
    operation_id = "deleteAnnotation",
    tag = "annotations",
    params(("id" = i64, Path, description = "The annotation's id")),
    security(("token" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "Not found", body = Refusal),
        Changing,
    )
)]
async fn delete(
    State(state): State<Shared>,
    AsMember(member): AsMember,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state
        .store
        .delete_annotation(number(&id)?, &member.name)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NoSuchAnnotation)
    }
}

/// `GET /v1/annotations`'s query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
struct ListQuery {
    survey_id: Option<String>,
    account_id: Option<String>,
    /// From this day on.
    #[param(format = Date)]
    from: Option<String>,
    /// Up to this day.
    #[param(format = Date)]
    to: Option<String>,
}

/// `GET /v1/annotations`: the notes, by day.
#[utoipa::path(
    get,
    path = "/v1/annotations",
    operation_id = "listAnnotations",
    tag = "annotations",
    params(ListQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "The annotations", body = Vec<Object>),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        Reading,
    )
)]
async fn list(
    State(state): State<Shared>,
    _: AsViewer,
    uri: axum::http::Uri,
) -> Result<Json<Vec<Annotation>>, ApiError> {
    let raw = uri.query().unwrap_or_default();
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
    let q: ListQuery = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        ApiError::bad(e.into_inner().to_string(), field)
    })?;
    let filter = AnnotationFilter {
        survey_id: q.survey_id.filter(|s| !s.is_empty()),
        account_id: q.account_id.filter(|s| !s.is_empty()),
        from: q.from.as_deref().map(|d| day(d, "from")).transpose()?,
        to: q.to.as_deref().map(|d| day(d, "to")).transpose()?,
    };
    Ok(Json(state.store.annotations(&filter).await?))
}
