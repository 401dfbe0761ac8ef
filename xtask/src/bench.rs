//! `cargo xtask bench-collector`: the collector's load figure on SQLite and on PostgreSQL.
//! Starts the release collector on a free loopback port (rate limit off), runs the `load`
//! example against it (100,000 responses over 64 connections by default), prints its line;
//! then grows an empty SQLite database to 1.2 million responses through HTTP (the sustained
//! figure), once numbered in order by the `load` example and once in the widget's own shape
//! (random UUID v4 ids, a new person each over 5,000 accounts, days over a year) by wrk.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{cargo, is_root, run, target_dir, Result};

/// A child process killed when dropped.
pub(crate) struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A PostgreSQL server stopped (`pg_ctl stop`, as its owner) when dropped.
pub(crate) struct PgGuard {
    stop: Command,
    child: Child,
}

impl Drop for PgGuard {
    fn drop(&mut self) {
        let _ = self.stop.status();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port())
}

/// Builds the release collector and one of its examples; their paths.
fn build_with_example(example: &str) -> Result<(PathBuf, PathBuf)> {
    run(cargo().args([
        "build",
        "--release",
        "--package",
        "nps-collector",
        "--bin",
        "nps-collector",
        "--example",
        example,
    ]))?;
    let target = target_dir();
    Ok((
        target.join("release/nps-collector"),
        target.join("release/examples").join(example),
    ))
}

