//! The CRM sync over real HTTP on both databases, against local receivers that hold the sync
//! to HubSpot's and Salesforce's documented contracts: the bearer token, the paths, the body
//! shapes, the batch limits (100 inputs; 200 records), the rate limit (100 calls per 10 s,
//! answered with 429), per-item errors in the answer (HubSpot's 207 `errors` and its 400 for a
//! batch with an invalid email; Salesforce's per-record `success: false`), and cursor pages
//! (`paging.next.after`; `nextRecordsUrl`).

#[macro_use]
mod pg;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use nps_collector::crm::Config;
use nps_collector::store::Queues;
use nps_collector::{Settings, Store};
use pg::http::call;
use pg::Db;
use serde_json::{json, Value};

on_both!(
    hubspot_gets_every_account_person_and_answer_once,
    hubspot_waits_out_429_and_a_receiver_down_loses_nothing,
    salesforce_upserts_every_account_person_and_answer,
    ten_thousand_accounts_go_in_batches_within_the_rate_limit,
    imports_read_every_page_of_either_crm,
);

const ADMIN: &str = "crm-test-admin-token-0123456789";
const CRM_TOKEN: &str = "pat-na1-0000-test";

// ---------------------------------------------------------------------------------------
// The receivers.

/// What a receiver saw and holds.
#[derive(Debug, Default)]
struct Seen {
    /// (method path, records in the call) of every call taken.
    calls: Vec<(String, usize)>,
    /// Calls answered 429 for going over 100 per 10 s.
    over_rate: usize,
    /// The times of the calls of the last 10 s.
    window: VecDeque<Instant>,
    /// Answer the next this many calls with 429 and `Retry-After: 1`.
    throttle: usize,
    /// Answer every call with 503.
    down: bool,
    /// HubSpot: companies by `nps_account_id`, contacts by email (id, properties), notes.
    companies: BTreeMap<String, Value>,
    contacts: BTreeMap<String, (String, Value)>,
    notes: Vec<Value>,
    /// Salesforce: records per object by external id, and how often each was upserted.
    records: BTreeMap<(String, String), Value>,
    upserts: HashMap<(String, String), usize>,
    /// Property groups and properties `crm setup` made.
    properties: BTreeMap<String, Value>,
    next_id: u64,
}

type Shared = Arc<Mutex<Seen>>;

fn error(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// The checks every call passes first: the token, the down switch, the rate limit.
fn gate(seen: &mut Seen, headers: &HeaderMap) -> Option<Response> {
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {CRM_TOKEN}"))
    {
        return Some(error(
            StatusCode::UNAUTHORIZED,
            json!({"status": "error", "message": "Authentication credentials not found"}),
        ));
    }
    if seen.down {
        return Some(error(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"message": "down"}),
        ));
    }
    if seen.throttle > 0 {
        seen.throttle -= 1;
        return Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                Json(
                    json!({"status": "error", "message": "You have reached your secondly limit.",
                    "errorType": "RATE_LIMIT", "policyName": "SECONDLY"}),
                ),
            )
                .into_response(),
        );
    }
    let now = Instant::now();
    while seen
        .window
        .front()
        .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(10))
    {
        seen.window.pop_front();
    }
    if seen.window.len() >= 100 {
        seen.over_rate += 1;
        return Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    ("x-hubspot-ratelimit-interval-milliseconds", "10000"),
                    ("x-hubspot-ratelimit-max", "100"),
                    ("x-hubspot-ratelimit-remaining", "0"),
                ],
                Json(json!({"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                    "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"})),
            )
                .into_response(),
        );
    }
    seen.window.push_back(now);
    None
}

fn valid_email(email: &str) -> bool {
    let mut parts = email.split('@');
    matches!((parts.next(), parts.next(), parts.next()),
        (Some(user), Some(host), None) if !user.is_empty() && host.contains('.') && !email.contains(' '))
}

const COMPANY_PROPERTIES: [&str; 8] = [
    "name",
    "nps_account_id",
    "nps_score",
    "nps_segment",
    "nps_people_answered",
    "nps_last_response_at",
    "nps_open_follow_ups",
    "nps_dashboard_url",
];
const CONTACT_PROPERTIES: [&str; 6] = [
    "email",
    "nps_last_score",
    "nps_last_segment",
    "nps_last_response_at",
    "nps_last_comment",
    "nps_response_url",
];

