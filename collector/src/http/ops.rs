//! What operators and their tools ask: `/healthz` (the process answers), `/readyz` (the
//! database answers too), `/metrics` (OpenMetrics; behind the token here, open on
//! `--metrics-listen`).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::AsViewer;
use super::openapi::Reading;
use super::{AppState, Shared};

/// The health and metrics routes of the main address.
pub(super) fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics_with_token))
        .routes(routes!(super::openapi::served))
}

/// The metrics-only router of `--metrics-listen`, an address only the scraper reaches.
pub fn metrics_router(state: Shared) -> Router {
    Router::new()
        .route("/metrics", get(metrics_open))
        .layer(super::nosniff())
        .with_state(state)
}

/// Alive: the process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "operations",
    responses(
        (status = 200, description = "Alive", body = String, content_type = "text/plain"),
    )
)]
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready: the database answers too; with its schema version, the CRM sync's state, and when
/// retention last ran and what it did.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready: the schema version, the CRM sync, retention", body = String, content_type = "text/plain"),
        (status = 503, description = "The database did not answer", body = String, content_type = "text/plain"),
    )
)]
async fn readyz(State(state): State<Shared>) -> Response {
    let (database, known) = match state.store.schema_version().await {
        Ok(versions) => versions,
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: the database did not answer");
            return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response();
        }
    };
    let mut text = format!("ready\nschema_version {database} (this collector's {known})\n");
    if state.crm.is_some() {
        if let Ok(crm) = state.store.crm_status().await {
            text.push_str(&format!(
                "crm backlog {}, refused {}, last success {}, last error {}\n",
                crm.backlog,
                crm.refused,
                crm.last_success_at.as_deref().unwrap_or("never"),
                crm.last_error.as_deref().unwrap_or("none"),
            ));
        }
    }
    if let Some(days) = state.retain_days {
        match state.store.chore("retain").await {
            Ok(Some(run)) => text.push_str(&format!(
                "retention {days} days: last run {}, {}\n",
                run.at, run.result
            )),
            Ok(None) => text.push_str(&format!("retention {days} days: not run yet\n")),
            Err(e) => tracing::warn!(error = %e, "readiness check: reading the retention chore"),
        }
    }
    text.into_response()
}

async fn metrics_text(state: &AppState) -> Response {
    let depth = state.store.queued_forwards().await.unwrap_or(-1);
    if state.crm.is_some() {
        if let Ok(crm) = state.store.crm_status().await {
            state.metrics.crm(&crm);
        }
    }
    if state.retain_days.is_some() {
        if let Ok(run) = state.store.chore("retain").await {
            state.metrics.retention(run.as_ref());
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(depth),
    )
        .into_response()
}

async fn metrics_open(State(state): State<Shared>) -> Response {
    metrics_text(&state).await
}

#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "operations",
    security(("token" = [])),
    responses(
        (status = 200, description = "The OpenMetrics text format", body = String, content_type = "application/openmetrics-text"),
        Reading,
    )
)]
async fn metrics_with_token(State(state): State<Shared>, _: AsViewer) -> Response {
    metrics_text(&state).await
}
