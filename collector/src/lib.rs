//! The reference collector: receives nps-widget responses, stores them durably, and serves the
//! demo page and the widget's files.

#![deny(missing_docs)]

pub mod forward;
pub mod limit;
pub mod report;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use nps_widget::response::Response;
use nps_widget::segment::Segment;
use serde::Deserialize;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;

use crate::limit::Limiter;
use crate::report::Interval;
use crate::store::{Filter, Stored};
pub use store::{Backend, Store, Upsert};

/// Largest request body accepted: a response with a 4000-character comment fits well inside.
pub const BODY_LIMIT: usize = 16 * 1024;

/// How the collector runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `sqlite://path.db`.
    pub db: String,
    /// Directories served at `/`, first match wins.
    pub static_dirs: Vec<PathBuf>,
    /// Origins allowed to POST from other sites (CORS). Empty: same origin only.
    pub allow_origins: Vec<String>,
    /// Bearer token for the read API and the dashboard; `None` leaves them open.
    pub token: Option<String>,
    /// Responses accepted per client address per minute; 0 turns the limit off.
    pub rate_limit: u32,
    /// Webhook every stored change is forwarded to (`http://…`).
    pub forward: Option<String>,
}

struct AppState {
    store: Store,
    allow_origins: Vec<String>,
    token: Option<String>,
    limiter: Option<Limiter>,
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
    let state = Arc::new(AppState {
        store,
        allow_origins: settings.allow_origins.clone(),
        token: settings.token.clone(),
        limiter: (settings.rate_limit > 0).then(|| Limiter::new(settings.rate_limit)),
    });
    let origins: Vec<HeaderValue> = settings
        .allow_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::POST, Method::GET])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .max_age(std::time::Duration::from_secs(86400));
    let api = Router::new()
        .route("/v1/responses", post(ingest).get(list))
        .route("/v1/summary", get(summary))
        .route("/v1/accounts", get(accounts))
        .route("/v1/trend.svg", get(trend))
        .route("/dashboard", get(dashboard))
        .route("/dashboard.js", get(dashboard_js))
        .route("/dashboard.css", get(dashboard_css))
        .layer(middleware::from_fn_with_state(state.clone(), check_origin))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(cors)
        .with_state(state);
    // Each directory falls back to the next, so `/` can hold the demo page and the widget.
    let mut files = Router::new();
    for dir in settings.static_dirs.iter().rev() {
        files = Router::new().fallback_service(ServeDir::new(dir).fallback(files));
    }
    api.merge(files)
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
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResponse {
    if let Some(limiter) = &state.limiter {
        if let Err(wait) = limiter.check(peer.ip(), Instant::now()) {
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
    let de = &mut serde_json::Deserializer::from_slice(&body);
    let response: Response = match serde_path_to_error::deserialize(de) {
        Ok(r) => r,
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let message = inner.to_string();
            let field = if path == "." {
                // serde names unknown and missing fields in the message, not the path.
                message
                    .split('`')
                    .nth(1)
                    .map(str::to_owned)
                    .unwrap_or_else(|| "body".into())
            } else {
                path
            };
            return error(StatusCode::BAD_REQUEST, &message, Some(&field));
        }
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
            eprintln!("nps-collector: storing {id}: {e}");
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
#[derive(Deserialize)]
struct ReadQuery {
    survey_id: Option<String>,
    segment: Option<String>,
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
    interval: Option<String>,
    limit: Option<i64>,
}

fn unauthorized() -> HttpResponse {
    error(
        StatusCode::UNAUTHORIZED,
        "a bearer token is required",
        Some("Authorization"),
    )
}

/// Checks the query and turns it into a store filter; a problem comes back as a 400 that
/// names the parameter.
fn filter(q: &ReadQuery, default_limit: i64) -> Result<Filter, Box<HttpResponse>> {
    let bad =
        |message: &str, field: &str| Box::new(error(StatusCode::BAD_REQUEST, message, Some(field)));
    if let Some(s) = &q.segment {
        if Segment::parse(s).is_none() {
            return Err(bad(
                "segment must be promoter, passive, detractor or silent",
                "segment",
            ));
        }
    }
    for (name, value) in [("from", &q.from), ("to", &q.to)] {
        if let Some(v) = value {
            if report::period_of(v, Interval::Month).is_none() {
                return Err(bad("must be a date (YYYY-MM-DD) or an RFC 3339 time", name));
            }
        }
    }
    Ok(Filter {
        survey_id: q.survey_id.clone().filter(|s| !s.is_empty()),
        segment: q.segment.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
        limit: q.limit.unwrap_or(default_limit).clamp(1, 1_000_000),
    })
}

async fn list(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<ReadQuery>,
) -> HttpResponse {
    if !authorized(&state, &headers) {
        return unauthorized();
    }
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "format must be json or csv",
                Some("format"),
            )
        }
    };
    let f = match filter(&q, if csv { 1_000_000 } else { 1000 }) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    match state.store.rows(&f).await {
        Ok(rows) if csv => {
            let name = format!(
                "attachment; filename=\"nps-{}.csv\"",
                q.segment.as_deref().unwrap_or("responses")
            );
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, name),
                ],
                report::csv(&rows),
            )
                .into_response()
        }
        Ok(rows) => {
            let mut out = String::from("[");
            for (i, r) in rows.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&r.body);
            }
            out.push(']');
            ([(header::CONTENT_TYPE, "application/json")], out).into_response()
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), None),
    }
}

