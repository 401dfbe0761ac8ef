//! The lists to act on: `GET /v1/responses` (JSON pages by keyset, or the whole list as a
//! streamed CSV), and closing the loop on one response: its follow-up state and notes.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::Json;
use nps_widget::segment::Segment;
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{AsMember, AsViewer};
use super::error::ApiError;
use super::openapi::{Reading, Refusal};
use super::query::{Read, ReadQuery};
use super::{body, Shared};
use crate::export;
use crate::model::{given_choice, Choice, Filter, Format, Status};

/// Rows the CSV export reads from the database at a time.
const CSV_PAGE: i64 = 1000;
/// Longest owner, author or note text accepted.
const MAX_TEXT: usize = 4000;

/// The follow-up routes (the list itself shares `/v1/responses` with ingest).
pub(super) fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(set_follow_up))
        .routes(routes!(add_note))
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

/// `GET /v1/responses`: the list, newest first, a page at a time (the `Link` header names
/// the next), or the whole list as CSV.
#[utoipa::path(
    get,
    path = "/v1/responses",
    operation_id = "listResponses",
    tag = "lists",
    params(ReadQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "Each response as the widget sent it, with its `follow_up`",
            content((Vec<Object> = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A parameter is wrong; `field` names it", body = Refusal),
        Reading,
    )
)]
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
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct FollowUpChange {
    /// The follow-up state (`referral_asked` and `referred`: promoters and passives only).
    #[serde(default, deserialize_with = "given_choice")]
    #[schema(schema_with = super::openapi::status)]
    status: Option<Status>,
    /// The teammate who owns it; `null` clears the owner, absent leaves it.
    #[serde(default, deserialize_with = "body::present")]
    #[schema(value_type = Option<String>, max_length = 4000)]
    owner: Option<Option<String>>,
}

/// `POST /v1/responses/{id}/notes` with `{"text": …}`. An `author` in the body is read and
/// ignored: the note's author is the teammate whose token made the request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewNote {
    /// The note: not blank, at most 4,000 characters.
    #[schema(
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        max_length = 4000
    )]
    text: String,
    /// Read and ignored.
    #[serde(default, rename = "author")]
    #[schema(value_type = Option<serde_json::Value>)]
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

/// `PATCH /v1/responses/{id}/follow-up`: its state, its owner, or both.
#[utoipa::path(
    patch,
    path = "/v1/responses/{id}/follow-up",
    operation_id = "setFollowUp",
    tag = "lists",
    params(("id" = String, Path, description = "The response's id")),
    request_body(content = FollowUpChange, content_type = "application/json"),
    security(("token" = [])),
    responses(
        (status = 413, description = "The body is larger than the limit"),
        (status = 200, description = "The follow-up as it is now", body = Object),
        (status = 400, description = "A field is wrong; `field` names it", body = Refusal),
        (status = 403, description = "A viewer's token", body = Refusal),
        (status = 404, description = "No response with this id", body = Refusal),
        (status = 409, description = "A referral is for a promoter's or a passive's answer", body = Refusal),
        Reading,
    )
)]
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
            return Err(ApiError::Conflict {
                message: "referral_asked and referred are for promoters and passives only".into(),
                field: Status::NAME,
            });
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

/// `POST /v1/responses/{id}/notes`: a note, by the token's teammate.
#[utoipa::path(
    post,
    path = "/v1/responses/{id}/notes",
    operation_id = "addNote",
    tag = "lists",
    params(("id" = String, Path, description = "The response's id")),
    request_body(content = NewNote, content_type = "application/json"),
    security(("token" = [])),
    responses(
        (status = 413, description = "The body is larger than the limit"),
        (status = 201, description = "The note", body = Object),
        (status = 400, description = "A field is wrong; `field` names it", body = Refusal),
        (status = 403, description = "A viewer's token", body = Refusal),
        (status = 404, description = "No response with this id", body = Refusal),
        Reading,
    )
)]
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
