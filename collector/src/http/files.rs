//! The static files (`--static`: the demo page, the widget's `dist/`), with the two cache rules
//! the widget's README gives site owners: the script-tag loader `nps-widget.js` short-lived, so
//! a release reaches pages within minutes; every file named by a hash of its content
//! (`nps_widget_bg.8d2e0b17.wasm`) forever, since a new release has new names.

use std::path::PathBuf;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower_http::services::ServeDir;

/// `Cache-Control` of the loader: five minutes.
pub(crate) const LOADER: &str = "public, max-age=300";
/// `Cache-Control` of a content-hashed file: a year, never revalidated.
pub(crate) const HASHED: &str = "public, max-age=31536000, immutable";

/// Each directory falls back to the next, so `/` can hold the demo page and the widget.
pub(crate) fn router(dirs: &[PathBuf]) -> Router {
    let mut files = Router::new();
    for dir in dirs.iter().rev() {
        files = Router::new().fallback_service(ServeDir::new(dir).fallback(files));
    }
    files.layer(middleware::from_fn(cache_rules))
}

async fn cache_rules(request: Request, next: Next) -> Response {
    let rule = cache_rule(request.uri().path());
    let mut response = next.run(request).await;
    let served = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    if let (Some(rule), true) = (rule, served) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(rule));
    }
    response
}

/// The cache rule of a path, if it has one: the loader's, or a hashed file's
/// (`<stem>.<8 hex digits>.<ext>`).
pub(crate) fn cache_rule(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name == "nps-widget.js" {
        return Some(LOADER);
    }
    let mut parts = name.rsplit('.');
    let (_ext, hash, stem) = (parts.next()?, parts.next()?, parts.next()?);
    let hashed = !stem.is_empty() && hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    hashed.then_some(HASHED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loader_is_short_lived_and_hashed_files_are_forever() {
        let table = [
            ("/nps-widget.js", Some(LOADER)),
            ("/widget/nps-widget.js", Some(LOADER)),
            ("/nps_widget_bg.8d2e0b17.wasm", Some(HASHED)),
            ("/locales/fr.0a1b2c3d.json", Some(HASHED)),
            ("/fallback/nps_widget.ABCDEF01.js", Some(HASHED)),
            ("/nps_widget_bg.wasm", None),
            ("/nps_widget.js", None),
            ("/index.html", None),
            ("/demo.12345678", None),
            ("/x.1234567.js", None),
            ("/x.1234567g.js", None),
        ];
        for (path, want) in table {
            assert_eq!(cache_rule(path), want, "{path}");
        }
    }
}
