//! Personal links and what they open: `POST /v1/links` (one link, its email block),
//! `POST /v1/links/bulk` (a mail merge CSV for a list), `GET /s/<token>` (the hosted survey
//! page), `POST /s/<token>` (its responses), `GET /s/<token>/email` (the email block, for
//! the dashboard's preview), and `POST /v1/digest` (the chat digest, now).
//!
//! A GET records nothing, whatever its `?score=`: mail scanners open every link of a message
//! (Wootric warns they "click on every link"). The page's script records the score once the
//! page is shown in a visible tab, as the widget records a click.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::{Extension, Json};
use nps_widget::segment::Segment;
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{AsAdmin, AsMember};
use super::error::ApiError;
use super::openapi::{Changing, Refusal, WidgetResponse};
use super::responses::csv_download;
use super::{body, ingest, AppState, ClientIp, Shared};
use crate::link::{self, Link, Refused};
use crate::model::{choice, Filter};
use crate::store::IssuedLink;
use crate::{clock, export, notify, reach};

/// The hosted page's CSP: its own script and styles, the widget's wasm, posts to itself only,
/// never framed.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
    connect-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";
/// The email preview: inline styles only (an email's own), no script at all; framed by the
/// dashboard only.
const EMAIL_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'self'";
/// People a mail merge reads per page.
const PEOPLE_PAGE: i64 = 500;

/// The routes.
pub(super) fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(bulk))
        .routes(routes!(digest_now))
        .routes(routes!(script))
        .routes(routes!(styles))
        .routes(routes!(page, respond))
        .routes(routes!(email))
}

/// `POST /v1/links`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewLink {
    /// The survey it asks (`default` when absent).
    #[serde(default = "default_survey")]
    #[schema(min_length = 1, max_length = 128)]
    survey_id: String,
    user: LinkUser,
    /// Days until it expires: 1 to 365, 30 when absent.
    #[serde(default, deserialize_with = "body::whole")]
    #[schema(minimum = 1, maximum = 365)]
    expires_days: Option<u32>,
    #[schema(max_length = 256)]
    locale: Option<String>,
}

/// Whom a link is for: an id, an email, or both.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LinkUser)]
struct LinkUser {
    #[schema(max_length = 256)]
    id: Option<String>,
    #[schema(max_length = 256)]
    account_id: Option<String>,
    #[schema(max_length = 256)]
    email: Option<String>,
}

/// `POST /v1/links/bulk`: the list's filters.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BulkLinks)]
struct Bulk {
    survey_id: Option<String>,
    #[serde(default, deserialize_with = "choice")]
    #[schema(schema_with = super::openapi::segment_or_null)]
    segment: Option<Segment>,
    account_id: Option<String>,
    #[schema(value_type = Option<super::openapi::BoundText>)]
    from: Option<String>,
    #[schema(value_type = Option<super::openapi::BoundText>)]
    to: Option<String>,
    #[serde(default, deserialize_with = "body::whole")]
    #[schema(minimum = 1, maximum = 365)]
    expires_days: Option<u32>,
}

fn default_survey() -> String {
    "default".into()
}

fn days(expires_days: Option<u32>) -> Result<u32, ApiError> {
    match expires_days {
        None => Ok(link::DEFAULT_DAYS),
        Some(d) if (1..=link::MAX_DAYS).contains(&d) => Ok(d),
        Some(_) => Err(ApiError::bad(
            format!("expires_days must be from 1 to {}", link::MAX_DAYS),
            "expires_days",
        )),
    }
}

fn text_field(value: Option<String>, field: &str) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.chars().count() > 256 => {
            Err(ApiError::bad("must be at most 256 characters", field))
        }
        Some(v) if v.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

fn token_url(state: &AppState, token: &str) -> String {
    format!("{}/s/{token}", state.reach.public_url)
}

/// Signs `link` now, to expire in `days`: its token, its URL, and the link as recorded
/// (what is held about its person includes it), issued by `by`.
fn sign(state: &AppState, mut link: Link, days: u32, by: &str) -> (String, String, IssuedLink) {
    let now = clock::now_ms() / 1000;
    link.issued_at = now;
    link.expires_at = now + i64::from(days) * 86_400;
    let token = link.sign(&state.reach.link_key);
    let url = token_url(state, &token);
    let issued = IssuedLink {
        response_id: link::response_id(&token),
        survey_id: link.survey_id,
        user_id: link.user_id,
        account_id: link.account_id,
        email: link.email,
        issued_at: clock::rfc3339(now * 1000),
        expires_at: link.expires_at,
        issued_by: by.to_owned(),
    };
    (token, url, issued)
}