/// `POST /crm/v3/objects/{companies|contacts}/batch/upsert`.
async fn hs_upsert(
    State(seen): State<Shared>,
    Path(object): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut seen = seen.lock().unwrap();
    if let Some(refused) = gate(&mut seen, &headers) {
        return refused;
    }
    let bad = |m: String| {
        error(
            StatusCode::BAD_REQUEST,
            json!({"status": "error", "category": "VALIDATION_ERROR", "message": m}),
        )
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return bad("Invalid input JSON".into());
    };
    let Some(inputs) = body["inputs"].as_array() else {
        return bad("inputs is required".into());
    };
    if inputs.is_empty() || inputs.len() > 100 {
        return bad(format!("Batch size {} is not within 1..100", inputs.len()));
    }
    let (id_property, allowed): (&str, &[&str]) = match object.as_str() {
        "companies" => ("nps_account_id", &COMPANY_PROPERTIES),
        "contacts" => ("email", &CONTACT_PROPERTIES),
        _ => return error(StatusCode::NOT_FOUND, json!({"message": "unknown object"})),
    };
    seen.calls
        .push((format!("POST {object}/batch/upsert"), inputs.len()));
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        if input["idProperty"] != id_property {
            return bad(format!("idProperty must be {id_property}"));
        }
        let Some(id) = input["id"].as_str().filter(|s| !s.is_empty()) else {
            return bad("id is required".into());
        };
        let Some(properties) = input["properties"].as_object() else {
            return bad("properties is required".into());
        };
        for key in properties.keys() {
            if !allowed.contains(&key.as_str()) {
                return bad(format!("Property \"{key}\" does not exist"));
            }
        }
        if object == "contacts" && !valid_email(id) {
            // HubSpot refuses the whole batch for one invalid email.
            return bad(format!(
                "Property values were not valid: Email address {id} is invalid"
            ));
        }
        if object == "companies" && id.starts_with("bad-") {
            errors.push(json!({"status": "error", "category": "VALIDATION_ERROR",
                "message": format!("Property values were not valid: nps_account_id {id}"),
                "context": {"ids": [id]}}));
            continue;
        }
        seen.next_id += 1;
        let new_id = seen.next_id.to_string();
        let (id_out, props) = if object == "companies" {
            let entry = seen
                .companies
                .entry(id.to_owned())
                .or_insert_with(|| json!({"hs_object_id": new_id}));
            for (k, v) in properties {
                entry[k] = v.clone();
            }
            (
                entry["hs_object_id"].as_str().unwrap().to_owned(),
                entry.clone(),
            )
        } else {
            let key = id.to_lowercase();
            let entry = seen
                .contacts
                .entry(key)
                .or_insert_with(|| (new_id, json!({"email": id})));
            for (k, v) in properties {
                entry.1[k] = v.clone();
            }
            (entry.0.clone(), entry.1.clone())
        };
        results.push(json!({"id": id_out, "properties": props, "new": false}));
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::MULTI_STATUS
    };
    error(
        status,
        json!({"status": "COMPLETE", "results": results, "errors": errors,
               "numErrors": errors.len()}),
    )
}

