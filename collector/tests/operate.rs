//! Running it for years: `nps-collector backup FILE`, run as the binary beside a serving
//! collector under load (every response acknowledged before the backup began is in the copy,
//! and the copy opens in a collector; on PostgreSQL it says to use pg_dump and exits 2); the
//! schema version in `/readyz`, and a collector older than its database refusing it.

#[macro_use]
mod pg;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nps_collector::{Settings, Store};
use pg::http::call;
use serde_json::json;

const ADMIN: &str = "backup-test-admin-token-0123456789";

on_both!(a_collector_older_than_its_database_refuses_it);

async fn a_collector_older_than_its_database_refuses_it(db: pg::Db) {
    let url = pg::http::database(db, "operate", "newer").await;
    let store = Store::open(&url).await.unwrap();
    let (database, known) = store.schema_version().await.unwrap();
    assert_eq!(
        database, known,
        "a new database is at this collector's version"
    );
    assert!(known > 60);
    let addr = pg::http::serve(Settings {
        db: url.clone(),
        token: Some(ADMIN.into()),
        ..Settings::default()
    })
    .await;
    let (status, _, ready) = call(addr, "GET", "/readyz", "", None).await;
    assert_eq!(status, 200);
    assert!(
        ready.contains(&format!(
            "schema_version {known} (this collector's {known})"
        )),
        "{ready}"
    );
    // A newer release migrated it further: this one refuses it and changes nothing.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
        .bind(known + 1)
        .execute(&pool)
        .await
        .unwrap();
    let refused = Store::open(&url).await.unwrap_err().to_string();
    assert!(
        refused.contains(&format!("schema version {}", known + 1))
            && refused.contains(&format!("this collector's {known}")),
        "{refused}"
    );
    let versions: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM schema_version")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(versions, known + 1, "nothing was changed");
}

fn body(n: u64) -> serde_json::Value {
    json!({
        "schema": 1, "id": format!("5d2c1a3b-7e4f-4a6b-9c8d-{n:012}"), "survey_id": "b",
        "score": n % 11, "segment": match n % 11 { 0..=6 => "detractor", 7 | 8 => "passive", _ => "promoter" },
        "state": "partial", "user": {"id": format!("u{n}"), "account_id": format!("a{}", n % 50)},
        "context": {"url": "https://app.example/", "locale": "en"},
        "shown_at": "2026-11-20T10:00:00.000Z", "answered_at": "2026-11-20T10:00:05.000Z",
    })
}

/// Posts responses from `clients` loops until `stop`; the ids acknowledged, in order.
fn load(addr: SocketAddr, clients: u64, stop: Arc<AtomicBool>) -> Arc<Mutex<Vec<String>>> {
    let acked = Arc::new(Mutex::new(Vec::new()));
    for c in 0..clients {
        let (acked, stop) = (acked.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = c;
            while !stop.load(Ordering::Relaxed) {
                let b = body(n);
                let (status, _, _) = call(addr, "POST", "/v1/responses", "", Some(b.clone())).await;
                if (200..300).contains(&status) {
                    acked
                        .lock()
                        .unwrap()
                        .push(b["id"].as_str().unwrap().to_owned());
                }
                n += clients;
            }
        });
    }
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_holds_every_acknowledged_response() {
    let dir = pg::http::temp_dir("backup", "load");
    let db = format!("sqlite://{}", dir.join("live.db").display());
    let addr = pg::http::serve(Settings {
        db: db.clone(),
        token: Some(ADMIN.into()),
        rate_limit: 0,
        ..Settings::default()
    })
    .await;
    let stop = Arc::new(AtomicBool::new(false));
    let acked = load(addr, 8, stop.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before: Vec<String> = acked.lock().unwrap().clone();
    assert!(before.len() > 100, "the load is running ({})", before.len());
    let copy = dir.join("copy.db");
    let started = Instant::now();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_nps-collector"))
        .args(["backup", "--db", &db])
        .arg(&copy)
        .output()
        .await
        .unwrap();
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let during = acked.lock().unwrap().len() - before.len();
    // The copy opens in a collector and holds every response acknowledged before it began.
    let restored = Store::open(&format!("sqlite://{}", copy.display()))
        .await
        .unwrap();
    let mut missing = 0;
    for id in &before {
        if restored.segment_of(id).await.unwrap().is_none() {
            missing += 1;
        }
    }
    let found = restored.count().await.unwrap();
    println!(
        "backup under load: {} acknowledged before it began, {missing} of them missing; {found} \
         in the copy ({during} more acknowledged while it ran), {:.2} s",
        before.len(),
        took.as_secs_f64()
    );
    assert_eq!(missing, 0);
    assert!(found as usize >= before.len());
    let (status, _, _) = call(addr, "GET", "/v1/summary", ADMIN, None).await;
    assert_eq!(status, 200, "the live collector served on");
    // A second backup to the same file is refused, naming it.
    let again = tokio::process::Command::new(env!("CARGO_BIN_EXE_nps-collector"))
        .args(["backup", "--db", &db])
        .arg(&copy)
        .output()
        .await
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("the file exists"));
}

#[tokio::test]
async fn postgres_is_backed_up_by_pg_dump() {
    let url = pg::http::database(pg::Db::Postgres, "backup", "pg").await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_nps-collector"))
        .args(["backup", "--db", &url, "/nonexistent/copy.db"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pg_dump -Fc"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
