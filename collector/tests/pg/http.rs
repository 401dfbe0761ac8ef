//! What the HTTP tests share: a database of either kind for a collector, and a client that
//! calls it with a bearer token. Each test binary uses a part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use nps_collector::Settings;
use serde_json::Value;

use super::Db;

/// A new, empty directory for a test's SQLite file (`prefix` and `name` in its path).
pub fn temp_dir(prefix: &str, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "nps-{prefix}-{}-{name}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fresh database: an SQLite file in a directory of its own ([`temp_dir`]), or a new
/// PostgreSQL database; its URL.
pub async fn database(db: Db, prefix: &str, name: &str) -> String {
    match db {
        Db::Sqlite => format!("sqlite://{}", temp_dir(prefix, name).join("t.db").display()),
        Db::Postgres => super::fresh_database().await,
    }
}

/// A client with a time limit that follows no redirect.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A call with `token` (none when empty) and an optional JSON body; status, headers and body.
pub async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client().request(method, format!("http://{addr}{path}"));
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

/// A collector with `settings` serving on a loopback port of its own in the background (its
/// store opened with the queues its settings fill); its address.
pub async fn serve(settings: Settings) -> SocketAddr {
    let settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..settings
    };
    let store = nps_collector::start::open(&settings).await.unwrap();
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        nps_collector::run(listener, store, &settings, std::future::pending())
            .await
            .unwrap()
    });
    addr
}

/// Makes a token for `name` with `role` through the API, as the admin holding `admin`; the
/// token.
pub async fn make_token(addr: SocketAddr, admin: &str, name: &str, role: &str) -> String {
    let (status, _, body) = call(
        addr,
        "POST",
        "/v1/tokens",
        admin,
        Some(serde_json::json!({"name": name, "role": role})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let made: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(made["role"], role);
    made["token"].as_str().unwrap().to_owned()
}
