//! The accounts: `GET /v1/accounts` (JSON pages or CSV; sorted by NPS, ARR or renewal, the
//! upsell list), one account's figures and record (`GET`/`PUT /v1/accounts/{id}`), the people
//! behind it, the import of a CRM's export, and `GET /v1/revenue`.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::Json;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{AsAdmin, AsMember, AsViewer};
use super::error::ApiError;
use super::openapi::{Changing, Reading, Refusal};
use super::query::{Read, ReadQuery, MAX_PAGE};
use super::responses::csv_download;
use super::{body, Shared};
use crate::import;
use crate::model::{AccountQuery, AccountSort, Filter, Format};
use crate::store::{AccountKey, Page, RecordChange};
use crate::{export, report};

/// Longest name, plan or owner accepted.
const MAX_FIELD: usize = 400;
/// Largest CSV import accepted (100,000 accounts with a few columns fit).
pub(super) const IMPORT_LIMIT: usize = 32 * 1024 * 1024;

/// The account routes.
pub(super) fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(one, change))
        .routes(routes!(people))
        .routes(routes!(revenue))
}

/// The import route, with a body limit of its own (a CRM export is larger than a response).
pub(super) fn import_router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(import_csv))
}

/// The filter and the accounts' own query of a read.
fn account_query(read: &Read, default_limit: i64) -> Result<(Filter, AccountQuery), ApiError> {
    let mut f = read.filter(default_limit)?;
    let q = &read.query;
    let query = AccountQuery {
        // Here the segment is the account's, not the response's, and the owner the
        // account's, not a follow-up's.
        segment: f.segment.take(),
        owner: f.owner.take(),
        plan: q.plan.clone().filter(|p| !p.is_empty()),
        renewal_before: q.renewal_before.clone(),
        sort: q.sort.unwrap_or_default(),
        opportunity: q.opportunity,
    };
    Ok((f, query))
}

#[utoipa::path(
    get,
    path = "/v1/accounts",
    operation_id = "listAccounts",
    tag = "accounts",
    params(ReadQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "The accounts, a page at a time (`Link` names the next), or all as CSV", content((Vec<Object> = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        Reading,
    )
)]
async fn list(
    State(state): State<Shared>,
    _: AsViewer,
    read: Read,
) -> Result<HttpResponse, ApiError> {
    let (mut f, query) = account_query(&read, 100)?;
    if read.format() == Format::Csv {
        f.limit = MAX_PAGE;
        return Ok(accounts_csv(state, f, query));
    }
    let offset = read.query.offset.unwrap_or(0);
    let accounts = state.store.account_counts(&f, offset, &query).await?;
    let full = accounts.len() as i64 == f.limit;
    let list: Vec<report::Account> = accounts.into_iter().map(Into::into).collect();
    let mut response = Json(list).into_response();
    if full {
        let next = (offset + f.limit).to_string();
        if let Some(link) = read.next_link("/v1/accounts", "offset", &next) {
            response.headers_mut().insert(header::LINK, link);
        }
    }
    Ok(response)
}

/// Where the CSV export is: the next page by keyset (the NPS order) or by offset (the other
/// orders, whose lists are the accounts with records: thousands, not millions).
enum Next {
    After(Option<AccountKey>),
    Offset(i64),
}

/// Every account as CSV, streamed a page at a time in the list's order, so the export is
/// complete at any number of accounts and memory stays that of one page.
fn accounts_csv(state: Shared, filter: Filter, query: AccountQuery) -> HttpResponse {
    let name = format!(
        "nps-accounts-{}.csv",
        match (query.opportunity, query.segment) {
            (Some(_), _) => "upsell",
            (None, Some(segment)) => segment.as_str(),
            (None, None) => "all",
        }
    );
    let keyset = query.sort == AccountSort::Nps && query.opportunity.is_none();
    let start = if keyset {
        Next::After(None)
    } else {
        Next::Offset(0)
    };
    let pages = futures_util::stream::unfold(
        (state, filter, query, Some(start), true),
        move |(state, filter, query, next, first)| async move {
            let next = next?;
            let page = match &next {
                Next::After(key) => Page::After(key.as_ref()),
                Next::Offset(n) => Page::Offset(*n),
            };
            match state.store.accounts_page(&filter, page, &query).await {
                Ok(accounts) => {
                    let full = accounts.len() as i64 == filter.limit;
                    let after = match (next, accounts.last()) {
                        (Next::After(_), Some(last)) if full => {
                            Some(Next::After(Some(AccountKey::of(last))))
                        }
                        (Next::Offset(n), Some(_)) if full => Some(Next::Offset(n + filter.limit)),
                        _ => None,
                    };
                    let list: Vec<report::Account> = accounts.into_iter().map(Into::into).collect();
                    let out = export::accounts(&list, first);
                    Some((
                        Ok::<_, std::io::Error>(Bytes::from(out)),
                        (state, filter, query, after, false),
                    ))
                }
                Err(e) => {
                    tracing::error!(error = %e, "reading the database for an accounts export");
                    Some((
                        Err(std::io::Error::other(e)),
                        (state, filter, query, None, false),
                    ))
                }
            }
        },
    );
    csv_download(&name, Body::from_stream(pages))
}

