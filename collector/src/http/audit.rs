//! The audit trail: every change made with a token is one row (when, the token's name, the
//! action, the object), written by [`record`] around each API request; and `GET /v1/audit`
//! (admin), newest first a keyset page at a time, as JSON or CSV.
//!
//! [`record`] hands the request an [`Actor`] slot, which the role extractors fill with the
//! teammate's name; after a successful `POST`, `PUT`, `PATCH` or `DELETE` with a token, the
//! row is `"PATCH /v1/responses/{id}/follow-up"` on the request's path. A handler that knows
//! better (an erasure names the person by digest, with its counts; a person's export is a
//! read worth a row) puts an [`Audited`] on its answer. Answers to ingest and to personal links
//! carry no token and leave no row: they are the respondents', not the team's.

use std::sync::{Arc, Mutex};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::AsAdmin;
use super::error::ApiError;
use super::openapi::{Changing, Refusal};
use super::query::next_link;
use super::responses::csv_download;
use super::Shared;
use crate::model::Format;

/// Rows of a page unless `limit` says (at most 1000).
const PAGE: i64 = 100;

/// The teammate a request acts as, once its token is checked.
#[derive(Debug, Clone, Default)]
pub(super) struct Actor(Arc<Mutex<Option<String>>>);

impl Actor {
    /// Notes who acts.
    pub(super) fn set(&self, name: &str) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(name.to_owned());
    }

    fn name(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A handler's own row for its answer.
#[derive(Debug, Clone)]
pub(super) struct Audited {
    /// `person.erase`, `person.export`.
    pub(super) action: String,
    /// What it was done to.
    pub(super) object: String,
    /// What the answer said of it.
    pub(super) detail: Option<String>,
}

/// Writes the row of each change made with a token.
pub(super) async fn record(
    State(state): State<Shared>,
    mut request: Request,
    next: Next,
) -> Response {
    let actor = Actor::default();
    request.extensions_mut().insert(actor.clone());
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || request.uri().path().to_owned(),
        |m| m.as_str().to_owned(),
    );
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let noted = response.extensions_mut().remove::<Audited>();
    let changes = [Method::POST, Method::PUT, Method::PATCH, Method::DELETE].contains(&method);
    if !response.status().is_success() || !(changes || noted.is_some()) {
        return response;
    }
    let Some(name) = actor.name() else {
        return response;
    };
    let entry = noted.unwrap_or_else(|| Audited {
        action: format!("{method} {route}"),
        object: path,
        detail: None,
    });
    if let Err(e) = state
        .store
        .audit(&name, &entry.action, &entry.object, entry.detail.as_deref())
        .await
    {
        tracing::error!(error = %e, action = entry.action, "writing the audit trail");
    }
    response
}

/// The audit route.
pub(super) fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(trail))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct TrailQuery {
    /// The changes before this one (a `seq`), as the `Link` header gives it.
    #[serde(default)]
    #[param(minimum = -9_223_372_036_854_775_808_i64, maximum = 9_223_372_036_854_775_807_i64)]
    before: Option<i64>,
    #[serde(default, deserialize_with = "super::query::limit")]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    #[serde(default, deserialize_with = "crate::model::choice")]
    #[param(schema_with = super::openapi::format)]
    format: Option<Format>,
}

/// `GET /v1/audit`: the changes before `before` (a `seq`), newest first; a full page has a
/// `Link` to the next.
#[utoipa::path(
    get,
    path = "/v1/audit",
    operation_id = "listAudit",
    tag = "privacy",
    params(TrailQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "The changes, newest first: when, who, what, to what", content((Vec<Object> = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A parameter or field is wrong; `field` names it", body = Refusal),
        Changing,
    )
)]
async fn trail(State(state): State<Shared>, _: AsAdmin, uri: Uri) -> Result<Response, ApiError> {
    let raw = uri.query().unwrap_or_default();
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
    let q: TrailQuery = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        ApiError::bad(e.into_inner().to_string(), field)
    })?;
    let limit = q.limit.unwrap_or(PAGE);
    let rows = state.store.audit_trail(q.before, limit).await?;
    let next = match rows.last() {
        Some(last) if rows.len() as i64 == limit => {
            next_link(raw, "/v1/audit", "before", &last.seq.to_string())
        }
        _ => None,
    };
    let mut response = match q.format.unwrap_or_default() {
        Format::Csv => csv_download(
            "nps-audit.csv",
            axum::body::Body::from(crate::export::audit(&rows)),
        ),
        Format::Json => Json(rows).into_response(),
    };
    if let Some(link) = next {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}
