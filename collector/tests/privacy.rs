//! Running it for years, the people's side, over real HTTP on SQLite and PostgreSQL: a person
//! erased everywhere (lists, CSV, export, reports, the webhook queue, the alerts, their links;
//! every report then equals a database that never had them; the webhook gets one
//! `person.erased` event; an erased person who answers again is a new person), handed their
//! data, erased from the command line; the internal people left out of every report and list
//! but `?internal=true`; retention anonymising old responses with the old periods' NPS kept;
//! and the audit trail of the team's changes.

#[macro_use]
mod pg;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use nps_collector::Settings;
use pg::http::call;
use pg::Db;
use serde_json::{json, Value};
use time::OffsetDateTime;

const ADMIN: &str = "privacy-test-admin-token-0123456789";
const LINK_SECRET: &str = "privacy-test-link-secret-0123456789";

on_both!(
    an_erased_person_is_nowhere_and_every_report_equals_a_database_without_them,
    the_command_line_erases_and_exports_a_person,
    internal_people_are_kept_apart_and_left_out_of_every_report,
    retention_anonymises_old_responses_and_keeps_their_periods_nps,
    the_audit_trail_has_a_row_for_each_change_made_with_a_token,
);

/// A response as the widget sends it, number `n`, shown `days_ago`.
fn answer(
    n: u32,
    score: Option<u8>,
    state: &str,
    user: Value,
    comment: Option<&str>,
    days_ago: i64,
) -> Value {
    let segment = match score {
        None => "silent",
        Some(0..=6) => "detractor",
        Some(7..=8) => "passive",
        Some(_) => "promoter",
    };
    let shown = OffsetDateTime::now_utc() - time::Duration::days(days_ago);
    let mut r = json!({
        "schema": 1, "id": id(n), "survey_id": "default",
        "score": score, "segment": segment, "state": state, "user": user,
        "context": {"url": format!("https://app.example/page?n={n}"), "locale": "en"},
        "shown_at": nps_collector::clock::stamp(shown),
    });
    if score.is_some() {
        r["answered_at"] = json!(nps_collector::clock::stamp(
            shown + time::Duration::seconds(5)
        ));
    }
    if state == "complete" {
        r["completed_at"] = json!(nps_collector::clock::stamp(
            shown + time::Duration::seconds(9)
        ));
    }
    if let Some(c) = comment {
        r["comment"] = json!(c);
    }
    r
}

fn id(n: u32) -> String {
    format!("0b6e3c1a-5f7d-4c2e-9a8b-{n:012}")
}

async fn post_response(addr: SocketAddr, body: &Value) {
    let (status, _, text) = call(addr, "POST", "/v1/responses", "", Some(body.clone())).await;
    assert!(status == 201 || status == 200, "{status} {text}");
}