/// Account `id`'s row of the list (its figures over the read's survey and dates, and its
/// record), or 404.
async fn row(state: &Shared, read: &Read, id: &str) -> Result<report::Account, ApiError> {
    let (mut f, _) = account_query(read, 1)?;
    f.account_id = Some(id.to_owned());
    f.limit = 1;
    let found = state
        .store
        .account_counts(&f, 0, &AccountQuery::default())
        .await?;
    found
        .into_iter()
        .next()
        .map(Into::into)
        .ok_or(ApiError::NoSuchAccount)
}

/// `GET /v1/accounts/{id}`: one account's row of the list.
#[utoipa::path(
    get,
    path = "/v1/accounts/{id}",
    operation_id = "getAccount",
    tag = "accounts",
    params(("id" = String, Path, description = "The account's id"), ReadQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "The account's figures and record", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        (status = 404, description = "Not found", body = Refusal),
        Reading,
    )
)]
async fn one(
    State(state): State<Shared>,
    _: AsViewer,
    Path(id): Path<String>,
    read: Read,
) -> Result<Json<report::Account>, ApiError> {
    Ok(Json(row(&state, &read, &id).await?))
}

/// `PUT /v1/accounts/{id}`: the keys given merge into the record; `null` clears one.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AccountChange)]
struct Change {
    /// The account's name.
    #[serde(default, deserialize_with = "body::present")]
    #[schema(value_type = Option<String>, max_length = 400)]
    name: Option<Option<String>>,
    /// Its annual recurring revenue, 0 or more.
    #[serde(default, deserialize_with = "body::present")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 999_999_999_999_999.0)]
    arr: Option<Option<f64>>,
    /// Its plan.
    #[serde(default, deserialize_with = "body::present")]
    #[schema(value_type = Option<String>, max_length = 400)]
    plan: Option<Option<String>>,
    /// The teammate who owns it.
    #[serde(default, deserialize_with = "body::present")]
    #[schema(value_type = Option<String>, max_length = 400)]
    owner: Option<Option<String>>,
    /// Its renewal day, `YYYY-MM-DD`.
    #[serde(default, deserialize_with = "body::present")]
    #[schema(value_type = Option<String>, format = Date)]
    renewal_on: Option<Option<String>>,
    /// Its page in the CRM: an `http://` or `https://` address.
    #[serde(default, deserialize_with = "body::present")]
    #[schema(value_type = Option<String>, pattern = r"^[Hh][Tt][Tt][Pp][Ss]?://[\s\S]+$", max_length = 400)]
    crm_url: Option<Option<String>>,
    /// Anything else the CRM knows of it.
    #[serde(default, deserialize_with = "body::present")]
    #[schema(value_type = Option<Object>)]
    traits: Option<Option<serde_json::Map<String, serde_json::Value>>>,
}

/// Text of a record: trimmed, empty as `null`, at most [`MAX_FIELD`] characters.
fn field_text(
    value: Option<Option<String>>,
    field: &str,
) -> Result<Option<Option<String>>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    // Counted as given (the API document's `maxLength`), then trimmed.
    if let Some(v) = &value {
        if v.chars().count() > MAX_FIELD {
            return Err(ApiError::bad(
                format!("{field} is longer than {MAX_FIELD} characters"),
                field,
            ));
        }
    }
    Ok(Some(
        value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()),
    ))
}

/// An amount as exact cents: 0 or more, finite, below what cents can count.
fn cents(amount: f64) -> Option<i64> {
    (amount.is_finite() && (0.0..1e15).contains(&amount)).then(|| (amount * 100.0).round() as i64)
}

/// `YYYY-MM-DD`, a real day.
fn calendar_day(text: &str) -> Option<String> {
    match crate::clock::parse_bound(text) {
        Some(crate::model::Bound::Day(date)) => Some(crate::clock::day(date)),
        _ => None,
    }
}

/// Only web addresses open from the dashboard (no `javascript:`, no `data:`).
pub(super) fn is_web_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|rest| !rest.is_empty())
}

impl Change {
    fn checked(self) -> Result<RecordChange, ApiError> {
        let arr_cents = match self.arr {
            None => None,
            Some(None) => Some(None),
            Some(Some(arr)) => Some(Some(cents(arr).ok_or_else(|| {
                ApiError::bad(
                    format!("arr must be an amount of 0 or more, got {arr}"),
                    "arr",
                )
            })?)),
        };
        // A day or a web address as given (the dashboard sends `null` for an empty field):
        // nothing trimmed, so what the API document says of them is what is taken.
        let renewal_on = match self.renewal_on {
            Some(Some(day)) => Some(Some(calendar_day(&day).ok_or_else(|| {
                ApiError::bad(
                    format!("renewal_on must be a date (YYYY-MM-DD), got {day:?}"),
                    "renewal_on",
                )
            })?)),
            other => other,
        };
        let crm_url = self.crm_url;
        if let Some(Some(url)) = &crm_url {
            if !is_web_url(url) || url.chars().count() > MAX_FIELD {
                return Err(ApiError::bad(
                    format!(
                        "crm_url must be an http:// or https:// address of at most \
                         {MAX_FIELD} characters, got {url:?}"
                    ),
                    "crm_url",
                ));
            }
        }
        Ok(RecordChange {
            name: field_text(self.name, "name")?,
            arr_cents,
            plan: field_text(self.plan, "plan")?,
            owner: field_text(self.owner, "owner")?,
            renewal_on,
            crm_url,
            traits: self.traits,
        })
    }
}

