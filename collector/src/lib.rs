//! The reference collector: receives nps-widget responses, stores them durably, reports
//! what a team acts on (every report an SQL aggregate), forwards each change to a webhook, and
//! serves the demo page and the widget's files.

#![deny(missing_docs)]

pub mod forward;
pub mod limit;
pub mod metrics;
pub mod proxy;
pub mod report;
pub mod server;
pub mod stats;
pub mod store;
pub mod themes;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::Path as UrlPath;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, patch, post};
use axum::{Extension, Json, Router};
use nps_widget::response::Response;
use nps_widget::segment::Segment;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};

use crate::limit::Limiter;
use crate::metrics::Metrics;
use crate::proxy::TrustProxy;
use crate::report::Interval;
use crate::store::Filter;
pub use store::{Backend, Store, Upsert};

/// Largest request body accepted: a response with a 4000-character comment fits well inside.
pub const BODY_LIMIT: usize = 16 * 1024;

/// How the collector runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `sqlite://path.db` or `postgres://…`.
    pub db: String,
    /// Directories served at `/`, first match wins.
    pub static_dirs: Vec<PathBuf>,
    /// Origins allowed to POST from other sites (CORS). Empty: same origin only.
    pub allow_origins: Vec<String>,
    /// Bearer token for the read API, the dashboard and `/metrics`; `None` leaves them open,
    /// which [`Settings::check_exposure`] allows on loopback only.
    pub token: Option<String>,
    /// Responses accepted per client address per minute; 0 turns the limit off.
    pub rate_limit: u32,
    /// Webhook every stored change is forwarded to (`http(s)://…`).
    pub forward: Option<String>,
    /// Extra CA certificates (PEM) trusted for the webhook.
    pub forward_ca: Option<PathBuf>,
    /// `whsec_…`: signs every webhook delivery.
    pub forward_secret: Option<String>,
    /// Proxies trusted to name the client (`X-Forwarded-For`, `Forwarded`).
    pub trust_proxy: Option<TrustProxy>,
    /// Longest wait for a request's header (also bounds idle kept-alive connections).
    pub header_timeout: Duration,
    /// Longest time from a request's header to its response, body upload included.
    pub request_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
    /// A second address serving only `/metrics`, without the token (for a scraper on a
    /// private network).
    pub metrics_listen: Option<SocketAddr>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            db: "sqlite://nps.db".into(),
            static_dirs: Vec::new(),
            allow_origins: Vec::new(),
            token: None,
            rate_limit: 600,
            forward: None,
            forward_ca: None,
            forward_secret: None,
            trust_proxy: None,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 4096,
            metrics_listen: None,
        }
    }
}

impl Settings {
    /// Refuses to serve respondents' emails and comments to the network: listening on an
    /// address other than loopback needs a token.
    pub fn check_exposure(&self) -> Result<(), String> {
        if self.token.is_none() && !self.listen.ip().is_loopback() {
            return Err(format!(
                "--listen {}: the read API would be open to the network without a token. Set \
                 one with --token (or NPS_TOKEN), for example --token $(openssl rand -hex 16), \
                 or listen on 127.0.0.1",
                self.listen
            ));
        }
        Ok(())
    }
}

struct AppState {
    store: Store,
    allow_origins: Vec<String>,
    token: Option<String>,
    limiter: Option<Limiter>,
    trust_proxy: Option<TrustProxy>,
    metrics: Metrics,
}

/// The address a request came from, behind trusted proxies the client's.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

/// Request ids: a per-process counter, so log lines of one request can be found together.
#[derive(Debug, Clone, Default)]
struct Counter(Arc<AtomicU64>);

impl MakeRequestId for Counter {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        HeaderValue::from_str(&format!("{n:x}"))
            .ok()
            .map(RequestId::new)
    }
}

type Shared = Arc<AppState>;

fn error(status: StatusCode, message: &str, field: Option<&str>) -> HttpResponse {
    let body = match field {
        Some(f) => json!({ "error": message, "field": f }),
        None => json!({ "error": message }),
    };
    (status, Json(body)).into_response()
}

/// The whole HTTP surface.
pub fn app(store: Store, settings: &Settings) -> Router {
    app_and_state(store, settings).0
}

