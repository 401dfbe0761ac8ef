//! The team's chats (`--notify URL`, repeatable): their URLs and the rustls client that posts
//! Slack-compatible `{"text": …}` to them.

use crate::forward::http_client;

/// The chat URLs, and the client that posts to them.
#[derive(Debug, Clone)]
pub struct Chat {
    urls: Vec<reqwest::Url>,
    client: reqwest::Client,
}

impl Chat {
    /// Checks the `--notify` URLs (`http://` or `https://` with a host).
    pub fn new(urls: &[String], ca: Option<&std::path::Path>) -> Result<Chat, String> {
        let mut parsed = Vec::new();
        for url in urls {
            let u = reqwest::Url::parse(url)
                .map_err(|e| format!("--notify {url}: {e} (expected https://HOST/PATH)"))?;
            if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
                return Err(format!(
                    "--notify {url}: expected an http:// or https:// URL with a host"
                ));
            }
            parsed.push(u);
        }
        Ok(Chat {
            urls: parsed,
            client: http_client(ca, "--notify")?,
        })
    }

    /// Whether there is anywhere to post.
    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }

    /// The URLs, as the alert queue keys them.
    pub fn targets(&self) -> Vec<String> {
        self.urls.iter().map(|u| u.to_string()).collect()
    }

    /// Posts `{"text": text}` to `url`; the status when the chat answered.
    pub(super) async fn post(&self, url: &str, text: &str) -> Result<u16, String> {
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .body(serde_json::json!({ "text": text }).to_string())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(response.status().as_u16())
    }

    /// Posts `text` to every URL; how many took it.
    pub async fn post_all(&self, text: &str) -> usize {
        let mut took = 0;
        for url in &self.urls {
            match self.post(url.as_str(), text).await {
                Ok(status) if (200..300).contains(&status) => took += 1,
                outcome => tracing::warn!(%url, ?outcome, "posting to the chat failed"),
            }
        }
        took
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_urls_are_http_or_https() {
        assert!(Chat::new(&["https://hooks.slack.com/services/T/B/x".into()], None).is_ok());
        assert!(Chat::new(&["ftp://x/y".into()], None)
            .unwrap_err()
            .starts_with("--notify ftp://x/y"));
        assert!(Chat::new(&[], None).unwrap().is_empty());
    }
}
