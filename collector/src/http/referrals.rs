//! Referrals followed to the deal: `POST /v1/responses/{id}/referrals` (a promoter or a
//! passive named someone), `PATCH /v1/referrals/{id}` (opportunity, won with its value,
//! lost), `GET /v1/referrals` (JSON pages or CSV) and `GET /v1/referrals/summary`, the
//! funnel per segment of the referrer.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{AsMember, AsViewer};
use super::error::ApiError;
use super::openapi::{Changing, Reading, Refusal};
use super::query::{bound, limit, next_link, Read, ReadQuery};
use super::responses::csv_download;
use super::{body, Shared};
use crate::model::{choice, given_choice, Bound, Filter, Format, Referral, ReferralStatus};
use crate::store::NewReferral;

/// Longest text of a referral's fields.
const MAX_TEXT: usize = 400;

/// The referral routes.
pub(super) fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(add))
        .routes(routes!(list))
        .routes(routes!(summary))
        .routes(routes!(change))
}

/// `POST /v1/responses/{id}/referrals`: who the promoter or passive named.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewReferral)]
struct New {
    /// Their name: not blank.
    #[schema(
        pattern = r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        max_length = 400
    )]
    name: String,
    #[serde(default)]
    #[schema(max_length = 400)]
    company: Option<String>,
    #[serde(default)]
    #[schema(max_length = 400)]
    email: Option<String>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    note: Option<String>,
}

/// Trimmed text, empty as `None`, at most `max` characters.
fn text(value: Option<String>, field: &str, max: usize) -> Result<Option<String>, ApiError> {
    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    if value.as_ref().is_some_and(|v| v.chars().count() > max) {
        return Err(ApiError::bad(
            format!("{field} is longer than {max} characters"),
            field,
        ));
    }
    Ok(value)
}

/// `POST /v1/responses/{id}/referrals`: a referral a promoter or passive made.
#[utoipa::path(
    post,
    path = "/v1/responses/{id}/referrals",
    operation_id = "addReferral",
    tag = "referrals",
    params(("id" = String, Path, description = "The response's id")),
    request_body(content = New, content_type = "application/json"),
    security(("token" = [])),
    responses(
        (status = 413, description = "The body is larger than the limit"),
        (status = 201, description = "The referral", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        (status = 404, description = "Not found", body = Refusal),
        (status = 409, description = "A referral is for a promoter's or a passive's answer", body = Refusal),
        Changing,
    )
)]
async fn add(
    State(state): State<Shared>,
    AsMember(member): AsMember,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    let segment = state
        .store
        .segment_of(&id)
        .await?
        .ok_or(ApiError::NoSuchResponse)?;
    if segment != "promoter" && segment != "passive" {
        return Err(ApiError::Conflict {
            message: format!(
                "referrals are recorded for promoters and passives; this response is a {segment}'s"
            ),
            field: "id",
        });
    }
    let new: New = body::read(&bytes)?;
    let name = text(Some(new.name), "name", MAX_TEXT)?
        .ok_or_else(|| ApiError::bad("name must not be empty", "name"))?;
    let new = NewReferral {
        name,
        company: text(new.company, "company", MAX_TEXT)?,
        email: text(new.email, "email", MAX_TEXT)?,
        note: text(new.note, "note", 4000)?,
    };
    let referral = state
        .store
        .add_referral(&id, &new, &member.name)
        .await?
        .ok_or(ApiError::NoSuchResponse)?;
    Ok((StatusCode::CREATED, Json(referral)).into_response())
}

/// `PATCH /v1/referrals/{id}`: how far it got, what the deal was worth, its CRM page.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReferralChange)]
struct Change {
    #[serde(default, deserialize_with = "given_choice")]
    #[schema(schema_with = super::openapi::referral_status)]
    status: Option<ReferralStatus>,
    /// The deal's value, 0 or more.
    #[serde(default, deserialize_with = "body::present")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 999_999_999_999_999.0)]
    value: Option<Option<f64>>,
    #[serde(default, deserialize_with = "body::present")]
    #[schema(value_type = Option<String>, pattern = r"^[Hh][Tt][Tt][Pp][Ss]?://[\s\S]+$", max_length = 2000)]
    crm_url: Option<Option<String>>,
}

