//! The collector in the open, over real HTTP on loopback: several collectors on one
//! PostgreSQL, signed https webhooks, stalled clients, trusted proxies, safe defaults, health
//! and metrics, graceful shutdown.

mod pg;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use nps_collector::proxy::TrustProxy;
use nps_collector::{run, Settings, Store};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

/// A running collector; dropping `stop` shuts it down.
struct Collector {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<Result<(), String>>,
}

impl Collector {
    async fn shut_down(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.done).await;
    }
}

async fn start(settings: Settings) -> Collector {
    let store = nps_collector::start::open(&settings).await.unwrap();
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(async move {
        run(listener, store, &settings, async {
            let _ = stopped.await;
        })
        .await
    });
    Collector {
        addr,
        stop: Some(stop),
        done,
    }
}

fn sqlite_url(name: &str) -> String {
    format!(
        "sqlite://{}",
        pg::http::temp_dir("open", name).join("t.db").display()
    )
}

fn settings(db: String) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        db,
        rate_limit: 0,
        ..Settings::default()
    }
}

fn response(n: u32) -> Value {
    let score = n % 11;
    let segment = match score {
        0..=6 => "detractor",
        7..=8 => "passive",
        _ => "promoter",
    };
    json!({
        "schema": 1, "id": format!("0b6e3c1a-5f7d-4c2e-9a8b-{n:012}"), "survey_id": "default",
        "score": score, "segment": segment, "comment": null, "contact_consent": null,
        "state": "complete", "user": {"id": format!("u{n}"), "account_id": "a1"},
        "context": {"url": "https://example.com/app", "locale": "en"},
        "shown_at": "2026-11-23T10:00:00.000Z", "answered_at": "2026-11-23T10:00:02.000Z",
        "completed_at": "2026-11-23T10:00:09.000Z"
    })
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn post_from(addr: SocketAddr, body: &Value, headers: &[(&str, &str)]) -> u16 {
    let mut request = client()
        .post(format!("http://{addr}/v1/responses"))
        .header("content-type", "application/json");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// What a webhook receiver took: each delivery's headers and body.
type Taken = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A webhook receiver that refuses the first `refuse` deliveries with 503.
fn receiver(refuse: usize) -> (Router, Taken) {
    let taken: Taken = Arc::default();
    let seen = taken.clone();
    let router = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let mut seen = seen.lock().unwrap();
                seen.push((headers, body));
                if seen.len() <= refuse {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    (router, taken)
}

async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_collectors_on_one_postgres_forward_each_change_once() {
    let (router, taken) = receiver(0);
    let hook = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", hook.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(hook, router).await });
    let db = pg::fresh_database().await;
    let with_forward = || Settings {
        forward: Some(hook_url.clone()),
        ..settings(db.clone())
    };
    // Started at once: the migrations take turns under the advisory lock.
    let (a, b) = tokio::join!(start(with_forward()), start(with_forward()));
    let mut posts = Vec::new();
    for n in 0..600u32 {
        let addr = if n % 2 == 0 { a.addr } else { b.addr };
        posts.push(tokio::spawn(async move {
            post_from(addr, &response(n), &[]).await
        }));
    }
    for p in posts {
        assert_eq!(p.await.unwrap(), 201);
    }
    wait_for("600 deliveries", Duration::from_secs(60), || {
        taken.lock().unwrap().len() >= 600
    })
    .await;
    // Time for a duplicate to show up, were there one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let taken = taken.lock().unwrap().clone();
    let mut ids: Vec<String> = taken
        .iter()
        .map(|(h, _)| h["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    let mut responses: Vec<String> = taken
        .iter()
        .map(|(_, body)| serde_json::from_str::<Value>(body).unwrap()["id"].to_string())
        .collect();
    ids.sort();
    ids.dedup();
    responses.sort();
    responses.dedup();
    println!(
        "scale-out: {} deliveries, {} distinct ids, {} distinct responses",
        taken.len(),
        ids.len(),
        responses.len()
    );
    assert_eq!(taken.len(), 600, "each change forwarded once");
    assert_eq!(ids.len(), 600);
    assert_eq!(responses.len(), 600, "none missing");
    a.shut_down().await;
    b.shut_down().await;
}

/// A test CA and a certificate for `localhost` signed by it: (CA PEM, cert DER, key DER).
fn test_ca() -> (String, Vec<u8>, Vec<u8>) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "nps test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    (ca.pem(), cert.der().to_vec(), key.serialize_der())
}

/// An https server on loopback for `router`, with the certificate `cert`; its port.
async fn https(router: Router, cert: Vec<u8>, key: Vec<u8>) -> u16 {
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert)],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            let router = router.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(router);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    port
}

#[tokio::test]
async fn https_webhooks_are_signed_and_retried_under_the_same_id() {
    let (ca_pem, cert, key) = test_ca();
    let (router, taken) = receiver(1);
    let port = https(router, cert, key).await;
    let dir = std::env::temp_dir().join(format!("nps-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let collector = start(Settings {
        forward: Some(format!("https://localhost:{port}/hook")),
        forward_ca: Some(ca_file),
        forward_secret: Some(secret.into()),
        ..settings(sqlite_url("https"))
    })
    .await;
    assert_eq!(post_from(collector.addr, &response(1), &[]).await, 201);
    wait_for("the retried delivery", Duration::from_secs(20), || {
        taken.lock().unwrap().len() >= 2
    })
    .await;
    let taken = taken.lock().unwrap().clone();
    assert_eq!(taken.len(), 2, "refused once, then taken");
    let key = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        secret.trim_start_matches("whsec_"),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for (headers, body) in &taken {
        let header = |name: &str| headers[name].to_str().unwrap().to_owned();
        let id = header("webhook-id");
        let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
        assert!((now - timestamp).abs() < 60, "a current Unix timestamp");
        assert_eq!(
            header("webhook-signature"),
            nps_collector::forward::sign(&key, &id, timestamp, body),
            "the signature covers id, timestamp and body"
        );
        let delivered: Value = serde_json::from_str(body).unwrap();
        assert_eq!(delivered["id"], response(1)["id"]);
    }
    assert_eq!(
        taken[0].0["webhook-id"], taken[1].0["webhook-id"],
        "the retry carries the same id, so the receiver can drop a repeat"
    );
    collector.shut_down().await;
}

/// The soft limit on open files of this process.
fn open_files_limit() -> usize {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(1024)
}

#[tokio::test]
async fn stalled_clients_are_dropped_while_real_posts_are_answered() {
    let collector = start(settings(sqlite_url("slow"))).await;
    // Each stalled connection takes two descriptors here (client and server end).
    let n = 2000.min(open_files_limit().saturating_sub(200) / 2);
    let mut stalled = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = tokio::net::TcpStream::connect(collector.addr)
            .await
            .unwrap();
        s.write_all(b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        stalled.push(s);
    }
    let started = Instant::now();
    assert_eq!(post_from(collector.addr, &response(7), &[]).await, 201);
    let answered = started.elapsed();
    println!("slow clients: a real post answered in {answered:?} beside {n} stalled connections");
    assert!(answered < Duration::from_secs(2), "answered at once");
    // One byte every 2 s does not keep a connection open: the header timeout (10 s by default)
    // counts from the start of the header.
    let since = Instant::now();
    let mut open = stalled;
    while !open.is_empty() && since.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut still = Vec::new();
        for mut s in open {
            let mut buf = [0u8; 256];
            let closed =
                match tokio::time::timeout(Duration::from_millis(1), s.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => true,
                    Ok(Ok(_)) => true, // the 408 answer, then the close
                    Err(_) => s.write_all(b"a").await.is_err(),
                };
            if !closed {
                still.push(s);
            }
        }
        open = still;
    }
    println!(
        "slow clients: {n} stalled connections, {} still open after {:?}",
        open.len(),
        since.elapsed()
    );
    assert!(
        open.is_empty(),
        "{} stalled connections still open",
        open.len()
    );
    collector.shut_down().await;
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    // Not trusted: the headers are ignored, so changing them does not escape the limit.
    let plain = start(Settings {
        rate_limit: 3,
        ..settings(sqlite_url("proxy-plain"))
    })
    .await;
    let mut statuses = Vec::new();
    for n in 0..4u32 {
        let spoof = format!("203.0.113.{n}");
        statuses.push(
            post_from(
                plain.addr,
                &response(n),
                &[
                    ("x-forwarded-for", &spoof),
                    ("forwarded", &format!("for={spoof}")),
                ],
            )
            .await,
        );
    }
    assert_eq!(statuses, [201, 201, 201, 429]);

    // Behind one trusted proxy: each client named by it has its own limit.
    let proxied = start(Settings {
        rate_limit: 3,
        trust_proxy: Some(TrustProxy::parse("1").unwrap()),
        ..settings(sqlite_url("proxy-trusted"))
    })
    .await;
    let mut statuses = Vec::new();
    for n in 0..4u32 {
        statuses.push(
            post_from(
                proxied.addr,
                &response(n),
                &[("x-forwarded-for", "6.6.6.6, 198.51.100.1")],
            )
            .await,
        );
    }
    assert_eq!(statuses, [201, 201, 201, 429], "one client, one limit");
    assert_eq!(
        post_from(
            proxied.addr,
            &response(10),
            &[("x-forwarded-for", "198.51.100.2")]
        )
        .await,
        201,
        "another client behind the same proxy is not limited with the first"
    );
    plain.shut_down().await;
    proxied.shut_down().await;
}

#[tokio::test]
async fn health_readiness_metrics_and_request_ids() {
    let collector = start(Settings {
        token: Some("t0ken-for-the-tests-0123".into()),
        ..settings(sqlite_url("metrics"))
    })
    .await;
    let base = format!("http://{}", collector.addr);
    let c = client();
    let healthz = c.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(healthz.status(), 200);
    assert!(healthz.headers().contains_key("x-request-id"));
    assert_eq!(
        c.get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(post_from(collector.addr, &response(1), &[]).await, 201);
    assert_eq!(post_from(collector.addr, &response(1), &[]).await, 200);
    let no_token = c.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(no_token.status(), 401, "metrics are behind the token");
    let text = c
        .get(format!("{base}/metrics"))
        .bearer_auth("t0ken-for-the-tests-0123")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("nps_ingest_responses_total{status=\"201\"} 1"),
        "{text}"
    );
    assert!(text.contains("nps_ingest_responses_total{status=\"200\"} 1"));
    assert!(text.contains("nps_webhook_queue_depth 0"));
    assert!(text.contains("nps_http_request_duration_seconds_bucket"));
    collector.shut_down().await;
}

#[tokio::test]
async fn shutdown_answers_every_accepted_post_and_keeps_it() {
    let db = sqlite_url("shutdown");
    let collector = start(settings(db.clone())).await;
    let addr = collector.addr;
    let c = client();
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut posts = Vec::new();
    for n in 0..200u32 {
        let c = c.clone();
        let answered = answered.clone();
        posts.push(tokio::spawn(async move {
            let r = c
                .post(format!("http://{addr}/v1/responses"))
                .header("content-type", "application/json")
                .body(response(n).to_string())
                .send()
                .await;
            answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            r.map(|r| r.status().as_u16()).ok()
        }));
    }
    // Shut down while the posts are in flight: once the first has been answered.
    wait_for("a first answer", Duration::from_secs(10), || {
        answered.load(std::sync::atomic::Ordering::SeqCst) > 0
    })
    .await;
    collector.shut_down().await;
    let mut acknowledged = 0;
    for p in posts {
        match p.await.unwrap() {
            Some(201) => acknowledged += 1,
            Some(other) => panic!("an accepted post got {other}"),
            None => {} // refused: the listener had closed; the widget retries these
        }
    }
    let store = Store::open(&db).await.unwrap();
    let stored = store.count().await.unwrap();
    println!("shutdown: {acknowledged} posts acknowledged, {stored} stored");
    assert!(acknowledged > 0);
    assert_eq!(
        stored, acknowledged,
        "every acknowledged response is stored"
    );
}

#[test]
fn a_short_token_refuses_to_start() {
    let dir = std::env::temp_dir().join(format!("nps-open-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("t.db").display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nps-collector"))
        .args(["--listen", "127.0.0.1:0", "--db", &db, "--token", "short"])
        .env_remove("NPS_TOKEN")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--token: 5 characters is too short"),
        "names the flag and the problem: {stderr}"
    );

    // Flags are checked with names; the environment is the fallback.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nps-collector"))
        .env("NPS_RATE_LIMIT", "lots")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--rate-limit"), "{stderr}");
    assert!(stderr.contains("lots"), "{stderr}");
}