/// `POST /v1/links`: a personal link, signed, for one person.
#[utoipa::path(
    post,
    path = "/v1/links",
    operation_id = "createLink",
    tag = "links",
    request_body(content = NewLink, content_type = "application/json"),
    security(("token" = [])),
    responses(
        (status = 413, description = "The body is larger than the limit"),
        (status = 201, description = "The link, when it expires, and its email block", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        Changing,
    )
)]
async fn create(
    State(state): State<Shared>,
    AsMember(member): AsMember,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    let new: NewLink = body::read(&bytes)?;
    let days = days(new.expires_days)?;
    if new.survey_id.is_empty() || new.survey_id.chars().count() > 128 {
        return Err(ApiError::bad("must be 1 to 128 characters", "survey_id"));
    }
    let link = Link {
        survey_id: new.survey_id,
        user_id: text_field(new.user.id, "user.id")?,
        account_id: text_field(new.user.account_id, "user.account_id")?,
        email: text_field(new.user.email, "user.email")?,
        locale: text_field(new.locale, "locale")?,
        expires_at: 0,
        nonce: link::nonce(),
        issued_at: 0,
    };
    if link.user_id.is_none() && link.email.is_none() {
        return Err(ApiError::bad(
            "a personal link needs user.id or user.email: whom is it for?",
            "user",
        ));
    }
    let locale = link.locale.clone();
    let (token, url, issued) = sign(&state, link, days, &member.name);
    let expires_at = issued.expires_at;
    state.store.record_links(&[issued]).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "url": url,
            "expires_at": clock::rfc3339(expires_at * 1000),
            "email_html": reach::email_html(&url, locale.as_deref(), &state.reach.product),
            "preview_url": format!("/s/{token}/email"),
        })),
    )
        .into_response())
}

/// `POST /v1/links/bulk`: a link for each person the list's filters find, as CSV.
#[utoipa::path(
    post,
    path = "/v1/links/bulk",
    operation_id = "createLinks",
    tag = "links",
    request_body(content = Bulk, content_type = "application/json"),
    security(("token" = [])),
    responses(
        (status = 413, description = "The body is larger than the limit"),
        (status = 200, description = "email, user id, account id and link per person", body = String, content_type = "text/csv"),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        Changing,
    )
)]
async fn bulk(
    State(state): State<Shared>,
    AsMember(member): AsMember,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: Bulk = body::read(&bytes)?;
    let days = days(b.expires_days)?;
    let bound = |text: Option<String>, field: &str| match text {
        None => Ok(None),
        Some(t) => clock::parse_bound(&t)
            .map(Some)
            .ok_or_else(|| ApiError::bad("must be a date (YYYY-MM-DD) or an RFC 3339 time", field)),
    };
    let survey_id = b.survey_id.filter(|s| !s.is_empty());
    let filter = Filter {
        survey_id: survey_id.clone(),
        segment: b.segment,
        account_id: b.account_id.filter(|s| !s.is_empty()),
        from: bound(b.from, "from")?,
        to: bound(b.to, "to")?,
        limit: PEOPLE_PAGE,
        ..Filter::default()
    };
    let survey = survey_id.unwrap_or_else(default_survey);
    let name = format!("nps-links-{}.csv", b.segment.map_or("all", Segment::as_str));
    // A page of people at a time, by email: any list size, the memory of one page.
    let pages = futures_util::stream::unfold(
        (state, filter, Some(None::<String>), true),
        move |(state, filter, after, first)| {
            let survey = survey.clone();
            let by = member.name.clone();
            async move {
                let after = after?;
                match state.store.people(&filter, after.as_deref()).await {
                    Ok(people) => {
                        let next = match people.last() {
                            Some(last) if people.len() as i64 == filter.limit => {
                                Some(Some(last.email.clone()))
                            }
                            _ => None,
                        };
                        let mut issued = Vec::with_capacity(people.len());
                        let rows: Vec<_> = people
                            .into_iter()
                            .map(|p| {
                                let link = Link {
                                    survey_id: survey.clone(),
                                    user_id: p.user_id.clone(),
                                    account_id: p.account_id.clone(),
                                    email: Some(p.email.clone()),
                                    locale: p.locale,
                                    expires_at: 0,
                                    nonce: link::nonce(),
                                    issued_at: 0,
                                };
                                let (_, url, link) = sign(&state, link, days, &by);
                                issued.push(link);
                                (p.email, p.user_id, p.account_id, url)
                            })
                            .collect();
                        if let Err(e) = state.store.record_links(&issued).await {
                            tracing::error!(error = %e, "recording the links of a mail merge");
                            let e = std::io::Error::other(e);
                            return Some((Err(e), (state, filter, None, false)));
                        }
                        let out = export::links(&rows, first);
                        Some((
                            Ok::<_, std::io::Error>(Bytes::from(out)),
                            (state, filter, next, false),
                        ))
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "reading the database for a mail merge");
                        Some((Err(std::io::Error::other(e)), (state, filter, None, false)))
                    }
                }
            }
        },
    );
    Ok(csv_download(&name, Body::from_stream(pages)))
}