fn app_and_state(store: Store, settings: &Settings) -> (Router, Shared) {
    let state = Arc::new(AppState {
        store,
        allow_origins: settings.allow_origins.clone(),
        token: settings.token.clone(),
        limiter: (settings.rate_limit > 0).then(|| Limiter::new(settings.rate_limit)),
        trust_proxy: settings.trust_proxy.clone(),
        metrics: Metrics::default(),
    });
    let origins: Vec<HeaderValue> = settings
        .allow_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::POST, Method::GET, Method::PATCH])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .expose_headers([header::LINK])
        .max_age(Duration::from_secs(86400));
    let api = Router::new()
        .route("/v1/responses", post(ingest).get(list))
        .route("/v1/summary", get(summary))
        .route("/v1/accounts", get(accounts))
        .route("/v1/trend.svg", get(trend))
        .route("/v1/compare", get(compare))
        .route("/v1/themes", get(themes))
        .route("/v1/responses/{id}/follow-up", patch(set_follow_up))
        .route("/v1/responses/{id}/notes", post(add_note))
        .route("/dashboard", get(dashboard))
        .route("/dashboard.js", get(dashboard_js))
        .route("/dashboard.css", get(dashboard_css))
        .layer(middleware::from_fn_with_state(state.clone(), check_origin))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(cors)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_with_token))
        .with_state(state.clone());
    // Each directory falls back to the next, so `/` can hold the demo page and the widget.
    let mut files = Router::new();
    for dir in settings.static_dirs.iter().rev() {
        files = Router::new().fallback_service(ServeDir::new(dir).fallback(files));
    }
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request| {
            let id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            let client = request
                .extensions()
                .get::<ClientIp>()
                .map(|c| c.0.to_string())
                .unwrap_or_default();
            tracing::info_span!(
                "request",
                id,
                method = %request.method(),
                path = request.uri().path(),
                client
            )
        })
        .on_response(DefaultOnResponse::new().level(tracing::Level::DEBUG))
        .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN));
    let app = api
        .merge(files)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            settings.request_timeout,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(trace)
        .layer(middleware::from_fn_with_state(state.clone(), client_ip))
        .layer(SetRequestIdLayer::x_request_id(Counter::default()));
    (app, state)
}

/// Finds the client's address (the peer's, or behind trusted proxies the one they name) for
/// the rate limit and the logs, and times the request for `/metrics`.
async fn client_ip(State(state): State<Shared>, mut request: Request, next: Next) -> HttpResponse {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let client = match &state.trust_proxy {
        Some(trust) => trust.client(peer, request.headers()),
        None => peer,
    };
    request.extensions_mut().insert(ClientIp(client));
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.observe(started.elapsed().as_secs_f64());
    response
}

/// Refuses cross-origin writes from origins not on the allow-list (CORS only stops the
/// browser from reading the answer; this stops the write itself).
async fn check_origin(State(state): State<Shared>, request: Request, next: Next) -> HttpResponse {
    if let Some(origin) = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
    {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let same = origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host);
        if !same
            && !state.allow_origins.iter().any(|o| o == origin)
            && request.method() != Method::OPTIONS
        {
            return error(StatusCode::FORBIDDEN, "origin not allowed", Some("Origin"));
        }
    }
    next.run(request).await
}

async fn ingest(
    State(state): State<Shared>,
    Extension(ClientIp(client)): Extension<ClientIp>,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResponse {
    let response = store_response(&state, client, &headers, body).await;
    state.metrics.ingested(response.status().as_u16());
    response
}

async fn store_response(
    state: &AppState,
    client: IpAddr,
    headers: &HeaderMap,
    body: Bytes,
) -> HttpResponse {
    if let Some(limiter) = &state.limiter {
        if let Err(wait) = limiter.check(client, Instant::now()) {
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests from this address, retry later",
                None,
            );
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return r;
        }
    }
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_type {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
            Some("Content-Type"),
        );
    }
    let response: Response = match json_body(&body) {
        Ok(r) => r,
        Err(problem) => return *problem,
    };
    if let Err(e) = response.validate() {
        return error(StatusCode::BAD_REQUEST, e.problem, Some(e.field));
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    let id = response.id.clone();
    match state.store.upsert(response, text).await {
        Ok(result) => {
            let status = if result == Upsert::Inserted {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let stored = match result {
                Upsert::Inserted => "inserted",
                Upsert::Updated => "updated",
                Upsert::Stale => "kept newer state",
            };
            (status, Json(json!({ "id": id, "result": stored }))).into_response()
        }
        Err(e) => {
            tracing::error!(%id, error = %e, "storing a response");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "could not store the response, retry",
                None,
            )
        }
    }
}

