//! The dashboard's files (the page, its styles, its script and the surveys' editor), compiled in. The page asks for the token itself and calls the
//! read API with it; its CSP allows only its own script and styles.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::Shared;

/// The dashboard's CSP: nothing inline, nothing from elsewhere, and never inside another
/// site's frame (no clickjacking of the follow-up buttons).
const CSP: &str = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; \
    script-src 'self'; frame-ancestors 'none'";

/// The dashboard routes.
pub(super) fn router() -> Router<Shared> {
    Router::new()
        .route("/dashboard", get(page))
        .route("/dashboard.js", get(script))
        .route("/dashboard-surveys.js", get(surveys_script))
        .route("/dashboard.css", get(styles))
}

async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            // A `#token=` link never leaks through a Referer, nor does anything else.
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        include_str!("../dashboard/index.html"),
    )
}

async fn styles() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../dashboard/dashboard.css"),
    )
}

async fn surveys_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../dashboard/surveys.js"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../dashboard/dashboard.js"),
    )
}
