//! Report figures at scale. Run by `cargo xtask bench-reports`, which starts the collector.
//!
//! usage: reports seed DB_URL N SHAPE      store N synthetic responses (over two years, one
//!                                         in seven silent), unless the table has them
//!        reports query URL TOKEN N SHAPE  time each report once the collector serves that
//!                                         database, check that the counts are exact, and
//!                                         fail when a report takes more than a second
//!
//! SHAPE is `b2b` (every response from a different person, 5,000 accounts: a real B2B base)
//! or `classic` (200,000 people answering again and again, 10,000 accounts).
//!
//! The rows are inserted by the database itself (fast, and the same data on both); the
//! accounts' running totals, which the writer keeps for posted responses, are then computed
//! from them once.

use std::time::{Duration, Instant};

use nps_collector::{Backend, Store};
use sqlx::{Connection, Executor};

/// The synthetic rows, per backend: an `INSERT … SELECT` over a generated series
/// `i` = `$1` .. `$2`, so that the database makes them itself (fast, and the same data on
/// both).
fn insert_sql(backend: Backend, n: i64, shape: Shape) -> String {
    let (people, accounts) = (shape.people(n), shape.accounts());
    // Two years of responses, evenly spread. Scores lean by account (its id modulo 8), so that
    // one account in eight is a promoter account and two are passive ones (the upsell report
    // has promoters and passives to find), the rest detractors.
    let step = 63_072_000.0 / n as f64;
    match backend {
        Backend::Sqlite => format!(
            "WITH RECURSIVE s(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM s WHERE i < $2),
             g AS (SELECT i, CASE WHEN i % 7 = 0 THEN NULL
                     ELSE MIN(10, (i % 11) / 2 + (i % {accounts}) % 8) END AS score,
                     strftime('%Y-%m-%dT%H:%M:%S.000Z', 1735689600 + CAST(i * {step} AS INTEGER), 'unixepoch') AS t
                   FROM s)
             INSERT INTO responses (id, survey_id, score, segment, silent_reason, comment,
                contact_consent, referral_clicked, state, rank, user_id, account_id, email, url,
                locale, shown_at, answered_at, completed_at, body, received_at, updated_at, shown_day)
             SELECT printf('00000000-0000-4000-8000-%012x', i), 'bench', score,
                CASE WHEN score IS NULL THEN 'silent' WHEN score >= 9 THEN 'promoter'
                     WHEN score >= 7 THEN 'passive' ELSE 'detractor' END,
                CASE WHEN score IS NULL THEN 'dismissed' END,
                CASE WHEN i % 3 = 0 AND score IS NOT NULL THEN 'synthetic comment about feature' || (i % 97) || ' and area' || (i % 89) || ', with tool' || (i % 53) || ' ' || i END,
                NULL, NULL, 'complete', 2, 'u' || (i % {people}), 'acct' || (i % {accounts}),
                'person' || (i % {people}) || '@example.com', 'https://app.example.com/reports',
                'en', t, t, t,
                '{{\"schema\":1,\"id\":\"' || printf('00000000-0000-4000-8000-%012x', i) ||
                '\",\"survey_id\":\"bench\",\"score\":' || COALESCE(score, 'null') ||
                ',\"state\":\"complete\",\"user\":{{\"id\":\"u' || (i % {people}) ||
                '\",\"account_id\":\"acct' || (i % {accounts}) ||
                '\"}},\"context\":{{\"url\":\"https://app.example.com/reports\",\"locale\":\"en\"}},\"shown_at\":\"' ||
                t || '\"}}', t, t, substr(t, 1, 10)
             FROM g"
        ),
        Backend::Postgres => format!(
            "WITH g AS (SELECT i, CASE WHEN i % 7 = 0 THEN NULL
                     ELSE LEAST(10, (i % 11) / 2 + (i % {accounts}) % 8) END AS score,
                     to_char(to_timestamp(1735689600 + floor(i * {step})) AT TIME ZONE 'UTC',
                             'YYYY-MM-DD\"T\"HH24:MI:SS\".000Z\"') AS t
                   FROM generate_series(CAST($1 AS BIGINT), CAST($2 AS BIGINT)) AS i)
             INSERT INTO responses (id, survey_id, score, segment, silent_reason, comment,
                contact_consent, referral_clicked, state, rank, user_id, account_id, email, url,
                locale, shown_at, answered_at, completed_at, body, received_at, updated_at, shown_day)
             SELECT '00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'), 'bench', score,
                CASE WHEN score IS NULL THEN 'silent' WHEN score >= 9 THEN 'promoter'
                     WHEN score >= 7 THEN 'passive' ELSE 'detractor' END,
                CASE WHEN score IS NULL THEN 'dismissed' END,
                CASE WHEN i % 3 = 0 AND score IS NOT NULL THEN 'synthetic comment about feature' || (i % 97) || ' and area' || (i % 89) || ', with tool' || (i % 53) || ' ' || i END,
                NULL, NULL, 'complete', 2, 'u' || (i % {people}), 'acct' || (i % {accounts}),
                'person' || (i % {people}) || '@example.com', 'https://app.example.com/reports',
                'en', t, t, t,
                '{{\"schema\":1,\"id\":\"00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0') ||
                '\",\"survey_id\":\"bench\",\"score\":' || COALESCE(CAST(score AS TEXT), 'null') ||
                ',\"state\":\"complete\",\"user\":{{\"id\":\"u' || (i % {people}) ||
                '\",\"account_id\":\"acct' || (i % {accounts}) ||
                '\"}},\"context\":{{\"url\":\"https://app.example.com/reports\",\"locale\":\"en\"}},\"shown_at\":\"' ||
                t || '\"}}', t, t, substr(t, 1, 10)
             FROM g"
        ),
    }
}

