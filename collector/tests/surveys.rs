//! Surveys managed over the API, over real HTTP on both databases: create (201, a draft at
//! version 1), a taken id (409), a bad id or definition (400 naming the field or the key, as
//! the widget's reader says it), no token (401), a viewer's change (403), edits (one version
//! each, every one kept), two editors at once (`If-Match`: 412 for the stale one), a revert
//! (the old definition saved as a new version), and the public definition the widget loads
//! (drafts 404; ETag and 304; a minute's cache; open to any origin).

#[macro_use]
mod pg;

use pg::http::{call, client};
use pg::Db;

use std::net::SocketAddr;

use nps_collector::Settings;
use serde_json::{json, Value};

const ADMIN: &str = "admin-token-for-the-survey-tests";

on_both!(
    surveys_are_made_edited_and_versioned,
    bad_surveys_are_refused_by_name,
    two_editors_at_once_do_not_overwrite_each_other,
    the_public_definition_is_cacheable_and_open_to_any_origin,
    answers_say_which_version_they_saw,
);

async fn start(db: Db, name: &str) -> SocketAddr {
    let url = pg::http::database(db, "surveys", name).await;
    pg::http::serve(Settings {
        db: url,
        rate_limit: 0,
        token: Some(ADMIN.into()),
        ..Settings::default()
    })
    .await
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// `POST /v1/surveys` as the admin: the status and the answer.
async fn create(addr: SocketAddr, survey: Value) -> (u16, Value) {
    let (status, _, body) = call(addr, "POST", "/v1/surveys", ADMIN, Some(survey)).await;
    (status, json(&body))
}

async fn put(addr: SocketAddr, id: &str, if_match: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = client()
        .put(format!("http://{addr}/v1/surveys/{id}"))
        .bearer_auth(ADMIN)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    (status, json(&r.text().await.unwrap()))
}

async fn surveys_are_made_edited_and_versioned(db: Db) {
    let addr = start(db, "versions").await;
    let definition = json!({"strings": {"passive_prompt": "What one thing would make it a 10?"}});
    let made = json!({"id": "in-app", "name": "In-app NPS", "definition": definition});
    let (status, headers, body) = call(addr, "POST", "/v1/surveys", ADMIN, Some(made)).await;
    assert_eq!(status, 201, "{body}");
    let made = json(&body);
    assert_eq!(
        (
            made["status"].as_str(),
            made["version"].as_i64(),
            made["changed_by"].as_str()
        ),
        (Some("draft"), Some(1), Some("admin"))
    );
    assert_eq!(made["definition"], definition);
    assert_eq!(headers["etag"], "\"1\"");

    // The id is taken.
    let (status, taken) = create(addr, json!({"id": "in-app", "name": "Again"})).await;
    assert_eq!(
        (status, taken["field"].as_str()),
        (409, Some("id")),
        "{taken}"
    );

    // Each change is one more version; what a change leaves out stays.
    let (status, saved) = put(addr, "in-app", None, json!({"name": "In-app NPS (Pro)"})).await;
    assert_eq!(
        (status, saved["version"].as_i64()),
        (200, Some(2)),
        "{saved}"
    );
    assert_eq!(saved["definition"], definition);
    let narrowed = json!({
        "strings": {"passive_prompt": "What one thing would make it a 10?"},
        "audience": [{"trait": "plan", "in": ["pro"]}],
    });
    let (_, saved) = put(
        addr,
        "in-app",
        Some("\"2\""),
        json!({"definition": narrowed}),
    )
    .await;
    assert_eq!(saved["version"].as_i64(), Some(3), "{saved}");
    let (_, saved) = put(addr, "in-app", None, json!({"status": "active"})).await;
    assert_eq!(
        (saved["version"].as_i64(), saved["status"].as_str()),
        (Some(4), Some("active"))
    );

    let (status, headers, body) = call(addr, "GET", "/v1/surveys/in-app", ADMIN, None).await;
    assert_eq!(
        (status, headers["etag"].to_str().unwrap()),
        (200, "\"4\""),
        "{body}"
    );
    let (_, _, body) = call(addr, "GET", "/v1/surveys", ADMIN, None).await;
    let list = json(&body);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["name"], "In-app NPS (Pro)");

    let (status, _, body) = call(addr, "GET", "/v1/surveys/in-app/versions", ADMIN, None).await;
    assert_eq!(status, 200, "{body}");
    let versions = json(&body);
    let numbers: Vec<i64> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [4, 3, 2, 1], "newest first, every one kept");
    assert_eq!(versions[3]["definition"], definition);
    assert_eq!(versions[3]["status"], "draft");

    // A revert saves the old definition as a new version.
    let old = versions[3]["definition"].clone();
    let (_, saved) = put(addr, "in-app", Some("\"4\""), json!({"definition": old})).await;
    assert_eq!(saved["version"].as_i64(), Some(5));
    assert_eq!(saved["definition"], definition);
    assert_eq!(
        saved["status"], "active",
        "a revert of the text keeps the status"
    );

    let (status, _, _) = call(addr, "GET", "/v1/surveys/nothing", ADMIN, None).await;
    assert_eq!(status, 404);
    let (status, _, _) = call(addr, "GET", "/v1/surveys/nothing/versions", ADMIN, None).await;
    assert_eq!(status, 404);
    let (status, body) = put(addr, "nothing", None, json!({"name": "x"})).await;
    assert_eq!((status, body["field"].as_str()), (404, Some("id")));
}

