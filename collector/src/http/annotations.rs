//! Notes on the trend: `POST /v1/annotations` (member), `GET` (by survey, account, dates),
//! `PATCH /v1/annotations/{id}`, `DELETE` (soft: the note is kept with who deleted it). The
//! author is the token's name.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::{AsMember, AsViewer};
use super::error::ApiError;
use super::{body, Shared};
use crate::model::{Annotation, Bound};
use crate::store::{AnnotationChange, AnnotationFilter};

/// Longest annotation.
const MAX_TEXT: usize = 400;

/// The annotation routes.
pub(super) fn router() -> Router<Shared> {
    Router::new()
        .route("/v1/annotations", get(list).post(add))
        .route("/v1/annotations/{id}", patch(change).delete(delete))
}

/// A body of `POST` (date and text required) or `PATCH` (any key).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    #[serde(default)]
    date: Option<String>,
    #[serde(default, deserialize_with = "body::present")]
    end_date: Option<Option<String>>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default, deserialize_with = "body::present")]
    survey_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "body::present")]
    account_id: Option<Option<String>>,
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

async fn add(
    State(state): State<Shared>,
    AsMember(member): AsMember,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    let new: Body = body::read(&bytes)?;
    let new = new.checked(None)?;
    let made = state.store.add_annotation(&new, &member.name).await?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

fn number(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| ApiError::NoSuchAnnotation)
}

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
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ListQuery {
    survey_id: Option<String>,
    account_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

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