fn authorized(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = &state.token else {
        return true;
    };
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| given.as_bytes() == token.as_bytes())
}

/// The query every read endpoint understands.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct ReadQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    survey_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    segment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<i64>,
    /// `/v1/responses`: the keyset cursor of the next page, as its `Link` header gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<String>,
    /// `/v1/accounts`: accounts to skip (its `Link` header gives the next page's).
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<i64>,
    /// `/v1/responses`: the follow-up state (or `open`).
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    /// `/v1/responses`: one account's responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
    /// `/v1/compare`: the two periods.
    #[serde(skip_serializing_if = "Option::is_none")]
    a_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    a_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    b_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    b_to: Option<String>,
}

/// Most list entries one page holds.
const MAX_PAGE: i64 = 1000;
/// Rows the CSV export reads from the database at a time.
const CSV_PAGE: i64 = 1000;

fn unauthorized() -> HttpResponse {
    error(
        StatusCode::UNAUTHORIZED,
        "a bearer token is required",
        Some("Authorization"),
    )
}

fn bad(message: &str, field: &str) -> Box<HttpResponse> {
    Box::new(error(StatusCode::BAD_REQUEST, message, Some(field)))
}

fn database_error(e: sqlx::Error) -> Box<HttpResponse> {
    tracing::error!(error = %e, "reading the database");
    Box::new(error(
        StatusCode::SERVICE_UNAVAILABLE,
        "the database did not answer, retry",
        None,
    ))
}

/// Checks the token and the query and turns it into a store filter; a problem comes back as
/// the response to send (401, or a 400 that names the parameter).
fn filter(
    state: &AppState,
    headers: &HeaderMap,
    q: &ReadQuery,
    default_limit: i64,
) -> Result<Filter, Box<HttpResponse>> {
    if !authorized(state, headers) {
        return Err(Box::new(unauthorized()));
    }
    if let Some(s) = &q.segment {
        if Segment::parse(s).is_none() {
            return Err(bad(
                "segment must be promoter, passive, detractor or silent",
                "segment",
            ));
        }
    }
    if let Some(status) = &q.status {
        if status != "open" && !store::STATUSES.contains(&status.as_str()) {
            return Err(bad(
                "status must be new, contacted, resolved, referral_asked, referred or open",
                "status",
            ));
        }
    }
    for (name, value) in [
        ("from", &q.from),
        ("to", &q.to),
        ("a_from", &q.a_from),
        ("a_to", &q.a_to),
        ("b_from", &q.b_from),
        ("b_to", &q.b_to),
    ] {
        if let Some(v) = value {
            if report::period_of(v, Interval::Month).is_none() {
                return Err(bad("must be a date (YYYY-MM-DD) or an RFC 3339 time", name));
            }
        }
    }
    let limit = q.limit.unwrap_or(default_limit);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(bad("limit must be from 1 to 1000", "limit"));
    }
    let after = match &q.cursor {
        None => None,
        Some(c) => match c.split_once('|') {
            Some((shown_at, id)) if !shown_at.is_empty() && !id.is_empty() => {
                Some((shown_at.to_owned(), id.to_owned()))
            }
            _ => {
                return Err(bad(
                    "cursor must be the one a Link header of this list gave",
                    "cursor",
                ))
            }
        },
    };
    Ok(Filter {
        survey_id: q.survey_id.clone().filter(|s| !s.is_empty()),
        segment: q.segment.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
        limit,
        after,
        status: q.status.clone(),
        account_id: q.account_id.clone().filter(|s| !s.is_empty()),
    })
}

/// A `Link: <…>; rel="next"` header for the same query with `next` applied.
/// `format=json` (the default) or `format=csv`: whether the answer is CSV.
fn wants_csv(q: &ReadQuery) -> Result<bool, Box<HttpResponse>> {
    match q.format.as_deref() {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(_) => Err(bad("format must be json or csv", "format")),
    }
}

