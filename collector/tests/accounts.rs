//! What each account is worth, over real HTTP on both databases: account records (PUT/GET,
//! every row of the list, filters, sorts, the upsell list), the revenue report on a
//! hand-computed case, the people behind an account by role with silent people and
//! references, referrals followed to the won deal and their funnel, and notes on the trend.

#[macro_use]
mod pg;

use pg::http::call;
use pg::Db;

use std::net::SocketAddr;

use nps_collector::Settings;
use serde_json::{json, Value};

const ADMIN: &str = "admin-token-for-the-account-tests";

on_both!(
    records_merge_and_every_account_row_carries_them,
    revenue_is_exact_on_a_hand_computed_base,
    accounts_sort_filter_and_show_the_upsell,
    people_are_grouped_by_role_with_silent_ones_and_references,
    referrals_are_followed_to_the_won_deal,
    annotations_are_noted_edited_and_deleted_softly,
    crm_exports_import_with_bad_rows_named,
    themes_carry_their_worth_in_money,
    date_ranges_by_month_count_what_the_responses_count,
);

async fn start(db: Db, name: &str) -> SocketAddr {
    let url = pg::http::database(db, "accounts", name).await;
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

async fn get(addr: SocketAddr, path: &str) -> Value {
    let (status, _, body) = call(addr, "GET", path, ADMIN, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    json(&body)
}

async fn send(addr: SocketAddr, method: &str, path: &str, body: Value) -> (u16, Value) {
    let (status, _, text) = call(addr, method, path, ADMIN, Some(body)).await;
    let value = if text.is_empty() {
        Value::Null
    } else {
        json(&text)
    };
    (status, value)
}

/// A response's id: `n` in a UUID.
fn id(n: u32) -> String {
    format!("acc00000-0000-4000-8000-{n:012}")
}

/// Posts a passive's comment `n` in `account`.
async fn comment(addr: SocketAddr, n: u32, account: &str, text: &str) {
    let at = format!("2026-11-{:02}T10:00:00.000Z", 1 + n % 28);
    let body = json!({
        "schema": 1, "id": id(n), "survey_id": "s", "score": 8, "segment": "passive",
        "state": "complete", "comment": text,
        "user": {"id": format!("p{n}"), "account_id": account},
        "context": {"url": "https://app.example/", "locale": "en"},
        "shown_at": at, "answered_at": at, "completed_at": at,
    });
    let (status, _, text) = call(addr, "POST", "/v1/responses", "", Some(body)).await;
    assert!(status < 300, "{status}: {text}");
}

/// Posts response `n` of `user` in `account` (score `None`: silent), with a role trait.
async fn answer(
    addr: SocketAddr,
    n: u32,
    user: &str,
    account: &str,
    score: Option<i64>,
    role: Option<&str>,
    clicked: bool,
) {
    let segment = match score {
        None => "silent",
        Some(0..=6) => "detractor",
        Some(7..=8) => "passive",
        Some(_) => "promoter",
    };
    let at = format!("2026-11-{:02}T09:00:00.000Z", 1 + n % 28);
    let mut user_json =
        json!({"id": user, "account_id": account, "email": format!("{user}@{account}.example")});
    if let Some(role) = role {
        user_json["traits"] = json!({"role": role});
    }
    let mut body = json!({
        "schema": 1, "id": id(n), "survey_id": "s", "score": score, "segment": segment,
        "state": "complete", "user": user_json,
        "context": {"url": "https://app.example/", "locale": "en"},
        "shown_at": at,
    });
    if score.is_some() {
        body["answered_at"] = json!(at);
        body["completed_at"] = json!(at);
    } else {
        body["silent_reason"] = json!("dismissed");
        body["state"] = json!("partial");
    }
    if clicked {
        body["referral_clicked"] = json!(true);
    }
    let (status, _, text) = call(addr, "POST", "/v1/responses", "", Some(body)).await;
    assert!(
        status == 200 || status == 201 || status == 202,
        "{status}: {text}"
    );
}

/// The hand-computed base: five records, five accounts that answered (one without a
/// record), one silent.
async fn seed(addr: SocketAddr) {
    for (account, arr, plan, owner, renewal) in [
        (
            "acme",
            json!(100000),
            "pro",
            Some("Ann"),
            Some("2027-01-15"),
        ),
        (
            "globex",
            json!(50000),
            "pro",
            Some("Bo"),
            Some("2027-03-01"),
        ),
        ("initech", json!(30000), "pro", Some("Ann"), None),
        ("hooli", json!(20000.5), "team", Some("Bo"), None),
        ("umbrella", json!(10000), "team", None, None),
    ] {
        let (status, row) = send(
            addr,
            "PUT",
            &format!("/v1/accounts/{account}"),
            json!({"name": account.to_uppercase(), "arr": arr, "plan": plan, "owner": owner,
                   "renewal_on": renewal, "crm_url": format!("https://crm.example/{account}")}),
        )
        .await;
        assert_eq!(status, 200, "{row}");
    }
    answer(
        addr,
        1,
        "u1",
        "acme",
        Some(10),
        Some("decision maker"),
        false,
    )
    .await;
    answer(addr, 2, "u2", "acme", Some(9), Some("user"), true).await;
    answer(addr, 3, "u3", "acme", Some(8), Some("user"), false).await;
    answer(addr, 9, "u9", "acme", None, Some("influencer"), false).await;
    answer(addr, 4, "u4", "globex", Some(3), None, false).await;
    answer(addr, 5, "u5", "globex", Some(7), None, false).await;
    answer(addr, 6, "u6", "initech", Some(8), None, false).await;
    answer(addr, 7, "u7", "hooli", None, None, false).await;
    answer(addr, 8, "u8", "stark", Some(10), None, false).await;
}

async fn records_merge_and_every_account_row_carries_them(db: Db) {
    let addr = start(db, "records").await;
    answer(addr, 1, "u1", "acme", Some(10), None, false).await;
    // Before a record: listed as today, the record's fields empty.
    let list = get(addr, "/v1/accounts").await;
    assert_eq!(list[0]["account_id"], "acme");
    assert_eq!(list[0]["arr"], Value::Null);
    assert_eq!(list[0]["name"], Value::Null);
    let (status, row) = send(
        addr,
        "PUT",
        "/v1/accounts/acme",
        json!({"name": "Acme Inc", "arr": 12000.5, "plan": "pro", "traits": {"industry": "Software", "seats": 40}}),
    )
    .await;
    assert_eq!(status, 200, "{row}");
    assert_eq!(row["arr"], 12000.5);
    assert_eq!(row["promoters"], 1, "the figures come with the record");
    // Keys merge; null clears one; a trait set to null goes.
    let (_, row) = send(
        addr,
        "PUT",
        "/v1/accounts/acme",
        json!({"owner": "Ann", "plan": null, "traits": {"seats": null, "region": "EU"}}),
    )
    .await;
    assert_eq!(row["name"], "Acme Inc");
    assert_eq!(row["owner"], "Ann");
    assert_eq!(row["plan"], Value::Null);
    assert_eq!(
        row["traits"],
        json!({"industry": "Software", "region": "EU"})
    );
    let one = get(addr, "/v1/accounts/acme").await;
    assert_eq!(one, row);
    let list = get(addr, "/v1/accounts").await;
    assert_eq!(list[0]["owner"], "Ann");
    // A record without responses is an account too; an unknown one is 404.
    send(addr, "PUT", "/v1/accounts/new-co", json!({"arr": 5})).await;
    assert_eq!(get(addr, "/v1/accounts/new-co").await["arr"], 5.0);
    let (status, _, body) = call(addr, "GET", "/v1/accounts/nobody", ADMIN, None).await;
    assert_eq!(status, 404, "{body}");
    // Bad values are named.
    for (bad, field) in [
        (json!({"arr": -1}), "arr"),
        (json!({"renewal_on": "2027-02-30"}), "renewal_on"),
        (json!({"crm_url": "javascript:alert(1)"}), "crm_url"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let (status, answer) = send(addr, "PUT", "/v1/accounts/acme", bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {answer}");
        assert!(
            answer["field"].as_str().unwrap().contains(field),
            "{bad}: {answer}"
        );
    }
    // A viewer may read, not write.
    let viewer = pg::http::make_token(addr, ADMIN, "vic", "viewer").await;
    let (status, _, _) = call(
        addr,
        "PUT",
        "/v1/accounts/acme",
        &viewer,
        Some(json!({"arr": 1})),
    )
    .await;
    assert_eq!(status, 403);
    // The CSV carries the record's columns.
    let (status, _, csv) = call(addr, "GET", "/v1/accounts?format=csv", ADMIN, None).await;
    assert_eq!(status, 200);
    let header = csv.lines().next().unwrap();
    assert!(
        header.ends_with("name,arr,plan,owner,renewal_on,crm_url,gap"),
        "{header}"
    );
    assert!(csv.contains("Acme Inc,12000.5,,Ann"), "{csv}");
}

async fn revenue_is_exact_on_a_hand_computed_base(db: Db) {
    let addr = start(db, "revenue").await;
    seed(addr).await;
    let r = get(addr, "/v1/revenue").await;
    assert_eq!(r["currency"], "USD");
    assert_eq!(r["accounts"], 5, "accounts with a record");
    assert_eq!(r["total_arr"], 210000.5);
    assert_eq!(r["answered_arr"], 180000.0);
    // 180,000 ÷ 210,000.50 = 0.85714…
    assert_eq!(r["coverage"], 0.857);
    assert_eq!(r["coverage_target"], 0.8);
    assert_eq!(
        r["at_risk_arr"], 70000.5,
        "globex (detractor) and hooli (silent)"
    );
    // (100,000 × 66.67 + 50,000 × −50 + 30,000 × 0) ÷ 180,000 = 23.15
    assert_eq!(r["weighted_nps"], 23.1);
    assert_eq!(
        r["by_segment"]["promoter"],
        json!({"accounts": 2, "arr": 100000.0})
    );
    assert_eq!(
        r["by_segment"]["passive"],
        json!({"accounts": 1, "arr": 30000.0})
    );
    assert_eq!(
        r["by_segment"]["detractor"],
        json!({"accounts": 1, "arr": 50000.0})
    );
    assert_eq!(
        r["by_segment"]["silent"],
        json!({"accounts": 1, "arr": 20000.5})
    );
    // The same over a date range (counted from the responses) and for one survey.
    let ranged = get(
        addr,
        "/v1/revenue?from=2026-11-01&to=2026-12-01&survey_id=s",
    )
    .await;
    assert_eq!(ranged, r);
    // A range without answers: nothing answered, coverage 0.
    let empty = get(addr, "/v1/revenue?from=2025-01-01&to=2025-02-01").await;
    assert_eq!(empty["answered_arr"], 0.0);
    assert_eq!(empty["coverage"], 0.0);
    assert_eq!(empty["weighted_nps"], Value::Null);
}

async fn accounts_sort_filter_and_show_the_upsell(db: Db) {
    let addr = start(db, "sorts").await;
    seed(addr).await;
    let ids = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|a| a["account_id"].as_str().unwrap().to_owned())
            .collect()
    };
    for dates in ["", "&from=2026-11-01&to=2026-12-01"] {
        let by_arr = get(addr, &format!("/v1/accounts?sort=arr{dates}")).await;
        assert_eq!(
            ids(&by_arr),
            ["acme", "globex", "initech", "hooli", "umbrella", "stark"],
            "{dates}"
        );
        let by_renewal = get(addr, &format!("/v1/accounts?sort=renewal_on{dates}")).await;
        assert_eq!(
            ids(&by_renewal),
            ["acme", "globex", "hooli", "initech", "stark", "umbrella"]
        );
        let by_nps = get(addr, &format!("/v1/accounts?limit=100{dates}")).await;
        assert_eq!(
            ids(&by_nps),
            ["globex", "initech", "acme", "stark", "hooli", "umbrella"],
            "lowest NPS first, then those without answers"
        );
        let anns = get(addr, &format!("/v1/accounts?owner=Ann&sort=arr{dates}")).await;
        assert_eq!(ids(&anns), ["acme", "initech"]);
        let soon = get(
            addr,
            &format!("/v1/accounts?renewal_before=2027-02-01{dates}"),
        )
        .await;
        assert_eq!(ids(&soon), ["acme"]);
        let team = get(addr, &format!("/v1/accounts?plan=team&sort=arr{dates}")).await;
        assert_eq!(ids(&team), ["hooli", "umbrella"]);
        // Pro's median is 50,000: initech (a passive account at 30,000) is 20,000 below.
        let upsell = get(addr, &format!("/v1/accounts?opportunity=upsell{dates}")).await;
        assert_eq!(ids(&upsell), ["initech"]);
        assert_eq!(upsell[0]["gap"], 20000.0);
        // With the account's segment too (found by schemathesis: the segment's columns were
        // ambiguous beside the running totals the upsell list joins).
        let passive = format!("/v1/accounts?opportunity=upsell&segment=passive{dates}");
        assert_eq!(ids(&get(addr, &passive).await), ["initech"]);
        let promoter = format!("/v1/accounts?opportunity=upsell&segment=promoter{dates}");
        assert!(ids(&get(addr, &promoter).await).is_empty());
        let silent = get(addr, &format!("/v1/accounts?segment=silent{dates}")).await;
        assert_eq!(ids(&silent), ["hooli"]);
    }
    // Pages by offset keep the order.
    let (_, headers, body) = call(addr, "GET", "/v1/accounts?sort=arr&limit=4", ADMIN, None).await;
    assert_eq!(ids(&json(&body)), ["acme", "globex", "initech", "hooli"]);
    let link = headers["link"].to_str().unwrap();
    assert!(link.contains("offset=4"), "{link}");
    let rest = get(addr, "/v1/accounts?sort=arr&limit=4&offset=4").await;
    assert_eq!(ids(&rest), ["umbrella", "stark"]);
    let (_, _, csv) = call(
        addr,
        "GET",
        "/v1/accounts?format=csv&opportunity=upsell",
        ADMIN,
        None,
    )
    .await;
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let (status, _, body) = call(addr, "GET", "/v1/accounts?sort=size", ADMIN, None).await;
    assert_eq!(status, 400);
    assert!(
        body.contains("sort must be nps, arr or renewal_on"),
        "{body}"
    );
}

async fn people_are_grouped_by_role_with_silent_ones_and_references(db: Db) {
    let addr = start(db, "people").await;
    seed(addr).await;
    let people = get(addr, "/v1/accounts/acme/people").await;
    let people = people.as_array().unwrap();
    let who: Vec<(&str, &str, bool, bool)> = people
        .iter()
        .map(|p| {
            (
                p["user_id"].as_str().unwrap(),
                p["role"].as_str().unwrap_or("-"),
                p["silent"].as_bool().unwrap(),
                p["reference"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        who,
        [
            ("u1", "decision maker", false, true),
            ("u2", "user", false, true),
            ("u9", "influencer", true, false),
            ("u3", "user", false, false),
        ],
        "references first, then by role"
    );
    assert_eq!(people[2]["segment"], "silent");
    assert_eq!(people[2]["score"], Value::Null);
    assert_eq!(people[3]["score"], 8);
    assert_eq!(people[0]["email"], "u1@acme.example");
    assert!(people[0]["last_answered_at"]
        .as_str()
        .unwrap()
        .starts_with("2026-11"));
    assert_eq!(get(addr, "/v1/accounts/nobody/people").await, json!([]));
}

async fn referrals_are_followed_to_the_won_deal(db: Db) {
    let addr = start(db, "referrals").await;
    seed(addr).await;
    let (status, zed) = send(
        addr,
        "POST",
        &format!("/v1/responses/{}/referrals", id(1)),
        json!({"name": "Zed Zee", "company": "Zeta", "email": "zed@zeta.example", "note": "<b>CTO</b>"}),
    )
    .await;
    assert_eq!(status, 201, "{zed}");
    assert_eq!(zed["status"], "referred");
    assert_eq!(zed["referrer_segment"], "promoter");
    assert_eq!(zed["account_id"], "acme");
    assert_eq!(zed["note"], "<b>CTO</b>", "kept as text");
    assert_eq!(zed["created_by"], "admin");
    // The response's follow-up became `referred`.
    let list = get(addr, "/v1/responses?segment=promoter&account_id=acme").await;
    let first = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id(1))
        .unwrap();
    assert_eq!(first["follow_up"]["status"], "referred");
    // Detractors are not asked for referrals.
    let (status, err) = send(
        addr,
        "POST",
        &format!("/v1/responses/{}/referrals", id(4)),
        json!({"name": "X"}),
    )
    .await;
    assert_eq!(
        status, 409,
        "a conflict with the answer as it stands: {err}"
    );
    let (status, _) = send(
        addr,
        "POST",
        "/v1/responses/nope/referrals",
        json!({"name": "X"}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, err) = send(
        addr,
        "POST",
        &format!("/v1/responses/{}/referrals", id(1)),
        json!({"name": " "}),
    )
    .await;
    assert_eq!((status, err["field"].as_str()), (400, Some("name")));
    // Through opportunity to won, with its value.
    let path = format!("/v1/referrals/{}", zed["id"]);
    let (status, r) = send(addr, "PATCH", &path, json!({"status": "opportunity"})).await;
    assert_eq!((status, r["status"].as_str()), (200, Some("opportunity")));
    let (status, err) = send(addr, "PATCH", &path, json!({"status": "won"})).await;
    assert_eq!((status, err["field"].as_str()), (409, Some("value")));
    let (status, r) = send(
        addr,
        "PATCH",
        &path,
        json!({"status": "won", "value": 24000, "crm_url": "https://crm.example/deal/9"}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (r["status"].as_str(), r["value"].as_f64()),
        (Some("won"), Some(24000.0))
    );
    let (status, _) = send(addr, "PATCH", &path, json!({"status": "signed"})).await;
    assert_eq!(status, 400);
    // A passive's referral that got to an opportunity and was lost.
    let (_, ann) = send(
        addr,
        "POST",
        &format!("/v1/responses/{}/referrals", id(6)),
        json!({"name": "Ann Other"}),
    )
    .await;
    let path = format!("/v1/referrals/{}", ann["id"]);
    send(addr, "PATCH", &path, json!({"status": "opportunity"})).await;
    let (_, lost) = send(addr, "PATCH", &path, json!({"status": "lost"})).await;
    assert_eq!(lost["status"], "lost");
    // A passive asked for a referral who has not given one yet.
    send(
        addr,
        "PATCH",
        &format!("/v1/responses/{}/follow-up", id(3)),
        json!({"status": "referral_asked"}),
    )
    .await;

    let s = get(addr, "/v1/referrals/summary").await;
    let p = &s["by_segment"]["promoter"];
    assert_eq!(
        (
            p["asked"].as_u64(),
            p["clicked"].as_u64(),
            p["referrals"].as_u64(),
            p["opportunities"].as_u64(),
            p["won"].as_u64()
        ),
        (Some(1), Some(1), Some(1), Some(1), Some(1)),
        "{s}"
    );
    assert_eq!(p["won_value"], 24000.0);
    // Three promoters in accounts (u1, u2, u8): one referral each third.
    assert_eq!(p["rate"], 0.333);
    let pa = &s["by_segment"]["passive"];
    assert_eq!(
        (
            pa["asked"].as_u64(),
            pa["referrals"].as_u64(),
            pa["opportunities"].as_u64(),
            pa["won"].as_u64()
        ),
        (Some(2), Some(1), Some(1), Some(0)),
        "{s}"
    );
    assert_eq!(pa["rate"], 0.333, "u3, u5, u6");
    let ranged = get(addr, "/v1/referrals/summary?from=2026-11-01&to=2026-12-01").await;
    assert_eq!(ranged["by_segment"]["promoter"]["rate"], 0.333);
    // The same range as instants (counted from the responses, not by month): the same funnel.
    let instants = get(
        addr,
        "/v1/referrals/summary?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z",
    )
    .await;
    assert_eq!(ranged, instants);
    // The list, newest first, by status, in pages and as CSV.
    let all = get(addr, "/v1/referrals").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["name"], "Ann Other");
    let won = get(addr, "/v1/referrals?status=won").await;
    assert_eq!(won.as_array().unwrap().len(), 1);
    let (_, headers, body) = call(addr, "GET", "/v1/referrals?limit=1", ADMIN, None).await;
    assert_eq!(json(&body)[0]["name"], "Ann Other");
    let link = headers["link"].to_str().unwrap().to_owned();
    let next = link.trim_start_matches('<').split('>').next().unwrap();
    assert_eq!(get(addr, next).await[0]["name"], "Zed Zee");
    let (_, _, csv) = call(addr, "GET", "/v1/referrals?format=csv", ADMIN, None).await;
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.contains("won,24000,Zed Zee,Zeta"), "{csv}");
}

async fn annotations_are_noted_edited_and_deleted_softly(db: Db) {
    let addr = start(db, "annotations").await;
    for n in [2, 3, 4, 9, 10, 11] {
        answer(addr, n, &format!("u{n}"), "acme", Some(9), None, false).await;
    }
    let member = pg::http::make_token(addr, ADMIN, "mia", "member").await;
    let (status, _, body) = call(
        addr,
        "POST",
        "/v1/annotations",
        &member,
        Some(json!({"date": "2026-11-10", "text": "Pricing change"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let pricing = json(&body);
    assert_eq!(pricing["author"], "mia");
    assert_eq!(pricing["survey_id"], Value::Null);
    let (status, outage) = send(
        addr,
        "POST",
        "/v1/annotations",
        json!({"date": "2026-11-03", "end_date": "2026-11-05", "text": "Outage", "survey_id": "s"}),
    )
    .await;
    assert_eq!(status, 201, "{outage}");
    let (_, acme) = send(
        addr,
        "POST",
        "/v1/annotations",
        json!({"date": "2026-11-20", "text": "Acme's new CTO", "account_id": "acme"}),
    )
    .await;
    for (bad, field) in [
        (json!({"text": "no date"}), "date"),
        (json!({"date": "2026-11-31", "text": "x"}), "date"),
        (
            json!({"date": "2026-11-10", "end_date": "2026-11-01", "text": "x"}),
            "end_date",
        ),
        (
            json!({"date": "2026-11-10", "text": "x".repeat(401)}),
            "text",
        ),
        (json!({"date": "2026-11-10"}), "text"),
    ] {
        let (status, err) = send(addr, "POST", "/v1/annotations", bad.clone()).await;
        assert_eq!(
            (status, err["field"].as_str()),
            (400, Some(field)),
            "{bad}: {err}"
        );
    }
    let viewer = pg::http::make_token(addr, ADMIN, "vic", "viewer").await;
    let (status, _, _) = call(
        addr,
        "POST",
        "/v1/annotations",
        &viewer,
        Some(json!({"date": "2026-11-10", "text": "x"})),
    )
    .await;
    assert_eq!(status, 403);
    // By date; a survey's list includes the notes for everything; an account's only its own.
    let texts = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| a["text"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        texts(&get(addr, "/v1/annotations").await),
        ["Outage", "Pricing change", "Acme's new CTO"]
    );
    assert_eq!(
        texts(&get(addr, "/v1/annotations?survey_id=other").await),
        ["Pricing change", "Acme's new CTO"]
    );
    assert_eq!(
        texts(&get(addr, "/v1/annotations?account_id=acme").await),
        ["Acme's new CTO"]
    );
    assert_eq!(
        texts(&get(addr, "/v1/annotations?from=2026-11-05&to=2026-11-15").await),
        ["Outage", "Pricing change"]
    );
    let (status, changed) = send(
        addr,
        "PATCH",
        &format!("/v1/annotations/{}", pricing["id"]),
        json!({"text": "Pricing change (Pro +10 %)"}),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["date"], "2026-11-10");
    let (status, _, _) = call(
        addr,
        "DELETE",
        &format!("/v1/annotations/{}", acme["id"]),
        ADMIN,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _, _) = call(
        addr,
        "DELETE",
        &format!("/v1/annotations/{}", acme["id"]),
        ADMIN,
        None,
    )
    .await;
    assert_eq!(status, 404, "deleted once");
    assert_eq!(
        texts(&get(addr, "/v1/annotations").await),
        ["Outage", "Pricing change (Pro +10 %)"]
    );
    // Drawn on the trend: a mark with its text, a range as a band.
    let (status, _, svg) = call(addr, "GET", "/v1/trend.svg?interval=week", ADMIN, None).await;
    assert_eq!(status, 200);
    assert!(svg.contains("Pricing change (Pro +10 %)"), "{svg}");
    assert!(svg.contains("class=\"annotation-band\""), "{svg}");
}

/// `POST /v1/accounts/import` with `csv` as the admin: status and answer.
async fn import(addr: SocketAddr, query: &str, csv: &str) -> (u16, Value) {
    let r = pg::http::client()
        .post(format!("http://{addr}/v1/accounts/import{query}"))
        .bearer_auth(ADMIN)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, json(&r.text().await.unwrap()))
}

async fn crm_exports_import_with_bad_rows_named(db: Db) {
    let addr = start(db, "import").await;
    let hubspot =
        "Record ID,Company name,Company owner,Annual Revenue,Create Date,Industry,Renewal Date\r\n\
        101,Acme,Ann Lee,\"$12,000.00\",2024-01-02,Software,2027-01-31\r\n\
        102,Globex,Bo Chen,50000,2024-02-03,Energy,\r\n\
        103,Initech,Ann Lee,lots,2024-03-04,Software,\r\n\
        104,Hooli,,9000,2024-03-04,,2027-02-30\r\n\
        ,Nameless,,1,,,\r\n";
    let (status, done) = import(addr, "", hubspot).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        (
            done["created"].as_u64(),
            done["updated"].as_u64(),
            done["unchanged"].as_u64()
        ),
        (Some(2), Some(0), Some(0)),
        "{done}"
    );
    let errors = done["errors"].as_array().unwrap();
    let named: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(
        named,
        [(4, "Annual Revenue"), (5, "Renewal Date"), (6, "Record ID")],
        "{done}"
    );
    assert!(
        errors[0]["error"].as_str().unwrap().contains("lots"),
        "{done}"
    );
    let acme = get(addr, "/v1/accounts/101").await;
    assert_eq!(
        (
            acme["name"].as_str(),
            acme["arr"].as_f64(),
            acme["owner"].as_str()
        ),
        (Some("Acme"), Some(12000.0), Some("Ann Lee"))
    );
    assert_eq!(acme["renewal_on"], "2027-01-31");
    assert_eq!(acme["traits"]["Industry"], "Software");
    // The same file again changes nothing; a changed row updates.
    let (_, again) = import(addr, "", hubspot).await;
    assert_eq!(
        (
            again["created"].as_u64(),
            again["updated"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(2))
    );
    let (_, changed) = import(
        addr,
        "",
        "Record ID,Company name,Annual Revenue\n102,Globex,60000\n",
    )
    .await;
    assert_eq!(changed["updated"], 1, "{changed}");
    assert_eq!(get(addr, "/v1/accounts/102").await["arr"], 60000.0);

    let salesforce = "\u{feff}Account ID,Account Name,Account Owner,Type,Annual Revenue,Billing Country,Contract End Date\n\
        001A,\"Umbrella, Corp\",Cy,Enterprise,\"1,250,000\",\"US\nEast\",03/31/2027\n\
        001B,Stark,Di,Pro,-5,US,\n\
        001C,Wayne,Ed,Pro,7500.5,US,12/01/2026\n";
    let (status, done) = import(addr, "", salesforce).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["created"], 2, "{done}");
    assert_eq!(
        done["errors"][0]["line"], 4,
        "the quoted newline is inside line 2's record: {done}"
    );
    assert_eq!(done["errors"][0]["column"], "Annual Revenue");
    let umbrella = get(addr, "/v1/accounts/001A").await;
    assert_eq!(
        (
            umbrella["name"].as_str(),
            umbrella["arr"].as_f64(),
            umbrella["plan"].as_str()
        ),
        (Some("Umbrella, Corp"), Some(1250000.0), Some("Enterprise"))
    );
    assert_eq!(umbrella["renewal_on"], "2027-03-31");
    // ?map names a column the built-in names do not know.
    let (_, mapped) = import(
        addr,
        "?map=id:Customer,arr:ARR%20(EUR)",
        "Customer,ARR (EUR),Segment\nc-1,\"4,000\",SMB\n",
    )
    .await;
    assert_eq!(mapped["created"], 1, "{mapped}");
    assert_eq!(get(addr, "/v1/accounts/c-1").await["arr"], 4000.0);
    // A file with no id column, a bad map, the wrong type, a non-admin: refused whole.
    let (status, err) = import(addr, "", "Company name,Annual Revenue\nAcme,1\n").await;
    assert_eq!(status, 400);
    assert!(
        err["error"].as_str().unwrap().starts_with("no id column"),
        "{err}"
    );
    let (status, err) = import(addr, "?map=colour:Red", "Record ID\n1\n").await;
    assert_eq!((status, err["field"].as_str()), (400, Some("map")), "{err}");
    let (status, _, _) = call(
        addr,
        "POST",
        "/v1/accounts/import",
        ADMIN,
        Some(json!({"id": 1})),
    )
    .await;
    assert_eq!(status, 400, "JSON is not a CSV");
    let member = pg::http::make_token(addr, ADMIN, "mo", "member").await;
    let (status, _, _) = call(addr, "POST", "/v1/accounts/import", &member, None).await;
    assert_eq!(status, 403);

    // 100,000 accounts in one file, through HTTP.
    let mut big = String::from("Record ID,Company name,Annual Revenue,Plan\n");
    for n in 0..100_000 {
        big.push_str(&format!("big-{n},Company {n},{}.50,p{}\n", 1000 + n, n % 7));
    }
    let started = std::time::Instant::now();
    let (status, done) = import(addr, "", &big).await;
    eprintln!(
        "imported 100,000 accounts over HTTP in {:.2} s ({db:?})",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(status, 200);
    assert_eq!(done["created"], 100_000, "{}", done["errors"]);
    let r = get(addr, "/v1/revenue").await;
    // Σ (1000 + n + 0.5) for n < 100,000, plus the records above.
    let big_sum = 100_000.0 * 1000.5 + (99_999.0 * 100_000.0) / 2.0;
    let small = 12000.0 + 60000.0 + 1250000.0 + 7500.5 + 4000.0;
    assert_eq!(r["total_arr"], big_sum + small, "{r}");
}

async fn themes_carry_their_worth_in_money(db: Db) {
    let url = pg::http::database(db, "accounts", "themes").await;
    let mut settings = Settings {
        db: url,
        rate_limit: 0,
        token: Some(ADMIN.into()),
        ..Settings::default()
    };
    settings.money.referral_value = Some(12000.0);
    settings.money.currency = "EUR".into();
    let addr = pg::http::serve(settings).await;
    send(addr, "PUT", "/v1/accounts/acme", json!({"arr": 50000})).await;
    send(addr, "PUT", "/v1/accounts/globex", json!({"arr": 34000})).await;
    for (n, account, text) in [
        (101, "acme", "Please add a Slack integration"),
        (102, "acme", "A Slack integration would help us"),
        (103, "globex", "We need the Slack integration for alerts"),
        (104, "globex", "Slack integration, please"),
    ] {
        comment(addr, n, account, text).await;
    }
    // Two promoters, one of whom referred someone: a rate of one half.
    answer(addr, 1, "u1", "acme", Some(10), None, false).await;
    answer(addr, 2, "u2", "acme", Some(9), None, false).await;
    let (status, r) = send(
        addr,
        "POST",
        &format!("/v1/responses/{}/referrals", id(1)),
        json!({"name": "Zed"}),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    let t = get(addr, "/v1/themes?segment=passive").await;
    assert_eq!(t["currency"], "EUR");
    let theme = &t["themes"][0];
    assert_eq!(theme["count"], 4, "{t}");
    assert_eq!(theme["arr"], 84000.0, "acme and globex, each once: {t}");
    // Four passives × 0.5 referrals per promoter × 12,000.
    assert_eq!(theme["referrals"], 2.0, "{t}");
    assert_eq!(theme["referral_value"], 24000.0, "{t}");
}

/// A date range is summed from the accounts' counts per month and its partial months counted
/// from the responses; a range given by instants is counted from the responses alone. Both must
/// give every figure alike, for ranges of whole months, of partial ones, open on one side, and
/// within one month; with follow-ups closed and people answering again in another month.
async fn date_ranges_by_month_count_what_the_responses_count(db: Db) {
    let addr = start(db, "months").await;
    let accounts = ["acme", "globex", "initech", "hooli", "umbrella"];
    for (i, account) in accounts.iter().enumerate() {
        send(
            addr,
            "PUT",
            &format!("/v1/accounts/{account}"),
            json!({"arr": 10000 * (i + 1), "plan": if i % 2 == 0 { "pro" } else { "team" }}),
        )
        .await;
    }
    // 120 responses from 30 people over September to December 2026 (four months and a half),
    // each person answering about four times, every third answer with a comment.
    let mut given = Vec::new();
    for n in 0..120u32 {
        let account = accounts[(n % 5) as usize];
        let user = format!("p{}", n % 30);
        let score = match (n * 7 + n / 5) % 13 {
            11 | 12 => None,
            s => Some(i64::from(s.min(10))),
        };
        let segment = match score {
            None => "silent",
            Some(0..=6) => "detractor",
            Some(7..=8) => "passive",
            Some(_) => "promoter",
        };
        let day = 1 + (n * 37) % 135;
        let at = time::Date::from_calendar_date(2026, time::Month::September, 1).unwrap()
            + time::Duration::days(i64::from(day));
        given.push((account, at, score));
        let at = format!("{at}T10:{:02}:00.000Z", n % 60);
        let mut body = json!({
            "schema": 1, "id": id(1000 + n), "survey_id": "m", "score": score,
            "segment": segment, "state": "complete",
            "user": {"id": user, "account_id": account},
            "context": {"url": "https://app.example/", "locale": "en"}, "shown_at": at,
        });
        if score.is_some() {
            body["answered_at"] = json!(at);
            body["completed_at"] = json!(at);
            if n % 3 == 0 {
                body["comment"] = json!(format!("comment {n}"));
            }
        } else {
            body["silent_reason"] = json!("dismissed");
            body["state"] = json!("partial");
        }
        let (status, _, text) = call(addr, "POST", "/v1/responses", "", Some(body)).await;
        assert!((200..300).contains(&status), "{status}: {text}");
        if n % 4 == 0 {
            let (status, _) = send(
                addr,
                "PATCH",
                &format!("/v1/responses/{}/follow-up", id(1000 + n)),
                json!({"status": "resolved"}),
            )
            .await;
            assert_eq!(status, 200);
        }
    }
    let ranges = [
        ("2026-10-01", Some("2026-12-01")),
        ("2026-09-15", Some("2026-12-20")),
        ("2026-10-10", Some("2026-10-25")),
        ("2026-11-05", Some("2026-12-01")),
        ("2026-10-01", Some("2026-10-20")),
        ("2026-09-20", None),
        ("2026-01-01", None),
    ];
    let mut seen_any = 0;
    for (from, to) in ranges {
        let days = match to {
            Some(to) => format!("from={from}&to={to}"),
            None => format!("from={from}"),
        };
        let instants = match to {
            Some(to) => format!("from={from}T00:00:00Z&to={to}T00:00:00Z"),
            None => format!("from={from}T00:00:00Z"),
        };
        for scope in ["", "survey_id=m&"] {
            for q in [
                "limit=100",
                "sort=arr&limit=100",
                "opportunity=upsell",
                "limit=2&offset=1",
            ] {
                let by_month = get(addr, &format!("/v1/accounts?{scope}{days}&{q}")).await;
                let counted = get(addr, &format!("/v1/accounts?{scope}{instants}&{q}")).await;
                if q == "opportunity=upsell" {
                    // The upsell list in a range: accounts that answered in it, by today's
                    // segment, the same either way.
                    assert_eq!(by_month, counted, "{scope}{days}&{q}");
                    continue;
                }
                assert_eq!(by_month, counted, "{scope}{days}&{q}");
                seen_any += by_month
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|a| a["answers"].as_u64() > Some(0))
                    .count();
            }
            let by_month = get(addr, &format!("/v1/revenue?{scope}{days}")).await;
            let counted = get(addr, &format!("/v1/revenue?{scope}{instants}")).await;
            assert_eq!(by_month, counted, "revenue {scope}{days}");
        }
    }
    assert!(seen_any > 20, "the ranges hold answers ({seen_any})");
    // A range's mean, by hand: the scores given from 15 September to 20 December.
    let (from, to) = (
        time::Date::from_calendar_date(2026, time::Month::September, 15).unwrap(),
        time::Date::from_calendar_date(2026, time::Month::December, 20).unwrap(),
    );
    let ranged = get(addr, "/v1/accounts?from=2026-09-15&to=2026-12-20&limit=100").await;
    for account in accounts {
        let scores: Vec<i64> = given
            .iter()
            .filter(|(a, at, _)| *a == account && *at >= from && *at < to)
            .filter_map(|(_, _, score)| *score)
            .collect();
        let row = ranged
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["account_id"] == account)
            .unwrap();
        let mean = scores.iter().sum::<i64>() as f64 / scores.len() as f64;
        assert_eq!(row["people"], scores.len(), "{row}");
        assert_eq!(row["mean_score"], (mean * 10.0).round() / 10.0, "{row}");
    }
    // From before the first answer on, a range counts what all time counts; its mean is of
    // every score given in it (as its NPS counts every answer), where all time's is of each
    // person's latest score.
    let all = get(addr, "/v1/accounts?limit=100").await;
    let since = get(addr, "/v1/accounts?limit=100&from=2026-01-01").await;
    let without_means = |accounts: &Value| {
        let mut accounts = accounts.clone();
        for a in accounts.as_array_mut().unwrap() {
            for key in ["mean_score", "people", "segment"] {
                a.as_object_mut().unwrap().remove(key);
            }
        }
        accounts
    };
    assert_eq!(without_means(&all), without_means(&since));
    for (a, s) in all
        .as_array()
        .unwrap()
        .iter()
        .zip(since.as_array().unwrap())
    {
        assert_eq!(a["people"], 6, "{a}");
        assert_eq!(s["people"], s["answers"], "{s}");
        assert_ne!(a["mean_score"], s["mean_score"], "{a} {s}");
    }
    let closed: u64 = all
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["open_follow_ups"].as_u64().unwrap())
        .sum();
    assert_eq!(closed, 120 - 30, "30 of the 120 follow-ups were resolved");
}
