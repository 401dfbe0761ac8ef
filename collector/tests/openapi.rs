//! The API's contract: the OpenAPI document the handlers make is served at
//! `GET /v1/openapi.json` without a token, and equals the committed `collector/openapi.json`
//! (a route, a parameter or an answer changed without the file is a failure here). To take
//! a change: `NPS_WRITE_OPENAPI=1 cargo test -p nps-collector --test openapi`, and commit the
//! file with the change. Its validation (openapi-spec-validator) and the fuzzing of a live
//! collector against it (schemathesis) run in `cargo xtask test`.

#[macro_use]
mod pg;

use nps_collector::Settings;
use pg::http::call;

const ADMIN: &str = "openapi-test-admin-token-0123456789";

#[tokio::test]
async fn the_served_document_is_the_committed_one() {
    let url = pg::http::database(pg::Db::Sqlite, "openapi", "served").await;
    let addr = pg::http::serve(Settings {
        db: url,
        token: Some(ADMIN.into()),
        ..Settings::default()
    })
    .await;
    let (status, _, body) = call(addr, "GET", "/v1/openapi.json", "", None).await;
    assert_eq!(status, 200, "served without a token: {body}");
    let served: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(served["openapi"], "3.1.0");
    let paths = served["paths"].as_object().unwrap();
    for path in [
        "/v1/responses",
        "/v1/people",
        "/v1/audit",
        "/v1/openapi.json",
        "/s/{token}",
    ] {
        assert!(paths.contains_key(path), "{path} is in the document");
    }
    assert!(
        !paths.keys().any(|p| p.starts_with("/dashboard")),
        "the dashboard's files are not the API"
    );
    let pretty = serde_json::to_string_pretty(&served).unwrap() + "\n";
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    if std::env::var_os("NPS_WRITE_OPENAPI").is_some() {
        std::fs::write(&file, &pretty).unwrap();
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        committed == pretty,
        "collector/openapi.json differs from what the handlers say: run \
         NPS_WRITE_OPENAPI=1 cargo test -p nps-collector --test openapi, review the diff, commit it"
    );
}