/// What every report starts with: the token, the query's filter, the rows. A problem comes
/// back as the response to send.
async fn read(
    state: &AppState,
    headers: &HeaderMap,
    q: &ReadQuery,
) -> Result<Vec<Stored>, Box<HttpResponse>> {
    if !authorized(state, headers) {
        return Err(Box::new(unauthorized()));
    }
    let f = filter(q, 1_000_000)?;
    state.store.rows(&f).await.map_err(|e| {
        Box::new(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &e.to_string(),
            None,
        ))
    })
}

fn interval(q: &ReadQuery) -> Result<Interval, Box<HttpResponse>> {
    Interval::parse(q.interval.as_deref().unwrap_or("week")).ok_or_else(|| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "interval must be week or month",
            Some("interval"),
        ))
    })
}

async fn summary(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<ReadQuery>,
) -> HttpResponse {
    let report = async {
        if !authorized(&state, &headers) {
            return Err(Box::new(unauthorized()));
        }
        let interval = interval(&q)?;
        let rows = read(&state, &headers, &q).await?;
        Ok::<_, Box<HttpResponse>>(Json(report::summarize(&rows, interval)).into_response())
    };
    report.await.unwrap_or_else(|r| *r)
}

async fn accounts(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<ReadQuery>,
) -> HttpResponse {
    match read(&state, &headers, &q).await {
        Ok(rows) => Json(report::accounts(&rows)).into_response(),
        Err(r) => *r,
    }
}

async fn trend(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<ReadQuery>,
) -> HttpResponse {
    let chart = async {
        if !authorized(&state, &headers) {
            return Err(Box::new(unauthorized()));
        }
        let interval = interval(&q)?;
        let rows = read(&state, &headers, &q).await?;
        let svg = report::trend_svg(&report::summarize(&rows, interval));
        Ok::<_, Box<HttpResponse>>(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
    };
    chart.await.unwrap_or_else(|r| *r)
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

/// Serves `app` on `listener` (with client addresses, for the rate limit) until `shutdown`;
/// with `settings.forward`, also drains the webhook queue (open the store with
/// [`Store::open_with`] so that it fills it).
pub async fn run(
    listener: tokio::net::TcpListener,
    store: Store,
    settings: &Settings,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    if let Some(url) = &settings.forward {
        let target = forward::Target::parse(url)?;
        tokio::spawn(forward::run(store.clone(), target));
    }
    let app = app(store, settings);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(|e| e.to_string())
}

/// Opens the store, binds, prints the address, and serves until Ctrl-C or SIGTERM.
pub async fn serve(settings: Settings) -> Result<(), String> {
    let store = Store::open_with(&settings.db, settings.forward.is_some()).await?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", settings.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!(
        "nps-collector listening on http://{addr}/ (database {})",
        settings.db
    );
    run(listener, store, &settings, shutdown()).await
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