/// `PATCH /v1/referrals/{id}`.
#[utoipa::path(
    patch,
    path = "/v1/referrals/{id}",
    operation_id = "changeReferral",
    tag = "referrals",
    params(("id" = i64, Path, description = "The referral's id")),
    request_body(content = Change, content_type = "application/json"),
    security(("token" = [])),
    responses(
        (status = 413, description = "The body is larger than the limit"),
        (status = 200, description = "The referral as it is now", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        (status = 404, description = "Not found", body = Refusal),
        (status = 409, description = "Won without a value: give the deal's amount", body = Refusal),
        Changing,
    )
)]
async fn change(
    State(state): State<Shared>,
    AsMember(member): AsMember,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Referral>, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::NoSuchReferral)?;
    let current = state
        .store
        .referral(id)
        .await?
        .ok_or(ApiError::NoSuchReferral)?;
    let change: Change = body::read(&bytes)?;
    if change.status.is_none() && change.value.is_none() && change.crm_url.is_none() {
        return Err(ApiError::bad("give status, value or crm_url", "status"));
    }
    let value_cents = match change.value {
        None => None,
        Some(None) => Some(None),
        Some(Some(v)) if v.is_finite() && (0.0..1e15).contains(&v) => {
            Some(Some((v * 100.0).round() as i64))
        }
        Some(Some(v)) => {
            return Err(ApiError::bad(
                format!("value must be an amount of 0 or more, got {v}"),
                "value",
            ))
        }
    };
    let won = change.status.unwrap_or(current.status) == ReferralStatus::Won;
    let has_value = match value_cents {
        Some(v) => v.is_some(),
        None => current.value.is_some(),
    };
    if won && !has_value {
        return Err(ApiError::Conflict {
            message: "a won referral needs its value: the deal's amount".into(),
            field: "value",
        });
    }
    let crm_url = match change.crm_url {
        None => None,
        Some(url) => {
            // As given, as the account's (`null` clears it).
            if let Some(u) = &url {
                if !super::accounts::is_web_url(u) || u.chars().count() > 2000 {
                    return Err(ApiError::bad(
                        format!(
                            "crm_url must be an http:// or https:// address of at most 2000 \
                             characters, got {u:?}"
                        ),
                        "crm_url",
                    ));
                }
            }
            Some(url)
        }
    };
    let referral = state
        .store
        .change_referral(id, change.status, value_cents, crm_url, &member.name)
        .await?
        .ok_or(ApiError::NoSuchReferral)?;
    Ok(Json(referral))
}

/// `GET /v1/referrals`'s query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
struct ListQuery {
    survey_id: Option<String>,
    account_id: Option<String>,
    #[serde(deserialize_with = "bound")]
    #[param(value_type = Option<super::openapi::BoundText>)]
    from: Option<Bound>,
    #[serde(deserialize_with = "bound")]
    #[param(value_type = Option<super::openapi::BoundText>)]
    to: Option<Bound>,
    #[serde(deserialize_with = "choice")]
    #[param(schema_with = super::openapi::referral_status)]
    status: Option<ReferralStatus>,
    #[serde(deserialize_with = "limit")]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// The next page's cursor, as the `Link` header gives it.
    #[param(pattern = "^-?[0-9]{1,18}$")]
    cursor: Option<String>,
    #[serde(deserialize_with = "choice")]
    #[param(schema_with = super::openapi::format)]
    format: Option<Format>,
}

/// `-12`, `345`: an integer in plain digits (what the `Link` header's cursor is), or `None`.
fn whole_number(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let plain = (1..=18).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    plain.then(|| text.parse().ok()).flatten()
}

