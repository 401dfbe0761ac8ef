//! Reach, over real HTTP on both databases: personal links (signed, tampered, expired), the
//! hosted page (a GET of every `?score=N` records nothing; a post records the link's person
//! under the link's one response; a second visit shows the thanks), the mail merge CSV, the
//! detractor alerts through a local chat receiver (once per detractor, retried, also with two
//! collectors on one PostgreSQL), and the digest's content.

#[macro_use]
mod pg;

use pg::http::{call, client};
use pg::Db;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use nps_collector::link::{self, Link};
use nps_collector::notify::Every;
use nps_collector::Settings;
use serde_json::{json, Value};
use time::OffsetDateTime;

const ADMIN: &str = "admin-token-for-the-reach-tests";
const MEMBER: &str = "member-token-for-the-reach-tests";
const LINK_SECRET: &str = "link-secret-for-the-reach-tests";

on_both!(
    links_are_signed_and_refused_when_changed_or_expired,
    a_get_records_nothing_and_each_link_records_one_response,
    the_mail_merge_has_one_row_per_person_with_an_email,
    each_detractor_is_announced_once,
    the_digest_says_what_changed,
);

async fn database(db: Db, name: &str) -> String {
    pg::http::database(db, "reach", name).await
}

/// A collector of the database at `url` with `settings`; its address.
async fn start_on(url: &str, settings: Settings) -> SocketAddr {
    let settings = Settings {
        db: url.to_owned(),
        rate_limit: 0,
        token: Some(ADMIN.into()),
        link_secret: Some(LINK_SECRET.into()),
        product: "Acme".into(),
        ..settings
    };
    pg::http::serve(settings).await
}

async fn start(db: Db, name: &str, settings: Settings) -> SocketAddr {
    start_on(&database(db, name).await, settings).await
}

/// The member token of a collector: made through the admin API.
async fn member(addr: SocketAddr) -> String {
    pg::http::make_token(addr, ADMIN, "mia", "member").await
}

fn stamp(at: OffsetDateTime) -> String {
    nps_collector::clock::stamp(at)
}

/// A response as the widget sends it, shown `days_ago`.
fn answer(n: u32, score: Option<u8>, state: &str, user: Value, days_ago: i64) -> Value {
    let segment = match score {
        None => "silent",
        Some(0..=6) => "detractor",
        Some(7..=8) => "passive",
        Some(_) => "promoter",
    };
    let shown = OffsetDateTime::now_utc() - time::Duration::days(days_ago);
    let mut r = json!({
        "schema": 1, "id": format!("0b6e3c1a-5f7d-4c2e-9a8b-{n:012}"), "survey_id": "default",
        "score": score, "segment": segment, "state": state, "user": user,
        "context": {"url": "https://example.com/app", "locale": "en"},
        "shown_at": stamp(shown),
    });
    if score.is_some() {
        r["answered_at"] = json!(stamp(shown + time::Duration::seconds(2)));
    } else {
        r["silent_reason"] = json!("dismissed");
    }
    if state == "complete" {
        r["completed_at"] = json!(stamp(shown + time::Duration::seconds(9)));
    }
    r
}

