//! Webhook forwarding (`--forward URL`): every stored change of a response is POSTed, as the
//! widget's JSON, to a CRM, a chat tool or an automation service, over `http://` or `https://`
//! (rustls, with the webpki roots plus an optional `--forward-ca`). The store queues each
//! change in the same transaction as the response itself (nothing is forwarded that was not
//! stored, nothing stored is forgotten across restarts); this task drains the queue with
//! retries and backoff, apart from ingest, which it never slows down.
//!
//! Several collectors may share one database: only the holder of the `forward` lease drains
//! the queue, so each change is sent by one of them, in the order stored. A holder that dies
//! stops renewing and another takes over when the lease runs out; a delivery it made but had
//! not yet recorded is then sent again under the same `webhook-id`, which receivers use to
//! drop the repeat (Standard Webhooks).
//!
//! With `--forward-secret whsec_…`, every delivery is signed the Standard Webhooks way:
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::model::Forward;
use crate::store::Store;

/// Per-request time limit.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Time limit to open a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait between attempts.
const MAX_BACKOFF_MS: i64 = 60 * 60 * 1000;
/// How long a lease lasts without renewal: longer than one delivery can take.
const LEASE_MS: i64 = 30_000;
/// The lease's name in the `leases` table.
const LEASE: &str = "forward";

/// Where forwards go and how they are signed.
#[derive(Debug, Clone)]
pub struct Target {
    url: reqwest::Url,
    secret: Option<Vec<u8>>,
    client: reqwest::Client,
}

impl Target {
    /// Checks the webhook settings: an `http(s)://` URL, an optional PEM file of extra CA
    /// certificates, an optional `whsec_<base64>` signing secret.
    pub fn new(url: &str, ca: Option<&Path>, secret: Option<&str>) -> Result<Target, String> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| format!("--forward {url}: {e} (expected https://HOST/PATH)"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!(
                "--forward {url}: expected an http:// or https:// URL with a host"
            ));
        }
        let client = http_client(ca, "--forward")?;
        let secret = secret.map(parse_secret).transpose()?;
        Ok(Target {
            url: parsed,
            secret,
            client,
        })
    }

    /// Sends one queued change; `Ok` with the status when the target answered.
    async fn deliver(&self, f: &Forward) -> Result<u16, String> {
        let id = webhook_id(f);
        let timestamp = now_ms() / 1000;
        let mut request = self
            .client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string());
        if let Some(key) = &self.secret {
            request = request.header("webhook-signature", sign(key, &id, timestamp, &f.body));
        }
        let response = request
            .body(f.body.clone())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(response.status().as_u16())
    }
}

/// The client of the webhook and the chat alerts: time limits on every request, no redirects
/// (a target cannot send a delivery elsewhere), rustls with the webpki roots plus the PEM
/// certificates of `ca` (`--forward-ca`). `flag` names the setting in errors.
pub(crate) fn http_client(ca: Option<&Path>, flag: &str) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent("nps-collector")
        .redirect(reqwest::redirect::Policy::none());
    if let Some(path) = ca {
        let pem =
            std::fs::read(path).map_err(|e| format!("--forward-ca {}: {e}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("--forward-ca {}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!(
                "--forward-ca {}: no PEM certificate in the file",
                path.display()
            ));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| format!("{flag}: {e}"))
}

/// The key of a `whsec_<base64>` secret.
fn parse_secret(secret: &str) -> Result<Vec<u8>, String> {
    let encoded = secret.strip_prefix("whsec_").ok_or(
        "--forward-secret: expected whsec_ followed by a base64 key (e.g. whsec_$(openssl rand -base64 32))",
    )?;
    let key = BASE64
        .decode(encoded)
        .map_err(|e| format!("--forward-secret: the part after whsec_ is not base64: {e}"))?;
    if key.len() < 16 {
        return Err("--forward-secret: the key is shorter than 16 bytes".into());
    }
    Ok(key)
}

/// The id of one stored change, the same on every retry and whichever collector sends it.
pub fn webhook_id(f: &Forward) -> String {
    format!("msg_{}_{}", f.seq, f.response_id)
}

/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

/// Wait after `attempts` failures: 1 s, 2 s, 4 s … up to an hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    (1000i64 << (attempts - 1).clamp(0, 22)).min(MAX_BACKOFF_MS)
}

use crate::clock::now_ms;

/// A name for this collector process in the lease table (also the alerts' and digests').
pub(crate) fn holder_name() -> String {
    format!(
        "{}-{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "collector".into()),
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos()
    )
}

/// Drains the queue until `stop` turns true, while this collector holds the lease: strictly
/// in order (the target sees a response's states in the order they were stored); a 2xx
/// removes the head, anything else (an error status, a refused connection, the timeout)
/// holds the queue until the head's next attempt.
pub async fn run(store: Store, target: Target, stop: tokio::sync::watch::Receiver<bool>) {
    let holder = holder_name();
    while !*stop.borrow() {
        let progressed = match drain(&store, &target, &holder, &stop).await {
            Ok(progressed) => progressed,
            Err(e) => {
                tracing::warn!(error = %e, "reading the forward queue");
                false
            }
        };
        if !progressed {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    let _ = store.release_lease(LEASE, &holder).await;
}

/// One pass over the head of the queue; whether anything was delivered.
async fn drain(
    store: &Store,
    target: &Target,
    holder: &str,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Result<bool, crate::store::StoreError> {
    if !store.take_lease(LEASE, holder, now_ms(), LEASE_MS).await? {
        return Ok(false);
    }
    let mut progressed = false;
    for f in store.queued(64).await? {
        // Renewed before each delivery, so the lease outlives any one of them.
        if *stop.borrow()
            || f.next_at > now_ms()
            || !store.take_lease(LEASE, holder, now_ms(), LEASE_MS).await?
        {
            break;
        }
        let outcome = target.deliver(&f).await;
        let delivered = matches!(outcome, Ok(status) if (200..300).contains(&status));
        if delivered {
            store.forwarded(f.seq).await?;
            progressed = true;
            continue;
        }
        let attempts = f.attempts + 1;
        tracing::info!(
            id = %webhook_id(&f),
            attempts,
            outcome = ?outcome,
            "webhook delivery failed, will retry"
        );
        store
            .forward_later(f.seq, attempts, now_ms() + backoff_ms(attempts))
            .await?;
        break;
    }
    Ok(progressed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_http_or_https_urls() {
        assert!(Target::new("http://127.0.0.1:9000/hooks/nps?x=1", None, None).is_ok());
        assert!(Target::new("https://hooks.example.com/x", None, None).is_ok());
        assert!(Target::new("ftp://hooks.example.com/x", None, None)
            .unwrap_err()
            .contains("expected an http:// or https:// URL"));
        assert!(Target::new("not a url", None, None)
            .unwrap_err()
            .starts_with("--forward not a url"));
        assert!(
            Target::new("https://x", Some(Path::new("/nonexistent.pem")), None)
                .unwrap_err()
                .starts_with("--forward-ca /nonexistent.pem")
        );
    }

    #[test]
    fn secrets_are_whsec_base64() {
        assert!(parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
        assert!(parse_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap_err()
            .contains("whsec_"));
        assert!(parse_secret("whsec_***").unwrap_err().contains("base64"));
    }

    #[test]
    fn signatures_match_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification's reference libraries.
        let key = parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(backoff_ms(1), 1000);
        assert_eq!(backoff_ms(2), 2000);
        assert_eq!(backoff_ms(6), 32_000);
        assert_eq!(backoff_ms(40), MAX_BACKOFF_MS);
    }
}
