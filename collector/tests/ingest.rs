//! The collector over real HTTP on loopback with a real SQLite file: what it accepts, what it
//! refuses (and how it names the problem), and that upserts are idempotent and monotonic.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use nps_collector::{app, Settings, Store};
use serde_json::{json, Value};

struct Server {
    addr: SocketAddr,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start(allow_origins: &[&str], token: Option<&str>) -> Server {
    let dir = std::env::temp_dir().join(format!(
        "nps-collector-test-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("t.db").display());
    let settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        db: db.clone(),
        static_dirs: vec![],
        allow_origins: allow_origins.iter().map(|s| s.to_string()).collect(),
        token: token.map(str::to_owned),
    };
    let store = Store::open(&db).await.unwrap();
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(store, &settings);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Server {
        addr,
        _dir: TempDir(dir),
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// One HTTP/1.1 request over a fresh connection; returns (status, body).
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.write_all(text.as_bytes()).unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).unwrap();
        let status = out[9..12].parse().unwrap();
        let body = out
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    })
    .await
    .unwrap()
}

async fn post(addr: SocketAddr, body: &Value) -> (u16, Value) {
    let (status, text) = request(
        addr,
        "POST",
        "/v1/responses",
        &[("Content-Type", "application/json")],
        &body.to_string(),
    )
    .await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn list(addr: SocketAddr) -> Vec<Value> {
    let (status, text) = request(addr, "GET", "/v1/responses", &[], "").await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn response(id: &str, score: u8, state: &str, comment: Option<&str>) -> Value {
    let segment = match score {
        0..=6 => "detractor",
        7..=8 => "passive",
        _ => "promoter",
    };
    json!({
        "schema": 1, "id": id, "survey_id": "default", "score": score, "segment": segment,
        "comment": comment, "contact_consent": null, "state": state,
        "user": {"id": "u1", "account_id": "a1"},
        "context": {"url": "https://example.com/app", "locale": "en"},
        "shown_at": "2026-11-23T10:00:00.000Z", "answered_at": "2026-11-23T10:00:02.000Z",
        "completed_at": if state == "complete" { json!("2026-11-23T10:00:09.000Z") } else { Value::Null }
    })
}

const ID: &str = "0b6e3c1a-5f7d-4c2e-9a8b-1d2e3f4a5b6c";

#[tokio::test]
async fn partial_then_complete_is_one_row_in_its_final_state() {
    let s = start(&[], None).await;
    let (status, _) = post(s.addr, &response(ID, 9, "partial", None)).await;
    assert_eq!(status, 201);
    let (status, body) = post(s.addr, &response(ID, 9, "complete", Some("Fast"))).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"], "updated");
    let rows = list(s.addr).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["state"], "complete");
    assert_eq!(rows[0]["comment"], "Fast");
}

#[tokio::test]
async fn a_late_partial_never_overwrites_complete() {
    let s = start(&[], None).await;
    post(s.addr, &response(ID, 3, "complete", Some("Slow exports"))).await;
    let (status, body) = post(s.addr, &response(ID, 3, "partial", None)).await;
    assert_eq!(status, 200, "acknowledged so the widget stops retrying");
    assert_eq!(body["result"], "kept newer state");
    let rows = list(s.addr).await;
    assert_eq!(rows[0]["state"], "complete");
    assert_eq!(rows[0]["comment"], "Slow exports");
}

#[tokio::test]
async fn a_retried_identical_body_is_a_2xx_without_a_second_row() {
    let s = start(&[], None).await;
    let body = response(ID, 7, "complete", Some("ok"));
    for _ in 0..3 {
        let (status, _) = post(s.addr, &body).await;
        assert!((200..300).contains(&status));
    }
    assert_eq!(list(s.addr).await.len(), 1);
}

#[tokio::test]
async fn bad_bodies_get_400_naming_the_field_and_change_nothing() {
    let s = start(&[], None).await;
    let mut wrong_segment = response(ID, 3, "complete", None);
    wrong_segment["segment"] = json!("promoter");
    let mut out_of_range = response(ID, 9, "complete", None);
    out_of_range["score"] = json!(11);
    out_of_range["segment"] = json!("promoter");
    let mut unknown_segment = response(ID, 9, "complete", None);
    unknown_segment["segment"] = json!("fan");
    let mut missing_id = response(ID, 9, "complete", None);
    missing_id.as_object_mut().unwrap().remove("id");
    let mut wrong_type = response(ID, 9, "complete", None);
    wrong_type["score"] = json!("nine");
    let mut extra = response(ID, 9, "complete", None);
    extra["color"] = json!("blue");
    let cases = [
        (wrong_segment, "segment"),
        (out_of_range, "score"),
        (unknown_segment, "segment"),
        (missing_id, "id"),
        (wrong_type, "score"),
        (extra, "color"),
    ];
    for (body, field) in cases {
        let (status, error) = post(s.addr, &body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(error["field"], field, "{error}");
    }
    let (status, _) = request(
        s.addr,
        "POST",
        "/v1/responses",
        &[("Content-Type", "application/json")],
        "{not json",
    )
    .await;
    assert_eq!(status, 400);
    assert!(list(s.addr).await.is_empty());
}

#[tokio::test]
async fn huge_bodies_are_refused_with_413() {
    let s = start(&[], None).await;
    let body = response(ID, 9, "complete", Some(&"x".repeat(20_000)));
    let (status, _) = post(s.addr, &body).await;
    assert_eq!(status, 413);
    assert!(list(s.addr).await.is_empty());
}

#[tokio::test]
async fn other_origins_are_refused_unless_allowed() {
    let s = start(&["https://allowed.example"], None).await;
    let body = response(ID, 9, "complete", None).to_string();
    let headers = |origin| [("Content-Type", "application/json"), ("Origin", origin)];
    let (status, _) = request(
        s.addr,
        "POST",
        "/v1/responses",
        &headers("https://evil.example"),
        &body,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = request(
        s.addr,
        "POST",
        "/v1/responses",
        &headers("https://allowed.example"),
        &body,
    )
    .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn reading_needs_the_token_when_one_is_set() {
    let s = start(&[], Some("s3cret")).await;
    let (status, _) = request(s.addr, "GET", "/v1/responses", &[], "").await;
    assert_eq!(status, 401);
    let (status, _) = request(
        s.addr,
        "GET",
        "/v1/responses",
        &[("Authorization", "Bearer s3cret")],
        "",
    )
    .await;
    assert_eq!(status, 200);
}