/// An empty scratch directory for one benchmark (or check).
pub(crate) fn scratch(name: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

pub(crate) fn bench_collector(args: &[String]) -> Result {
    let n = args.first().cloned().unwrap_or_else(|| "100000".into());
    let concurrency = args.get(1).cloned().unwrap_or_else(|| "64".into());
    let sustained = args.get(2).cloned().unwrap_or_else(|| "1200000".into());
    let (collector, load) = build_with_example("load")?;
    let dir = scratch("nps-bench")?;
    let sqlite = format!("sqlite://{}", dir.join("bench.db").display());
    let (pg_url, pg) = start_postgres(&dir)?;
    let mut failed = false;
    for (name, db) in [("SQLite", sqlite.as_str()), ("PostgreSQL", pg_url.as_str())] {
        let (url, _server) = start_collector(&collector, db)?;
        println!("bench-collector, {name}, {n} responses:");
        if run(Command::new(&load).args([&url, &n, &concurrency, BENCH_TOKEN])).is_err() {
            failed = true;
        }
    }
    drop(pg);
    // The sustained run: an empty SQLite database grown to `sustained` responses through
    // HTTP, so that the figure includes the cost of a table (and its indexes and running
    // totals) that no longer fits in the page cache of a small one.
    let grown = format!("sqlite://{}", dir.join("sustained.db").display());
    let (url, server) = start_collector(&collector, &grown)?;
    println!("bench-collector, SQLite, sustained from empty to {sustained} responses:");
    if run(Command::new(&load).args([&url, &sustained, &concurrency, BENCH_TOKEN])).is_err() {
        failed = true;
    }
    match peak_rss_kb(server.0.id()) {
        Some(kb) => println!("  collector peak RSS: {:.1} MB", kb as f64 / 1024.0),
        None => println!("  collector peak RSS: not readable"),
    }
    drop(server);
    // The widget's shape: what real pages post (random UUID v4 ids, so every insert lands
    // somewhere in the primary-key index; one new person each over 5,000 accounts; shown on
    // days spread over a year), driven by wrk, whose Lua client loads these 2 cores far less
    // than the collector does.
    let widget = format!("sqlite://{}", dir.join("widget.db").display());
    let (url, server) = start_collector(&collector, &widget)?;
    println!(
        "bench-collector, SQLite, the widget's shape from empty to {sustained} responses (wrk):"
    );
    if widget_shape(&url, &sustained, &concurrency).is_err() {
        failed = true;
    }
    match peak_rss_kb(server.0.id()) {
        Some(kb) => println!("  collector peak RSS: {:.1} MB", kb as f64 / 1024.0),
        None => println!("  collector peak RSS: not readable"),
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    if failed {
        return Err("bench-collector: a run lost or refused responses".into());
    }
    Ok(())
}

/// Posts `n` responses in the widget's shape to `url` with wrk (`xtask/bench/widget.lua`) over
/// `connections`, prints wrk's figures, and checks that the collector stored every response it
/// acknowledged.
fn widget_shape(url: &str, n: &str, connections: &str) -> Result {
    let script = crate::root().join("xtask/bench/widget.lua");
    let wrk = Command::new("wrk")
        .args([
            "-t",
            "2",
            "-c",
            connections,
            "-d",
            "3h",
            "--timeout",
            "10s",
            "--latency",
            "-s",
        ])
        .arg(&script)
        .args([url, "--", n, "5000", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("wrk: {e} (apt-get install -y wrk)"))?;
    // wrk's threads stop after their share; wrk then waits for its duration: once the stored
    // count stops growing, SIGINT has it print its figures and exit.
    let api = crate::seed::Api::new(url, BENCH_TOKEN);
    let stored = || -> Result<u64> {
        let (_, summary) = api.call("GET", "/v1/summary", None)?;
        Ok(summary["responses"].as_u64().unwrap_or(0))
    };
    let started = Instant::now();
    let (mut last, mut still, mut grown_by) = (0, 0, started.elapsed());
    while still < 3 {
        std::thread::sleep(Duration::from_secs(1));
        let now = stored()?;
        if now == last && now > 0 {
            still += 1;
        } else {
            still = 0;
            grown_by = started.elapsed();
        }
        last = now;
    }
    println!(
        "  stored {last} in {:.0} s: {:.0} responses/s sustained (to the second)",
        grown_by.as_secs_f64(),
        last as f64 / grown_by.as_secs_f64()
    );
    run(Command::new("kill").args(["-INT", &wrk.id().to_string()]))?;
    let output = wrk.wait_with_output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&output.stdout);
    for line in text.lines() {
        println!("  {}", line.trim());
    }
    if !output.status.success() {
        return Err(format!(
            "wrk failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let acknowledged: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("answers by status: "))
        .map(|counts| {
            counts
                .split(", ")
                .filter_map(|c| c.split_once(": "))
                .filter(|(status, _)| *status == "200" || *status == "201")
                .filter_map(|(_, n)| n.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    let stored = stored()?;
    println!("  acknowledged {acknowledged}, stored {stored}");
    if stored < acknowledged || acknowledged == 0 {
        return Err(format!(
            "the widget's shape: {acknowledged} acknowledged, {stored} stored"
        ));
    }
    Ok(())
}

/// `cargo xtask bench-reports [SQLITE_N] [POSTGRES_N]`: stores 1.2 million synthetic
/// responses in SQLite and in PostgreSQL (by SQL, through the same triggers a posted response
/// goes through), in two shapes, starts the release collector on each, times every report
/// through HTTP, checks the counts, fails a report over a second, and prints the collector's
/// peak RSS.
pub(crate) fn bench_reports(args: &[String]) -> Result {
    let sqlite_n = args.first().cloned().unwrap_or_else(|| "1200000".into());
    let pg_n = args.get(1).cloned().unwrap_or_else(|| "1200000".into());
    let (collector, reports) = build_with_example("reports")?;
    let mut failed = false;
    // The B2B base first (every response another person, 5,000 accounts), then the shape
    // earlier benchmarks used (200,000 people answering again and again, 10,000 accounts).
    for shape in ["b2b", "classic"] {
        let dir = scratch(&format!("nps-bench-reports-{shape}"))?;
        let sqlite = format!("sqlite://{}", dir.join("reports.db").display());
        let (pg_url, pg) = start_postgres(&dir)?;
        for (name, db, n) in [
            ("SQLite", sqlite.as_str(), &sqlite_n),
            ("PostgreSQL", pg_url.as_str(), &pg_n),
        ] {
            println!("bench-reports, {name}, {n} responses, shape {shape}:");
            run(Command::new(&reports).args(["seed", db, n, shape]))?;
            let token = "bench-reports-token";
            let (url, server) = start_collector_with(&collector, db, &["--token", token])?;
            if run(Command::new(&reports).args(["query", &url, token, n, shape])).is_err() {
                failed = true;
            }
            match peak_rss_kb(server.0.id()) {
                Some(kb) => println!("  collector peak RSS: {:.1} MB", kb as f64 / 1024.0),
                None => println!("  collector peak RSS: not readable"),
            }
        }
        drop(pg);
        let _ = std::fs::remove_dir_all(&dir);
    }
    if failed {
        return Err("bench-reports: a report was wrong, failed or took over a second".into());
    }
    Ok(())
}

/// `VmHWM` of a process: its peak resident set, in KiB.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// The admin token the load runs read the stored count with.
const BENCH_TOKEN: &str = "bench-collector-token";

fn start_collector(bin: &Path, db: &str) -> Result<(String, Guard)> {
    start_collector_with(bin, db, &["--token", BENCH_TOKEN])
}

fn start_collector_with(bin: &Path, db: &str, extra: &[&str]) -> Result<(String, Guard)> {
    let mut args = vec!["--listen", "127.0.0.1:0", "--db", db, "--rate-limit", "0"];
    args.extend_from_slice(extra);
    spawn_collector(bin, &args)
}

/// Starts the collector with `args` (a `--listen` port of 0 among them); its address, once it
/// listens, and the process, killed when the guard drops.
pub(crate) fn spawn_collector(bin: &Path, args: &[&str]) -> Result<(String, Guard)> {
    let mut child = Command::new(bin)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().ok_or("no collector stdout")?;
    let guard = Guard(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .ok_or_else(|| format!("the collector did not start: {line}"))?
        .trim_end_matches('/')
        .to_owned();
    Ok((url, guard))
}

/// A throwaway PostgreSQL cluster (Debian's `postgresql`) in `dir`, on a free loopback port,
/// with its default durability settings; stopped when the guard drops.
pub(crate) fn start_postgres(dir: &Path) -> Result<(String, PgGuard)> {
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "PostgreSQL is not installed: apt-get install -y postgresql".to_owned())?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .max()
        .ok_or("PostgreSQL is not installed: apt-get install -y postgresql")?;
    let root = is_root();
    let as_pg = |program: PathBuf| {
        if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    };
    let data = dir.join("pg");
    if root {
        run(Command::new("chown").args(["postgres:postgres", &dir.display().to_string()]))?;
    }
    run(as_pg(bin.join("initdb"))
        .args([
            "-D",
            &data.display().to_string(),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        ])
        .stdout(Stdio::null()))?;
    let port = free_port()?;
    let child = as_pg(bin.join("postgres"))
        .args(["-D", &data.display().to_string(), "-p", &port.to_string()])
        .args([
            "-k",
            &dir.display().to_string(),
            "-c",
            "listen_addresses=127.0.0.1",
        ])
        .args(["-c", "max_connections=100"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting postgres: {e}"))?;
    let mut stop = as_pg(bin.join("pg_ctl"));
    stop.args(["stop", "-D", &data.display().to_string(), "-m", "fast"])
        .stdout(Stdio::null());
    let guard = PgGuard { stop, child };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err("postgres did not start within 20 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Ready to accept connections a moment after the port opens.
    std::thread::sleep(Duration::from_millis(500));
    Ok((
        format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        guard,
    ))
}