#[tokio::test]
async fn follow_up_changes_reach_the_webhook_as_events_of_their_own() {
    let (router, taken) = receiver(0);
    let hook = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", hook.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(hook, router).await });
    let collector = start(Settings {
        forward: Some(hook_url),
        token: Some("t0ken-for-the-tests-0123".into()),
        ..settings(sqlite_url("events"))
    })
    .await;
    let r = response(3);
    let id = r["id"].as_str().unwrap().to_owned();
    assert_eq!(post_from(collector.addr, &r, &[]).await, 201);
    let base = format!("http://{}/v1/responses/{id}", collector.addr);
    let c = client();
    let patched = c
        .patch(format!("{base}/follow-up"))
        .bearer_auth("t0ken-for-the-tests-0123")
        .header("content-type", "application/json")
        .body(json!({"status": "contacted", "owner": "ann"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let noted = c
        .post(format!("{base}/notes"))
        .bearer_auth("t0ken-for-the-tests-0123")
        .header("content-type", "application/json")
        .body(json!({"text": "Called, fixing the export"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(noted.status(), 201);
    wait_for("three deliveries", Duration::from_secs(20), || {
        taken.lock().unwrap().len() >= 3
    })
    .await;
    let taken = taken.lock().unwrap().clone();
    let bodies: Vec<Value> = taken
        .iter()
        .map(|(_, b)| serde_json::from_str(b).unwrap())
        .collect();
    assert_eq!(bodies[0]["id"], json!(id), "the response first");
    assert_eq!(bodies[1]["type"], "follow_up.updated");
    assert_eq!(bodies[1]["response_id"], json!(id));
    assert_eq!(bodies[1]["follow_up"]["status"], "contacted");
    assert_eq!(bodies[2]["type"], "note.added");
    assert_eq!(bodies[2]["note"]["text"], "Called, fixing the export");
    let ids: HashSet<&str> = taken
        .iter()
        .map(|(h, _)| h["webhook-id"].to_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "each event has an id of its own");
    collector.shut_down().await;
}
