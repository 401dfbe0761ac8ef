//! How the collector runs: every setting, with the defaults the CLI shows.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::proxy::TrustProxy;

/// How the collector runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `sqlite://path.db` or `postgres://…`.
    pub db: String,
    /// Directories served at `/`, first match wins.
    pub static_dirs: Vec<PathBuf>,
    /// Origins allowed to POST from other sites (CORS). Empty: same origin only.
    pub allow_origins: Vec<String>,
    /// Bearer token for the read API, the dashboard and `/metrics`; `None` leaves them open,
    /// which [`Settings::check_exposure`] allows on loopback only.
    pub token: Option<String>,
    /// Responses accepted per client address per minute; 0 turns the limit off.
    pub rate_limit: u32,
    /// Webhook every stored change is forwarded to (`http(s)://…`).
    pub forward: Option<String>,
    /// Extra CA certificates (PEM) trusted for the webhook.
    pub forward_ca: Option<PathBuf>,
    /// `whsec_…`: signs every webhook delivery.
    pub forward_secret: Option<String>,
    /// Proxies trusted to name the client (`X-Forwarded-For`, `Forwarded`).
    pub trust_proxy: Option<TrustProxy>,
    /// Longest wait for a request's header (also bounds idle kept-alive connections).
    pub header_timeout: Duration,
    /// Longest time from a request's header to its response, body upload included.
    pub request_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
    /// A second address serving only `/metrics`, without the token (for a scraper on a
    /// private network).
    pub metrics_listen: Option<SocketAddr>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            db: "sqlite://nps.db".into(),
            static_dirs: Vec::new(),
            allow_origins: Vec::new(),
            token: None,
            rate_limit: 600,
            forward: None,
            forward_ca: None,
            forward_secret: None,
            trust_proxy: None,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 4096,
            metrics_listen: None,
        }
    }
}

impl Settings {
    /// Refuses to serve respondents' emails and comments to the network: listening on an
    /// address other than loopback needs a token.
    pub fn check_exposure(&self) -> Result<(), String> {
        if self.token.is_none() && !self.listen.ip().is_loopback() {
            return Err(format!(
                "--listen {}: the read API would be open to the network without a token. Set \
                 one with --token (or NPS_TOKEN), for example --token $(openssl rand -hex 16), \
                 or listen on 127.0.0.1",
                self.listen
            ));
        }
        Ok(())
    }
}