/// A CSV download named `name`.
fn csv_download(name: &str, body: Body) -> HttpResponse {
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

fn next_link(path: &str, q: &ReadQuery, next: impl FnOnce(&mut ReadQuery)) -> Option<HeaderValue> {
    let mut q = q.clone();
    next(&mut q);
    let query = serde_urlencoded::to_string(&q).ok()?;
    HeaderValue::from_str(&format!("<{path}?{query}>; rel=\"next\"")).ok()
}

async fn list(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<ReadQuery>,
) -> HttpResponse {
    let page = async {
        let csv = wants_csv(&q)?;
        let mut f = filter(&state, &headers, &q, if csv { CSV_PAGE } else { 100 })?;
        if csv {
            return Ok(csv_export(state.clone(), f, q.segment.as_deref()));
        }
        // One more than asked for tells whether there is a next page.
        f.limit += 1;
        let mut rows = state.store.rows(&f).await.map_err(database_error)?;
        let more = rows.len() as i64 >= f.limit;
        rows.truncate((f.limit - 1) as usize);
        state
            .store
            .with_notes(&mut rows)
            .await
            .map_err(database_error)?;
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
            if let Some(link) = next_link("/v1/responses", &q, |q| q.cursor = Some(cursor)) {
                response.headers_mut().insert(header::LINK, link);
            }
        }
        Ok(response)
    };
    page.await.unwrap_or_else(|r: Box<HttpResponse>| *r)
}

/// The whole list as CSV, streamed: the database is read a page at a time by keyset, so
/// memory stays the same whatever the list's length.
fn csv_export(state: Shared, filter: Filter, segment: Option<&str>) -> HttpResponse {
    let name = format!("nps-{}.csv", segment.unwrap_or("responses"));
    let pages = futures_util::stream::unfold(
        (state, Some(filter), true),
        |(state, filter, first)| async move {
            let mut f = filter?;
            let mut out = String::new();
            if first {
                out.push_str(report::CSV_HEADER);
            }
            match state.store.rows(&f).await {
                Ok(rows) => {
                    for r in &rows {
                        report::push_csv_row(&mut out, r);
                    }
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

fn interval(q: &ReadQuery) -> Result<Interval, Box<HttpResponse>> {
    Interval::parse(q.interval.as_deref().unwrap_or("week"))
        .ok_or_else(|| bad("interval must be week or month", "interval"))
}

/// The summary of the query's range, counted by the database.
async fn summary_of(
    state: &AppState,
    headers: &HeaderMap,
    q: &ReadQuery,
) -> Result<report::Summary, Box<HttpResponse>> {
    let f = filter(state, headers, q, 1)?;
    let interval = interval(q)?;
    let periods = state
        .store
        .period_counts(&f, interval)
        .await
        .map_err(database_error)?;
    Ok(report::summarize(periods, interval))
}

async fn summary(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<ReadQuery>,
) -> HttpResponse {
    match summary_of(&state, &headers, &q).await {
        Ok(s) => Json(s).into_response(),
        Err(r) => *r,
    }
}

async fn trend(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<ReadQuery>,
) -> HttpResponse {
    match summary_of(&state, &headers, &q).await {
        Ok(s) => (
            [(header::CONTENT_TYPE, "image/svg+xml")],
            report::trend_svg(&s),
        )
            .into_response(),
        Err(r) => *r,
    }
}

async fn accounts(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<ReadQuery>,
) -> HttpResponse {
    let page = async {
        let csv = wants_csv(&q)?;
        let mut f = filter(&state, &headers, &q, if csv { MAX_PAGE } else { 100 })?;
        // Here the segment is the account's, not the response's.
        let segment = f.segment.take().and_then(|s| Segment::parse(&s));
        let offset = q.offset.unwrap_or(0);
        if offset < 0 {
            return Err(bad("offset must be 0 or more", "offset"));
        }
        let accounts = state
            .store
            .account_counts(&f, offset, segment)
            .await
            .map_err(database_error)?;
        let full = accounts.len() as i64 == f.limit;
        let list: Vec<report::Account> = accounts.into_iter().map(Into::into).collect();
        let mut response = if csv {
            let mut out = report::ACCOUNTS_CSV_HEADER.to_owned();
            for a in &list {
                report::push_account_csv_row(&mut out, a);
            }
            let name = format!("nps-accounts-{}.csv", q.segment.as_deref().unwrap_or("all"));
            csv_download(&name, Body::from(out))
        } else {
            Json(list).into_response()
        };
        if full {
            let next = offset + f.limit;
            if let Some(link) = next_link("/v1/accounts", &q, |q| q.offset = Some(next)) {
                response.headers_mut().insert(header::LINK, link);
            }
        }
        Ok(response)
    };
    page.await.unwrap_or_else(|r: Box<HttpResponse>| *r)
}

/// `GET /v1/compare`: is period b's score really different from period a's?
async fn compare(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<ReadQuery>,
) -> HttpResponse {
    let answer = async {
        let base = filter(&state, &headers, &q, 1)?;
        let (Some(a_from), Some(a_to), Some(b_from), Some(b_to)) =
            (&q.a_from, &q.a_to, &q.b_from, &q.b_to)
        else {
            let missing = [
                ("a_from", &q.a_from),
                ("a_to", &q.a_to),
                ("b_from", &q.b_from),
            ]
            .iter()
            .find(|(_, v)| v.is_none())
            .map_or("b_to", |(name, _)| *name);
            return Err(bad("compare needs a_from, a_to, b_from and b_to", missing));
        };
        let period = |from: &String, to: &String| Filter {
            from: Some(from.clone()),
            to: Some(to.clone()),
            ..base.clone()
        };
        let a = state
            .store
            .tally(&period(a_from, a_to))
            .await
            .map_err(database_error)?;
        let b = state
            .store
            .tally(&period(b_from, b_to))
            .await
            .map_err(database_error)?;
        Ok(Json(stats::compare(&a, &b)).into_response())
    };
    answer.await.unwrap_or_else(|r: Box<HttpResponse>| *r)
}

/// Comments read for the themes, newest first: enough for the common themes to stand out,
/// bounded so the report's memory does not grow with the table.
const THEME_COMMENTS: i64 = 5000;

/// `GET /v1/themes?segment=…`: the recurring phrases of that segment's comments.
async fn themes(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<ReadQuery>,
) -> HttpResponse {
    let answer = async {
        let f = filter(&state, &headers, &q, 1)?;
        let comments = state
            .store
            .comments(&f, THEME_COMMENTS)
            .await
            .map_err(database_error)?;
        Ok(Json(themes::themes(&comments, 20)).into_response())
    };
    answer.await.unwrap_or_else(|r: Box<HttpResponse>| *r)
}

/// `PATCH /v1/responses/{id}/follow-up` with `{"status": …, "owner": …}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FollowUpChange {
    status: Option<String>,
    /// `null` clears the owner; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    owner: Option<Option<String>>,
}

/// Tells an absent key (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// `POST /v1/responses/{id}/notes` with `{"text": …, "author": …}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewNote {
    text: String,
    author: Option<String>,
}

/// Reads a JSON body, or the 400 that names the field at fault.
fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Box<HttpResponse>> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        // serde names unknown and missing fields in the message, not the path.
        let field = if path == "." {
            message
                .split('`')
                .nth(1)
                .map(str::to_owned)
                .unwrap_or_else(|| "body".into())
        } else {
            path
        };
        bad(&message, &field)
    })
}

