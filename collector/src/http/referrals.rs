//! Referrals followed to the deal: `POST /v1/responses/{id}/referrals` (a promoter or a
//! passive named someone), `PATCH /v1/referrals/{id}` (opportunity, won with its value,
//! lost), `GET /v1/referrals` (JSON pages or CSV) and `GET /v1/referrals/summary`, the
//! funnel per segment of the referrer.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::auth::{AsMember, AsViewer};
use super::error::ApiError;
use super::query::{bound, limit, next_link, Read};
use super::responses::csv_download;
use super::{body, Shared};
use crate::model::{choice, Bound, Filter, Format, Referral, ReferralStatus};
use crate::store::NewReferral;

/// Longest text of a referral's fields.
const MAX_TEXT: usize = 400;

/// The referral routes.
pub(super) fn router() -> Router<Shared> {
    Router::new()
        .route("/v1/responses/{id}/referrals", post(add))
        .route("/v1/referrals", get(list))
        .route("/v1/referrals/summary", get(summary))
        .route("/v1/referrals/{id}", patch(change))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct New {
    name: String,
    #[serde(default)]
    company: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
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
        return Err(ApiError::bad(
            format!(
                "referrals are recorded for promoters and passives; this response is a {segment}'s"
            ),
            "id",
        ));
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    #[serde(default, deserialize_with = "choice")]
    status: Option<ReferralStatus>,
    #[serde(default, deserialize_with = "body::present")]
    value: Option<Option<f64>>,
    #[serde(default, deserialize_with = "body::present")]
    crm_url: Option<Option<String>>,
}

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
        return Err(ApiError::bad(
            "a won referral needs its value: the deal's amount",
            "value",
        ));
    }
    let crm_url = match change.crm_url {
        None => None,
        Some(url) => {
            let url = text(url, "crm_url", 2000)?;
            if let Some(u) = &url {
                let lower = u.to_ascii_lowercase();
                if !(lower.starts_with("https://") || lower.starts_with("http://")) {
                    return Err(ApiError::bad(
                        format!("crm_url must start with http:// or https://, got {u:?}"),
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
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ListQuery {
    survey_id: Option<String>,
    account_id: Option<String>,
    #[serde(deserialize_with = "bound")]
    from: Option<Bound>,
    #[serde(deserialize_with = "bound")]
    to: Option<Bound>,
    #[serde(deserialize_with = "choice")]
    status: Option<ReferralStatus>,
    #[serde(deserialize_with = "limit")]
    limit: Option<i64>,
    cursor: Option<String>,
    #[serde(deserialize_with = "choice")]
    format: Option<Format>,
}

/// The query string read into `T`, or a 400 naming the parameter.
fn read_query<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        ApiError::bad(e.into_inner().to_string(), field)
    })
}

async fn list(
    State(state): State<Shared>,
    _: AsViewer,
    uri: axum::http::Uri,
) -> Result<HttpResponse, ApiError> {
    let raw = uri.query().unwrap_or_default();
    let q: ListQuery = read_query(raw)?;
    let before = match &q.cursor {
        None => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| {
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
