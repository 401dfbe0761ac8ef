//! Trust, over real HTTP on both databases: verified identity (forged and valid hashes), a
//! token per teammate and what each role may do, revocation, authors taken from the token, no
//! open doors (no tokenless mode, the DNS-rebinding case, 429 after wrong tokens, CORS on
//! ingest only, nosniff and the dashboard's frame and referrer rules), exact dates, and a CSV
//! of accounts complete past a thousand.

#[macro_use]
mod pg;

use pg::http::{call, client};
use pg::Db;

use std::net::SocketAddr;
use std::time::Duration;

use nps_collector::identity::sign;
use nps_collector::Settings;
use serde_json::{json, Value};

const ADMIN: &str = "admin-token-for-the-trust-tests";
const SECRET: &str = "identity-secret-for-tests";

on_both!(
    identity_is_checked_and_never_kept,
    anonymous_answers_can_be_required_to_sign_in,
    each_role_does_what_it_may_and_no_more,
    a_revoked_token_is_refused_on_the_next_request,
    there_is_no_tokenless_mode_and_rebinding_gets_401,
    wrong_tokens_are_limited_per_client,
    cors_is_granted_on_ingest_only_and_nothing_is_sniffed,
    dates_are_exact_and_offsets_count,
    the_accounts_csv_is_complete_past_a_thousand,
    only_mine_is_asked_of_the_api,
);

async fn database(db: Db, name: &str) -> String {
    pg::http::database(db, "trust", name).await
}

/// A collector on loopback with `settings` (listen and db filled in); its address.
async fn start(db: Db, name: &str, settings: Settings) -> SocketAddr {
    start_on(&database(db, name).await, settings).await
}

/// A collector of the database at `url`; its address.
async fn start_on(url: &str, settings: Settings) -> SocketAddr {
    let settings = Settings {
        db: url.to_owned(),
        rate_limit: 0,
        ..settings
    };
    pg::http::serve(settings).await
}

fn with_admin() -> Settings {
    Settings {
        token: Some(ADMIN.into()),
        ..Settings::default()
    }
}

fn answer(n: u32, score: u8, user: Value) -> Value {
    let segment = match score {
        0..=6 => "detractor",
        7..=8 => "passive",
        _ => "promoter",
    };
    json!({
        "schema": 1, "id": format!("0b6e3c1a-5f7d-4c2e-9a8b-{n:012}"), "survey_id": "default",
        "score": score, "segment": segment, "comment": null, "contact_consent": null,
        "state": "complete", "user": user,
        "context": {"url": "https://example.com/app", "locale": "en"},
        "shown_at": "2026-11-23T10:00:00.000Z", "answered_at": "2026-11-23T10:00:02.000Z",
        "completed_at": "2026-11-23T10:00:09.000Z"
    })
}