/// The token and the response: 401, or 404 for an unknown id; its segment otherwise.
async fn known_response(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<String, Box<HttpResponse>> {
    if !authorized(state, headers) {
        return Err(Box::new(unauthorized()));
    }
    state
        .store
        .segment_of(id)
        .await
        .map_err(database_error)?
        .ok_or_else(|| {
            Box::new(error(
                StatusCode::NOT_FOUND,
                "no response with this id",
                Some("id"),
            ))
        })
}

/// Longest owner, author or note text accepted.
const MAX_TEXT: usize = 4000;

async fn set_follow_up(
    State(state): State<Shared>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResponse {
    let answer = async {
        let segment = known_response(&state, &headers, &id).await?;
        let change: FollowUpChange = json_body(&body)?;
        if change.status.is_none() && change.owner.is_none() {
            return Err(bad("give status, owner or both", "status"));
        }
        if let Some(status) = &change.status {
            if !store::STATUSES.contains(&status.as_str()) {
                return Err(bad(
                    "status must be new, contacted, resolved, referral_asked or referred",
                    "status",
                ));
            }
            if store::REFERRAL_STATUSES.contains(&status.as_str())
                && !matches!(segment.as_str(), "promoter" | "passive")
            {
                return Err(bad(
                    "referral_asked and referred are for promoters and passives only",
                    "status",
                ));
            }
        }
        if let Some(Some(owner)) = &change.owner {
            if owner.chars().count() > MAX_TEXT {
                return Err(bad("owner is longer than 4000 characters", "owner"));
            }
        }
        let owner = change
            .owner
            .as_ref()
            .map(|o| o.as_deref().filter(|o| !o.is_empty()));
        let follow_up = state
            .store
            .set_follow_up(&id, change.status.as_deref(), owner)
            .await
            .map_err(database_error)?;
        Ok(Json(follow_up).into_response())
    };
    answer.await.unwrap_or_else(|r: Box<HttpResponse>| *r)
}

async fn add_note(
    State(state): State<Shared>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResponse {
    let answer = async {
        known_response(&state, &headers, &id).await?;
        let note: NewNote = json_body(&body)?;
        if note.text.trim().is_empty() {
            return Err(bad("text must not be empty", "text"));
        }
        if note.text.chars().count() > MAX_TEXT {
            return Err(bad("text is longer than 4000 characters", "text"));
        }
        if note
            .author
            .as_ref()
            .is_some_and(|a| a.chars().count() > MAX_TEXT)
        {
            return Err(bad("author is longer than 4000 characters", "author"));
        }
        let note = state
            .store
            .add_note(&id, note.text.trim(), note.author.as_deref())
            .await
            .map_err(database_error)?;
        Ok((StatusCode::CREATED, Json(note)).into_response())
    };
    answer.await.unwrap_or_else(|r: Box<HttpResponse>| *r)
}

/// Alive: the process answers.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready: the database answers too.
async fn readyz(State(state): State<Shared>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => "ready\n".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: the database did not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response()
        }
    }
}

async fn metrics_text(state: &AppState) -> HttpResponse {
    let depth = state.store.queued_forwards().await.unwrap_or(-1);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(depth),
    )
        .into_response()
}