/// `POST /crm/v3/objects/notes/batch/create`.
async fn hs_notes(State(seen): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let mut seen = seen.lock().unwrap();
    if let Some(refused) = gate(&mut seen, &headers) {
        return refused;
    }
    let bad = |m: &str| {
        error(
            StatusCode::BAD_REQUEST,
            json!({"status": "error", "message": m}),
        )
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return bad("Invalid input JSON");
    };
    let inputs = body["inputs"].as_array().cloned().unwrap_or_default();
    if inputs.is_empty() || inputs.len() > 100 {
        return bad("Batch size is not within 1..100");
    }
    seen.calls
        .push(("POST notes/batch/create".into(), inputs.len()));
    let contact_ids: Vec<String> = seen.contacts.values().map(|(id, _)| id.clone()).collect();
    let mut results = Vec::new();
    for input in &inputs {
        let p = &input["properties"];
        if !p["hs_timestamp"].is_string() || !p["hs_note_body"].is_string() {
            return bad("hs_timestamp and hs_note_body are required");
        }
        let a = &input["associations"][0];
        let to = a["to"]["id"].as_str().unwrap_or_default();
        if !contact_ids.iter().any(|c| c == to) {
            return bad("association to an unknown contact");
        }
        if a["types"][0]
            != json!({"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202})
        {
            return bad("a note is associated to a contact with HUBSPOT_DEFINED type 202");
        }
        seen.next_id += 1;
        let note = json!({"id": seen.next_id.to_string(), "properties": p, "contact": to});
        seen.notes.push(note.clone());
        results.push(note);
    }
    error(
        StatusCode::CREATED,
        json!({"status": "COMPLETE", "results": results}),
    )
}

/// `POST /crm/v3/properties/{object}/groups` and `POST /crm/v3/properties/{object}`.
async fn hs_property(
    State(seen): State<Shared>,
    Path(path): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut seen = seen.lock().unwrap();
    if let Some(refused) = gate(&mut seen, &headers) {
        return refused;
    }
    let name = body["name"].as_str().unwrap_or_default().to_owned();
    if name == "nps_account_id" && body["hasUniqueValue"] != true {
        return error(
            StatusCode::BAD_REQUEST,
            json!({"message": "upserts need a property with hasUniqueValue"}),
        );
    }
    if name.starts_with("nps_") && !path.ends_with("groups") && body["groupName"] != "nps" {
        return error(
            StatusCode::BAD_REQUEST,
            json!({"message": "groupName nps expected"}),
        );
    }
    let key = format!("{path}/{name}");
    if seen.properties.contains_key(&key) {
        return error(
            StatusCode::CONFLICT,
            json!({"status": "error", "category": "OBJECT_ALREADY_EXISTS",
                   "message": format!("A property named '{name}' already exists.")}),
        );
    }
    seen.properties.insert(key, body.clone());
    error(StatusCode::CREATED, body)
}

/// Where a page starts: the `after` cursor of the query, else 0.
fn after(query: &str) -> usize {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("after="))
        .map_or(0, |a| a.parse().unwrap())
}

async fn hs_get(
    State(seen): State<Shared>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let mut seen = seen.lock().unwrap();
    if let Some(refused) = gate(&mut seen, &headers) {
        return refused;
    }
    let query = query.unwrap_or_default();
    seen.calls.push((format!("GET {path}"), 0));
    let start = after(&query);
    match path.as_str() {
        "account-info/v3/details" => error(StatusCode::OK, json!({"portalId": 4242})),
        "crm/v3/owners" => {
            let owners = [
                json!({"id": "7", "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"}),
                json!({"id": "8", "firstName": "", "lastName": "", "email": "grace@example.com"}),
            ];
            let page = if start == 0 {
                json!({"results": [owners[0]], "paging": {"next": {"after": "1"}}})
            } else {
                json!({"results": [owners[1]]})
            };
            error(StatusCode::OK, page)
        }
        "crm/v3/objects/companies" => {
            if !query.contains("limit=100")
                || !query.contains("properties=name,annualrevenue,hubspot_owner_id,nps_account_id")
            {
                return error(
                    StatusCode::BAD_REQUEST,
                    json!({"message": "limit and properties"}),
                );
            }
            let results: Vec<Value> = (start..(start + 100).min(250))
                .map(|i| {
                    let mut p = json!({"name": format!("Company {i}"), "annualrevenue": format!("{}", 1000 * (i + 1)),
                        "hubspot_owner_id": if i % 2 == 0 { "7" } else { "8" }});
                    if i < 5 {
                        p["nps_account_id"] = json!(format!("acct-{i}"));
                    }
                    json!({"id": format!("{}", 9000 + i), "properties": p})
                })
                .collect();
            let mut page = json!({"results": results});
            if start + 100 < 250 {
                page["paging"] = json!({"next": {"after": format!("{}", start + 100),
                    "link": "https://api.hubapi.com/crm/v3/objects/companies?after=x"}});
            }
            error(StatusCode::OK, page)
        }
        _ => error(StatusCode::NOT_FOUND, json!({"message": "no such path"})),
    }
}

fn hubspot(seen: Shared) -> Router {
    Router::new()
        .route("/crm/v3/objects/{object}/batch/upsert", post(hs_upsert))
        .route("/crm/v3/objects/notes/batch/create", post(hs_notes))
        .route("/crm/v3/properties/{*path}", post(hs_property))
        .route("/{*path}", get(hs_get))
        .with_state(seen)
}

/// `PATCH /services/data/v62.0/composite/sobjects/{object}/{field}`.
async fn sf_upsert(
    State(seen): State<Shared>,
    Path((object, field)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut seen = seen.lock().unwrap();
    if let Some(refused) = gate(&mut seen, &headers) {
        return refused;
    }
    let bad = |code: &str, m: &str| {
        error(
            StatusCode::BAD_REQUEST,
            json!([{"message": m, "errorCode": code}]),
        )
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return bad("JSON_PARSER_ERROR", "not JSON");
    };
    if body["allOrNone"] != false {
        return bad("INVALID_FIELD", "allOrNone false expected by this sync");
    }
    let records = body["records"].as_array().cloned().unwrap_or_default();
    if records.is_empty() || records.len() > 200 {
        return bad("EXCEEDED_ID_LIMIT", "record limit exceeded: 200");
    }
    let expected = match object.as_str() {
        "Account" => "NPS_Account_Id__c",
        "Contact" => "NPS_User_Id__c",
        "NPS_Response__c" => "NPS_Response_Id__c",
        _ => return bad("NOT_FOUND", "The requested resource does not exist"),
    };
    if field != expected {
        return bad("INVALID_FIELD", "not an external id field");
    }
    seen.calls
        .push((format!("PATCH {object}/{field}"), records.len()));
    let mut results = Vec::new();
    for r in &records {
        if r["attributes"]["type"] != object.as_str() {
            return bad("INVALID_TYPE", "attributes.type must name the object");
        }
        let Some(key) = r[&field].as_str().filter(|k| !k.is_empty()) else {
            results.push(
                json!({"success": false, "errors": [{"statusCode": "MISSING_ARGUMENT",
                "message": format!("{field} not specified"), "fields": [field]}]}),
            );
            continue;
        };
        let id = (object.clone(), key.to_owned());
        let exists = seen.records.contains_key(&id);
        let required = match object.as_str() {
            "Account" => Some("Name"),
            "Contact" => Some("LastName"),
            _ => None,
        };
        if let Some(required) = required {
            if !exists && !r[required].is_string() {
                results.push(json!({"success": false, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING",
                    "message": format!("Required fields are missing: [{required}]"), "fields": [required]}]}));
                continue;
            }
        }
        if let Some(email) = r["Email"].as_str() {
            if !valid_email(email) {
                results.push(json!({"success": false, "errors": [{"statusCode": "INVALID_EMAIL_ADDRESS",
                    "message": format!("Email: invalid email address: {email}"), "fields": ["Email"]}]}));
                continue;
            }
        }
        for (relation, target) in [
            ("Account", "Account"),
            ("NPS_Account__r", "Account"),
            ("NPS_Contact__r", "Contact"),
        ] {
            if let Some(refs) = r[relation].as_object() {
                let (ext, value) = refs.iter().next().unwrap();
                let found = seen
                    .records
                    .contains_key(&(target.to_owned(), value.as_str().unwrap_or("").to_owned()));
                if !found || !ext.starts_with("NPS_") {
                    results.push(json!({"success": false, "errors": [{"statusCode": "INVALID_FIELD",
                        "message": format!("Foreign key external ID: {value} not found for field {ext} in entity {target}"),
                        "fields": []}]}));
                    continue;
                }
            }
        }
        if results.len() > records.iter().position(|x| x == r).unwrap() {
            continue;
        }
        seen.next_id += 1;
        let sf_id = format!("001{:015}", seen.next_id);
        let entry = seen
            .records
            .entry(id.clone())
            .or_insert_with(|| json!({"Id": sf_id}));
        for (k, v) in r.as_object().unwrap() {
            if k != "attributes" {
                entry[k] = v.clone();
            }
        }
        let out_id = entry["Id"].clone();
        *seen.upserts.entry(id).or_default() += 1;
        results.push(json!({"id": out_id, "success": true, "errors": [], "created": !exists}));
    }
    error(StatusCode::OK, json!(results))
}