/// Who the synthetic responses come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Every response from another person, in 5,000 accounts.
    B2b,
    /// 200,000 people (or fewer, for a small N) answering again and again, in 10,000 accounts.
    Classic,
}

impl Shape {
    fn parse(name: &str) -> Option<Shape> {
        match name {
            "b2b" => Some(Shape::B2b),
            "classic" => Some(Shape::Classic),
            _ => None,
        }
    }

    fn people(self, n: i64) -> i64 {
        match self {
            Shape::B2b => n + 1,
            Shape::Classic => 200_000.min(n + 1),
        }
    }

    fn accounts(self) -> i64 {
        match self {
            Shape::B2b => 5_000,
            Shape::Classic => 10_000,
        }
    }
}

async fn seed(url: &str, n: i64, shape: Shape) {
    let store = Store::open(url).await.expect("opening the store");
    let have = store.count().await.expect("counting");
    if have == n {
        println!("seed: {n} responses already stored");
        return;
    }
    assert_eq!(
        have, 0,
        "seed: the database holds {have} responses, expected 0 or {n}"
    );
    let started = Instant::now();
    let sql = insert_sql(store.backend(), n, shape);
    let raw = url.replace("sqlite://", "sqlite:");
    const CHUNK: i64 = 200_000;
    // One connection of sqlx's `Any` driver (installed by `Store::open`) for both databases.
    let mut conn = sqlx::AnyConnection::connect(&raw).await.expect("connect");
    for first in (1..=n).step_by(CHUNK as usize) {
        let last = (first + CHUNK - 1).min(n);
        sqlx::query(&sql)
            .bind(first)
            .bind(last)
            .execute(&mut conn)
            .await
            .expect("insert");
    }
    // Fresh statistics for the planner (and, on PostgreSQL, the visibility map that lets it
    // answer from the indexes alone).
    let analyze = match store.backend() {
        Backend::Sqlite => "ANALYZE",
        Backend::Postgres => "VACUUM ANALYZE",
    };
    // Inserted by SQL, the rows did not pass the writer, which keeps the accounts' running
    // totals as it writes: they are computed once from the stored rows, as an import would.
    let totals = Instant::now();
    store
        .rebuild_account_totals()
        .await
        .expect("rebuilding the accounts' totals");
    println!(
        "seed: accounts' running totals computed in {:.1} s",
        totals.elapsed().as_secs_f64()
    );
    // An account record with ARR for every account, on one of four plans, as an import of
    // the CRM's export would make them.
    let records: Vec<_> = (0..shape.accounts())
        .map(|a| {
            let record = nps_collector::model::AccountRecord {
                name: Some(format!("Account {a}")),
                arr_cents: Some((1_000 + (a * 7_919) % 99_000) * 100),
                plan: Some(["free", "team", "pro", "enterprise"][(a % 4) as usize].to_owned()),
                owner: Some(format!("owner{}", a % 12)),
                renewal_on: Some(format!("2027-{:02}-{:02}", 1 + a % 12, 1 + a % 28)),
                ..Default::default()
            };
            (format!("acct{a}"), record)
        })
        .collect();
    store
        .import_account_records(&records, "bench")
        .await
        .expect("account records");
    conn.execute(analyze).await.expect("analyze");
    println!(
        "seed: stored {n} responses in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// GETs `path`, prints its time and size; (time, size, Link header, body when small).
async fn timed(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
) -> (Duration, u64, String, String) {
    let started = Instant::now();
    let response = client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status();
    let link = response
        .headers()
        .get("link")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert!(status.is_success(), "GET {path}: {status}");
    let elapsed = started.elapsed();
    let text = if body.len() < 4_000_000 {
        String::from_utf8_lossy(&body).into_owned()
    } else {
        String::new()
    };
    println!(
        "  {path:<52} {:>8.1} ms  {:>10} bytes",
        elapsed.as_secs_f64() * 1e3,
        body.len()
    );
    (elapsed, body.len() as u64, link, text)
}

/// Reports that must answer within a second at any size (a human waits for them).
const BUDGET: Duration = Duration::from_secs(1);
/// The money reports over all time, read from the running totals and the records.
const MONEY_BUDGET: Duration = Duration::from_millis(100);

async fn query(base: &str, token: &str, n: u64, shape: Shape) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .expect("client");
    let mut slow = Vec::new();
    let mut budgeted = |path: &str, took: Duration, budget: Duration| {
        if took > budget {
            slow.push(format!("{path}: {:.0} ms", took.as_secs_f64() * 1e3));
        }
    };
    let (took, _, _, summary) = timed(&client, base, token, "/v1/summary").await;
    budgeted("/v1/summary", took, BUDGET);
    let s: serde_json::Value = serde_json::from_str(&summary).expect("summary JSON");
    let silent = n / 7;
    assert_eq!(s["responses"], n, "the summary counts every response");
    assert_eq!(s["silent"], silent, "one in seven is silent");
    let trend_total: u64 = s["trend"]
        .as_array()
        .expect("trend")
        .iter()
        .map(|p| p["responses"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(trend_total, n, "the weeks add up to the total");
    for path in [
        "/v1/summary?interval=month",
        "/v1/summary?from=2026-01-01&to=2026-04-01",
        "/v1/trend.svg",
    ] {
        let (took, ..) = timed(&client, base, token, path).await;
        budgeted(path, took, BUDGET);
    }
    let (took, _, _, accounts) = timed(&client, base, token, "/v1/accounts").await;
    budgeted("/v1/accounts", took, BUDGET);
    let first: serde_json::Value = serde_json::from_str(&accounts).expect("accounts JSON");
    let first = first.as_array().expect("a list of accounts");
    assert_eq!(first.len(), 100, "a page of 100 accounts");
    let per_account = n / shape.accounts() as u64;
    for a in first {
        let counted = ["promoters", "passives", "detractors", "silent"]
            .iter()
            .map(|k| a[k].as_u64().unwrap_or(0))
            .sum::<u64>();
        assert_eq!(
            counted, per_account,
            "every response of {} is counted",
            a["account_id"]
        );
        if shape == Shape::B2b {
            assert_eq!(
                a["people"], a["answers"],
                "in the B2B shape every answer is another person"
            );
        }
    }
    let last_page = format!("/v1/accounts?limit=1000&offset={}", shape.accounts() - 1000);
    for path in [
        last_page.as_str(),
        "/v1/accounts?segment=silent",
        "/v1/accounts?segment=detractor",
        "/v1/accounts?segment=passive",
        "/v1/accounts?segment=promoter",
        "/v1/accounts?from=2026-01-01&to=2026-04-01",
        "/v1/themes?segment=passive",
        "/v1/themes?segment=detractor",
    ] {
        let (took, ..) = timed(&client, base, token, path).await;
        if !path.contains("from=") {
            budgeted(path, took, BUDGET);
        }
    }
    // Every account report, for all surveys and for one, with and without a date range:
    // each within a second.
    for scope in ["", "survey_id=bench&"] {
        for dates in ["", "from=2026-01-01&to=2026-04-01&"] {
            for q in [
                "sort=nps",
                "sort=arr",
                "sort=renewal_on",
                "segment=silent",
                "segment=detractor",
                "segment=passive",
                "segment=promoter",
                "owner=owner3&sort=arr",
                "opportunity=upsell",
            ] {
                let path = format!("/v1/accounts?{scope}{dates}{q}");
                let (took, ..) = timed(&client, base, token, &path).await;
                budgeted(&path, took, BUDGET);
            }
        }
    }
    // The money reports: within 100 ms, over all time (from the running totals) and over a
    // date range (its whole months from the counts per month, its partial ones from the
    // responses).
    for scope in ["", "survey_id=bench&"] {
        for dates in [
            "",
            "from=2026-01-01&to=2026-04-01&",
            "from=2026-01-15&to=2026-04-10&",
        ] {
            for report in ["/v1/revenue", "/v1/accounts", "/v1/referrals/summary"] {
                let extra = if report == "/v1/accounts" {
                    "opportunity=upsell"
                } else {
                    ""
                };
                let path = format!("{report}?{scope}{dates}{extra}");
                let (took, _, _, body) = timed(&client, base, token, &path).await;
                if !extra.is_empty() {
                    let found: serde_json::Value =
                        serde_json::from_str(&body).expect("upsell JSON");
                    let found = found.as_array().map_or(0, Vec::len);
                    println!("    {path}: {found} accounts under their plan's median");
                    assert!(found > 0, "{path} finds promoters and passives to upsell");
                }
                budgeted(&path, took, MONEY_BUDGET);
            }
        }
    }
    let (_, _, link, _) = timed(
        &client,
        base,
        token,
        "/v1/responses?segment=detractor&limit=100",
    )
    .await;
    let next = link
        .strip_prefix('<')
        .and_then(|l| l.split_once('>'))
        .map(|(path, _)| path.to_owned())
        .expect("a Link to the next page");
    timed(&client, base, token, &next).await;
    // What the dashboard asks for at once.
    let started = Instant::now();
    tokio::join!(
        timed(&client, base, token, "/v1/summary"),
        timed(&client, base, token, "/v1/accounts"),
        timed(&client, base, token, "/v1/trend.svg"),
    );
    println!(
        "  the dashboard's three reports at once: {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let (_, bytes, _, _) = timed(
        &client,
        base,
        token,
        "/v1/responses?segment=detractor&format=csv",
    )
    .await;
    // About 47 % of the rows are detractors, each line over 100 bytes.
    assert!(bytes > n * 40, "the CSV export streams every detractor");
    assert!(
        slow.is_empty(),
        "reports over the one-second budget: {}",
        slow.join(", ")
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: reports seed DB_URL N b2b|classic | reports query URL TOKEN N b2b|classic";
    match args.first().map(String::as_str) {
        Some("seed") if args.len() == 4 => {
            let shape = Shape::parse(&args[3]).expect(usage);
            seed(&args[1], args[2].parse().expect(usage), shape).await;
        }
        Some("query") if args.len() == 5 => {
            let shape = Shape::parse(&args[4]).expect(usage);
            query(&args[1], &args[2], args[3].parse().expect(usage), shape).await;
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
