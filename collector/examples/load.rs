//! Load figure for the collector: posts N distinct, valid responses over C keep-alive
//! connections on loopback, then checks that the collector stored exactly N. Prints throughput
//! and p50/p99 latency. Run by `cargo xtask bench-collector`, which starts the collector.
//!
//! usage: load URL [N] [CONCURRENCY] [TOKEN] [FIRST]
//!
//! TOKEN reads the stored count (the read API needs one); FIRST numbers the responses and their
//! people from FIRST on, to grow a database that already holds 0..FIRST.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

fn body(run: u32, i: usize) -> String {
    let score = i % 11;
    let segment = match score {
        0..=6 => "detractor",
        7..=8 => "passive",
        _ => "promoter",
    };
    format!(
        r#"{{"schema":1,"id":"{run:08x}-0000-4000-8000-{i:012x}","survey_id":"load","score":{score},"segment":"{segment}","comment":"load test answer {i}","contact_consent":null,"state":"complete","user":{{"id":"u{i}","account_id":"acct{a}"}},"context":{{"url":"https://app.example/","locale":"en"}},"shown_at":"2026-11-23T10:00:00.000Z","answered_at":"2026-11-23T10:00:01.000Z","completed_at":"2026-11-23T10:00:02.000Z"}}"#,
        a = i % 500
    )
}

/// Reads one HTTP/1.1 response; returns its status.
async fn read_response(reader: &mut BufReader<TcpStream>) -> std::io::Result<u16> {
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let status = line.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut buf = vec![0; length];
    reader.read_exact(&mut buf).await?;
    Ok(status)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .first()
        .expect("usage: load URL [N] [CONCURRENCY] [TOKEN] [FIRST]")
        .clone();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let concurrency: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(64);
    let token = args.get(3).cloned().unwrap_or_default();
    let first: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(0);
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as u32;

    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let next = next.clone();
        let addr = addr.clone();
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(&addr).await.expect("connect");
            stream.set_nodelay(true).ok();
            let mut reader = BufReader::new(stream);
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let body = body(run, first + i);
                let request = format!(
                    "POST /v1/responses HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let t = Instant::now();
                reader
                    .get_mut()
                    .write_all(request.as_bytes())
                    .await
                    .expect("write");
                let status = read_response(&mut reader).await.expect("read");
                latencies.push(t.elapsed());
                if status != 201 {
                    failures += 1;
                }
            }
            (latencies, failures)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(n);
    let mut failures = 0;
    for t in tasks {
        let (l, f) = t.await.expect("task");
        latencies.extend(l);
        failures += f;
    }
    let elapsed = start.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];

    // The stored count, through the read API (the same server, after every 2xx came back).
    let stream = TcpStream::connect(&addr).await.expect("connect");
    let mut reader = BufReader::new(stream);
    let request = format!(
        "GET /v1/summary?survey_id=load HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    reader
        .get_mut()
        .write_all(request.as_bytes())
        .await
        .expect("write");
    let mut text = String::new();
    reader.read_to_string(&mut text).await.expect("read");
    let stored: usize = text
        .split("\"responses\":")
        .nth(1)
        .and_then(|s| s.split([',', '}']).next())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);

    println!(
        "posted {n} responses over {concurrency} connections in {:.2} s: {:.0} responses/s, \
         latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; non-201 answers {failures}; stored {stored}",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    if stored != first + n || failures != 0 {
        eprintln!("load: stored {stored} of {}, {failures} failed", first + n);
        std::process::exit(1);
    }
}