async fn bad_surveys_are_refused_by_name(db: Db) {
    let addr = start(db, "refused").await;
    let post = |body: Value, token: &'static str| async move {
        let (status, _, text) = call(addr, "POST", "/v1/surveys", token, Some(body)).await;
        (
            status,
            if text.is_empty() {
                json!(null)
            } else {
                json(&text)
            },
        )
    };
    let table = [
        (json!({"id": "Q4 2026", "name": "x"}), "id", "id must be 1 to 64 characters of a-z, 0-9, _ and -"),
        (json!({"id": "q4", "name": ""}), "name", "name must be 1 to 200 characters"),
        (
            json!({"id": "q4", "name": "x", "definition": {"trigger": "sometimes"}}),
            "definition.trigger",
            "\"trigger\" must be \"load\", \"page_views\", \"scroll\", \"exit_intent\", \"manual\" or \"event\", got \"sometimes\"",
        ),
        (
            json!({"id": "q4", "name": "x", "definition": {"recontact_dayz": 30}}),
            "definition.recontact_dayz",
            "unknown key \"recontact_dayz\", did you mean \"recontact_days\"?",
        ),
        (
            json!({"id": "q4", "name": "x", "definition": {"endpoint": "https://elsewhere.example/v1/responses"}}),
            "definition.endpoint",
            "\"endpoint\" may only be set by the page that embeds the survey",
        ),
        (
            json!({"id": "q4", "name": "x", "definition": {"audience": [{"trait": "plan", "equals": "pro"}]}}),
            "definition.audience",
            "audience[0]: unknown operator \"equals\", did you mean \"is\"?",
        ),
        (json!({"id": "q4", "name": "x", "definition": [1]}), "definition", "definition must be an object of config keys"),
    ];
    for (body, field, message) in table {
        let (status, answer) = post(body.clone(), ADMIN).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert_eq!(
            (answer["field"].as_str(), answer["error"].as_str()),
            (Some(field), Some(message))
        );
    }
    let good = json!({"id": "q4", "name": "Q4"});
    let (status, answer) = post(good.clone(), "").await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (401, Some("Authorization"))
    );
    let (status, _) = post(good.clone(), "a-token-nobody-made").await;
    assert_eq!(status, 401);
    // A viewer reads and does not change.
    let viewer = pg::http::make_token(addr, ADMIN, "vic", "viewer").await;
    let (status, _, _) = call(addr, "POST", "/v1/surveys", &viewer, Some(good.clone())).await;
    assert_eq!(status, 403);
    let (status, _, _) = call(addr, "GET", "/v1/surveys", &viewer, None).await;
    assert_eq!(status, 200);
    let (status, _, _) = call(addr, "GET", "/v1/surveys", "", None).await;
    assert_eq!(status, 401);
    // An edit is checked as a creation is.
    assert_eq!(post(good, ADMIN).await.0, 201);
    let (status, answer) = put(addr, "q4", None, json!({"definition": {"debug": true}})).await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (400, Some("definition.debug"))
    );
    let (status, answer) = put(addr, "q4", None, json!({"status": "archived"})).await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (400, Some("status")),
        "{answer}"
    );
    let (status, answer) = put(addr, "q4", None, json!({})).await;
    assert_eq!((status, answer["field"].as_str()), (400, Some("body")));
    let (status, answer) = put(addr, "q4", Some("yesterday"), json!({"name": "x"})).await;
    assert_eq!((status, answer["field"].as_str()), (400, Some("If-Match")));
}

