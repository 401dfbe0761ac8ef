//! The lists to act on: `GET /v1/responses` (JSON pages by keyset, or the whole list as a
//! streamed CSV), and closing the loop on one response: its follow-up state and notes.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{patch, post};
use axum::{Json, Router};
use nps_widget::segment::Segment;
use serde::Deserialize;
use serde_json::json;

use super::auth::{AsMember, AsViewer};
use super::error::ApiError;
use super::query::Read;
use super::{body, Shared};
use crate::export;
use crate::model::{choice, Choice, Filter, Format, Status};

/// Rows the CSV export reads from the database at a time.
const CSV_PAGE: i64 = 1000;
/// Longest owner, author or note text accepted.
const MAX_TEXT: usize = 4000;

/// The follow-up routes (the list itself shares `/v1/responses` with ingest).
pub(super) fn router() -> Router<Shared> {
    Router::new()
        .route("/v1/responses/{id}/follow-up", patch(set_follow_up))
        .route("/v1/responses/{id}/notes", post(add_note))
}

/// A CSV download named `name`.
pub(super) fn csv_download(name: &str, body: Body) -> HttpResponse {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// `GET /v1/responses`.
pub(super) async fn list(
    State(state): State<Shared>,
    _: AsViewer,
    read: Read,
) -> Result<HttpResponse, ApiError> {
    if read.format() == Format::Csv {
        let filter = read.filter(CSV_PAGE)?;
        return Ok(csv_export(state, filter, read.query.segment));
    }
    let mut f = read.filter(100)?;
    // One more than asked for tells whether there is a next page.
    f.limit += 1;
    let mut rows = state.store.rows(&f).await?;
    let more = rows.len() as i64 >= f.limit;
    rows.truncate((f.limit - 1) as usize);
    state.store.with_notes(&mut rows).await?;
    // Each response as the widget sent it, with its follow-up beside.
    let list: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut body: serde_json::Value =
                serde_json::from_str(&r.body).unwrap_or_else(|_| json!({ "id": r.id }));
            if let Some(object) = body.as_object_mut() {
                object.insert("follow_up".into(), json!(r.follow_up));
            }
            body
        })
        .collect();
    let mut response = Json(list).into_response();
    if let (true, Some(last)) = (more, rows.last()) {
        let cursor = format!("{}|{}", last.shown_at, last.id);
        if let Some(link) = read.next_link("/v1/responses", "cursor", &cursor) {
            response.headers_mut().insert(header::LINK, link);
        }
    }
    Ok(response)
}

/// The whole list as CSV, streamed: the database is read a page at a time by keyset, so
/// memory stays the same whatever the list's length.
fn csv_export(state: Shared, filter: Filter, segment: Option<Segment>) -> HttpResponse {
    let name = format!("nps-{}.csv", segment.map_or("responses", Segment::as_str));
    let pages = futures_util::stream::unfold(
        (state, Some(filter), true),
        |(state, filter, first)| async move {
            let mut f = filter?;
            match state.store.rows(&f).await {
                Ok(rows) => {
                    let out = export::responses(&rows, first);
                    let next = match rows.last() {
                        Some(last) if rows.len() as i64 == f.limit => {
                            f.after = Some((last.shown_at.clone(), last.id.clone()));
                            Some(f)
                        }
                        _ => None,
                    };
                    Some((
                        Ok::<_, std::io::Error>(Bytes::from(out)),
                        (state, next, false),
                    ))
                }
                Err(e) => {
                    tracing::error!(error = %e, "reading the database for a CSV export");
                    // Ends the body early: the client sees a truncated transfer, not a
                    // complete-looking file.
                    Some((Err(std::io::Error::other(e)), (state, None, false)))
                }
            }
        },
    );
    csv_download(&name, Body::from_stream(pages))
}

/// `PATCH /v1/responses/{id}/follow-up` with `{"status": …, "owner": …}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FollowUpChange {
    #[serde(default, deserialize_with = "choice")]
    status: Option<Status>,
    /// `null` clears the owner; absent leaves it.
    #[serde(default, deserialize_with = "body::present")]
    owner: Option<Option<String>>,
}

/// `POST /v1/responses/{id}/notes` with `{"text": …}`. An `author` in the body is read and
/// ignored: the note's author is the teammate whose token made the request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewNote {
    text: String,
    #[serde(default, rename = "author")]
    _author: Option<serde::de::IgnoredAny>,
}

/// The segment of a stored response, or 404.
async fn known_response(state: &Shared, id: &str) -> Result<String, ApiError> {
    state
        .store
        .segment_of(id)
        .await?
        .ok_or(ApiError::NoSuchResponse)
}

fn too_long(text: &str, field: &str) -> Result<(), ApiError> {
    if text.chars().count() > MAX_TEXT {
        return Err(ApiError::bad(
            format!("{field} is longer than 4000 characters"),
            field,
        ));
    }
    Ok(())
}

async fn set_follow_up(
    State(state): State<Shared>,
    AsMember(member): AsMember,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    let segment = known_response(&state, &id).await?;
    let change: FollowUpChange = body::read(&bytes)?;
    if change.status.is_none() && change.owner.is_none() {
        return Err(ApiError::bad("give status, owner or both", "status"));
    }
    if let Some(status) = change.status {
        let referable = [Segment::Promoter, Segment::Passive]
            .iter()
            .any(|s| s.as_str() == segment);
        if status.is_referral() && !referable {
            return Err(ApiError::bad(
                "referral_asked and referred are for promoters and passives only",
                Status::NAME,
            ));
        }
    }
    if let Some(Some(owner)) = &change.owner {
        too_long(owner, "owner")?;
    }
    let owner = change
        .owner
        .as_ref()
        .map(|o| o.as_deref().filter(|o| !o.is_empty()));
    let follow_up = state
        .store
        .set_follow_up(&id, change.status, owner, &member.name)
        .await?;
    Ok(Json(follow_up).into_response())
}

async fn add_note(
    State(state): State<Shared>,
    AsMember(member): AsMember,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    known_response(&state, &id).await?;
    let note: NewNote = body::read(&bytes)?;
    if note.text.trim().is_empty() {
        return Err(ApiError::bad("text must not be empty", "text"));
    }
    too_long(&note.text, "text")?;
    let note = state
        .store
        .add_note(&id, note.text.trim(), Some(&member.name))
        .await?;
    Ok((StatusCode::CREATED, Json(note)).into_response())
}
