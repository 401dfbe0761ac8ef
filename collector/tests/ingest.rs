//! The collector over real HTTP on loopback, against a real SQLite file and a real PostgreSQL
//! server: what it accepts, what it refuses (and how it names the problem), that upserts are
//! idempotent and monotonic, and what the read API reports. Every test runs on both databases.

#[macro_use]
mod pg;

use pg::Db;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use nps_collector::Settings;
use serde_json::{json, Value};

/// The admin token every test collector is started with (unless a test gives its own); the
/// request helpers send it unless a request names its own `Authorization` ("" for none).
const TOKEN: &str = "t0ken-for-the-tests-0123";
const BEARER: &str = "Bearer t0ken-for-the-tests-0123";

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

#[derive(Default)]
struct Options<'a> {
    allow_origins: &'a [&'a str],
    token: Option<&'a str>,
    rate_limit: u32,
    forward: Option<String>,
}

async fn start(db: Db, o: Options<'_>) -> Server {
    let dir = std::env::temp_dir().join(format!(
        "nps-collector-test-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let url = match db {
        Db::Sqlite => format!("sqlite://{}", dir.join("t.db").display()),
        Db::Postgres => pg::fresh_database().await,
    };
    let settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        db: url.clone(),
        allow_origins: o.allow_origins.iter().map(|s| s.to_string()).collect(),
        token: Some(o.token.unwrap_or(TOKEN).to_owned()),
        rate_limit: o.rate_limit,
        forward: o.forward.clone(),
        ..Settings::default()
    };
    let addr = pg::http::serve(settings).await;
    Server {
        addr,
        _dir: TempDir(dir),
    }
}

/// A collector whose read API needs `token`.
async fn start_with_token(db: Db, token: &str) -> Server {
    start(
        db,
        Options {
            token: Some(token),
            ..Options::default()
        },
    )
    .await
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
    let (status, _, body) = exchange(addr, method, path, headers, body).await;
    (status, body)
}

/// One HTTP/1.1 request over a fresh connection; returns (status, head in lower case, body).
async fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let (status, head, body) = exchange_raw(addr, method, path, headers, body).await;
    (status, head.to_ascii_lowercase(), body)
}

/// One HTTP/1.1 request over a fresh connection; returns (status, head as sent, body).
async fn exchange_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
    {
        text.push_str(&format!("Authorization: {BEARER}\r\n"));
    }
    for (k, v) in headers.iter().filter(|(_, v)| !v.is_empty()) {
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
        let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_owned()
        };
        (status, head.to_owned(), body)
    })
    .await
    .unwrap()
}

/// The body of a `Transfer-Encoding: chunked` response (streamed lists).
fn dechunk(mut raw: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = raw.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        raw = &rest[size + 2..];
    }
    out
}

