//! The HTTP surface: one `router()` per resource file, merged here with the layers every
//! request passes (request ids, tracing spans, client address, timeout; CORS, the origin
//! check and the body limit on the API).
//!
//! `ingest` (POST /v1/responses), `accounts` (the accounts, their records and people, the
//! import, the revenue), `responses` (the lists, follow-ups, notes), `reports`
//! (summary, trend, accounts, compare, themes, choices), `ops` (health, readiness, metrics),
//! `dashboard`, `files` (the static files and their cache rules), `team` (the tokens, the team's names), `surveys` (the surveys the dashboard manages, and the public definition the widget loads), `links` (personal links, the hosted
//! survey page, the mail merge, the digest), `people` (a person's data: export, erasure),
//! `audit` (the trail of the team's changes, and its recorder); `openapi` (the API's OpenAPI
//! document: every route below is registered through `utoipa_axum`); `auth` (the role extractors, the origin
//! check), `query` (the typed read query), `body` (typed JSON bodies), `error` (`ApiError`).
//!
//! CORS is granted on ingest (to the allowed origins) and on a survey's public definition (to
//! any origin, outside the origin check): the routes a page of another site calls.

mod accounts;
mod annotations;
mod audit;
mod auth;
mod body;
mod dashboard;
mod error;
mod files;
mod ingest;
mod links;
mod openapi;
mod ops;
mod people;
mod query;
mod referrals;
mod reports;
mod responses;
mod surveys;
mod team;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::{Extension, Router};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use utoipa_axum::router::OpenApiRouter;

pub use auth::BOOTSTRAP_NAME;
pub use error::ApiError;
pub use ops::metrics_router;

use crate::limit::Limiter;
use crate::metrics::Metrics;
use crate::proxy::TrustProxy;
use crate::settings::Settings;
use crate::store::Store;

/// Largest request body accepted: a response with a 4000-character comment fits well inside.
pub const BODY_LIMIT: usize = 16 * 1024;

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    store: Store,
    allow_origins: Vec<String>,
    /// The SHA-256 digest of `--token`, the bootstrap admin token.
    admin_digest: Option<String>,
    /// `--identity-secret`: responses naming a user or an account must be signed with it.
    identity_secret: Option<Vec<u8>>,
    /// `--require-identity`: anonymous responses are refused too.
    require_identity: bool,
    limiter: Option<Limiter>,
    /// Wrong tokens per client (`--wrong-token-limit`).
    wrong_tokens: Option<Limiter>,
    /// When each token's last use was written.
    token_seen: std::sync::Mutex<std::collections::HashMap<String, Instant>>,
    trust_proxy: Option<TrustProxy>,
    metrics: Metrics,
    reach: Reach,
    money: crate::settings::Money,
    /// The CRM of `--crm`, by name.
    crm: Option<&'static str>,
    /// Who is a teammate (`--internal-email-domain`, `--internal-trait`).
    internal: crate::settings::Internal,
    /// `--retain-days`.
    retain_days: Option<u32>,
}

/// What personal links, the hosted page and the digest need.
#[derive(Debug)]
pub struct Reach {
    /// The key links are signed with.
    pub link_key: Vec<u8>,
    /// Where people reach this collector, without a trailing `/`.
    pub public_url: String,
    /// Fills `{product}`.
    pub product: String,
    /// The chat URLs.
    pub chat: crate::notify::Chat,
    /// The digest's period (`POST /v1/digest`).
    pub every: crate::notify::Every,
}

/// The state, shared.
pub type Shared = Arc<AppState>;

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

/// The whole HTTP surface and its state.
pub fn app(store: Store, settings: &Settings, reach: Reach) -> (Router, Shared) {
    let origins: Vec<HeaderValue> = settings
        .allow_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    // The widget posts JSON (a preflighted request) and reads nothing but the status.
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .max_age(Duration::from_secs(86400));
    let state = Arc::new(AppState {
        store,
        allow_origins: settings.allow_origins.clone(),
        admin_digest: settings.token.as_deref().map(crate::team::digest),
        identity_secret: settings
            .identity_secret
            .as_ref()
            .map(|s| s.as_bytes().to_vec()),
        require_identity: settings.require_identity,
        limiter: (settings.rate_limit > 0).then(|| Limiter::new(settings.rate_limit)),
        wrong_tokens: (settings.wrong_token_limit > 0)
            .then(|| Limiter::new(settings.wrong_token_limit)),
        token_seen: Default::default(),
        trust_proxy: settings.trust_proxy.clone(),
        metrics: Metrics::default(),
        reach,
        money: settings.money.clone(),
        crm: settings.crm.as_ref().map(|c| c.kind.as_str()),
        internal: settings.internal.clone(),
        retain_days: settings.retain_days,
    });
    // Every route of the API goes through `utoipa_axum` (see `openapi`): the document is
    // what was registered. The dashboard's files are not the API, and stay out of it.
    let api = OpenApiRouter::new()
        .merge(ingest::router(cors))
        .merge(responses::router())
        .merge(reports::router())
        .merge(accounts::router())
        .merge(referrals::router())
        .merge(annotations::router())
        .merge(team::router())
        .merge(surveys::router())
        .merge(links::router())
        .merge(people::router())
        .merge(audit::router())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::check_origin,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .merge(
            accounts::import_router()
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    auth::check_origin,
                ))
                .layer(DefaultBodyLimit::max(accounts::IMPORT_LIMIT)),
        )
        .layer(middleware::from_fn_with_state(state.clone(), audit::record))
        .merge(ops::router())
        .merge(surveys::public_router());
    let (api, paths) = api.split_for_parts();
    let document = serde_json::to_vec(&openapi::document(paths)).unwrap_or_default();
    let api = api
        .merge(dashboard::router())
        .with_state(state.clone())
        .layer(Extension(openapi::Document(document.into())));
    let files = files::router(&settings.static_dirs);
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
        .layer(nosniff())
        .layer(trace)
        .layer(middleware::from_fn_with_state(state.clone(), client_ip))
        .layer(SetRequestIdLayer::x_request_id(Counter::default()));
    // Before routing (a router's own layers run once a route is matched, its path's
    // parameters read already).
    let app = Router::new().fallback_service(
        tower::ServiceBuilder::new()
            .layer(middleware::from_fn(no_nul_in_uri))
            .service(app),
    );
    (app, state)
}

/// `X-Content-Type-Options: nosniff` on every response: a browser never reads a JSON answer
/// or a CSV export as a script or a page.
pub(crate) fn nosniff() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    )
}

/// `%00` in a path or a query made `%EF%BF%BD` (U+FFFD), as [`body::without_nul`] does to
/// bodies: PostgreSQL's text cannot hold NUL, so a filter or an id with one would be an error
/// there and a plain miss on SQLite; this way it is the same miss on both.
async fn no_nul_in_uri(mut request: Request, next: Next) -> Response {
    let uri = request.uri().to_string();
    if uri.contains("%00") {
        if let Ok(clean) = uri.replace("%00", "%EF%BF%BD").parse() {
            *request.uri_mut() = clean;
        }
    }
    next.run(request).await
}

/// Finds the client's address (the peer's, or behind trusted proxies the one they name) for
/// the rate limit and the logs, and times the request for `/metrics`.
async fn client_ip(State(state): State<Shared>, mut request: Request, next: Next) -> Response {
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