fn html(status: StatusCode, csp: &'static str, page: String) -> HttpResponse {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response()
}

/// The link of a token, if this collector signed it, it has not expired, and its person has
/// not been erased since it was signed.
async fn verified(state: &Shared, token: &str) -> Result<Link, ApiError> {
    let link = Link::verify(&state.reach.link_key, token, clock::now_ms() / 1000)
        .map_err(ApiError::LinkRefused)?;
    let erased = state
        .store
        .erased_at(link.user_id.as_deref(), link.email.as_deref())
        .await?;
    if erased.is_some_and(|at| at >= link.issued_at) {
        return Err(ApiError::LinkRefused(Refused::Erased));
    }
    Ok(link)
}

/// The page that says why a link cannot be used.
fn refused(refused: Refused) -> HttpResponse {
    let status = match refused {
        Refused::Expired | Refused::Erased => StatusCode::GONE,
        Refused::Invalid => StatusCode::FORBIDDEN,
    };
    html(status, PAGE_CSP, reach::refused_page(&refused.to_string()))
}

/// `GET /s/<token>`: the survey, or the thanks when it was answered. Records nothing.
#[utoipa::path(
    get,
    path = "/s/{token}",
    operation_id = "getHostedPage",
    tag = "links",
    params(("token" = String, Path, description = "The personal link's token")),
    responses(
        (status = 200, description = "The survey, or the thanks once answered", body = String, content_type = "text/html"),
        (status = 403, description = "A link that was changed", body = String, content_type = "text/html"),
        (status = 410, description = "Expired, or its person erased", body = String, content_type = "text/html"),
        (status = 503, description = "The database did not answer", body = Refusal),
    )
)]
async fn page(
    State(state): State<Shared>,
    Path(token): Path<String>,
) -> Result<HttpResponse, ApiError> {
    let link = match verified(&state, &token).await {
        Ok(link) => link,
        Err(ApiError::LinkRefused(r)) => return Ok(refused(r)),
        Err(e) => return Err(e),
    };
    let id = link::response_id(&token);
    let answer = state.store.answer_of(&id).await?;
    if let Some((segment, response_state, _)) = &answer {
        if response_state == "complete" && segment != "silent" {
            let segment = Segment::parse(segment).unwrap_or(Segment::Passive);
            return Ok(html(
                StatusCode::OK,
                PAGE_CSP,
                reach::thanks_page(link.locale.as_deref(), &state.reach.product, segment),
            ));
        }
    }
    let config = reach::PageConfig {
        endpoint: format!("/s/{token}"),
        product: &state.reach.product,
        survey_id: &link.survey_id,
        locale: link.locale.as_deref(),
        // A visit after the score was recorded opens on it, with its follow-up.
        score: answer.and_then(|(_, _, score)| score),
    };
    Ok(html(StatusCode::OK, PAGE_CSP, reach::survey_page(&config)))
}