/// `GET /services/data/v62.0/query?q=…` and its next pages: 450 accounts, 200 a page.
async fn sf_query(
    State(seen): State<Shared>,
    Path(rest): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let mut seen = seen.lock().unwrap();
    if let Some(refused) = gate(&mut seen, &headers) {
        return refused;
    }
    seen.calls.push((format!("GET query/{rest}"), 0));
    let start = if rest.is_empty() {
        let q = query.unwrap_or_default();
        if !q.contains("SELECT+Id,Name,AnnualRevenue,Owner.Name,NPS_Account_Id__c+FROM+Account") {
            return error(
                StatusCode::BAD_REQUEST,
                json!([{"message": "unexpected SOQL", "errorCode": "MALFORMED_QUERY"}]),
            );
        }
        0
    } else {
        rest.trim_start_matches("01gD0000002HU6KIAW-")
            .parse()
            .unwrap()
    };
    let records: Vec<Value> = (start..(start + 200).min(450))
        .map(|i| {
            json!({"attributes": {"type": "Account", "url": format!("/services/data/v62.0/sobjects/Account/001{i:015}")},
                "Id": format!("001{i:015}"), "Name": format!("Account {i}"),
                "AnnualRevenue": (i as f64) * 500.0,
                "Owner": {"attributes": {"type": "User"}, "Name": "Marc Owner"},
                "NPS_Account_Id__c": if i == 0 { json!("sf-acct-0") } else { Value::Null }})
        })
        .collect();
    let done = start + 200 >= 450;
    let mut page = json!({"totalSize": 450, "done": done, "records": records});
    if !done {
        page["nextRecordsUrl"] = json!(format!(
            "/services/data/v62.0/query/01gD0000002HU6KIAW-{}",
            start + 200
        ));
    }
    error(StatusCode::OK, page)
}

async fn sf_query_first(state: State<Shared>, query: RawQuery, headers: HeaderMap) -> Response {
    sf_query(state, Path(String::new()), query, headers).await
}