/// A POST of `body` as it is, with this Content-Type.
async fn post_text(addr: SocketAddr, content_type: &str, body: &str) -> (u16, String) {
    request(
        addr,
        "POST",
        "/v1/responses",
        &[("Content-Type", content_type)],
        body,
    )
    .await
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

/// A complete response of `score` from `account`, shown at `shown_at`.
fn answer(n: u32, score: u8, account: &str, shown_at: &str, comment: Option<&str>) -> Value {
    let mut r = response(
        &format!("0b6e3c1a-5f7d-4c2e-9a8b-{n:012}"),
        score,
        "complete",
        comment,
    );
    r["user"]["account_id"] = json!(account);
    r["shown_at"] = json!(shown_at);
    r["answered_at"] = json!(shown_at);
    r["completed_at"] = json!(shown_at);
    r
}

fn silent(n: u32, shown_at: &str) -> Value {
    let mut r = answer(n, 0, "a1", shown_at, None);
    r["score"] = Value::Null;
    r["segment"] = json!("silent");
    r["silent_reason"] = json!("dismissed");
    r
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    exchange(addr, "GET", path, &[("Authorization", BEARER)], "").await
}

async fn get_json(addr: SocketAddr, path: &str) -> Value {
    let (status, _, body) = get(addr, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

const ID: &str = "0b6e3c1a-5f7d-4c2e-9a8b-1d2e3f4a5b6c";

async fn partial_then_complete_is_one_row_in_its_final_state(db: Db) {
    let s = start(db, Options::default()).await;
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

async fn a_late_partial_never_overwrites_complete(db: Db) {
    let s = start(db, Options::default()).await;
    post(s.addr, &response(ID, 3, "complete", Some("Slow exports"))).await;
    let (status, body) = post(s.addr, &response(ID, 3, "partial", None)).await;
    assert_eq!(status, 200, "acknowledged so the widget stops retrying");
    assert_eq!(body["result"], "kept newer state");
    let rows = list(s.addr).await;
    assert_eq!(rows[0]["state"], "complete");
    assert_eq!(rows[0]["comment"], "Slow exports");
}

async fn a_retried_identical_body_is_a_2xx_without_a_second_row(db: Db) {
    let s = start(db, Options::default()).await;
    let body = response(ID, 7, "complete", Some("ok"));
    for _ in 0..3 {
        let (status, _) = post(s.addr, &body).await;
        assert!((200..300).contains(&status));
    }
    assert_eq!(list(s.addr).await.len(), 1);
}

async fn bad_bodies_get_400_naming_the_field_and_change_nothing(db: Db) {
    let s = start(db, Options::default()).await;
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
    let (status, _) = post_text(s.addr, "application/json", "{not json").await;
    assert_eq!(status, 400);
    assert!(list(s.addr).await.is_empty());
}

async fn huge_bodies_are_refused_with_413(db: Db) {
    let s = start(db, Options::default()).await;
    let body = response(ID, 9, "complete", Some(&"x".repeat(20_000)));
    let (status, _) = post(s.addr, &body).await;
    assert_eq!(status, 413);
    assert!(list(s.addr).await.is_empty());
}

async fn other_origins_are_refused_unless_allowed(db: Db) {
    let s = start(
        db,
        Options {
            allow_origins: &["https://allowed.example"],
            ..Options::default()
        },
    )
    .await;
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

async fn reading_needs_the_token_when_one_is_set(db: Db) {
    let s = start_with_token(db, "s3cret-s3cret-s3cret").await;
    let (status, _) = request(s.addr, "GET", "/v1/responses", &[("Authorization", "")], "").await;
    assert_eq!(status, 401);
    let (status, _) = request(
        s.addr,
        "GET",
        "/v1/responses",
        &[("Authorization", "Bearer s3cret-s3cret-s3cret")],
        "",
    )
    .await;
    assert_eq!(status, 200);
}

async fn floods_from_one_address_get_429_with_retry_after(db: Db) {
    let s = start(
        db,
        Options {
            rate_limit: 5,
            ..Options::default()
        },
    )
    .await;
    for n in 0..5 {
        let (status, _) = post(
            s.addr,
            &answer(n, 9, "a1", "2026-11-23T10:00:00.000Z", None),
        )
        .await;
        assert_eq!(status, 201);
    }
    let body = answer(99, 9, "a1", "2026-11-23T10:00:00.000Z", None).to_string();
    let (status, head, text) = exchange(
        s.addr,
        "POST",
        "/v1/responses",
        &[("Content-Type", "application/json")],
        &body,
    )
    .await;
    assert_eq!(status, 429, "{text}");
    assert!(head.contains("retry-after: "), "{head}");
    assert_eq!(
        list(s.addr).await.len(),
        5,
        "the refused response was not stored"
    );
}

async fn bodies_that_are_not_json_get_415(db: Db) {
    let s = start(db, Options::default()).await;
    let body = response(ID, 9, "complete", None).to_string();
    let (status, text) = post_text(s.addr, "text/plain", &body).await;
    assert_eq!(status, 415);
    assert!(text.contains("Content-Type"), "{text}");
    assert!(list(s.addr).await.is_empty());
}

async fn summary_reports_the_seed_example_as_forty_with_counts_and_trend(db: Db) {
    let s = start_with_token(db, TOKEN).await;
    let scores = [10, 9, 9, 10, 9, 10, 7, 8, 3, 6];
    for (n, score) in scores.iter().enumerate() {
        let day = if n < 5 { "2026-10-20" } else { "2026-11-03" };
        let shown = format!("{day}T10:00:{n:02}.000Z");
        let (status, _) = post(s.addr, &answer(n as u32, *score, "a1", &shown, None)).await;
        assert_eq!(status, 201);
    }
    post(s.addr, &silent(50, "2026-11-03T11:00:00.000Z")).await;

    let summary = get_json(s.addr, "/v1/summary?interval=month").await;
    assert_eq!(summary["nps"], 40.0);
    assert_eq!(summary["promoters"], 6);
    assert_eq!(summary["passives"], 2);
    assert_eq!(summary["detractors"], 2);
    assert_eq!(summary["silent"], 1);
    assert_eq!(summary["responses"], 11);
    let trend = summary["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 2);
    assert_eq!(trend[0]["period"], "2026-10");
    assert_eq!(trend[0]["nps"], 100.0);
    assert_eq!(trend[1]["period"], "2026-11");
    assert_eq!(trend[1]["nps"], -20.0);

    let weekly = get_json(s.addr, "/v1/summary?from=2026-11-01&to=2026-12-01").await;
    assert_eq!(weekly["interval"], "week");
    assert_eq!(weekly["responses"], 6);
    assert_eq!(weekly["trend"][0]["period"], "2026-11-02");

    let other = get_json(s.addr, "/v1/summary?survey_id=another").await;
    assert_eq!(other["responses"], 0);
    assert_eq!(other["nps"], Value::Null, "no answers: no score, not zero");
}

async fn accounts_and_lists_tell_who_to_call(db: Db) {
    let s = start_with_token(db, TOKEN).await;
    let t = "2026-11-23T10:00:00.000Z";
    post(s.addr, &answer(1, 10, "acme", t, Some("Love the exports"))).await;
    post(s.addr, &answer(2, 2, "globex", t, Some("=1+1, \"slow\""))).await;
    post(
        s.addr,
        &answer(3, 8, "globex", "2026-11-24T10:00:00.000Z", None),
    )
    .await;

    let accounts = get_json(s.addr, "/v1/accounts").await;
    let accounts = accounts.as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[0]["account_id"], "globex", "lowest NPS first");
    assert_eq!(accounts[0]["nps"], -50.0);
    assert_eq!(accounts[0]["latest_comment"], "=1+1, \"slow\"");
    assert_eq!(accounts[1]["account_id"], "acme");

    let detractors = get_json(s.addr, "/v1/responses?segment=detractor").await;
    assert_eq!(detractors.as_array().unwrap().len(), 1);
    let (status, head, csv) = get(s.addr, "/v1/responses?segment=detractor&format=csv").await;
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/csv"), "{head}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("id,survey_id,segment,score,comment,"));
    assert!(
        lines[1].contains(",detractor,2,\"'=1+1, \"\"slow\"\"\","),
        "{csv}"
    );
}

async fn bad_read_queries_get_400_naming_the_parameter(db: Db) {
    let s = start_with_token(db, TOKEN).await;
    for (path, field) in [
        ("/v1/responses?segment=fans", "segment"),
        ("/v1/responses?format=xml", "format"),
        ("/v1/summary?interval=day", "interval"),
        ("/v1/summary?from=yesterday", "from"),
        ("/v1/accounts?to=2026-13-40", "to"),
    ] {
        let (status, _, body) = get(s.addr, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["field"], field, "{path}");
    }
    for path in ["/v1/summary", "/v1/accounts", "/v1/responses?format=csv"] {
        let (status, _) = request(s.addr, "GET", path, &[("Authorization", "")], "").await;
        assert_eq!(status, 401, "{path} without the token");
    }
}

/// A webhook receiver on loopback that answers 500 twice and drops one connection before it
/// starts taking bodies; returns its URL and what it took.
async fn hook() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/nps", listener.local_addr().unwrap());
    let taken = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let out = taken.clone();
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            n += 1;
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).await.unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).await.unwrap();
            let reply: &[u8] = match n {
                1 | 2 => b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                3 => continue, // dropped without an answer
                _ => {
                    taken.lock().unwrap().push(serde_json::from_slice(&body).unwrap());
                    b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
                }
            };
            let _ = reader.get_mut().write_all(reply).await;
        }
    });
    (url, out)
}

