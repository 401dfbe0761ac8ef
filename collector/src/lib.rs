//! The reference collector: receives nps-widget responses, stores them durably, and serves the
//! demo page and the widget's files.

#![deny(missing_docs)]

pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::post;
use axum::{Json, Router};
use nps_widget::response::Response;
use nps_widget::segment::Segment;
use serde::Deserialize;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;

pub use store::{Store, Upsert};

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
    /// Bearer token for the read API; `None` leaves it open (the local demo).
    pub token: Option<String>,
}

struct AppState {
    store: Store,
    allow_origins: Vec<String>,
    token: Option<String>,
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

async fn ingest(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> HttpResponse {
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
    let text = String::from_utf8_lossy(&body);
    match state.store.upsert(&response, &text).await {
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
            (status, Json(json!({ "id": response.id, "result": stored }))).into_response()
        }
        Err(e) => {
            eprintln!("nps-collector: storing {}: {e}", response.id);
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

#[derive(Deserialize)]
struct ListQuery {
    segment: Option<String>,
    limit: Option<i64>,
}

async fn list(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> HttpResponse {
    if !authorized(&state, &headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "a bearer token is required",
            Some("Authorization"),
        );
    }
    if let Some(s) = &q.segment {
        if Segment::parse(s).is_none() {
            return error(
                StatusCode::BAD_REQUEST,
                "segment must be promoter, passive, detractor or silent",
                Some("segment"),
            );
        }
    }
    let limit = q.limit.unwrap_or(1000).clamp(1, 100_000);
    match state.store.list(q.segment.as_deref(), limit).await {
        Ok(bodies) => {
            let mut out = String::from("[");
            for (i, b) in bodies.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(b);
            }
            out.push(']');
            ([(header::CONTENT_TYPE, "application/json")], out).into_response()
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), None),
    }
}

/// Opens the store, binds, prints the address, and serves until Ctrl-C or SIGTERM.
pub async fn serve(settings: Settings) -> Result<(), String> {
    let store = Store::open(&settings.db).await?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", settings.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!(
        "nps-collector listening on http://{addr}/ (database {})",
        settings.db
    );
    let app = app(store, &settings);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(|e| e.to_string())
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
