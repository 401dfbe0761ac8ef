//! A real PostgreSQL server for the tests: `NPS_TEST_PG_URL` when set (a server someone else
//! runs), otherwise a throwaway cluster of Debian's `postgresql` package, started once per test
//! binary on a free loopback port and stopped when the tests exit. Each test gets a database of
//! its own. Also the pair every store and HTTP test runs on: [`Db`] and `on_both!`, and (in
//! `http`) what the HTTP tests share.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sqlx::{Connection, Executor, PgConnection};

pub mod http;

static SERVER: OnceLock<String> = OnceLock::new();
static NEXT: AtomicU32 = AtomicU32::new(0);

/// A new, empty database on the test server; its `postgres://` URL.
pub async fn fresh_database() -> String {
    let base = SERVER.get_or_init(start_server).clone();
    let name = format!(
        "t{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = connect(&format!("{base}/postgres")).await;
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    format!("{base}/{name}")
}

async fn connect(url: &str) -> PgConnection {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match PgConnection::connect(url).await {
            Ok(c) => return c,
            Err(e) if Instant::now() > deadline => panic!("connecting to {url}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The directory holding `initdb` and `postgres`.
fn bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL is not installed: `apt-get install -y postgresql` (cargo xtask test does \
             it as root), or set NPS_TEST_PG_URL=postgres://USER@HOST:PORT"
        )
    })
}

fn start_server() -> String {
    if let Ok(url) = std::env::var("NPS_TEST_PG_URL") {
        return url.trim_end_matches('/').to_owned();
    }
    let bin = bin_dir();
    let root = is_root();
    let dir = std::env::temp_dir().join(format!("nps-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    if root {
        // initdb refuses to run as root: the cluster belongs to the `postgres` user.
        let ok = Command::new("chown")
            .args(["postgres:postgres", &dir.display().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "chown postgres {}", dir.display());
    }
    let data = dir.join("data");
    let status = as_postgres(root, &bin.join("initdb"))
        .args([
            "-D",
            &data.display().to_string(),
            "-U",
            "postgres",
            "--auth=trust",
        ])
        .args(["--no-sync", "-E", "UTF8"])
        .stdout(Stdio::null())
        .status()
        .expect("running initdb");
    assert!(status.success(), "initdb failed");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The server lives as long as this test process: the shell waits on its stdin, which
    // closes when we exit, then stops the server and removes the cluster.
    let script = format!(
        "'{postgres}' -D '{data}' -p {port} -k '{dir}' -c listen_addresses=127.0.0.1 \
         >'{dir}/log' 2>&1 & p=$!; cat >/dev/null; kill $p; wait $p; rm -rf '{dir}'",
        postgres = bin.join("postgres").display(),
        data = data.display(),
        dir = dir.display(),
    );
    let child = as_postgres(root, Path::new("sh"))
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .spawn()
        .expect("starting postgres");
    std::mem::forget(child);
    format!("postgres://postgres@127.0.0.1:{port}")
}

fn as_postgres(root: bool, program: &Path) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"))
}

/// The databases the collector's tests run on.
#[derive(Clone, Copy, Debug)]
#[allow(dead_code)] // a test binary that starts only PostgreSQL uses neither variant by name
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn(Db)` of the calling file once on SQLite and once on PostgreSQL.
#[allow(unused_macros)]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name($crate::pg::Db::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name($crate::pg::Db::Postgres).await })*
        }
    };
}