/// `PUT /v1/accounts/{id}`: its record changed.
#[utoipa::path(
    put,
    path = "/v1/accounts/{id}",
    operation_id = "changeAccount",
    tag = "accounts",
    params(("id" = String, Path, description = "The account's id"), ReadQuery),
    request_body(content = Change, content_type = "application/json"),
    security(("token" = [])),
    responses(
        (status = 413, description = "The body is larger than the limit"),
        (status = 200, description = "The account's row, with the record as it is now", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        (status = 404, description = "Not found", body = Refusal),
        Changing,
    )
)]
async fn change(
    State(state): State<Shared>,
    AsMember(member): AsMember,
    Path(id): Path<String>,
    read: Read,
    bytes: Bytes,
) -> Result<Json<report::Account>, ApiError> {
    if id.is_empty() || id.chars().count() > MAX_FIELD {
        return Err(ApiError::bad(
            "the account id must be 1 to 400 characters",
            "id",
        ));
    }
    let change: Change = body::read(&bytes)?;
    let change = change.checked()?;
    state
        .store
        .change_account_record(&id, &change, &member.name)
        .await?;
    Ok(Json(row(&state, &read, &id).await?))
}

/// `GET /v1/accounts/{id}/people`: the people behind the account, each with their latest answer.
#[utoipa::path(
    get,
    path = "/v1/accounts/{id}/people",
    operation_id = "listAccountPeople",
    tag = "accounts",
    params(("id" = String, Path, description = "The account's id"), ReadQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "Its people", body = Vec<Object>),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        Reading,
    )
)]
async fn people(
    State(state): State<Shared>,
    _: AsViewer,
    Path(id): Path<String>,
    read: Read,
) -> Result<Json<Vec<crate::model::AccountPerson>>, ApiError> {
    let f = read.filter(MAX_PAGE)?;
    let people = state
        .store
        .account_people(&id, f.survey_id.as_deref(), &state.money.role_trait)
        .await?;
    Ok(Json(people))
}

/// `POST /v1/accounts/import?map=…`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    /// Which column is which: `name=Company,arr=ARR,…` (the CRM's headers are read when absent).
    #[serde(default)]
    map: String,
}

/// `POST /v1/accounts/import`: a CRM's CSV export of accounts, upserted.
#[utoipa::path(
    post,
    path = "/v1/accounts/import",
    operation_id = "importAccounts",
    tag = "accounts",
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "The file as the CRM exported it"),
    security(("token" = [])),
    responses(
        (status = 413, description = "The body is larger than the limit"),
        (status = 200, description = "What was created, updated and refused, with each refusal's line", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        Changing,
    )
)]
async fn import_csv(
    State(state): State<Shared>,
    AsAdmin(member): AsAdmin,
    query: Result<Query<ImportQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad(e.body_text(), "map"))?;
    let csv_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    if !csv_type {
        return Err(ApiError::bad(
            "Content-Type must be text/csv (the file as the CRM exported it)",
            "Content-Type",
        ));
    }
    let outcome = import_file(&state, &bytes, &query.map, &member.name).await?;
    Ok(Json(outcome))
}

/// Reads a CRM export and upserts its good rows: the answer of the import.
pub(super) async fn import_file(
    state: &Shared,
    bytes: &[u8],
    map: &str,
    by: &str,
) -> Result<serde_json::Value, ApiError> {
    let map = import::parse_map(map).map_err(|e| ApiError::bad(e.to_string(), "map"))?;
    let read = import::read(bytes, &map).map_err(|e| ApiError::bad(e.to_string(), "body"))?;
    let records: Vec<_> = read
        .records
        .into_iter()
        .map(import::Record::into_record)
        .collect();
    let done = state.store.import_account_records(&records, by).await?;
    Ok(serde_json::json!({
        "created": done.created,
        "updated": done.updated,
        "unchanged": done.unchanged,
        "errors": read.errors,
    }))
}

#[utoipa::path(
    get,
    path = "/v1/revenue",
    operation_id = "getRevenue",
    tag = "accounts",
    params(ReadQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "The revenue by segment: kept, at risk, upsell", body = Object),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        Reading,
    )
)]
async fn revenue(
    State(state): State<Shared>,
    _: AsViewer,
    read: Read,
) -> Result<Json<report::Revenue>, ApiError> {
    let f = read.filter(1)?;
    let counts = state.store.revenue(&f).await?;
    Ok(Json(report::revenue(
        &counts,
        &state.money.currency,
        state.money.coverage_target,
    )))
}