async fn two_editors_at_once_do_not_overwrite_each_other(db: Db) {
    let addr = start(db, "stale").await;
    let (status, _) = create(addr, json!({"id": "nps", "name": "NPS"})).await;
    assert_eq!(status, 201);
    // Both loaded version 1; the first to save wins, the second is told.
    let (status, first) = put(
        addr,
        "nps",
        Some("\"1\""),
        json!({"definition": {"strings": {"question": "First"}}}),
    )
    .await;
    assert_eq!((status, first["version"].as_i64()), (200, Some(2)));
    let (status, second) = put(
        addr,
        "nps",
        Some("\"1\""),
        json!({"definition": {"strings": {"question": "Second"}}}),
    )
    .await;
    assert_eq!(
        (status, second["field"].as_str()),
        (412, Some("If-Match")),
        "{second}"
    );
    assert!(
        second["error"].as_str().unwrap().contains("version 2"),
        "{second}"
    );
    let (_, _, body) = call(addr, "GET", "/v1/surveys/nps", ADMIN, None).await;
    assert_eq!(json(&body)["definition"]["strings"]["question"], "First");
    // Many saves at once, each naming the version it read: exactly one wins each round.
    let mut saves = Vec::new();
    for n in 0..6 {
        saves.push(tokio::spawn(put(
            addr,
            "nps",
            Some("\"2\""),
            json!({"name": format!("Editor {n}")}),
        )));
    }
    let mut won = 0;
    for save in saves {
        let (status, _) = save.await.unwrap();
        assert!(status == 200 || status == 412, "{status}");
        won += usize::from(status == 200);
    }
    assert_eq!(won, 1);
    let (_, _, body) = call(addr, "GET", "/v1/surveys/nps/versions", ADMIN, None).await;
    assert_eq!(json(&body).as_array().map(Vec::len), Some(3));
}

async fn the_public_definition_is_cacheable_and_open_to_any_origin(db: Db) {
    let addr = start(db, "public").await;
    let definition =
        json!({"strings": {"question": "Would you recommend Acme?"}, "trigger": "load"});
    create(
        addr,
        json!({"id": "site", "name": "Site", "definition": definition}),
    )
    .await;
    let get = |tag: Option<&'static str>| async move {
        let mut request = client()
            .get(format!("http://{addr}/v1/surveys/site/definition"))
            .header("origin", "https://shop.example");
        if let Some(tag) = tag {
            request = request.header("if-none-match", tag);
        }
        let r = request.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.text().await.unwrap())
    };
    let (status, _, _) = get(None).await;
    assert_eq!(status, 404, "a draft is not served");
    let (status, _, _) = call(addr, "GET", "/v1/surveys/nothing/definition", "", None).await;
    assert_eq!(status, 404);

    put(addr, "site", None, json!({"status": "active"})).await;
    let (status, headers, body) = get(None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        json(&body),
        json!({"id": "site", "version": 2, "status": "active", "definition": definition})
    );
    assert_eq!(headers["etag"], "\"2\"");
    assert_eq!(headers["cache-control"], "public, max-age=60");
    assert_eq!(headers["access-control-allow-origin"], "*");
    let (status, headers, body) = get(Some("\"2\"")).await;
    assert_eq!((status, body.as_str()), (304, ""));
    assert_eq!(headers["etag"], "\"2\"");
    let (status, _, _) = get(Some("\"1\"")).await;
    assert_eq!(status, 200, "another version's tag gets the body");

    // Paused: still served, so the widget knows to show nothing.
    put(addr, "site", None, json!({"status": "paused"})).await;
    let (status, headers, body) = get(Some("\"2\"")).await;
    assert_eq!(
        (status, json(&body)["status"].as_str()),
        (200, Some("paused"))
    );
    assert_eq!(headers["etag"], "\"3\"");

    // The preflight of a cross-origin GET with If-None-Match.
    let r = client()
        .request(
            reqwest::Method::OPTIONS,
            format!("http://{addr}/v1/surveys/site/definition"),
        )
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "if-none-match")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
}