fn salesforce(seen: Shared) -> Router {
    Router::new()
        .route(
            "/services/data/v62.0/composite/sobjects/{object}/{field}",
            patch(sf_upsert),
        )
        .route("/services/data/v62.0/query", get(sf_query_first))
        .route("/services/data/v62.0/query/{rest}", get(sf_query))
        .with_state(seen)
}

/// A receiver on a loopback port; its address and what it sees.
async fn receiver(app: fn(Shared) -> Router) -> (String, Shared) {
    let seen: Shared = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(seen.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}"), seen)
}

// ---------------------------------------------------------------------------------------
// The collector side.

fn crm(kind: &str, url: &str, interval_ms: u64) -> Config {
    Config::new(kind, Some(url), Some(CRM_TOKEN), interval_ms, 100).unwrap()
}

async fn collector(db_url: &str, config: Config) -> SocketAddr {
    pg::http::serve(Settings {
        db: db_url.to_owned(),
        token: Some(ADMIN.into()),
        public_url: Some("https://nps.example.com".into()),
        rate_limit: 0,
        crm: Some(config),
        ..Settings::default()
    })
    .await
}

fn response(n: u32, account: &str, user: Option<&str>, email: Option<&str>, score: u8) -> Value {
    let segment = match score {
        0..=6 => "detractor",
        7..=8 => "passive",
        _ => "promoter",
    };
    let at = format!("2026-11-{:02}T10:{:02}:00.000Z", 1 + n % 28, n % 60);
    let mut user_json = json!({"account_id": account});
    if let Some(user) = user {
        user_json["id"] = json!(user);
    }
    if let Some(email) = email {
        user_json["email"] = json!(email);
    }
    json!({
        "schema": 1, "id": format!("0b6e3c1a-5f7d-4c2e-9a8b-{n:012}"), "survey_id": "crm",
        "score": score, "segment": segment, "state": "complete", "user": user_json,
        "context": {"url": "https://app.example/", "locale": "en"},
        "shown_at": at, "answered_at": at, "completed_at": at,
        "comment": format!("comment {n}"),
    })
}

async fn ingest(addr: SocketAddr, body: &Value) {
    let (status, _, text) = call(addr, "POST", "/v1/responses", "", Some(body.clone())).await;
    assert!((200..300).contains(&status), "{status}: {text}");
}