async fn ingest(addr: SocketAddr, path: &str, body: &Value) -> (u16, String) {
    let r = client()
        .post(format!("http://{addr}{path}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn responses(addr: SocketAddr) -> Vec<Value> {
    let (status, _, body) = call(addr, "GET", "/v1/responses?limit=1000", ADMIN, None).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Vec<Value>>(&body).unwrap()
}

/// Creates a link for `user`; the answer's JSON.
async fn new_link(addr: SocketAddr, token: &str, body: Value) -> (u16, Value) {
    let (status, _, text) = call(addr, "POST", "/v1/links", token, Some(body)).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn path_of(url: &str) -> String {
    let start = url.find("/s/").unwrap();
    url[start..].to_owned()
}

async fn links_are_signed_and_refused_when_changed_or_expired(db: Db) {
    let addr = start(
        db,
        "links",
        Settings {
            public_url: Some("https://nps.example.com/".into()),
            ..Settings::default()
        },
    )
    .await;
    let token = member(addr).await;
    let (status, link) = new_link(
        addr,
        &token,
        json!({"survey_id": "default", "user": {"id": "u_1", "account_id": "acct_9",
            "email": "ana@example.com"}, "expires_days": 14, "locale": "fr"}),
    )
    .await;
    assert_eq!(status, 201, "{link}");
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with("https://nps.example.com/s/"), "{url}");
    let expires = link["expires_at"].as_str().unwrap();
    let in_14_days = OffsetDateTime::now_utc() + time::Duration::days(14);
    assert_eq!(&expires[..10], &stamp(in_14_days)[..10]);
    let html = link["email_html"].as_str().unwrap();
    for n in 0..=10 {
        assert!(html.contains(&format!("{url}?score={n}\"")), "score {n}");
    }
    assert!(html.contains("lang=\"fr\""), "the link's language");
    assert!(html.contains("Acme"));

    // Bad requests name the field; a viewer may not make links; nobody may without a token.
    for (body, field) in [
        (json!({"user": {}}), "user"),
        (
            json!({"user": {"id": "u"}, "expires_days": 0}),
            "expires_days",
        ),
        (
            json!({"user": {"id": "u"}, "expires_days": 366}),
            "expires_days",
        ),
        (json!({"user": {"id": "u"}, "colour": 1}), "colour"),
    ] {
        let (status, e) = new_link(addr, &token, body).await;
        assert_eq!(status, 400, "{e}");
        assert_eq!(e["field"], field, "{e}");
    }
    let (status, _) = new_link(addr, "", json!({"user": {"id": "u"}})).await;
    assert_eq!(status, 401);
    let viewer = pg::http::make_token(addr, ADMIN, "vic", "viewer").await;
    let (status, e) = new_link(addr, &viewer, json!({"user": {"id": "u"}})).await;
    assert_eq!(status, 403, "a viewer may not make links: {e}");

    // The page: served with its CSP, never framed, never cached.
    let path = path_of(url);
    let (status, headers, page) = call(addr, "GET", &path, "", None).await;
    assert_eq!(status, 200, "{page}");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
    assert_eq!(headers["cache-control"], "no-store");
    assert!(page.contains("id=\"nps-link\"") && page.contains("lang=\"fr\""));

    // One character changed anywhere: refused.
    let token_text = path.trim_start_matches("/s/");
    let (payload, tag) = token_text.split_once('.').unwrap();
    let flip = |s: &str| {
        let mut c: Vec<char> = s.chars().collect();
        c[3] = if c[3] == 'A' { 'B' } else { 'A' };
        c.into_iter().collect::<String>()
    };
    for changed in [
        format!("{}.{tag}", flip(payload)),
        format!("{payload}.{}", flip(tag)),
    ] {
        let (status, _, page) = call(addr, "GET", &format!("/s/{changed}"), "", None).await;
        assert_eq!(status, 403, "{changed}");
        assert!(page.contains("not valid"));
        let (status, body) = ingest(
            addr,
            &format!("/s/{changed}"),
            &answer(1, Some(3), "partial", json!({}), 0),
        )
        .await;
        assert_eq!(status, 403, "{body}");
    }

    // Expired: a page that says so, and a post refused.
    let expired = Link {
        survey_id: "default".into(),
        user_id: Some("u_2".into()),
        account_id: None,
        email: None,
        locale: None,
        expires_at: OffsetDateTime::now_utc().unix_timestamp() - 1,
        nonce: link::nonce(),
        issued_at: 0,
    }
    .sign(LINK_SECRET.as_bytes());
    let (status, _, page) = call(addr, "GET", &format!("/s/{expired}"), "", None).await;
    assert_eq!(status, 410);
    assert!(page.contains("This link has expired."));
    let (status, body) = ingest(
        addr,
        &format!("/s/{expired}"),
        &answer(2, Some(3), "partial", json!({}), 0),
    )
    .await;
    assert_eq!(status, 410, "{body}");
    assert!(responses(addr).await.is_empty(), "nothing was recorded");

    // The email preview: the block alone, no script.
    let (status, headers, preview) = call(addr, "GET", &format!("{path}/email"), "", None).await;
    assert_eq!(status, 200);
    assert!(!preview.contains("<script"));
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'self'"));
}

async fn a_get_records_nothing_and_each_link_records_one_response(db: Db) {
    // Anonymous answers are refused here: the link is the identity.
    let addr = start(
        db,
        "hosted",
        Settings {
            identity_secret: Some("identity-secret-for-tests".into()),
            require_identity: true,
            ..Settings::default()
        },
    )
    .await;
    let token = member(addr).await;
    let (_, link) = new_link(
        addr,
        &token,
        json!({"user": {"id": "u_7", "account_id": "acct_3", "email": "bo@example.com"}}),
    )
    .await;
    let path = path_of(link["url"].as_str().unwrap());
    // A mail scanner opens every button's link, and a HEAD too: nothing is recorded.
    for n in 0..=10 {
        let (status, _, page) = call(addr, "GET", &format!("{path}?score={n}"), "", None).await;
        assert_eq!(status, 200);
        assert!(page.contains("nps-link"));
    }
    assert!(responses(addr).await.is_empty(), "a GET records nothing");

    // The page's post: whatever it claims, the link's person, survey and one response id.
    let forged = json!({"id": "someone-else", "account_id": "acct_other"});
    let mut partial = answer(70, Some(4), "partial", forged.clone(), 0);
    partial["survey_id"] = json!("other");
    let (status, body) = ingest(addr, &path, &partial).await;
    assert_eq!(status, 201, "{body}");
    let (plain, _) = ingest(
        addr,
        "/v1/responses",
        &answer(71, Some(4), "partial", json!({}), 0),
    )
    .await;
    assert_eq!(plain, 403, "an anonymous post is still refused");
    let stored = responses(addr).await;
    assert_eq!(stored.len(), 1);
    let id = link::response_id(path.trim_start_matches("/s/"));
    assert_eq!(stored[0]["id"], id);
    assert_eq!(
        stored[0]["user"],
        json!({"id": "u_7", "account_id": "acct_3", "email": "bo@example.com"})
    );
    assert_eq!(stored[0]["survey_id"], "default");

    // A second visit after the partial opens on the recorded score.
    let (_, _, page) = call(addr, "GET", &path, "", None).await;
    assert!(page.contains("\"score\":4"), "{page}");

    // Another page load posts under another widget id: still the link's one response.
    let mut complete = answer(72, Some(4), "complete", json!({}), 0);
    complete["comment"] = json!("Exports are slow");
    let (status, body) = ingest(addr, &path, &complete).await;
    assert_eq!(status, 200, "{body}");
    let stored = responses(addr).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["state"], "complete");
    assert_eq!(stored[0]["comment"], "Exports are slow");

    // Answered: the thanks, not a new survey.
    let (status, _, page) = call(addr, "GET", &format!("{path}?score=9"), "", None).await;
    assert_eq!(status, 200);
    assert!(!page.contains("nps-link"), "{page}");
    assert!(page.contains("Thank you for telling us."), "{page}");
    assert_eq!(responses(addr).await.len(), 1);
}

async fn the_mail_merge_has_one_row_per_person_with_an_email(db: Db) {
    let addr = start(db, "merge", Settings::default()).await;
    let token = member(addr).await;
    let people = [
        (
            1,
            None,
            json!({"id": "u1", "account_id": "acct_s", "email": "one@example.com"}),
        ),
        (
            2,
            None,
            json!({"id": "u1", "account_id": "acct_s", "email": "one@example.com"}),
        ),
        (
            3,
            None,
            json!({"id": "u2", "account_id": "acct_s", "email": "=two@example.com"}),
        ),
        (4, None, json!({"id": "u3", "account_id": "acct_s"})),
        (
            5,
            Some(2),
            json!({"id": "u4", "account_id": "acct_d", "email": "four@example.com"}),
        ),
    ];
    for (n, score, user) in people {
        let state = if score.is_some() {
            "complete"
        } else {
            "partial"
        };
        let (status, body) = ingest(addr, "/v1/responses", &answer(n, score, state, user, 1)).await;
        assert!(status == 201, "{body}");
    }
    let (status, headers, csv) = call(
        addr,
        "POST",
        "/v1/links/bulk",
        &token,
        Some(json!({"segment": "silent", "expires_days": 7})),
    )
    .await;
    assert_eq!(status, 200, "{csv}");
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "email,user_id,account_id,url");
    assert_eq!(lines.len(), 3, "two people with an email: {csv}");
    assert!(
        lines[1].starts_with("'=two@example.com,u2,acct_s,http://"),
        "defused: {}",
        lines[1]
    );
    assert!(lines[2].starts_with("one@example.com,u1,acct_s,http://"));
    for line in &lines[1..] {
        let url = line.rsplit(',').next().unwrap();
        let t = url.rsplit("/s/").next().unwrap();
        let link = Link::verify(
            LINK_SECRET.as_bytes(),
            t,
            OffsetDateTime::now_utc().unix_timestamp(),
        )
        .unwrap();
        assert_eq!(link.account_id.as_deref(), Some("acct_s"));
        let week = OffsetDateTime::now_utc().unix_timestamp() + 7 * 86_400;
        assert!((link.expires_at - week).abs() < 60);
    }
    let (status, _, body) = call(
        addr,
        "POST",
        "/v1/links/bulk",
        &token,
        Some(json!({"segment": "loud"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"field\":\"segment\""), "{body}");
    let (status, _, _) = call(addr, "POST", "/v1/links/bulk", "", Some(json!({}))).await;
    assert_eq!(status, 401);
}

type Heard = Arc<Mutex<Vec<Value>>>;

/// A chat's incoming webhook on loopback that refuses the first `refuse` posts with 503.
async fn chat(refuse: usize) -> (String, Heard) {
    let heard: Heard = Arc::default();
    let seen = heard.clone();
    let router = Router::new().route(
        "/hook",
        post(move |body: String| {
            let seen = seen.clone();
            async move {
                let mut seen = seen.lock().unwrap();
                seen.push(serde_json::from_str(&body).unwrap_or(Value::Null));
                if seen.len() <= refuse {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}/hook"), heard)
}

async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn texts(heard: &Heard) -> Vec<String> {
    heard
        .lock()
        .unwrap()
        .iter()
        .map(|v| v["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn each_detractor_is_announced_once(db: Db) {
    let (hook, heard) = chat(1).await;
    let addr = start(
        db,
        "alerts",
        Settings {
            notify: vec![hook],
            notify_delay: Duration::from_secs(2),
            public_url: Some("https://nps.example.com".into()),
            ..Settings::default()
        },
    )
    .await;
    // A complete detractor: announced at once (the first post is refused, then retried).
    let mut complete = answer(
        1,
        Some(2),
        "complete",
        json!({"account_id": "acct_42", "email": "ana@example.com"}),
        0,
    );
    complete["comment"] = json!("Export broke <!channel> & more");
    ingest(addr, "/v1/responses", &complete).await;
    // A promoter: never.
    ingest(
        addr,
        "/v1/responses",
        &answer(2, Some(10), "complete", json!({}), 0),
    )
    .await;
    // A partial detractor: announced after the delay, without waiting for ever.
    ingest(
        addr,
        "/v1/responses",
        &answer(3, Some(5), "partial", json!({"id": "u3"}), 0),
    )
    .await;
    wait_for("both alerts and the retry", Duration::from_secs(20), || {
        texts(&heard).len() == 3
    })
    .await;
    let all = texts(&heard);
    assert_eq!(all[0], all[1], "the refused post was sent again");
    assert!(
        all[1].starts_with("Detractor (2/10) from acct_42 (ana@example.com): "),
        "{}",
        all[1]
    );
    assert!(
        all[1].contains("&lt;!channel&gt; &amp; more"),
        "escaped: {}",
        all[1]
    );
    assert!(all[1].ends_with(&format!(
        "<https://nps.example.com/dashboard#response=0b6e3c1a-5f7d-4c2e-9a8b-{:012}|Open in the dashboard>",
        1
    )));
    assert!(
        all[2].starts_with("Detractor (5/10) from u3, no comment"),
        "{}",
        all[2]
    );
    // Its complete afterwards, and a re-delivery of the first: no second alert.
    ingest(
        addr,
        "/v1/responses",
        &answer(3, Some(5), "complete", json!({"id": "u3"}), 0),
    )
    .await;
    ingest(addr, "/v1/responses", &complete).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(texts(&heard).len(), 3, "{:?}", texts(&heard));
}

/// Two collectors of one PostgreSQL database, both with the chat URL: each detractor is
/// announced once.
#[tokio::test]
async fn two_collectors_on_one_postgres_announce_each_detractor_once() {
    let url = pg::fresh_database().await;
    let (hook, heard) = chat(0).await;
    let settings = || Settings {
        notify: vec![hook.clone()],
        notify_delay: Duration::from_secs(600),
        ..Settings::default()
    };
    let a = start_on(&url, settings()).await;
    let b = start_on(&url, settings()).await;
    for n in 0..20u32 {
        let to = if n % 2 == 0 { a } else { b };
        let (status, body) = ingest(
            to,
            "/v1/responses",
            &answer(
                n,
                Some((n % 7) as u8),
                "complete",
                json!({"id": format!("p{n}")}),
                0,
            ),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    wait_for("20 alerts", Duration::from_secs(30), || {
        texts(&heard).len() >= 20
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut people: Vec<String> = texts(&heard)
        .iter()
        .map(|t| {
            t.split(" from ")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    people.sort();
    people.dedup();
    assert_eq!(texts(&heard).len(), 20);
    assert_eq!(people.len(), 20, "each once");
}

async fn the_digest_says_what_changed(db: Db) {
    let (hook, heard) = chat(0).await;
    let url = database(db, "digest").await;
    let addr = start_on(
        &url,
        Settings {
            notify: vec![hook],
            digest: Some(Every::Week),
            ..Settings::default()
        },
    )
    .await;
    // The week before: 4 promoters; acct_s was silent then already.
    for n in 0..4 {
        ingest(
            addr,
            "/v1/responses",
            &answer(n, Some(10), "complete", json!({"account_id": "acct_a"}), 10),
        )
        .await;
    }
    ingest(
        addr,
        "/v1/responses",
        &answer(4, None, "partial", json!({"account_id": "acct_s"}), 10),
    )
    .await;
    // This week: 1 promoter, 2 passives asking for dark mode, 1 detractor, acct_s and acct_n silent.
    ingest(
        addr,
        "/v1/responses",
        &answer(10, Some(9), "complete", json!({"account_id": "acct_a"}), 2),
    )
    .await;
    for n in 11..13 {
        let mut p = answer(n, Some(7), "complete", json!({"account_id": "acct_a"}), 2);
        p["comment"] = json!("Please add a dark mode");
        ingest(addr, "/v1/responses", &p).await;
    }
    ingest(
        addr,
        "/v1/responses",
        &answer(13, Some(3), "complete", json!({"account_id": "acct_a"}), 2),
    )
    .await;
    ingest(
        addr,
        "/v1/responses",
        &answer(14, None, "partial", json!({"account_id": "acct_s"}), 2),
    )
    .await;
    ingest(
        addr,
        "/v1/responses",
        &answer(15, None, "partial", json!({"account_id": "acct_n"}), 2),
    )
    .await;

    // A note on the day of this week's answers, and one long before.
    let day = |ago: i64| {
        let d = (time::OffsetDateTime::now_utc() - time::Duration::days(ago)).date();
        format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    };
    for (date, text) in [(day(2), "Pricing <change>"), (day(400), "Long ago")] {
        let (status, _, body) = call(
            addr,
            "POST",
            "/v1/annotations",
            ADMIN,
            Some(json!({"date": date, "text": text})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, _, body) = call(addr, "POST", "/v1/digest", MEMBER, None).await;
    assert_eq!(status, 401, "an unknown token: {body}");
    let token = member(addr).await;
    let (status, _, _) = call(addr, "POST", "/v1/digest", &token, None).await;
    assert_eq!(status, 403, "a member may not");
    let (status, _, body) = call(addr, "POST", "/v1/digest", ADMIN, None).await;
    assert_eq!(status, 200, "{body}");
    let answer_json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer_json["sent_to"], 1);
    wait_for("the digest", Duration::from_secs(10), || {
        !texts(&heard).is_empty()
    })
    .await;
    let text = texts(&heard).pop().unwrap();
    assert!(text.starts_with("*Weekly NPS digest*"), "{text}");
    assert!(
        text.contains("NPS +0.0 ± "),
        "1 promoter, 2 passives, 1 detractor: {text}"
    );
    assert!(
        text.contains("from 4 answers (1 promoters, 2 passives, 1 detractors)"),
        "{text}"
    );
    assert!(
        text.contains("Against the week before: -100.0 points"),
        "{text}"
    );
    assert!(
        text.contains("Response rate: 67 % (4 of 6 asked)"),
        "{text}"
    );
    assert!(
        text.contains("Top passive themes: \u{201c}dark mode\u{201d} (2)"),
        "{text}"
    );
    assert!(text.contains("Open follow-ups: 4"), "{text}");
    assert!(text.contains("New silent accounts: 1 (acct_n)"), "{text}");
    assert!(
        text.contains(&format!("Note, {}: Pricing &lt;change&gt;", day(2))),
        "{text}"
    );
    assert!(!text.contains("Long ago"), "{text}");

    // Without a chat URL there is nowhere to send it.
    let quiet = start(db, "digest-quiet", Settings::default()).await;
    let (status, _, body) = call(quiet, "POST", "/v1/digest", ADMIN, None).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("--notify"));
}