/// The query string read into `T`, or a 400 naming the parameter.
fn read_query<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        ApiError::bad(e.into_inner().to_string(), field)
    })
}

/// `GET /v1/referrals`: newest first, a page at a time, or all as CSV.
#[utoipa::path(
    get,
    path = "/v1/referrals",
    operation_id = "listReferrals",
    tag = "referrals",
    params(ListQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "The referrals", content((Vec<Object> = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        Reading,
    )
)]
async fn list(
    State(state): State<Shared>,
    _: AsViewer,
    uri: axum::http::Uri,
) -> Result<HttpResponse, ApiError> {
    let raw = uri.query().unwrap_or_default();
    let q: ListQuery = read_query(raw)?;
    let before = match &q.cursor {
        None => None,
        Some(c) => Some(whole_number(c).ok_or_else(|| {
            ApiError::bad(
                "cursor must be the one a Link header of this list gave",
                "cursor",
            )
        })?),
    };
    let csv = q.format == Some(Format::Csv);
    let filter = Filter {
        survey_id: q.survey_id.filter(|s| !s.is_empty()),
        account_id: q.account_id.filter(|s| !s.is_empty()),
        from: q.from,
        to: q.to,
        limit: if csv { 100_000 } else { q.limit.unwrap_or(100) },
        ..Filter::default()
    };
    let referrals = state.store.referrals(&filter, q.status, before).await?;
    if csv {
        return Ok(csv_download(
            "nps-referrals.csv",
            axum::body::Body::from(crate::export::referrals(&referrals)),
        ));
    }
    let full = referrals.len() as i64 == filter.limit;
    let next = referrals.last().map(|r| r.id.to_string());
    let mut response = Json(referrals).into_response();
    if let (true, Some(next)) = (full, next) {
        if let Some(link) = next_link(raw, "/v1/referrals", "cursor", &next) {
            response.headers_mut().insert(header::LINK, link);
        }
    }
    Ok(response)
}

/// One segment's funnel in `GET /v1/referrals/summary`.
#[derive(Debug, Serialize)]
struct Funnel {
    asked: u64,
    clicked: u64,
    referrals: u64,
    opportunities: u64,
    won: u64,
    won_value: f64,
    /// Referrals ÷ people of the segment in the period; `null` without people.
    rate: Option<f64>,
    people: u64,
}

/// `GET /v1/referrals/summary`.
#[derive(Debug, Serialize)]
pub(super) struct Summary {
    currency: String,
    by_segment: BTreeMap<&'static str, Funnel>,
}

/// Referrals per person of a segment, three decimals.
pub(super) fn rate(referrals: u64, people: u64) -> Option<f64> {
    (people > 0).then(|| (referrals as f64 / people as f64 * 1000.0).round() / 1000.0)
}

#[utoipa::path(
    get,
    path = "/v1/referrals/summary",
    operation_id = "getReferralFunnel",
    tag = "referrals",
    params(ReadQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "The funnel per segment of the referrer: asked, clicked, referred, opportunities, won", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        Reading,
    )
)]
async fn summary(
    State(state): State<Shared>,
    _: AsViewer,
    read: Read,
) -> Result<Json<Summary>, ApiError> {
    let f = read.filter(1)?;
    let funnel = state.store.referral_funnel(&f).await?;
    let by_segment = ["promoter", "passive"]
        .into_iter()
        .zip(funnel)
        .map(|(name, c)| {
            (
                name,
                Funnel {
                    asked: c.asked,
                    clicked: c.clicked,
                    referrals: c.referrals,
                    opportunities: c.opportunities,
                    won: c.won,
                    won_value: c.won_value_cents as f64 / 100.0,
                    rate: rate(c.referrals, c.people),
                    people: c.people,
                },
            )
        })
        .collect();
    Ok(Json(Summary {
        currency: state.money.currency.clone(),
        by_segment,
    }))
}