async fn status(addr: SocketAddr) -> Value {
    let (code, _, body) = call(addr, "GET", "/v1/crm", ADMIN, None).await;
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Waits until the sync's backlog is empty (and it sent once since `after`), up to `limit`.
async fn synced(addr: SocketAddr, limit: Duration) -> Value {
    let started = Instant::now();
    loop {
        let s = status(addr).await;
        if s["backlog"] == 0 && s["last_success_at"].is_string() {
            return s;
        }
        assert!(started.elapsed() < limit, "not synced in {limit:?}: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The three accounts of the HubSpot and Salesforce cases: acme (a promoter 10, a passive 8
/// answering twice: 6 then 8), globex (a detractor 3 with an invalid email), initech (a
/// promoter 9 without an email).
fn case() -> Vec<Value> {
    vec![
        response(1, "acme", Some("ann"), Some("ann@acme.example"), 10),
        response(2, "acme", Some("bob"), Some("bob@acme.example"), 6),
        response(3, "acme", Some("bob"), Some("bob@acme.example"), 8),
        response(4, "globex", Some("cid"), Some("cid at globex"), 3),
        response(5, "initech", Some("dee"), None, 9),
    ]
}

async fn hubspot_gets_every_account_person_and_answer_once(db: Db) {
    let (url, seen) = receiver(hubspot).await;
    let db_url = pg::http::database(db, "crm", "hubspot").await;
    let addr = collector(&db_url, crm("hubspot", &url, 100)).await;
    let answers = case();
    for a in &answers {
        ingest(addr, a).await;
    }
    let s = synced(addr, Duration::from_secs(30)).await;
    {
        let seen = seen.lock().unwrap();
        let acme = &seen.companies["acme"];
        // acme's NPS counts every answer: 10, 6, 8 → (1 − 1) / 3 = 0; its segment is by its
        // people's latest scores, Ann's 10 and Bob's 8: a mean of 9, a promoter account.
        assert_eq!(acme["nps_score"], "0", "{acme}");
        assert_eq!(acme["nps_segment"], "promoter");
        assert_eq!(acme["nps_people_answered"], "2");
        assert_eq!(acme["nps_open_follow_ups"], "3");
        assert_eq!(acme["nps_last_response_at"], "2026-11-04T10:03:00.000Z");
        assert_eq!(
            acme["nps_dashboard_url"],
            "https://nps.example.com/dashboard#/accounts/acme"
        );
        assert_eq!(seen.companies["globex"]["nps_score"], "-100");
        assert_eq!(seen.companies["globex"]["nps_segment"], "detractor");
        assert_eq!(seen.companies["initech"]["nps_segment"], "promoter");
        // Contacts by email: Bob's latest answer; Cid's invalid email refused; Dee has none.
        assert_eq!(seen.contacts.len(), 2, "{:?}", seen.contacts.keys());
        let bob = &seen.contacts["bob@acme.example"].1;
        assert_eq!(bob["nps_last_score"], "8");
        assert_eq!(bob["nps_last_segment"], "passive");
        assert_eq!(bob["nps_last_comment"], "comment 3");
        // One note per answer with a contact: Ann's, Bob's two.
        assert_eq!(seen.notes.len(), 3, "{:?}", seen.notes);
        let bodies: Vec<&str> = seen
            .notes
            .iter()
            .map(|n| n["properties"]["hs_note_body"].as_str().unwrap())
            .collect();
        assert!(
            bodies
                .iter()
                .any(|b| b.starts_with("NPS 6 (detractor): comment 2")),
            "{bodies:?}"
        );
        for (path, n) in &seen.calls {
            assert!(*n <= 100, "{path}: {n} inputs");
        }
    }
    // Cid's invalid email: refused by HubSpot (the whole batch, then alone), kept with its
    // message, shown; the rest went.
    assert_eq!(
        s["refused"], 2,
        "Cid's contact and his answer's contact: {s}"
    );
    let refused = s["refused_items"].as_array().unwrap();
    assert!(
        refused.iter().all(|r| r["error"]
            .as_str()
            .unwrap()
            .contains("Email address cid at globex is invalid")),
        "{s}"
    );
    assert_eq!(s["crm"], "hubspot");
    // Delivered again (a retry of the widget), and a follow-up closed: no second note, the
    // account's open follow-ups go down.
    let notes_before = seen.lock().unwrap().notes.len();
    ingest(addr, &answers[0]).await;
    let (code, _, body) = call(
        addr,
        "PATCH",
        &format!(
            "/v1/responses/{}/follow-up",
            answers[0]["id"].as_str().unwrap()
        ),
        ADMIN,
        Some(json!({"status": "resolved"})),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let started = Instant::now();
    while seen.lock().unwrap().companies["acme"]["nps_open_follow_ups"] != "2" {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "open follow-ups not sent"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    synced(addr, Duration::from_secs(20)).await;
    assert_eq!(
        seen.lock().unwrap().notes.len(),
        notes_before,
        "each answer noted once"
    );
    // What operators read.
    let (_, _, metrics) = call(addr, "GET", "/metrics", ADMIN, None).await;
    assert!(metrics.contains("nps_crm_backlog 0"), "{metrics}");
    assert!(metrics.contains("nps_crm_refused 2"), "{metrics}");
    let (_, _, ready) = call(addr, "GET", "/readyz", "", None).await;
    assert!(ready.contains("crm backlog 0, refused 2"), "{ready}");
}

async fn hubspot_waits_out_429_and_a_receiver_down_loses_nothing(db: Db) {
    let (url, seen) = receiver(hubspot).await;
    let db_url = pg::http::database(db, "crm", "down").await;
    let addr = collector(&db_url, crm("hubspot", &url, 100)).await;
    seen.lock().unwrap().throttle = 2;
    ingest(
        addr,
        &response(1, "acme", Some("ann"), Some("ann@acme.example"), 10),
    )
    .await;
    synced(addr, Duration::from_secs(30)).await;
    assert_eq!(seen.lock().unwrap().throttle, 0, "the two 429s were met");
    assert_eq!(seen.lock().unwrap().companies.len(), 1);
    // Down for a minute: the answers made meanwhile (at its start and near its end) wait,
    // retried with backoff, and all arrive once it is back.
    seen.lock().unwrap().down = true;
    let down = Instant::now();
    for n in 2..=11 {
        if n == 7 {
            tokio::time::sleep(Duration::from_secs(50)).await;
        }
        let account = format!("acct-{n}");
        let email = format!("p{n}@example.com");
        ingest(
            addr,
            &response(n, &account, Some(&format!("p{n}")), Some(&email), 9),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_secs(60).saturating_sub(down.elapsed())).await;
    let waiting = status(addr).await;
    assert!(waiting["backlog"].as_i64().unwrap() >= 10, "{waiting}");
    assert!(
        waiting["last_error"].as_str().unwrap().contains("503"),
        "{waiting}"
    );
    seen.lock().unwrap().down = false;
    synced(addr, Duration::from_secs(90)).await;
    println!(
        "down for 60 s: everything sent {:.1} s after it came back",
        down.elapsed().as_secs_f64() - 60.0
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.companies.len(), 11, "every account arrived");
    assert_eq!(seen.contacts.len(), 11, "every person arrived");
    assert_eq!(seen.notes.len(), 11, "every answer's note, once");
}

async fn salesforce_upserts_every_account_person_and_answer(db: Db) {
    let (url, seen) = receiver(salesforce).await;
    let db_url = pg::http::database(db, "crm", "salesforce").await;
    let addr = collector(&db_url, crm("salesforce", &url, 100)).await;
    let answers = case();
    for a in &answers {
        ingest(addr, a).await;
    }
    ingest(addr, &answers[0]).await;
    let s = synced(addr, Duration::from_secs(30)).await;
    let seen = seen.lock().unwrap();
    let record = |object: &str, key: &str| &seen.records[&(object.to_owned(), key.to_owned())];
    let acme = record("Account", "acme");
    assert_eq!(acme["Name"], "acme", "a new Account is named");
    assert_eq!(acme["NPS_Score__c"], 0.0);
    assert_eq!(acme["NPS_Segment__c"], "promoter");
    assert_eq!(acme["NPS_People_Answered__c"], 2);
    assert_eq!(record("Account", "globex")["NPS_Score__c"], -100.0);
    let bob = record("Contact", "bob");
    assert_eq!(bob["NPS_Last_Score__c"], 8);
    assert_eq!(bob["LastName"], "bob@acme.example");
    assert_eq!(bob["Account"]["NPS_Account_Id__c"], "acme");
    // Dee has no email: her LastName is her user id.
    assert_eq!(record("Contact", "dee")["LastName"], "dee");
    // Cid's email is refused per record, and so his answer's link to his contact; the rest
    // of each batch went.
    assert_eq!(s["refused"], 2, "{s}");
    assert!(
        s["refused_items"][0]["error"]
            .as_str()
            .unwrap()
            .contains("INVALID_EMAIL_ADDRESS"),
        "{s}"
    );
    // Each other answer its NPS_Response__c, upserted once though delivered twice, linked to
    // its contact and account.
    let responses: Vec<_> = seen
        .records
        .keys()
        .filter(|(o, _)| o == "NPS_Response__c")
        .collect();
    assert_eq!(responses.len(), 4, "{responses:?}");
    // A delivery again while the first send is in flight may upsert it a second time: the
    // same record, updated (Salesforce upserts by NPS_Response_Id__c), never a duplicate.
    for key in responses {
        assert!((1..=2).contains(&seen.upserts[key]), "{key:?}");
    }
    for (path, n) in &seen.calls {
        assert!(*n <= 200, "{path}: {n} records");
    }
}

async fn ten_thousand_accounts_go_in_batches_within_the_rate_limit(db: Db) {
    for kind in ["hubspot", "salesforce"] {
        let (url, seen) = receiver(if kind == "hubspot" {
            hubspot
        } else {
            salesforce
        })
        .await;
        let db_url = pg::http::database(db, "crm", &format!("ten-k-{kind}")).await;
        // 10,000 accounts change, each with one person answering (a partial: no history
        // record), stored through the writer with the CRM queue on, before the collector
        // starts sending: 20,000 records, more calls than 10 seconds allow.
        {
            let store = Store::open_with(
                &db_url,
                Queues {
                    crm: true,
                    ..Queues::default()
                },
            )
            .await
            .unwrap();
            let mut tasks = Vec::new();
            for n in 0..10_000u32 {
                let store = store.clone();
                tasks.push(tokio::spawn(async move {
                    let (user, email) = (format!("u{n:05}"), format!("u{n:05}@example.com"));
                    let mut r = response(
                        n,
                        &format!("a{n:05}"),
                        Some(&user),
                        Some(&email),
                        (n % 11) as u8,
                    );
                    r["state"] = json!("partial");
                    let text = r.to_string();
                    store
                        .upsert(serde_json::from_value(r).unwrap(), text)
                        .await
                        .unwrap();
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        }
        let started = Instant::now();
        let addr = collector(&db_url, crm(kind, &url, 10_000)).await;
        synced(addr, Duration::from_secs(120)).await;
        let took = started.elapsed();
        let seen = seen.lock().unwrap();
        let limit = if kind == "hubspot" { 100 } else { 200 };
        let sizes: Vec<usize> = seen.calls.iter().map(|(_, n)| *n).collect();
        let records: usize = sizes.iter().sum();
        println!(
            "{kind} ({db:?}): 10,000 accounts and their 10,000 people in {} calls of at most {} \
             records ({} in all), {:.1} s, {} calls over the rate limit",
            sizes.len(),
            sizes.iter().max().unwrap(),
            records,
            took.as_secs_f64(),
            seen.over_rate
        );
        assert_eq!(records, 20_000, "each account and person once");
        assert_eq!(sizes.len(), 2 * 10_000 / limit, "{sizes:?}");
        assert!(sizes.iter().all(|n| *n <= limit));
        assert_eq!(seen.over_rate, 0, "within 100 calls per 10 s");
        let stored = if kind == "hubspot" {
            seen.companies.len() + seen.contacts.len()
        } else {
            seen.records.len()
        };
        assert_eq!(stored, 20_000);
        if kind == "hubspot" {
            assert!(took > Duration::from_secs(10), "200 calls take two windows");
        }
    }
}

async fn imports_read_every_page_of_either_crm(db: Db) {
    // HubSpot: 250 companies in 3 pages, owners in 2.
    let (url, seen) = receiver(hubspot).await;
    let db_url = pg::http::database(db, "crm", "import").await;
    let store = Store::open(&db_url).await.unwrap();
    let done = nps_collector::crm::import(&store, &crm("hubspot", &url, 10_000))
        .await
        .unwrap();
    assert_eq!((done.read, done.imported.created), (250, 250));
    assert_eq!(
        done.calls,
        1 + 2 + 3,
        "details, 2 owner pages, 3 company pages"
    );
    let first = store.account_record("acct-0").await.unwrap().unwrap();
    assert_eq!(first.name.as_deref(), Some("Company 0"));
    assert_eq!(first.arr_cents, Some(100_000));
    assert_eq!(first.owner.as_deref(), Some("Ada Lovelace"));
    assert_eq!(
        first.crm_url.as_deref(),
        Some("https://app.hubspot.com/contacts/4242/record/0-2/9000")
    );
    // Without an nps_account_id, the record id is the account id; an owner without a name
    // is named by email.
    let other = store.account_record("9007").await.unwrap().unwrap();
    assert_eq!(other.owner.as_deref(), Some("grace@example.com"));
    drop(seen);
    // Our own fields stay: a plan set here survives a second import, which changes nothing.
    let again = nps_collector::crm::import(&store, &crm("hubspot", &url, 10_000))
        .await
        .unwrap();
    assert_eq!(again.imported.unchanged, 250);
    // The properties `crm setup` makes, once.
    let api = nps_collector::crm::Api::new(&crm("hubspot", &url, 10_000)).unwrap();
    let said = nps_collector::crm::hubspot::setup(&api).await.unwrap();
    assert!(
        said.iter()
            .any(|l| l == "companies: created nps_account_id (string)"),
        "{said:?}"
    );
    let said = nps_collector::crm::hubspot::setup(&api).await.unwrap();
    assert!(said.iter().all(|l| l.contains("was there")), "{said:?}");
    // Salesforce: 450 accounts by SOQL in 3 pages (nextRecordsUrl).
    let (url, _seen) = receiver(salesforce).await;
    let done = nps_collector::crm::import(&store, &crm("salesforce", &url, 10_000))
        .await
        .unwrap();
    assert_eq!((done.read, done.calls), (450, 3));
    let sf = store.account_record("sf-acct-0").await.unwrap().unwrap();
    assert_eq!(sf.owner.as_deref(), Some("Marc Owner"));
    assert_eq!(
        sf.crm_url,
        Some(format!("{url}/lightning/r/Account/001000000000000000/view"))
    );
    let a7 = store
        .account_record("001000000000000007")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a7.arr_cents, Some(350_000));
}

/// Two collectors on one PostgreSQL: one holds the lease and sends; each change goes once.
#[tokio::test]
async fn two_collectors_on_one_postgres_send_each_change_once() {
    let (url, seen) = receiver(hubspot).await;
    let db_url = pg::http::database(Db::Postgres, "crm", "two").await;
    {
        let store = Store::open_with(
            &db_url,
            Queues {
                crm: true,
                ..Queues::default()
            },
        )
        .await
        .unwrap();
        for n in 0..40u32 {
            let r = response(
                n,
                &format!("a{}", n % 20),
                Some(&format!("p{n}")),
                Some(&format!("p{n}@example.com")),
                (n % 11) as u8,
            );
            let text = r.to_string();
            store
                .upsert(serde_json::from_value(r).unwrap(), text)
                .await
                .unwrap();
        }
    }
    let one = collector(&db_url, crm("hubspot", &url, 200)).await;
    let two = collector(&db_url, crm("hubspot", &url, 200)).await;
    synced(one, Duration::from_secs(30)).await;
    synced(two, Duration::from_secs(30)).await;
    let seen = seen.lock().unwrap();
    let sent = |path: &str| -> usize {
        seen.calls
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, n)| n)
            .sum()
    };
    assert_eq!(sent("POST companies/batch/upsert"), 20, "each account once");
    assert_eq!(seen.notes.len(), 40, "each answer's note once");
    assert_eq!(seen.companies.len(), 20);
}
