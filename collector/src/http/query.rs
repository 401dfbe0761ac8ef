//! The query every read endpoint understands, read into types: a segment, a follow-up state,
//! a format or an interval outside its set, a date that is not one, a limit out of range, each
//! get a 400 naming the parameter. The allowed values come from the tables in `model`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderValue;
use nps_widget::segment::Segment;
use serde::{Deserialize, Deserializer};

use super::error::ApiError;
use crate::clock;
use crate::model::{
    choice, AccountSort, Bound, Filter, Format, Interval, Opportunity, StatusFilter,
};

/// Most list entries one page holds.
pub(super) const MAX_PAGE: i64 = 1000;

/// The read query, typed.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub(super) struct ReadQuery {
    /// Only this survey.
    pub(super) survey_id: Option<String>,
    /// Only answers to this version of the survey's definition.
    #[serde(deserialize_with = "version")]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 9_223_372_036_854_775_807_i64)]
    pub(super) survey_version: Option<i64>,
    /// Only this segment (for `/v1/accounts`, the account's own).
    #[serde(deserialize_with = "choice")]
    #[param(schema_with = super::openapi::segment)]
    pub(super) segment: Option<Segment>,
    /// Shown at or after.
    #[serde(deserialize_with = "bound")]
    #[param(value_type = Option<super::openapi::BoundText>)]
    pub(super) from: Option<Bound>,
    /// Shown before.
    #[serde(deserialize_with = "bound")]
    #[param(value_type = Option<super::openapi::BoundText>)]
    pub(super) to: Option<Bound>,
    /// `json` (the default) or `csv`.
    #[serde(deserialize_with = "choice")]
    #[param(schema_with = super::openapi::format)]
    pub(super) format: Option<Format>,
    /// The trend's buckets.
    #[serde(deserialize_with = "choice")]
    #[param(schema_with = super::openapi::interval)]
    pub(super) interval: Option<Interval>,
    /// Entries per page, 1 to [`MAX_PAGE`].
    #[serde(deserialize_with = "limit")]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    pub(super) limit: Option<i64>,
    /// `/v1/responses`: the keyset cursor of the next page, as its `Link` header gives it.
    #[param(pattern = r"^[^|]+\|.+$")]
    pub(super) cursor: Option<String>,
    /// `/v1/accounts`: accounts to skip (its `Link` header gives the next page's).
    #[serde(deserialize_with = "offset")]
    #[param(value_type = Option<i64>, minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub(super) offset: Option<i64>,
    /// `/v1/responses`: the follow-up state (or `open`).
    #[serde(deserialize_with = "choice")]
    #[param(schema_with = super::openapi::status_filter)]
    pub(super) status: Option<StatusFilter>,
    /// One account's responses.
    pub(super) account_id: Option<String>,
    /// `/v1/responses`: only the follow-ups this teammate owns ("Only mine").
    pub(super) owner: Option<String>,
    /// `/v1/accounts`: only accounts on this plan.
    pub(super) plan: Option<String>,
    /// `/v1/accounts`: only accounts renewing before this day.
    #[serde(deserialize_with = "day")]
    #[param(schema_with = super::openapi::day)]
    pub(super) renewal_before: Option<String>,
    /// `/v1/accounts`: `nps` (the default), `arr` or `renewal_on`.
    #[serde(deserialize_with = "choice")]
    #[param(schema_with = super::openapi::account_sort)]
    pub(super) sort: Option<AccountSort>,
    /// `/v1/accounts`: `upsell`.
    #[serde(deserialize_with = "choice")]
    #[param(schema_with = super::openapi::opportunity)]
    pub(super) opportunity: Option<Opportunity>,
    /// `/v1/compare`: the two periods.
    #[serde(deserialize_with = "bound")]
    #[param(value_type = Option<super::openapi::BoundText>)]
    pub(super) a_from: Option<Bound>,
    /// `/v1/compare`.
    #[serde(deserialize_with = "bound")]
    #[param(value_type = Option<super::openapi::BoundText>)]
    pub(super) a_to: Option<Bound>,
    /// `/v1/compare`.
    #[serde(deserialize_with = "bound")]
    #[param(value_type = Option<super::openapi::BoundText>)]
    pub(super) b_from: Option<Bound>,
    /// `/v1/compare`.
    #[serde(deserialize_with = "bound")]
    #[param(value_type = Option<super::openapi::BoundText>)]
    pub(super) b_to: Option<Bound>,
    /// `/v1/responses`: the internal people's responses instead.
    #[param(value_type = Option<bool>)]
    pub(super) internal: bool,
}

fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

pub(super) fn bound<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Bound>, D::Error> {
    match text(d)? {
        None => Ok(None),
        Some(t) => clock::parse_bound(&t).map(Some).ok_or_else(|| {
            serde::de::Error::custom("must be a date (YYYY-MM-DD) or an RFC 3339 time")
        }),
    }
}

/// A whole day, `YYYY-MM-DD`, as stored.
fn day<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match text(d)? {
        None => Ok(None),
        Some(t) => match clock::parse_bound(&t) {
            Some(Bound::Day(date)) => Ok(Some(clock::day(date))),
            _ => Err(serde::de::Error::custom("must be a date (YYYY-MM-DD)")),
        },
    }
}

pub(super) fn limit<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match text(d)? {
        None => Ok(None),
        Some(t) => t
            .parse()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("limit must be from 1 to 1000")),
    }
}

fn version<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match text(d)? {
        None => Ok(None),
        Some(t) => t.parse().ok().filter(|n| *n >= 1).map(Some).ok_or_else(|| {
            serde::de::Error::custom("survey_version must be a whole number from 1")
        }),
    }
}

fn offset<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match text(d)? {
        None => Ok(None),
        Some(t) => t
            .parse()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("offset must be 0 or more")),
    }
}

/// The typed query with the text it came from (for the next page's link).
#[derive(Debug, Clone, Default)]
pub(super) struct Read {
    /// The parameters.
    pub(super) query: ReadQuery,
    raw: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Read {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Read, ApiError> {
        let raw = parts.uri.query().unwrap_or_default().to_owned();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
        let query = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            ApiError::bad(e.into_inner().to_string(), field)
        })?;
        Ok(Read { query, raw })
    }
}

impl Read {
    /// The store filter, `default_limit` entries unless the query says.
    pub(super) fn filter(&self, default_limit: i64) -> Result<Filter, ApiError> {
        let q = &self.query;
        let after = match &q.cursor {
            None => None,
            Some(c) => match c.split_once('|') {
                Some((shown_at, id)) if !shown_at.is_empty() && !id.is_empty() => {
                    Some((shown_at.to_owned(), id.to_owned()))
                }
                _ => {
                    return Err(ApiError::bad(
                        "cursor must be the one a Link header of this list gave",
                        "cursor",
                    ))
                }
            },
        };
        Ok(Filter {
            survey_id: q.survey_id.clone().filter(|s| !s.is_empty()),
            segment: q.segment,
            from: q.from,
            to: q.to,
            limit: q.limit.unwrap_or(default_limit),
            after,
            status: q.status,
            account_id: q.account_id.clone().filter(|s| !s.is_empty()),
            owner: q.owner.clone().filter(|s| !s.is_empty()),
            survey_version: q.survey_version,
            internal: q.internal,
        })
    }

    /// `json` unless the query asks for `csv`.
    pub(super) fn format(&self) -> Format {
        self.query.format.unwrap_or_default()
    }

    /// A `Link: <…>; rel="next"` header for the same query with `name` set to `value`.
    pub(super) fn next_link(&self, path: &str, name: &str, value: &str) -> Option<HeaderValue> {
        next_link(&self.raw, path, name, value)
    }
}

/// A `Link: <…>; rel="next"` header for query `raw` with `name` set to `value`.
pub(super) fn next_link(raw: &str, path: &str, name: &str, value: &str) -> Option<HeaderValue> {
    {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(raw.as_bytes())
            .into_owned()
            .filter(|(k, _)| k != name)
            .collect();
        pairs.push((name.to_owned(), value.to_owned()));
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        HeaderValue::from_str(&format!("<{path}?{query}>; rel=\"next\"")).ok()
    }
}