/// A response as the widget sends it, to version `version` of survey `nps`.
fn answer(n: u32, score: u8, version: Option<u32>) -> Value {
    let segment = match score {
        0..=6 => "detractor",
        7..=8 => "passive",
        _ => "promoter",
    };
    let mut r = json!({
        "schema": 1, "id": format!("7d1e3c1a-5f7d-4c2e-9a8b-{n:012}"), "survey_id": "nps",
        "score": score, "segment": segment, "state": "partial",
        "context": {"url": "https://example.com/", "locale": "en"},
        "shown_at": "2026-11-20T10:00:00.000Z", "answered_at": "2026-11-20T10:00:04.000Z",
    });
    if let Some(v) = version {
        r["survey_version"] = json!(v);
    }
    r
}

async fn answers_say_which_version_they_saw(db: Db) {
    let addr = start(db, "answer-versions").await;
    for (n, score, version) in [
        (1, 10, Some(1)),
        (2, 9, Some(1)),
        (3, 3, Some(2)),
        (4, 8, None),
    ] {
        let r = client()
            .post(format!("http://{addr}/v1/responses"))
            .header("content-type", "application/json")
            .body(answer(n, score, version).to_string())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
    let answers = |query: &'static str| async move {
        let (status, _, body) = call(addr, "GET", query, ADMIN, None).await;
        assert_eq!(status, 200, "{body}");
        json(&body)["answers"].as_u64().unwrap()
    };
    assert_eq!(answers("/v1/summary").await, 4);
    assert_eq!(answers("/v1/summary?survey_version=1").await, 2);
    assert_eq!(answers("/v1/summary?survey_version=2").await, 1);
    let (status, _, body) = call(addr, "GET", "/v1/responses?survey_version=2", ADMIN, None).await;
    assert_eq!(status, 200);
    let list = json(&body);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["survey_version"], 2);
    let (status, _, body) = call(addr, "GET", "/v1/summary?survey_version=0", ADMIN, None).await;
    assert_eq!(
        (status, json(&body)["field"].as_str()),
        (400, Some("survey_version")),
        "{body}"
    );
    // A version of 0 is not one.
    let r = client()
        .post(format!("http://{addr}/v1/responses"))
        .header("content-type", "application/json")
        .body(answer(5, 9, Some(0)).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    // The trend of the survey marks the week its wording changed.
    create(addr, json!({"id": "nps", "name": "NPS"})).await;
    put(
        addr,
        "nps",
        None,
        json!({"definition": {"strings": {"question": "New?"}}}),
    )
    .await;
    let mut now = answer(6, 9, Some(2));
    now["shown_at"] = json!(nps_collector::clock::now_rfc3339());
    now["answered_at"] = json!(nps_collector::clock::now_rfc3339());
    let r = client()
        .post(format!("http://{addr}/v1/responses"))
        .header("content-type", "application/json")
        .body(now.to_string())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let (_, _, body) = call(addr, "GET", "/v1/summary?survey_id=nps", ADMIN, None).await;
    let trend = json(&body)["trend"].as_array().unwrap().clone();
    assert_eq!(trend.last().unwrap()["new_wording"], 2, "{body}");
    assert!(trend[..trend.len() - 1]
        .iter()
        .all(|p| p.get("new_wording").is_none()));
    let (_, _, svg) = call(addr, "GET", "/v1/trend.svg?survey_id=nps", ADMIN, None).await;
    assert_eq!(svg.matches("class=\"wording\"").count(), 1, "{svg}");
    let (_, _, svg) = call(addr, "GET", "/v1/trend.svg", ADMIN, None).await;
    assert!(
        !svg.contains("wording"),
        "all surveys: no one survey's wording"
    );
}