async fn post(addr: SocketAddr, body: &Value) -> (u16, Value) {
    let r = client()
        .post(format!("http://{addr}/v1/responses"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn json_of(addr: SocketAddr, path: &str, token: &str) -> Value {
    let (status, _, body) = call(addr, "GET", path, token, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Makes a token through the API, as the admin; the token.
async fn make_token(addr: SocketAddr, name: &str, role: &str) -> String {
    pg::http::make_token(addr, ADMIN, name, role).await
}

async fn identity_is_checked_and_never_kept(db: Db) {
    let addr = start(
        db,
        "identity",
        Settings {
            identity_secret: Some(SECRET.into()),
            ..with_admin()
        },
    )
    .await;
    let secret = SECRET.as_bytes();
    let hash = sign(secret, "u42", Some("acme"));
    let refused = |(status, body): (u16, Value)| {
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["field"], "user.hash", "{body}");
    };
    // No hash, a forged hash, a valid user hash for another account: refused.
    refused(
        post(
            addr,
            &answer(1, 0, json!({"id": "u42", "account_id": "acme"})),
        )
        .await,
    );
    refused(
        post(
            addr,
            &answer(
                2,
                0,
                json!({"id": "u42", "account_id": "acme", "hash": "ab".repeat(32)}),
            ),
        )
        .await,
    );
    refused(
        post(
            addr,
            &answer(
                3,
                0,
                json!({"id": "u42", "account_id": "globex", "hash": hash}),
            ),
        )
        .await,
    );
    refused(post(addr, &answer(4, 0, json!({"account_id": "acme"}))).await);
    // Signed: stored, without the hash. Anonymous: stored.
    let signed = post(
        addr,
        &answer(
            5,
            9,
            json!({"id": "u42", "account_id": "acme", "hash": hash, "email": "a@acme.example"}),
        ),
    )
    .await;
    assert_eq!(signed.0, 201, "{}", signed.1);
    assert_eq!(post(addr, &answer(6, 7, json!({}))).await.0, 201);
    let list = json_of(addr, "/v1/responses", ADMIN).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "only the signed and the anonymous answers");
    let stored = list.iter().find(|r| r["user"]["id"] == "u42").unwrap();
    assert_eq!(stored["user"]["account_id"], "acme");
    assert!(
        stored["user"].get("hash").is_none(),
        "the hash is not kept: {stored}"
    );
    let (_, _, csv) = call(addr, "GET", "/v1/responses?format=csv", ADMIN, None).await;
    assert!(!csv.contains(&hash), "nor exported");
    let accounts = json_of(addr, "/v1/accounts", ADMIN).await;
    assert_eq!(accounts[0]["account_id"], "acme");
    assert_eq!(
        accounts.as_array().unwrap().len(),
        1,
        "no forged account: {accounts}"
    );
}

async fn anonymous_answers_can_be_required_to_sign_in(db: Db) {
    let addr = start(
        db,
        "require",
        Settings {
            identity_secret: Some(SECRET.into()),
            require_identity: true,
            ..with_admin()
        },
    )
    .await;
    let (status, body) = post(addr, &answer(1, 9, json!({}))).await;
    assert_eq!(status, 403);
    assert_eq!(body["field"], "user.hash");
    let hash = sign(SECRET.as_bytes(), "u1", None);
    assert_eq!(
        post(addr, &answer(2, 9, json!({"id": "u1", "hash": hash})))
            .await
            .0,
        201
    );
}

async fn each_role_does_what_it_may_and_no_more(db: Db) {
    let addr = start(db, "roles", with_admin()).await;
    assert_eq!(
        post(
            addr,
            &answer(1, 3, json!({"id": "u1", "account_id": "acme"}))
        )
        .await
        .0,
        201
    );
    let id = "0b6e3c1a-5f7d-4c2e-9a8b-000000000001";
    let viewer = make_token(addr, "vi", "viewer").await;
    let member = make_token(addr, "mo", "member").await;
    assert!(viewer.starts_with("nps_") && viewer.len() >= 36, "{viewer}");
    let follow_up = format!("/v1/responses/{id}/follow-up");
    let notes = format!("/v1/responses/{id}/notes");

    // A viewer reads everything a report shows, and changes nothing.
    for path in [
        "/v1/summary",
        "/v1/accounts",
        "/v1/responses",
        "/v1/responses?format=csv",
        "/v1/themes",
        "/v1/team",
        "/metrics",
    ] {
        assert_eq!(
            call(addr, "GET", path, &viewer, None).await.0,
            200,
            "{path}"
        );
    }
    let (status, _, body) = call(
        addr,
        "PATCH",
        &follow_up,
        &viewer,
        Some(json!({"status": "contacted"})),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        error["error"],
        "this needs the member role; this token is a viewer"
    );
    assert_eq!(error["field"], "Authorization");
    assert_eq!(
        call(addr, "POST", &notes, &viewer, Some(json!({"text": "hi"})))
            .await
            .0,
        403
    );

    // A member works the queue, as themselves whatever the body says, and cannot manage tokens.
    let (status, _, body) = call(
        addr,
        "PATCH",
        &follow_up,
        &member,
        Some(json!({"status": "contacted", "owner": "mo"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let changed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(changed["updated_by"], "mo");
    let (status, _, body) = call(
        addr,
        "POST",
        &notes,
        &member,
        Some(json!({"text": "Called them", "author": "someone else"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let note: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(note["author"], "mo", "the author is the token's name");
    let (status, _, body) = call(addr, "GET", "/v1/tokens", &member, None).await;
    assert_eq!(status, 403);
    assert!(body.contains("needs the admin role"), "{body}");
    assert_eq!(
        call(
            addr,
            "POST",
            "/v1/tokens",
            &member,
            Some(json!({"name": "x", "role": "admin"}))
        )
        .await
        .0,
        403
    );

    // An admin sees the team, never a token; names are unique.
    let tokens = json_of(addr, "/v1/tokens", ADMIN).await;
    let names: Vec<&str> = tokens
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["mo", "vi"]);
    assert!(
        !tokens.to_string().contains(&viewer[4..]),
        "no token in the list"
    );
    let (status, _, body) = call(
        addr,
        "POST",
        "/v1/tokens",
        ADMIN,
        Some(json!({"name": "vi", "role": "viewer"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (status, _, body) = call(
        addr,
        "POST",
        "/v1/tokens",
        ADMIN,
        Some(json!({"name": "x y", "role": "viewer"})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("\"field\":\"name\""), "{body}");
    let (status, _, body) = call(
        addr,
        "POST",
        "/v1/tokens",
        ADMIN,
        Some(json!({"name": "z", "role": "owner"})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body.contains("role must be viewer, member or admin"),
        "{body}"
    );
    let team = json_of(addr, "/v1/team", &member).await;
    assert_eq!(team["me"], json!({"name": "mo", "role": "member"}));

    // Use is noted (without holding the request up).
    let mut used = false;
    for _ in 0..50 {
        let tokens = json_of(addr, "/v1/tokens", ADMIN).await;
        if tokens[0]["last_used_at"].is_string() {
            used = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(used, "the member's last use is recorded");
}

async fn a_revoked_token_is_refused_on_the_next_request(db: Db) {
    let url = database(db, "revoke").await;
    // Two collectors of one database: a token made or revoked on one counts on the other.
    let addrs = [
        start_on(&url, with_admin()).await,
        start_on(&url, with_admin()).await,
    ];
    let token = make_token(addrs[0], "temp", "viewer").await;
    assert_eq!(
        call(addrs[1], "GET", "/v1/summary", &token, None).await.0,
        200
    );
    let (status, _, _) = call(addrs[0], "DELETE", "/v1/tokens/temp", ADMIN, None).await;
    assert_eq!(status, 204);
    assert_eq!(
        call(addrs[1], "GET", "/v1/summary", &token, None).await.0,
        401
    );
    assert_eq!(
        call(addrs[0], "DELETE", "/v1/tokens/temp", ADMIN, None)
            .await
            .0,
        404
    );
}

async fn there_is_no_tokenless_mode_and_rebinding_gets_401(db: Db) {
    // No --token and (through `run`) nothing stored: every read is refused.
    let addr = start(db, "tokenless", Settings::default()).await;
    for path in [
        "/v1/summary",
        "/v1/responses",
        "/v1/accounts?format=csv",
        "/metrics",
        "/v1/team",
    ] {
        assert_eq!(call(addr, "GET", path, "", None).await.0, 401, "{path}");
    }
    // DNS rebinding: a page whose name now points at 127.0.0.1 sends its own Host and a
    // matching Origin. Same-origin as far as the headers go, and still no token: 401.
    let r = client()
        .get(format!("http://{addr}/v1/responses"))
        .header("Host", "rebind.attacker.example")
        .header("Origin", "http://rebind.attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // Ingest stays open: the widget posts without a token.
    assert_eq!(post(addr, &answer(1, 9, json!({}))).await.0, 201);
}

async fn wrong_tokens_are_limited_per_client(db: Db) {
    let addr = start(db, "wrong", with_admin()).await;
    for i in 0..20 {
        let (status, _, _) = call(addr, "GET", "/v1/summary", &format!("guess-{i}"), None).await;
        assert_eq!(status, 401, "guess {i}");
    }
    let (status, headers, body) = call(addr, "GET", "/v1/summary", "guess-21", None).await;
    assert_eq!(status, 429, "{body}");
    assert!(headers.contains_key("retry-after"));
    assert_eq!(
        call(addr, "GET", "/v1/summary", ADMIN, None).await.0,
        200,
        "the right token still works"
    );
}

async fn cors_is_granted_on_ingest_only_and_nothing_is_sniffed(db: Db) {
    let addr = start(
        db,
        "cors",
        Settings {
            allow_origins: vec!["https://www.example.com".into()],
            ..with_admin()
        },
    )
    .await;
    let preflight = |path: &'static str| {
        client()
            .request(reqwest::Method::OPTIONS, format!("http://{addr}{path}"))
            .header("Origin", "https://www.example.com")
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let ingest = preflight("/v1/responses").await.unwrap();
    assert_eq!(
        ingest.headers()["access-control-allow-origin"],
        "https://www.example.com"
    );
    assert_eq!(ingest.headers()["access-control-allow-methods"], "POST");
    for path in ["/v1/summary", "/v1/responses/x/follow-up", "/v1/tokens"] {
        let r = preflight(path).await.unwrap();
        assert!(
            !r.headers().contains_key("access-control-allow-origin"),
            "{path}: {:?}",
            r.headers()
        );
    }
    let read = client()
        .get(format!("http://{addr}/v1/responses"))
        .bearer_auth(ADMIN)
        .header("Origin", "https://www.example.com")
        .send()
        .await
        .unwrap();
    assert!(!read.headers().contains_key("access-control-allow-origin"));
    assert_eq!(read.headers()["x-content-type-options"], "nosniff");
    let posted = client()
        .post(format!("http://{addr}/v1/responses"))
        .header("Origin", "https://www.example.com")
        .header("content-type", "application/json")
        .body(answer(1, 9, json!({})).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status().as_u16(), 201);
    assert_eq!(
        posted.headers()["access-control-allow-origin"],
        "https://www.example.com"
    );
    assert_eq!(posted.headers()["x-content-type-options"], "nosniff");
    let (_, headers, _) = call(addr, "GET", "/dashboard", "", None).await;
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let (_, headers, _) = call(addr, "GET", "/healthz", "", None).await;
    assert_eq!(headers["x-content-type-options"], "nosniff");
}

async fn dates_are_exact_and_offsets_count(db: Db) {
    let addr = start(db, "dates", with_admin()).await;
    let mut r = answer(1, 9, json!({}));
    r["shown_at"] = json!("2026-11-01T09:30:00.000Z");
    assert_eq!(post(addr, &r).await.0, 201);
    for (query, field) in [
        ("from=2026-02-31", "from"),
        ("to=2026-04-31T00:00:00Z", "to"),
        ("from=2026-11-01T10:00:00", "from"),
        ("from=01/11/2026", "from"),
    ] {
        let (status, _, body) =
            call(addr, "GET", &format!("/v1/summary?{query}"), ADMIN, None).await;
        assert_eq!(status, 400, "{query}: {body}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["field"], field, "{query}");
    }
    // 10:00 at +02:00 is 08:00 UTC, before the answer at 09:30 UTC; 12:00 at +02:00 is after.
    let before = json_of(addr, "/v1/summary?from=2026-11-01T10:00:00%2B02:00", ADMIN).await;
    assert_eq!(before["responses"], 1);
    let after = json_of(addr, "/v1/summary?from=2026-11-01T12:00:00%2B02:00", ADMIN).await;
    assert_eq!(after["responses"], 0);
}

async fn the_accounts_csv_is_complete_past_a_thousand(db: Db) {
    let addr = start(db, "csv", with_admin()).await;
    let mut posts = Vec::new();
    for n in 0..1500u32 {
        let body = answer(
            n,
            (n % 11) as u8,
            json!({"id": format!("u{n}"), "account_id": format!("acct-{n:04}")}),
        );
        posts.push(tokio::spawn(async move { post(addr, &body).await.0 }));
        if posts.len() == 64 {
            for p in posts.drain(..) {
                assert_eq!(p.await.unwrap(), 201);
            }
        }
    }
    for p in posts {
        assert_eq!(p.await.unwrap(), 201);
    }
    let (status, _, csv) = call(addr, "GET", "/v1/accounts?format=csv", ADMIN, None).await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 1501, "a header and every account");
    assert!(lines[0].starts_with("account_id,"));
    let ids: std::collections::HashSet<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids.len(), 1500, "each account once");
    // In the list's order: the first page of the JSON list is the CSV's first rows.
    let page = json_of(addr, "/v1/accounts?limit=1000", ADMIN).await;
    let first: Vec<&str> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_id"].as_str().unwrap())
        .collect();
    let csv_first: Vec<&str> = lines[1..1001]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(first, csv_first);
    let (_, _, detractors) = call(
        addr,
        "GET",
        "/v1/accounts?format=csv&segment=detractor",
        ADMIN,
        None,
    )
    .await;
    // Scores 0–6 of every 11: 7 of 11 accounts are detractor accounts.
    let expected = (0..1500).filter(|n| n % 11 <= 6).count();
    assert_eq!(detractors.trim_end().split("\r\n").count(), expected + 1);
}

async fn only_mine_is_asked_of_the_api(db: Db) {
    let addr = start(db, "mine", with_admin()).await;
    for n in 0..3 {
        assert_eq!(post(addr, &answer(n, 2, json!({}))).await.0, 201);
    }
    let ana = make_token(addr, "ana", "member").await;
    let id = "0b6e3c1a-5f7d-4c2e-9a8b-000000000001";
    let path = format!("/v1/responses/{id}/follow-up");
    assert_eq!(
        call(addr, "PATCH", &path, &ana, Some(json!({"owner": "ana"})))
            .await
            .0,
        200
    );
    let mine = json_of(addr, "/v1/responses?owner=ana", &ana).await;
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["id"], id);
    assert_eq!(mine[0]["follow_up"]["updated_by"], "ana");
    assert_eq!(
        json_of(addr, "/v1/responses?owner=bo", &ana).await,
        json!([])
    );
}

/// The token commands, on the same database as a running collector: made, listed, revoked.
#[tokio::test]
async fn token_commands_manage_the_team_of_a_running_collector() {
    let url = database(Db::Sqlite, "cli").await;
    let addr = start_on(&url, with_admin()).await;
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_nps-collector"))
            .args(args)
            .args(["--db", &url])
            .output()
            .unwrap()
    };
    let made = cli(&["token", "create", "--name", "ana", "--role", "viewer"]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let out = String::from_utf8(made.stdout).unwrap();
    let token = out.trim_end().lines().last().unwrap().to_owned();
    assert!(
        token.starts_with("nps_") && token.len() == 47,
        "the last line is the token: {out}"
    );
    assert_eq!(call(addr, "GET", "/v1/summary", &token, None).await.0, 200);
    let listed = String::from_utf8(cli(&["token", "list"]).stdout).unwrap();
    assert!(
        listed.contains("ana") && listed.contains("viewer"),
        "{listed}"
    );
    assert!(!listed.contains(&token[4..]), "never the token");
    let again = cli(&["token", "create", "--name", "ana", "--role", "admin"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    assert!(cli(&["token", "revoke", "ana"]).status.success());
    assert_eq!(call(addr, "GET", "/v1/summary", &token, None).await.0, 401);
    let none = cli(&["token", "revoke", "ana"]);
    assert_eq!(none.status.code(), Some(2));
    // The command line's changes are in the audit trail too, by "command line".
    let (status, _, trail) = call(addr, "GET", "/v1/audit", ADMIN, None).await;
    assert_eq!(status, 200);
    let trail: serde_json::Value = serde_json::from_str(&trail).unwrap();
    let rows: Vec<(String, String, String)> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let field = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (field("actor"), field("action"), field("object"))
        })
        .collect();
    let by_cli = |action: &str| {
        (
            "command line".to_owned(),
            action.to_owned(),
            "/v1/tokens/ana".to_owned(),
        )
    };
    assert!(rows.contains(&by_cli("token create")), "{rows:?}");
    assert!(rows.contains(&by_cli("token revoke")), "{rows:?}");
    assert_eq!(rows.len(), 2, "the refused commands left no row: {rows:?}");
}

/// Started with nothing: the collector makes an admin token, prints it with a dashboard link
/// that signs in, and requires it.
#[test]
fn started_without_a_token_it_makes_one_and_requires_it() {
    use std::io::{BufRead, BufReader};
    let dir = std::env::temp_dir().join(format!("nps-trust-first-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("t.db").display());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nps-collector"))
        .args(["--listen", "127.0.0.1:0", "--db", &db])
        .env_remove("NPS_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut read = || lines.next().unwrap().unwrap();
    let listening = read();
    let addr = listening
        .split("http://")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    assert!(read().contains("made an admin token"));
    let link = read();
    let token = read();
    assert!(
        link.ends_with(&format!("/dashboard#token={token}")),
        "{link}"
    );
    let get = |token: &str| {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        let auth = if token.is_empty() {
            String::new()
        } else {
            format!("Authorization: Bearer {token}\r\n")
        };
        write!(
            stream,
            "GET /v1/summary HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).unwrap();
        out[9..12].parse::<u16>().unwrap()
    };
    assert_eq!(get(""), 401);
    assert_eq!(get(&token), 200);
    child.kill().unwrap();
    let _ = child.wait();
}