/// `/metrics` on `--metrics-listen`, an address only the scraper reaches.
async fn metrics_open(State(state): State<Shared>) -> HttpResponse {
    metrics_text(&state).await
}

async fn metrics_with_token(State(state): State<Shared>, headers: HeaderMap) -> HttpResponse {
    if !authorized(&state, &headers) {
        return unauthorized();
    }
    metrics_text(&state).await
}

/// The dashboard page; it asks for the token itself and calls the read API with it.
async fn dashboard() -> HttpResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'",
            ),
        ],
        include_str!("dashboard/index.html"),
    )
        .into_response()
}

async fn dashboard_css() -> HttpResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("dashboard/dashboard.css"),
    )
        .into_response()
}

async fn dashboard_js() -> HttpResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("dashboard/dashboard.js"),
    )
        .into_response()
}

/// Serves the collector on `listener` until `shutdown`, then finishes the requests it
/// accepted (each is answered only once committed) and stops forwarding; with
/// `settings.forward`, drains the webhook queue meanwhile (open the store with
/// [`Store::open_with`] so that it fills it).
pub async fn run(
    listener: tokio::net::TcpListener,
    store: Store,
    settings: &Settings,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let forwarder = match &settings.forward {
        Some(url) => {
            let target = forward::Target::new(
                url,
                settings.forward_ca.as_deref(),
                settings.forward_secret.as_deref(),
            )?;
            Some(tokio::spawn(forward::run(store.clone(), target, stopped)))
        }
        None => None,
    };
    let (app, state) = app_and_state(store, settings);
    if let Some(addr) = settings.metrics_listen {
        let metrics_listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("--metrics-listen {addr}: {e}"))?;
        let metrics_app = Router::new()
            .route("/metrics", get(metrics_open))
            .with_state(state);
        let limits = server::Limits {
            header_timeout: settings.header_timeout,
            max_connections: 64,
            drain_timeout: Duration::from_secs(1),
        };
        let mut on_stop = stop.subscribe();
        tokio::spawn(server::serve(
            metrics_listener,
            metrics_app,
            limits,
            async move {
                let _ = on_stop.changed().await;
            },
        ));
    }
    let limits = server::Limits {
        header_timeout: settings.header_timeout,
        max_connections: settings.max_connections,
        drain_timeout: settings.request_timeout + Duration::from_secs(5),
    };
    server::serve(listener, app, limits, shutdown).await;
    let _ = stop.send(true);
    if let Some(forwarder) = forwarder {
        let _ = tokio::time::timeout(Duration::from_secs(15), forwarder).await;
    }
    Ok(())
}

/// Opens the store, binds, prints the address, and serves until Ctrl-C or SIGTERM.
pub async fn serve(settings: Settings) -> Result<(), String> {
    settings.check_exposure()?;
    let store = Store::open_with(&settings.db, settings.forward.is_some()).await?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", settings.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!(
        "nps-collector listening on http://{addr}/ (database {})",
        settings.db
    );
    run(listener, store, &settings, shutdown()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