async fn stored_changes_are_forwarded_once_each_with_retries(db: Db) {
    let (url, taken) = hook().await;
    let s = start(
        db,
        Options {
            forward: Some(url),
            ..Options::default()
        },
    )
    .await;
    let other = "0b6e3c1a-5f7d-4c2e-9a8b-000000000042";
    let started = std::time::Instant::now();
    assert_eq!(post(s.addr, &response(ID, 9, "partial", None)).await.0, 201);
    assert_eq!(
        post(s.addr, &response(ID, 9, "complete", Some("Fast")))
            .await
            .0,
        200
    );
    assert_eq!(
        post(s.addr, &response(ID, 9, "partial", None)).await.0,
        200,
        "stale"
    );
    assert_eq!(
        post(s.addr, &response(other, 4, "complete", None)).await.0,
        201
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "ingest does not wait for the failing webhook"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while taken.lock().unwrap().len() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "forwarded only {:?}",
            taken.lock().unwrap()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let taken = taken.lock().unwrap().clone();
    let states: Vec<(String, String)> = taken
        .iter()
        .map(|b| {
            (
                b["id"].as_str().unwrap().to_owned(),
                b["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        states.len(),
        3,
        "the stale partial changed nothing, so it is not forwarded: {states:?}"
    );
    assert_eq!(
        states,
        [
            (ID.to_owned(), "partial".to_owned()),
            (ID.to_owned(), "complete".to_owned()),
            (other.to_owned(), "complete".to_owned()),
        ],
        "forwarded in the order stored"
    );
}

async fn lists_page_by_cursor_and_weeks_start_on_monday(db: Db) {
    let s = start_with_token(db, TOKEN).await;
    // 25 responses over three days; two share a shown_at, which the cursor tells apart by id.
    for n in 0..25u32 {
        let shown = match n {
            0..=9 => "2026-11-08T23:00:00.000Z", // a Sunday: the week of Monday 2026-11-02
            10..=19 => "2026-11-09T00:30:00.000Z", // the Monday after
            _ => "2026-11-10T12:00:00.000Z",
        };
        assert_eq!(post(s.addr, &answer(n, 9, "a1", shown, None)).await.0, 201);
    }
    let mut seen = Vec::new();
    let mut path = "/v1/responses?limit=10&survey_id=default".to_owned();
    let mut pages = 0;
    loop {
        let (status, head, body) =
            exchange_raw(s.addr, "GET", &path, &[("Authorization", BEARER)], "").await;
        assert_eq!(status, 200, "{path}: {body}");
        pages += 1;
        let page: Vec<Value> = serde_json::from_str(&body).unwrap();
        seen.extend(page.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        let Some(link) = head
            .lines()
            .find_map(|l| l.strip_prefix("link: ").or(l.strip_prefix("Link: ")))
        else {
            break;
        };
        assert!(link.ends_with("; rel=\"next\""), "{link}");
        path = link[1..link.find('>').unwrap()].to_owned();
        assert!(
            path.contains("survey_id=default"),
            "the filter is kept: {path}"
        );
        assert!(pages < 5, "the pages end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25);
    let mut distinct = seen.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 25, "no response twice, none missing");

    let weekly = get_json(s.addr, "/v1/summary?interval=week").await;
    let trend = weekly["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 2, "{trend:?}");
    assert_eq!(trend[0]["period"], "2026-11-02");
    assert_eq!(trend[0]["responses"], 10);
    assert_eq!(trend[1]["period"], "2026-11-09");
    assert_eq!(trend[1]["responses"], 15);

    let (status, _, body) = get(s.addr, "/v1/responses?cursor=nonsense").await;
    assert_eq!(status, 400);
    assert!(body.contains("\"field\":\"cursor\""), "{body}");
    let (status, _, body) = get(s.addr, "/v1/responses?limit=5000").await;
    assert_eq!(status, 400);
    assert!(body.contains("\"field\":\"limit\""), "{body}");
}

/// A request with the test token and a JSON body; (status, JSON answer).
async fn send(addr: SocketAddr, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let (status, text) = request(
        addr,
        method,
        path,
        &[
            ("Authorization", BEARER),
            ("Content-Type", "application/json"),
        ],
        &body.to_string(),
    )
    .await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A response of `score` (or silent) from `user` at `account`, shown at `shown_at`.
fn from_person(n: u32, score: Option<u8>, user: &str, account: &str, shown_at: &str) -> Value {
    let mut r = answer(n, score.unwrap_or(0), account, shown_at, None);
    r["user"]["id"] = json!(user);
    if score.is_none() {
        r["score"] = Value::Null;
        r["segment"] = json!("silent");
        r["silent_reason"] = json!("dismissed");
    }
    r
}

async fn follow_ups_close_the_loop_and_survive_redelivery(db: Db) {
    let s = start_with_token(db, TOKEN).await;
    let promoter = "0b6e3c1a-5f7d-4c2e-9a8b-000000000077";
    assert_eq!(post(s.addr, &response(ID, 3, "partial", None)).await.0, 201);
    assert_eq!(
        post(s.addr, &response(promoter, 10, "complete", None))
            .await
            .0,
        201
    );
    let path = format!("/v1/responses/{ID}/follow-up");

    let (status, _) = request(s.addr, "PATCH", &path, &[("Authorization", "")], "{}").await;
    assert_eq!(status, 401, "no token");
    let unknown = "/v1/responses/0b6e3c1a-5f7d-4c2e-9a8b-999999999999/follow-up";
    assert_eq!(
        send(s.addr, "PATCH", unknown, &json!({"status": "contacted"}))
            .await
            .0,
        404
    );
    for (body, field, code) in [
        (json!({"status": "called"}), "status", 400),
        // A detractor's answer: a conflict with the answer as it stands.
        (json!({"status": "referral_asked"}), "status", 409),
        (json!({"status": "referred"}), "status", 409),
        (json!({"owner": "ann", "priority": 1}), "priority", 400),
        (json!({}), "status", 400),
        (json!([null, null]), "body", 400),
    ] {
        let (status, error) = send(s.addr, "PATCH", &path, &body).await;
        assert_eq!(status, code, "{body}: {error}");
        assert_eq!(error["field"], field, "{body}: {error}");
    }

    let (status, f) = send(
        s.addr,
        "PATCH",
        &path,
        &json!({"status": "contacted", "owner": "ann@example.com"}),
    )
    .await;
    assert_eq!(status, 200, "{f}");
    assert_eq!(f["status"], "contacted");
    assert_eq!(f["owner"], "ann@example.com");
    assert!(f["updated_at"].as_str().unwrap().ends_with('Z'));
    let notes = format!("/v1/responses/{ID}/notes");
    let (status, note) = send(
        s.addr,
        "POST",
        &notes,
        &json!({"text": "Called: export is broken for them", "author": "ann@example.com"}),
    )
    .await;
    assert_eq!(status, 201, "{note}");
    assert_eq!(note["text"], "Called: export is broken for them");
    assert_eq!(
        send(s.addr, "POST", &notes, &json!({"text": "  "})).await.0,
        400
    );

    // The widget delivers the complete response after the partial: the follow-up stays.
    assert_eq!(
        post(s.addr, &response(ID, 3, "complete", Some("Exports fail")))
            .await
            .0,
        200
    );
    let contacted = get_json(s.addr, "/v1/responses?status=contacted").await;
    let contacted = contacted.as_array().unwrap();
    assert_eq!(contacted.len(), 1);
    assert_eq!(contacted[0]["comment"], "Exports fail");
    let f = &contacted[0]["follow_up"];
    assert_eq!(f["status"], "contacted");
    assert_eq!(f["owner"], "ann@example.com");
    assert_eq!(f["notes"][0]["text"], "Called: export is broken for them");
    assert_eq!(
        f["notes"][0]["author"], "admin",
        "the author is the token's name, whatever the body says"
    );
    assert_eq!(f["updated_by"], "admin");
    let fresh = get_json(s.addr, "/v1/responses?status=new").await;
    assert_eq!(fresh.as_array().unwrap().len(), 1, "the promoter is new");
    assert_eq!(fresh[0]["follow_up"]["status"], "new");
    assert_eq!(fresh[0]["follow_up"]["notes"], json!([]));

    assert_eq!(
        get_json(s.addr, "/v1/responses?status=open")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        send(s.addr, "PATCH", &path, &json!({"status": "resolved"}))
            .await
            .0,
        200
    );
    let open = get_json(s.addr, "/v1/responses?status=open").await;
    assert_eq!(open.as_array().unwrap().len(), 1, "resolved is closed");
    let resolved = get_json(s.addr, "/v1/responses?status=resolved").await;
    assert_eq!(
        resolved[0]["follow_up"]["owner"], "ann@example.com",
        "owner kept"
    );
    // Referrals are for promoters and passives.
    let promoter_path = format!("/v1/responses/{promoter}/follow-up");
    let (status, f) = send(
        s.addr,
        "PATCH",
        &promoter_path,
        &json!({"status": "referral_asked"}),
    )
    .await;
    assert_eq!(
        (status, f["status"].as_str()),
        (200, Some("referral_asked"))
    );
    let (_, f) = send(s.addr, "PATCH", &promoter_path, &json!({"owner": null})).await;
    assert_eq!(
        f["status"], "referral_asked",
        "an owner change keeps the status"
    );
    let (status, _, body) = get(s.addr, "/v1/responses?status=done").await;
    assert_eq!(status, 400);
    assert!(body.contains("\"field\":\"status\""), "{body}");
}

async fn accounts_carry_their_segment_and_silent_accounts_are_listed(db: Db) {
    let s = start_with_token(db, TOKEN).await;
    let t = |d: u32| format!("2026-11-{d:02}T10:00:00.000Z");
    let people = [
        // acme: u1 was a detractor, then a promoter (the latest counts), u2 a promoter.
        (1, Some(3), "u1", "acme", t(1)),
        (2, Some(10), "u1", "acme", t(5)),
        (3, Some(9), "u2", "acme", t(2)),
        // globex: 7 and 8, a passive account.
        (4, Some(7), "u3", "globex", t(3)),
        (5, Some(8), "u4", "globex", t(3)),
        // initech: asked twice, nobody answered.
        (6, None, "u5", "initech", t(4)),
        (7, None, "u6", "initech", t(6)),
        // hooli: one unhappy person.
        (8, Some(2), "u7", "hooli", t(4)),
    ];
    for (n, score, user, account, shown) in &people {
        let body = from_person(*n, *score, user, account, shown);
        assert_eq!(post(s.addr, &body).await.0, 201);
    }
    let accounts = get_json(s.addr, "/v1/accounts").await;
    let by_id = |id: &str| {
        accounts
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["account_id"] == id)
            .unwrap()
            .clone()
    };
    let acme = by_id("acme");
    assert_eq!(acme["segment"], "promoter");
    assert_eq!(acme["mean_score"], 9.5);
    assert_eq!(acme["people"], 2, "u1 counted once");
    assert_eq!(acme["promoters"], 2);
    assert_eq!(acme["margin_of_error"], 68.0);
    assert_eq!(acme["open_follow_ups"], 3);
    assert_eq!(by_id("globex")["segment"], "passive");
    assert_eq!(by_id("hooli")["segment"], "detractor");
    let initech = by_id("initech");
    assert_eq!(initech["segment"], "silent");
    assert_eq!(initech["nps"], Value::Null);
    assert_eq!(initech["margin_of_error"], Value::Null);
    assert_eq!(initech["silent"], 2);

    for (segment, expected) in [
        ("silent", vec!["initech"]),
        ("promoter", vec!["acme"]),
        ("passive", vec!["globex"]),
        ("detractor", vec!["hooli"]),
    ] {
        let list = get_json(s.addr, &format!("/v1/accounts?segment={segment}")).await;
        let ids: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["account_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, expected, "{segment}");
    }
    let (status, head, csv) = get(s.addr, "/v1/accounts?segment=silent&format=csv").await;
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/csv"), "{head}");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("account_id,segment,nps,margin_of_error,"),
        "{csv}"
    );
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].starts_with("initech,silent,,,"), "{csv}");

    let one = get_json(s.addr, "/v1/responses?account_id=acme").await;
    assert_eq!(
        one.as_array().unwrap().len(),
        3,
        "the account's own responses"
    );
}

async fn summary_compare_and_themes_answer_with_statistics(db: Db) {
    let s = start_with_token(db, TOKEN).await;
    let mut n = 0;
    let mut add = |count: u32, score: u8, day: &str, comment: Option<&'static str>| {
        let mut bodies = Vec::new();
        for _ in 0..count {
            n += 1;
            bodies.push(answer(
                n,
                score,
                "a1",
                &format!("{day}T10:00:00.000Z"),
                comment,
            ));
        }
        bodies
    };
    let mut bodies = Vec::new();
    // October: 4 promoters, 3 passives, 3 detractors (NPS 10); November: 6, 2, 2 (NPS 40).
    bodies.extend(add(4, 10, "2026-10-05", None));
    bodies.extend(add(3, 8, "2026-10-06", None));
    bodies.extend(add(3, 2, "2026-10-07", None));
    bodies.extend(add(6, 9, "2026-11-05", None));
    bodies.extend(add(1, 7, "2026-11-06", Some("Please add export to Excel")));
    bodies.extend(add(1, 7, "2026-11-07", Some("CSV exports would help")));
    bodies.extend(add(2, 3, "2026-11-08", None));
    for b in &bodies {
        assert_eq!(post(s.addr, b).await.0, 201);
    }
    post(s.addr, &silent(900, "2026-11-09T10:00:00.000Z")).await;

    let summary = get_json(s.addr, "/v1/summary?interval=month").await;
    assert_eq!(summary["nps"], 25.0);
    assert_eq!(summary["margin_of_error"], 33.5);
    assert_eq!(summary["response_rate"], 0.952, "20 answers of 21 asked");
    assert_eq!(summary["trend"][0]["small_sample"], true);
    assert_eq!(summary["trend"][0]["margin_of_error"], 43.8);

    let c = get_json(
        s.addr,
        "/v1/compare?a_from=2026-10-01&a_to=2026-11-01&b_from=2026-11-01&b_to=2026-12-01",
    )
    .await;
    let expected = nps_collector::stats::compare(
        &nps_widget::segment::Tally {
            promoters: 4,
            passives: 3,
            detractors: 3,
            silents: 0,
        },
        &nps_widget::segment::Tally {
            promoters: 6,
            passives: 2,
            detractors: 2,
            silents: 1,
        },
    );
    assert_eq!(c["a"]["nps"], 10.0);
    assert_eq!(c["b"]["nps"], 40.0);
    assert_eq!(c["b"]["answers"], 10);
    assert_eq!(c["difference"], 30.0);
    assert_eq!(c["z"], json!(expected.z));
    assert_eq!(
        c["significant"], false,
        "ten answers a side: could be noise"
    );
    let (status, _, body) = get(s.addr, "/v1/compare?a_from=2026-10-01&a_to=2026-11-01").await;
    assert_eq!(status, 400);
    assert!(body.contains("\"field\":\"b_from\""), "{body}");

    let found = get_json(s.addr, "/v1/themes?segment=passive").await;
    let themes = &found["themes"];
    assert_eq!(themes[0]["theme"], "export", "{found}");
    assert_eq!(themes[0]["count"], 2);
    assert_eq!(themes[0]["examples"].as_array().unwrap().len(), 2);
    assert_eq!(themes[0]["people"], 1, "one person wrote both: {found}");
    assert!(themes[0]["nps_gain"].as_f64().unwrap() > 0.0, "{found}");
    let counted: u64 = themes
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["count"].as_u64().unwrap())
        .sum();
    assert_eq!(
        counted + found["other"].as_u64().unwrap(),
        found["comments"].as_u64().unwrap(),
        "the counts add up: {found}"
    );
    let none = get_json(s.addr, "/v1/themes?segment=detractor").await;
    assert_eq!(none["themes"], json!([]));
}

/// A NUL in an answer (PostgreSQL's text cannot hold one) is stored as U+FFFD on both
/// databases, not refused with a 503 the widget would retry for ever; a NUL in a filter or
/// a path is the same plain miss on both (found by schemathesis).
async fn a_nul_is_stored_as_the_replacement_character_on_both(db: Db) {
    let s = start(db, Options::default()).await;
    let mut body = response(ID, 3, "complete", Some("slow\u{0}page"));
    body["user"]["id"] = json!("u\u{0}1");
    let (status, answer) = post(s.addr, &body).await;
    assert_eq!(status, 201, "{answer}");
    let rows = list(s.addr).await;
    assert_eq!(rows[0]["comment"], "slow\u{fffd}page");
    assert_eq!(rows[0]["user"]["id"], "u\u{fffd}1");
    let filtered = get_json(s.addr, "/v1/responses?survey_id=de%00fault").await;
    assert_eq!(filtered, json!([]));
    let (status, _, _) = get(s.addr, "/v1/accounts/a%001").await;
    assert_eq!(status, 404);
}

on_both!(
    a_nul_is_stored_as_the_replacement_character_on_both,
    follow_ups_close_the_loop_and_survive_redelivery,
    accounts_carry_their_segment_and_silent_accounts_are_listed,
    summary_compare_and_themes_answer_with_statistics,
    lists_page_by_cursor_and_weeks_start_on_monday,
    stored_changes_are_forwarded_once_each_with_retries,
    partial_then_complete_is_one_row_in_its_final_state,
    a_late_partial_never_overwrites_complete,
    a_retried_identical_body_is_a_2xx_without_a_second_row,
    bad_bodies_get_400_naming_the_field_and_change_nothing,
    huge_bodies_are_refused_with_413,
    other_origins_are_refused_unless_allowed,
    reading_needs_the_token_when_one_is_set,
    floods_from_one_address_get_429_with_retry_after,
    bodies_that_are_not_json_get_415,
    summary_reports_the_seed_example_as_forty_with_counts_and_trend,
    accounts_and_lists_tell_who_to_call,
    bad_read_queries_get_400_naming_the_parameter,
);

/// The collector killed (SIGKILL) while 8 clients post: every response it answered 201 is in
/// the SQLite file when it starts again. (The WAL is flushed beside the writer, and each
/// answer waits for the flush that covers its batch.)
#[test]
fn every_acknowledged_response_survives_a_kill() {
    use std::io::{BufRead, BufReader};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let dir = std::env::temp_dir().join(format!("nps-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("k.db").display());
    let start = || {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nps-collector"))
            .args(["--listen", "127.0.0.1:0", "--db", &db, "--rate-limit", "0"])
            .args(["--token", TOKEN])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr: SocketAddr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap()
            .parse()
            .unwrap();
        (child, addr)
    };
    let (mut child, addr) = start();
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..8u32)
        .map(|c| {
            let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
            std::thread::spawn(move || {
                for n in 0..100_000u32 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let id = format!("0b6e3c1a-5f7d-4c2e-9a8b-{:04}{n:08}", c);
                    let body = response(&id, (n % 11) as u8, "complete", None).to_string();
                    let Ok(mut stream) = TcpStream::connect(addr) else {
                        break;
                    };
                    let request = format!(
                        "POST /v1/responses HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let mut answer = String::new();
                    let answered = stream.write_all(request.as_bytes()).is_ok()
                        && stream.read_to_string(&mut answer).is_ok();
                    if answered && answer.starts_with("HTTP/1.1 201") {
                        acknowledged.lock().unwrap().push(id);
                    }
                }
            })
        })
        .collect();
    // Let them post for a while, then kill the collector mid-stream.
    while acknowledged.lock().unwrap().len() < 1_500 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    let _ = child.wait();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 1_500);

    // What the file holds once SQLite has read its WAL back, as the next start would.
    let stored: std::collections::HashSet<String> =
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
            sqlx::query_scalar("SELECT id FROM responses")
                .fetch_all(&pool)
                .await
                .unwrap()
                .into_iter()
                .collect()
        });
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged responses lost: {:?}",
        missing.len(),
        acknowledged.len(),
        &missing[..missing.len().min(5)]
    );
}