/// `POST /s/<token>`: the hosted page's responses, as the link's person.
#[utoipa::path(
    post,
    path = "/s/{token}",
    operation_id = "answerHostedPage",
    tag = "links",
    params(("token" = String, Path, description = "The personal link's token")),
    request_body(content = WidgetResponse, content_type = "application/json", description = "The hosted page's response; the link names the person, survey and id"),
    responses(
        (status = 413, description = "The body is larger than the limit"),
        (status = 201, description = "Stored", body = Object),
        (status = 200, description = "Stored already", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        (status = 403, description = "The token's role is too little for this", body = Refusal),
        (status = 410, description = "Expired, or its person was erased", body = Refusal),
        (status = 415, description = "Not `application/json`", body = Refusal),
        (status = 429, description = "Too many from this address", body = Refusal),
        (status = 503, description = "The database did not answer", body = Refusal),
    )
)]
async fn respond(
    State(state): State<Shared>,
    Extension(ClientIp(client)): Extension<ClientIp>,
    Path(token): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    let link = verified(&state, &token).await?;
    let id = link::response_id(&token);
    let response = ingest::store(&state, client, &headers, bytes, Some((&link, &id))).await;
    let response = response.into_response();
    state.metrics.ingested(response.status().as_u16());
    Ok(response)
}

/// `GET /s/<token>/email`: the link's email block as a page, for the dashboard's preview.
/// `GET /s/{token}/email`: the link's email block as a page.
#[utoipa::path(
    get,
    path = "/s/{token}/email",
    operation_id = "getLinkEmail",
    tag = "links",
    params(("token" = String, Path, description = "The personal link's token")),
    responses(
        (status = 200, description = "The email block", body = String, content_type = "text/html"),
        (status = 403, description = "A link that was changed", body = String, content_type = "text/html"),
        (status = 410, description = "Expired, or its person erased", body = String, content_type = "text/html"),
        (status = 503, description = "The database did not answer", body = Refusal),
    )
)]
async fn email(
    State(state): State<Shared>,
    Path(token): Path<String>,
) -> Result<HttpResponse, ApiError> {
    let link = match verified(&state, &token).await {
        Ok(link) => link,
        Err(ApiError::LinkRefused(r)) => return Ok(refused(r)),
        Err(e) => return Err(e),
    };
    let url = token_url(&state, &token);
    let block = reach::email_html(&url, link.locale.as_deref(), &state.reach.product);
    Ok(html(
        StatusCode::OK,
        EMAIL_CSP,
        reach::email_page(&block, link.locale.as_deref()),
    ))
}

/// `POST /v1/digest`: the digest of the period ending now, sent to the chat URLs.
/// `POST /v1/digest`: the digest of the period ending now, sent to the chat URLs.
#[utoipa::path(
    post,
    path = "/v1/digest",
    operation_id = "sendDigest",
    tag = "links",
    security(("token" = [])),
    responses(
        (status = 200, description = "Where it was sent, and the digest", body = Object),
        (status = 409, description = "It exists already, or cannot be done now", body = Refusal),
        Changing,
    )
)]
async fn digest_now(
    State(state): State<Shared>,
    _: AsAdmin,
) -> Result<Json<serde_json::Value>, ApiError> {
    if state.reach.chat.is_empty() {
        return Err(ApiError::NoChat);
    }
    let d = notify::digest(
        &state.store,
        state.reach.every,
        time::OffsetDateTime::now_utc(),
        &state.reach.public_url,
    )
    .await?;
    let sent_to = state.reach.chat.post_all(&d.text).await;
    Ok(Json(json!({ "sent_to": sent_to, "digest": d })))
}

/// `GET /s/hosted.js`: the hosted page's script.
#[utoipa::path(
    get,
    path = "/s/hosted.js",
    operation_id = "getHostedScript",
    tag = "links",
    responses(
        (status = 200, description = "The script", body = String, content_type = "text/javascript"),
    )
)]
async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../hosted/hosted.js"),
    )
}

/// `GET /s/hosted.css`: the hosted page's styles.
#[utoipa::path(
    get,
    path = "/s/hosted.css",
    operation_id = "getHostedStyles",
    tag = "links",
    responses(
        (status = 200, description = "The styles", body = String, content_type = "text/css"),
    )
)]
async fn styles() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../hosted/hosted.css"),
    )
}
