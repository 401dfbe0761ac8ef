//! Where the team works: a detractor alert in the team's chat the moment one answers
//! (`--notify URL`, repeatable), and a daily or weekly digest (`--digest`). Both post
//! Slack-compatible JSON, `{"text": …}`, which Slack, Mattermost, Rocket.Chat and Google Chat
//! take from an incoming webhook, through the same rustls client as the webhooks.
//!
//! Alerts go through a queue the writer fills in the response's own transaction (`notices`):
//! due when a detractor's response is stored complete, or `--notify-delay` after its partial
//! if no complete came. Only the holder of the `notify` lease sends, and a sent alert is
//! marked so, so each detractor is announced once per chat across several collectors;
//! a failed post is retried with backoff. A digest is claimed by its period's key before it is
//! sent (`digests`), so one collector sends it. The digest's content and schedule are
//! `digest.rs`'s.

use std::time::Duration;

mod chat;
mod digest;

pub use chat::Chat;
pub use digest::{digest, run_digests, Digest, Every};

use crate::clock::now_ms;
use crate::forward::{backoff_ms, holder_name};
use crate::reach;
use crate::store::{Store, StoreError};

/// The lease the alert sender holds.
const LEASE: &str = "notify";
/// How long the lease lasts without renewal.
const LEASE_MS: i64 = 30_000;
/// Alerts read from the queue at a time.
const ALERT_PAGE: i64 = 32;

/// Sends the due alerts until `stop`, while this collector holds the lease.
pub async fn run_alerts(
    store: Store,
    chat: Chat,
    public_url: String,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let holder = holder_name();
    while !*stop.borrow() {
        match send_due(&store, &chat, &public_url, &holder).await {
            // A full page was sent: more may be due, go on at once.
            Ok(sent) if sent == ALERT_PAGE as usize => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reading the alert queue"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.changed() => {}
        }
    }
    let _ = store.release_lease(LEASE, &holder).await;
}

/// Sends one page of due alerts; how many the chats took.
async fn send_due(
    store: &Store,
    chat: &Chat,
    public_url: &str,
    holder: &str,
) -> Result<usize, StoreError> {
    if !store.take_lease(LEASE, holder, now_ms(), LEASE_MS).await? {
        return Ok(0);
    }
    let mut sent = 0;
    let targets = chat.targets();
    for alert in store.due_alerts(now_ms(), ALERT_PAGE).await? {
        if !store.take_lease(LEASE, holder, now_ms(), LEASE_MS).await? {
            break;
        }
        if !targets.contains(&alert.target) {
            // Queued for a chat URL this collector no longer has (--notify changed since).
            tracing::info!(id = %alert.response_id, target = %alert.target, "alert for a removed --notify URL dropped");
            store
                .alert_sent(&alert.response_id, &alert.target, now_ms())
                .await?;
            sent += 1;
            continue;
        }
        let link = format!(
            "{}/dashboard#response={}",
            public_url.trim_end_matches('/'),
            alert.response_id
        );
        let text = reach::alert_text(&reach::Alert {
            score: alert.score,
            account_id: alert.account_id.as_deref(),
            person: alert.email.as_deref().or(alert.user_id.as_deref()),
            comment: alert.comment.as_deref(),
            link: &link,
        });
        match chat.post(&alert.target, &text).await {
            Ok(status) if (200..300).contains(&status) => {
                store
                    .alert_sent(&alert.response_id, &alert.target, now_ms())
                    .await?;
                sent += 1;
            }
            outcome => {
                let attempts = alert.attempts + 1;
                tracing::info!(id = %alert.response_id, attempts, ?outcome, "alert failed, will retry");
                store
                    .alert_later(
                        &alert.response_id,
                        &alert.target,
                        attempts,
                        now_ms() + backoff_ms(attempts),
                    )
                    .await?;
            }
        }
    }
    Ok(sent)
}
