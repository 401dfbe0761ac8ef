//! The dashboard's files, compiled in: the page at `/dashboard`, and under `/dashboard/` its
//! styles and its script modules (the router, the shared helpers, one module per view), from
//! one table. The page asks for the token itself and calls the read API with it; its CSP allows
//! only its own scripts and styles.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::Shared;

/// The dashboard's CSP: nothing inline, nothing from elsewhere, and never inside another
/// site's frame (no clickjacking of the follow-up buttons).
const CSP: &str = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; \
    script-src 'self'; frame-ancestors 'none'";

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file under `/dashboard/`: its path there, its content type, its text. A module
/// imports the others by these paths (`./views/overview.js` from `app.js`).
const FILES: &[(&str, &str, &str)] = &[
    (
        "dashboard.css",
        CSS,
        include_str!("../dashboard/dashboard.css"),
    ),
    ("app.js", JS, include_str!("../dashboard/app.js")),
    ("router.js", JS, include_str!("../dashboard/router.js")),
    ("api.js", JS, include_str!("../dashboard/api.js")),
    ("dom.js", JS, include_str!("../dashboard/dom.js")),
    ("format.js", JS, include_str!("../dashboard/format.js")),
    ("session.js", JS, include_str!("../dashboard/session.js")),
    (
        "views/overview.js",
        JS,
        include_str!("../dashboard/views/overview.js"),
    ),
    (
        "views/accounts.js",
        JS,
        include_str!("../dashboard/views/accounts.js"),
    ),
    (
        "views/account.js",
        JS,
        include_str!("../dashboard/views/account.js"),
    ),
    (
        "views/lists.js",
        JS,
        include_str!("../dashboard/views/lists.js"),
    ),
    (
        "views/referrals.js",
        JS,
        include_str!("../dashboard/views/referrals.js"),
    ),
    (
        "views/surveys.js",
        JS,
        include_str!("../dashboard/views/surveys.js"),
    ),
    (
        "views/team.js",
        JS,
        include_str!("../dashboard/views/team.js"),
    ),
    (
        "views/audit.js",
        JS,
        include_str!("../dashboard/views/audit.js"),
    ),
];

/// The dashboard routes.
pub(super) fn router() -> Router<Shared> {
    Router::new()
        .route("/dashboard", get(page))
        .route("/dashboard/{*file}", get(file))
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

async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(path, _, _)| *path == name) {
        Some((_, content_type, text)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CONTENT_SECURITY_POLICY, CSP),
            ],
            *text,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such dashboard file").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::FILES;

    /// Every module a file imports is in the table, so no view 404s in the browser.
    #[test]
    fn every_imported_module_is_served() {
        for (path, _, text) in FILES {
            let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
            for line in text.lines().filter(|l| l.starts_with("import ")) {
                let Some(spec) = line.split('\'').nth(1) else {
                    continue;
                };
                let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
                for part in spec.split('/') {
                    match part {
                        "." => {}
                        ".." => {
                            parts.pop();
                        }
                        name => parts.push(name),
                    }
                }
                let target = parts.join("/");
                assert!(
                    FILES.iter().any(|(p, _, _)| *p == target),
                    "{path} imports {spec} ({target}), which is not served"
                );
            }
        }
    }
}