/// A receiver that answers 503 until it is opened, then 200; what it was sent after opening.
#[derive(Clone, Default)]
struct Receiver {
    open: Arc<AtomicBool>,
    taken: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    async fn start(&self) -> String {
        let me = self.clone();
        let router = Router::new().route(
            "/hook",
            post(move |body: String| {
                let me = me.clone();
                async move {
                    if !me.open.load(Ordering::SeqCst) {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
                    me.taken.lock().unwrap().push(value);
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        format!("http://{addr}/hook")
    }

    fn taken(&self) -> Vec<Value> {
        self.taken.lock().unwrap().clone()
    }
}

async fn wait_for(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn get(addr: SocketAddr, path: &str) -> String {
    let (status, _, body) = call(addr, "GET", path, ADMIN, None).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

async fn get_json(addr: SocketAddr, path: &str) -> Value {
    serde_json::from_str(&get(addr, path).await).unwrap()
}

/// What every report says, to compare two collectors by.
async fn reports(addr: SocketAddr) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in [
        "/v1/summary?interval=month",
        "/v1/summary?survey_id=default&interval=week",
        "/v1/accounts",
        "/v1/accounts?format=csv",
        "/v1/accounts/acme",
        "/v1/accounts/acme/people",
        "/v1/revenue",
        "/v1/themes",
        "/v1/referrals/summary",
    ] {
        out.push((path.to_owned(), get(addr, path).await));
    }
    out
}

fn sql_pool(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::pool::PoolOptions::new()
        .max_connections(1)
        .connect_lazy(url)
        .unwrap()
}

/// Every text of `table`'s rows, joined.
async fn table_text(url: &str, table: &str, column: &str) -> String {
    let pool = sql_pool(url);
    let texts: Vec<String> = sqlx::query_scalar(&format!("SELECT {column} FROM {table}"))
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    texts.join("\n")
}

/// The responses of the test: Ann (by user id and email, and by email only), and others.
fn people() -> (Vec<Value>, Vec<Value>) {
    let ann = vec![
        answer(
            1,
            Some(3),
            "complete",
            json!({"id": "ann", "email": "Ann@Example.com", "account_id": "acme"}),
            Some("Ann Lee here: billing is slow, call me"),
            3,
        ),
        answer(
            2,
            Some(8),
            "complete",
            json!({"email": "ann@example.com", "account_id": "acme"}),
            Some("Annie says the reports are fine"),
            40,
        ),
    ];
    let others = vec![
        answer(
            3,
            Some(10),
            "complete",
            json!({"id": "bob", "email": "bob@example.org", "account_id": "acme"}),
            Some("billing is quick now"),
            2,
        ),
        answer(
            4,
            Some(2),
            "partial",
            json!({"id": "cat", "email": "cat@example.org", "account_id": "globex"}),
            None,
            1,
        ),
        answer(
            5,
            Some(9),
            "complete",
            json!({"id": "dan", "account_id": "globex"}),
            None,
            35,
        ),
    ];
    (ann, others)
}

async fn an_erased_person_is_nowhere_and_every_report_equals_a_database_without_them(db: Db) {
    let hook = Receiver::default();
    let chat = Receiver::default();
    let (hook_url, chat_url) = (hook.start().await, chat.start().await);
    let url = pg::http::database(db, "privacy", "erase").await;
    let settings = |db: &str| Settings {
        db: db.to_owned(),
        rate_limit: 0,
        token: Some(ADMIN.into()),
        link_secret: Some(LINK_SECRET.into()),
        forward: Some(hook_url.clone()),
        notify: vec![chat_url.clone()],
        // A detractor's partial waits for its comment: its alert stays queued.
        notify_delay: Duration::from_secs(600),
        ..Settings::default()
    };
    let addr = pg::http::serve(settings(&url)).await;
    let (ann, others) = people();
    for r in ann.iter().chain(&others) {
        post_response(addr, r).await;
    }
    // What the team did with Ann's answers: a follow-up, a note, a referral, a link.
    let member = pg::http::make_token(addr, ADMIN, "mia", "member").await;
    let (status, _, body) = call(
        addr,
        "PATCH",
        &format!("/v1/responses/{}/follow-up", id(1)),
        &member,
        Some(json!({"status": "contacted", "owner": "mia"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = call(
        addr,
        "POST",
        &format!("/v1/responses/{}/notes", id(1)),
        &member,
        Some(json!({"text": "Spoke to Ann Lee, she wants a call on Friday"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, _, body) = call(
        addr,
        "POST",
        &format!("/v1/responses/{}/referrals", id(2)),
        &member,
        Some(json!({"name": "Zed", "email": "zed@example.net"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, _, body) = call(
        addr,
        "POST",
        "/v1/links",
        &member,
        Some(json!({"survey_id": "default", "user": {"id": "ann", "email": "ann@example.com", "account_id": "acme"}})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let link: Value = serde_json::from_str(&body).unwrap();
    let link_path = link["url"]
        .as_str()
        .unwrap()
        .split_once("/s/")
        .map(|(_, t)| format!("/s/{t}"))
        .unwrap();
    assert_eq!(call(addr, "GET", &link_path, "", None).await.0, 200);

    // Art. 15: what is held about her, by email, whatever its case.
    let (status, _, body) = call(
        addr,
        "GET",
        "/v1/people?email=ANN%40example.com",
        &member,
        None,
    )
    .await;
    assert_eq!(status, 403, "an admin's: {body}");
    let held = get_json(addr, "/v1/people?email=ANN%40example.com").await;
    let responses = held["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 2, "{held}");
    let first = responses.iter().find(|r| r["id"] == id(1)).unwrap();
    assert!(
        first["body"].to_string().contains("Ann Lee here"),
        "{first}"
    );
    assert_eq!(first["follow_up"]["status"], "contacted", "{first}");
    assert!(
        first["follow_up"]["notes"].to_string().contains("Friday"),
        "{first}"
    );
    assert_eq!(held["links"].as_array().unwrap().len(), 1, "{held}");
    assert_eq!(held["links"][0]["issued_by"], "mia", "{held}");
    assert!(held["accounts"].to_string().contains("acme"), "{held}");
    assert_eq!(held["referrals"].as_array().unwrap().len(), 1, "{held}");
    let (status, _, body) = call(addr, "GET", "/v1/people", ADMIN, None).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("user_id"), "{body}");
    let (status, _, body) = call(addr, "GET", "/v1/people?user_id=a&email=b", ADMIN, None).await;
    assert_eq!(status, 400, "{body}");

    // Her answers are queued for the webhook and the chat; the erasure takes them out.
    let forwards = table_text(&url, "forwards", "body").await;
    assert!(forwards.contains("Ann Lee"), "queued before: {forwards}");
    let (status, _, body) = call(
        addr,
        "DELETE",
        "/v1/people?email=ann%40example.com",
        &member,
        None,
    )
    .await;
    assert_eq!(status, 403, "an admin's: {body}");
    let (status, _, body) = call(
        addr,
        "DELETE",
        "/v1/people?email=ann%40example.com",
        ADMIN,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let erased: Value = serde_json::from_str(&body).unwrap();
    let erased = &erased["erased"];
    assert_eq!(erased["responses"], 2, "{erased}");
    assert_eq!(erased["notes"], 1, "{erased}");
    assert_eq!(erased["links"], 1, "{erased}");
    assert_eq!(erased["referrals"], 1, "{erased}");
    assert!(erased["forwards"].as_u64().unwrap() >= 2, "{erased}");
    assert_eq!(erased["notices"], 1, "the detractor's alert: {erased}");

    // Nowhere: lists, CSV, the person's export, reports, the queues, the links.
    let mut seen = String::new();
    for path in [
        "/v1/responses",
        "/v1/responses?format=csv",
        "/v1/responses?account_id=acme",
        "/v1/referrals",
        "/v1/referrals?format=csv",
        "/v1/people?email=ann%40example.com",
        "/v1/people?user_id=ann",
    ] {
        seen.push_str(&get(addr, path).await);
    }
    for (_, text) in reports(addr).await {
        seen.push_str(&text);
    }
    for (table, column) in [
        ("forwards", "body"),
        ("notices", "response_id"),
        ("links", "response_id"),
    ] {
        seen.push_str(&table_text(&url, table, column).await);
    }
    for gone in ["Ann Lee", "Annie", "ann@", "Ann@", "Zed", &id(1), &id(2)] {
        assert!(!seen.contains(gone), "{gone} is still there:\n{seen}");
    }
    let held = get_json(addr, "/v1/people?user_id=ann").await;
    assert_eq!(held["responses"], json!([]), "{held}");
    let (status, _, page) = call(addr, "GET", &link_path, "", None).await;
    assert_eq!(status, 410, "a link issued to her before: {page}");
    assert!(page.contains("erased"), "{page}");
    let (status, _, _) = call(
        addr,
        "POST",
        &link_path,
        "",
        Some(answer(9, Some(9), "complete", json!({}), None, 0)),
    )
    .await;
    assert_eq!(status, 410);

    // Every report equals a database that never had her.
    let clean = pg::http::database(db, "privacy", "never").await;
    let reference = pg::http::serve(Settings {
        forward: None,
        notify: Vec::new(),
        ..settings(&clean)
    })
    .await;
    for r in &others {
        post_response(reference, r).await;
    }
    assert_eq!(reports(addr).await, reports(reference).await);

    // The webhook gets the others' changes and one `person.erased` event, never her; the chat
    // never names her either.
    hook.open.store(true, Ordering::SeqCst);
    chat.open.store(true, Ordering::SeqCst);
    wait_for(
        "the person.erased event",
        Duration::from_secs(40),
        async || hook.taken().iter().any(|b| b["type"] == "person.erased"),
    )
    .await;
    let taken = hook.taken();
    let event = taken.iter().find(|b| b["type"] == "person.erased").unwrap();
    let digest = nps_collector::team::digest("ann@example.com");
    assert_eq!(event["data"]["email_sha256"], digest, "{event}");
    assert_eq!(event["data"]["erased"]["responses"], 2, "{event}");
    let all = format!("{taken:?}{:?}", chat.taken());
    for gone in ["Ann Lee", "Annie", "ann@", "Ann@"] {
        assert!(!all.contains(gone), "{gone} was sent: {all}");
    }
    assert!(
        all.contains("bob@example.org"),
        "the others' changes flow: {all}"
    );

    // The trail names her by digest only.
    let trail = get(addr, "/v1/audit").await;
    assert!(trail.contains("person.erase"), "{trail}");
    assert!(trail.contains(&format!("email:{digest}")), "{trail}");
    assert!(!trail.contains("ann@"), "{trail}");

    // An erased person who answers again is a new person; a link issued after works.
    post_response(
        addr,
        &answer(
            7,
            Some(9),
            "complete",
            json!({"id": "ann", "email": "ann@example.com", "account_id": "acme"}),
            None,
            0,
        ),
    )
    .await;
    let held = get_json(addr, "/v1/people?user_id=ann").await;
    assert_eq!(held["responses"].as_array().unwrap().len(), 1, "{held}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _, body) = call(
        addr,
        "POST",
        "/v1/links",
        ADMIN,
        Some(json!({"survey_id": "default", "user": {"email": "ann@example.com"}})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let link: Value = serde_json::from_str(&body).unwrap();
    let path = link["url"]
        .as_str()
        .unwrap()
        .split_once("/s/")
        .map(|(_, t)| format!("/s/{t}"))
        .unwrap();
    assert_eq!(call(addr, "GET", &path, "", None).await.0, 200);
}

async fn the_command_line_erases_and_exports_a_person(db: Db) {
    let url = pg::http::database(db, "privacy", "cli").await;
    let addr = pg::http::serve(Settings {
        db: url.clone(),
        rate_limit: 0,
        token: Some(ADMIN.into()),
        ..Settings::default()
    })
    .await;
    let (ann, others) = people();
    for r in ann.iter().chain(&others) {
        post_response(addr, r).await;
    }
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_nps-collector"))
            .arg("--db")
            .arg(&url)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&["people", "export", "--user-id", "dan"]);
    assert_eq!(code, Some(0), "{err}");
    let held: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(held["responses"][0]["id"], id(5), "{out}");
    let (code, out, err) = run(&["people", "erase", "--user-id", "dan"]);
    assert_eq!(code, Some(0), "{err}");
    let erased: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(erased["erased"]["responses"], 1, "{out}");
    let (code, _, err) = run(&["people", "erase"]);
    assert_ne!(code, Some(0));
    assert!(
        err.contains("--user-id") && err.contains("--email"),
        "{err}"
    );
    let list = get(addr, "/v1/responses").await;
    assert!(!list.contains(&id(5)), "{list}");
    assert!(list.contains(&id(3)), "{list}");
    let trail = get(addr, "/v1/audit").await;
    assert!(trail.contains("command line"), "{trail}");
}

async fn internal_people_are_kept_apart_and_left_out_of_every_report(db: Db) {
    let chat = Receiver::default();
    let chat_url = chat.start().await;
    let settings = |db: &str, internal: bool| Settings {
        db: db.to_owned(),
        rate_limit: 0,
        token: Some(ADMIN.into()),
        notify: if internal {
            vec![chat_url.clone()]
        } else {
            Vec::new()
        },
        internal: if internal {
            nps_collector::settings::Internal {
                email_domains: vec!["ourco.com".into()],
                traits: vec!["staff".into()],
            }
        } else {
            Default::default()
        },
        ..Settings::default()
    };
    let url = pg::http::database(db, "privacy", "internal").await;
    let addr = pg::http::serve(settings(&url, true)).await;
    let clean = pg::http::database(db, "privacy", "internal-never").await;
    let reference = pg::http::serve(settings(&clean, false)).await;
    let (_, others) = people();
    let internal = [
        answer(
            11,
            Some(0),
            "complete",
            json!({"id": "ivy", "email": "ivy@ourco.com", "account_id": "acme"}),
            Some("testing the survey"),
            1,
        ),
        answer(
            12,
            Some(10),
            "complete",
            json!({"id": "jo", "email": "jo@eu.ourco.com", "account_id": "globex"}),
            None,
            1,
        ),
        answer(
            13,
            Some(1),
            "complete",
            json!({"id": "kim", "account_id": "acme", "traits": {"staff": true}}),
            None,
            1,
        ),
    ];
    // Not internal: another domain that ends alike, and a staff trait that is not `true`.
    let customers = [
        answer(
            14,
            Some(6),
            "complete",
            json!({"id": "lu", "email": "lu@notourco.com", "account_id": "acme"}),
            None,
            1,
        ),
        answer(
            15,
            Some(7),
            "complete",
            json!({"id": "max", "account_id": "acme", "traits": {"staff": "yes"}}),
            None,
            1,
        ),
    ];
    for r in others.iter().chain(&customers) {
        post_response(addr, r).await;
        post_response(reference, r).await;
    }
    for r in &internal {
        post_response(addr, r).await;
    }
    assert_eq!(reports(addr).await, reports(reference).await);
    let ids_of = |list: Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let listed = ids_of(get_json(addr, "/v1/responses").await);
    assert_eq!(listed, ids_of(get_json(reference, "/v1/responses").await));
    assert_eq!(listed.len(), 5);
    let internal_list = get_json(addr, "/v1/responses?internal=true").await;
    let ids: Vec<&str> = internal_list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{internal_list}");
    for n in [11, 12, 13] {
        assert!(ids.contains(&id(n).as_str()), "{internal_list}");
    }
    // The alerts: the customers' detractors (Lu's at once; Cat's partial waits for its
    // comment), never the teammates'.
    chat.open.store(true, Ordering::SeqCst);
    wait_for("the alerts", Duration::from_secs(30), async || {
        !chat.taken().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let said = format!("{:?}", chat.taken());
    assert_eq!(chat.taken().len(), 1, "{said}");
    for teammate in ["testing the survey", "ivy", "kim"] {
        assert!(!said.contains(teammate), "{said}");
    }
    let (status, _, body) = call(addr, "GET", "/v1/people?user_id=ivy", ADMIN, None).await;
    assert_eq!(status, 200);
    let held: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(held["responses"][0]["internal"], true, "{held}");
}

async fn retention_anonymises_old_responses_and_keeps_their_periods_nps(db: Db) {
    let url = pg::http::database(db, "privacy", "retain").await;
    let settings = |retain_days| Settings {
        db: url.clone(),
        rate_limit: 0,
        token: Some(ADMIN.into()),
        retain_days,
        ..Settings::default()
    };
    let addr = pg::http::serve(settings(None)).await;
    let old = [
        answer(
            21,
            Some(2),
            "complete",
            json!({"id": "old1", "email": "old1@example.org", "account_id": "acme", "traits": {"plan": "secret-plan"}}),
            Some("Oldcomment one"),
            500,
        ),
        answer(
            22,
            Some(10),
            "complete",
            json!({"id": "old2", "email": "old2@example.org", "account_id": "acme"}),
            Some("Oldcomment two"),
            400,
        ),
        answer(
            23,
            Some(9),
            "complete",
            json!({"id": "fresh", "email": "fresh@example.org", "account_id": "globex"}),
            Some("Oldcomment three"),
            380,
        ),
    ];
    let recent = [answer(
        24,
        Some(9),
        "complete",
        json!({"id": "fresh", "email": "fresh@example.org", "account_id": "globex"}),
        Some("Recent and kept"),
        10,
    )];
    for r in old.iter().chain(&recent) {
        post_response(addr, r).await;
    }
    let (status, _, body) = call(
        addr,
        "POST",
        &format!("/v1/responses/{}/notes", id(21)),
        ADMIN,
        Some(json!({"text": "Oldnote about old1"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let before = reports(addr).await;
    // A collector with --retain-days runs it at start-up.
    let retaining = pg::http::serve(settings(Some(365))).await;
    wait_for("the retention run", Duration::from_secs(30), async || {
        let (_, _, ready) = call(retaining, "GET", "/readyz", "", None).await;
        ready.contains("last run")
    })
    .await;
    let (_, _, ready) = call(retaining, "GET", "/readyz", "", None).await;
    assert!(ready.contains("retention 365 days"), "{ready}");
    assert!(ready.contains("\"responses\":3"), "{ready}");
    let metrics = get(retaining, "/metrics").await;
    assert!(
        metrics.contains("nps_retention_last_anonymised_responses 3"),
        "{metrics}"
    );
    // The NPS, the trend, the accounts: as before (the latest comment of an account aside,
    // when it was an anonymised one).
    let strip = |reports: Vec<(String, String)>| -> Vec<(String, String)> {
        reports
            .into_iter()
            .map(|(p, t)| {
                (
                    p,
                    t.replace("Oldcomment one", "")
                        .replace("Oldcomment two", ""),
                )
            })
            .collect()
    };
    let after = reports(retaining).await;
    let text: String = after.iter().map(|(_, t)| t.as_str()).collect();
    assert!(!text.contains("Oldcomment"), "{text}");
    for ((path, a), (_, b)) in strip(before).iter().zip(&after) {
        if path.contains("themes") || path.starts_with("/v1/accounts") {
            continue;
        }
        assert_eq!(a, b, "{path} changed");
    }
    let summary = get_json(retaining, "/v1/summary?interval=month").await;
    assert_eq!(summary["responses"], 4, "{summary}");
    let accounts = get_json(retaining, "/v1/accounts").await;
    let acme = accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account_id"] == "acme")
        .unwrap();
    assert_eq!(acme["people"], 2, "{acme}");
    // Who and what they wrote: gone from the old, kept on the recent.
    let list = get(retaining, "/v1/responses?format=csv").await;
    for gone in [
        "old1",
        "old2",
        "Oldcomment",
        "Oldnote",
        "secret-plan",
        "page?n=21",
    ] {
        assert!(!list.contains(gone), "{gone}: {list}");
    }
    assert!(list.contains("Recent and kept"), "{list}");
    let bodies = table_text(&url, "responses", "body").await;
    for gone in [
        "old1",
        "Oldcomment",
        "secret-plan",
        "page?n=21",
        "page?n=22",
        "page?n=23",
    ] {
        assert!(!bodies.contains(gone), "{gone}: {bodies}");
    }
    assert!(bodies.contains("page?n=24"), "{bodies}");
    let held = get_json(retaining, "/v1/people?user_id=fresh").await;
    assert_eq!(held["responses"].as_array().unwrap().len(), 1, "{held}");
    assert_eq!(
        table_text(&url, "notes", "text").await,
        "",
        "the old response's note is deleted"
    );
}

async fn the_audit_trail_has_a_row_for_each_change_made_with_a_token(db: Db) {
    let url = pg::http::database(db, "privacy", "audit").await;
    let addr = pg::http::serve(Settings {
        db: url,
        rate_limit: 0,
        token: Some(ADMIN.into()),
        ..Settings::default()
    })
    .await;
    let (_, others) = people();
    for r in &others {
        post_response(addr, r).await;
    }
    let member = pg::http::make_token(addr, ADMIN, "mia", "member").await;
    let viewer = pg::http::make_token(addr, ADMIN, "vic", "viewer").await;
    let changes = [
        (
            "PATCH",
            format!("/v1/responses/{}/follow-up", id(4)),
            json!({"status": "contacted"}),
        ),
        (
            "POST",
            format!("/v1/responses/{}/notes", id(4)),
            json!({"text": "called"}),
        ),
        (
            "PUT",
            "/v1/accounts/acme".to_owned(),
            json!({"arr": 12000, "plan": "pro"}),
        ),
        (
            "POST",
            "/v1/annotations".to_owned(),
            json!({"date": "2026-11-02", "text": "pricing change"}),
        ),
    ];
    for (method, path, body) in &changes {
        let (status, _, text) = call(addr, method, path, &member, Some(body.clone())).await;
        assert!((200..300).contains(&status), "{method} {path}: {text}");
    }
    // Refused and read-only requests leave no row.
    let (status, _, _) = call(addr, "DELETE", "/v1/tokens/mia", &viewer, None).await;
    assert_eq!(status, 403);
    let (status, _, _) = call(addr, "GET", "/v1/responses", &viewer, None).await;
    assert_eq!(status, 200);
    let (status, _, _) = call(addr, "GET", "/v1/audit", &member, None).await;
    assert_eq!(status, 403, "the trail is an admin's");
    let trail = get_json(addr, "/v1/audit").await;
    let rows = trail.as_array().unwrap();
    let actions: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["actor"].as_str().unwrap().to_owned(),
                r["action"].as_str().unwrap().to_owned(),
                r["object"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = vec![
        ("mia", "POST /v1/annotations", "/v1/annotations".to_owned()),
        (
            "mia",
            "PUT /v1/accounts/{id}",
            "/v1/accounts/acme".to_owned(),
        ),
        (
            "mia",
            "POST /v1/responses/{id}/notes",
            format!("/v1/responses/{}/notes", id(4)),
        ),
        (
            "mia",
            "PATCH /v1/responses/{id}/follow-up",
            format!("/v1/responses/{}/follow-up", id(4)),
        ),
        ("admin", "POST /v1/tokens", "/v1/tokens".to_owned()),
        ("admin", "POST /v1/tokens", "/v1/tokens".to_owned()),
    ];
    let expected: Vec<(String, String, String)> = expected
        .into_iter()
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c))
        .collect();
    assert_eq!(actions, expected, "newest first, nothing else");
    // Keyset pages with a Link to the next, and the CSV.
    let (status, headers, body) = call(addr, "GET", "/v1/audit?limit=4", ADMIN, None).await;
    assert_eq!(status, 200, "{body}");
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page.as_array().unwrap().len(), 4);
    let link = headers["link"].to_str().unwrap();
    let next = link
        .trim_start_matches('<')
        .split_once('>')
        .unwrap()
        .0
        .to_owned();
    let rest = get_json(addr, &next).await;
    assert_eq!(rest.as_array().unwrap().len(), 2, "{rest}");
    assert_eq!(
        rest[0]["seq"].as_i64().unwrap() + 1,
        page[3]["seq"].as_i64().unwrap()
    );
    let csv = get(addr, "/v1/audit?format=csv").await;
    assert!(
        csv.starts_with("seq,at,actor,action,object,detail"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 7, "{csv}");
    let (status, _, body) = call(addr, "GET", "/v1/audit?limit=0", ADMIN, None).await;
    assert_eq!(status, 400);
    assert!(body.contains("limit"), "{body}");
}
