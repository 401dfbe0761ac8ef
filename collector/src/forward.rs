//! Webhook forwarding (`--forward URL`): every stored change of a response is POSTed, as the
//! widget's JSON, to a CRM, a chat tool or a queue. The store queues each change in the same
//! transaction as the response itself (so nothing is forwarded that was not stored, and nothing
//! stored is forgotten across restarts); this task drains that queue with retries and backoff,
//! apart from ingest, which it never slows down.
//!
//! The target is plain `http://` (a loopback relay or an internal service); put a TLS proxy in
//! front for `https://` targets.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::store::Store;

/// Per-request time limit.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait between attempts.
const MAX_BACKOFF_MS: i64 = 60 * 60 * 1000;

/// Where forwards go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `host:port`, for connecting and the `Host` header.
    pub authority: String,
    /// Path and query.
    pub path: String,
}

impl Target {
    /// Parses `http://host[:port][/path]`.
    pub fn parse(url: &str) -> Result<Target, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            format!("--forward {url}: expected an http:// URL (put a TLS proxy in front for https)")
        })?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains(['@', ' ']) {
            return Err(format!("--forward {url}: expected http://HOST[:PORT]/PATH"));
        }
        let authority = if authority.contains(':') {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        Ok(Target {
            authority,
            path: path.to_owned(),
        })
    }
}

/// Wait after `attempts` failures: 1 s, 2 s, 4 s … up to an hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    (1000i64 << (attempts - 1).clamp(0, 22)).min(MAX_BACKOFF_MS)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}

/// Drains the queue forever, strictly in order (the target sees a response's states in the
/// order they were stored): a 2xx removes the head, anything else (an error status, a refused
/// connection, the timeout) holds the queue until the head's next attempt.
pub async fn run(store: Store, target: Target) {
    loop {
        let queued = match store.queued(64).await {
            Ok(queued) => queued,
            Err(e) => {
                eprintln!("nps-collector: reading the forward queue: {e}");
                Vec::new()
            }
        };
        let mut progressed = false;
        for f in queued {
            if f.next_at > now_ms() {
                break;
            }
            let outcome = tokio::time::timeout(TIMEOUT, post(&target, f.body)).await;
            let delivered = matches!(outcome, Ok(Ok(status)) if (200..300).contains(&status));
            let result = if delivered {
                store.forwarded(f.seq).await
            } else {
                let attempts = f.attempts + 1;
                store
                    .forward_later(f.seq, attempts, now_ms() + backoff_ms(attempts))
                    .await
            };
            if let Err(e) = result {
                eprintln!("nps-collector: updating the forward queue: {e}");
            }
            if !delivered {
                break;
            }
            progressed = true;
        }
        if !progressed {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

async fn post(target: &Target, body: String) -> Result<u16, String> {
    let stream = TcpStream::connect(&target.authority)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let request = Request::post(target.path.as_str())
        .header("Host", target.authority.as_str())
        .header("Content-Type", "application/json")
        .header("User-Agent", "nps-collector")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    Ok(response.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_plain_http_urls() {
        assert_eq!(
            Target::parse("http://127.0.0.1:9000/hooks/nps?x=1"),
            Ok(Target {
                authority: "127.0.0.1:9000".into(),
                path: "/hooks/nps?x=1".into()
            })
        );
        assert_eq!(
            Target::parse("http://crm.internal").unwrap().authority,
            "crm.internal:80"
        );
        assert_eq!(Target::parse("http://crm.internal").unwrap().path, "/");
        assert!(Target::parse("https://hooks.example.com/x")
            .unwrap_err()
            .contains("expected an http:// URL"));
        assert!(Target::parse("http:///x").is_err());
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(backoff_ms(1), 1000);
        assert_eq!(backoff_ms(2), 2000);
        assert_eq!(backoff_ms(6), 32_000);
        assert_eq!(backoff_ms(40), MAX_BACKOFF_MS);
    }
}
