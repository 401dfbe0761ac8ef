//! `nps-collector`: flags (clap) with environment fallbacks, logging (tracing), then serve.

#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use nps_collector::proxy::TrustProxy;
use nps_collector::Settings;

/// The reference collector of nps-widget: stores responses (SQLite or PostgreSQL), reports
/// the NPS, forwards each change to a webhook, serves the dashboard.
#[derive(Debug, Parser)]
#[command(name = "nps-collector", version)]
struct Cli {
    /// Address to listen on; anything but loopback needs --token.
    #[arg(long, env = "NPS_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// sqlite://FILE or postgres://USER@HOST/DB.
    #[arg(long, env = "NPS_DB", default_value = "sqlite://nps.db", value_parser = parse_db)]
    db: String,
    /// Directory served at / (repeatable; NPS_STATIC is colon-separated).
    #[arg(long = "static", env = "NPS_STATIC", value_delimiter = ':', value_parser = parse_dir)]
    static_dirs: Vec<PathBuf>,
    /// Origin allowed to post from another site (repeatable; NPS_ALLOW_ORIGIN is comma-separated).
    #[arg(long = "allow-origin", env = "NPS_ALLOW_ORIGIN", value_delimiter = ',')]
    allow_origins: Vec<String>,
    /// Bearer token for the read API, the dashboard and /metrics.
    #[arg(long, env = "NPS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Responses accepted per client address per minute; 0 for no limit.
    #[arg(long, env = "NPS_RATE_LIMIT", default_value_t = 600)]
    rate_limit: u32,
    /// http:// or https:// webhook each stored change is also POSTed to, with retries.
    #[arg(long, env = "NPS_FORWARD")]
    forward: Option<String>,
    /// PEM file of extra CA certificates trusted for the webhook.
    #[arg(long, env = "NPS_FORWARD_CA", requires = "forward")]
    forward_ca: Option<PathBuf>,
    /// whsec_<base64 key>: signs every delivery (Standard Webhooks).
    #[arg(
        long,
        env = "NPS_FORWARD_SECRET",
        requires = "forward",
        hide_env_values = true
    )]
    forward_secret: Option<String>,
    /// Proxies trusted to name the client in X-Forwarded-For / Forwarded: a number of hops,
    /// or a comma-separated list of CIDRs. Without it those headers are ignored.
    #[arg(long, env = "NPS_TRUST_PROXY", value_parser = TrustProxy::parse)]
    trust_proxy: Option<TrustProxy>,
    /// Seconds a client has to send a request's header (also bounds idle kept-alive connections).
    #[arg(long, env = "NPS_HEADER_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    header_timeout: u64,
    /// Seconds from a request's header to its response, body upload included.
    #[arg(long, env = "NPS_REQUEST_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    request_timeout: u64,
    /// Most connections open at once; further ones are closed at once.
    #[arg(long, env = "NPS_MAX_CONNECTIONS", default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
    /// Also serve /metrics here, without the token (for a scraper on a private network).
    #[arg(long, env = "NPS_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Log level: error, warn, info, debug (every request) or trace.
    #[arg(long, env = "NPS_LOG", default_value = "info")]
    log: tracing::Level,
}

fn parse_db(db: &str) -> Result<String, String> {
    if ["sqlite:", "postgres://", "postgresql://"]
        .iter()
        .any(|p| db.starts_with(p))
    {
        Ok(db.to_owned())
    } else {
        Err("expected sqlite://FILE or postgres://USER@HOST/DB".into())
    }
}

fn parse_dir(dir: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(dir);
    if path.is_dir() {
        Ok(path)
    } else {
        Err("not a directory".into())
    }
}

impl Cli {
    fn settings(self) -> Settings {
        Settings {
            listen: self.listen,
            db: self.db,
            static_dirs: self.static_dirs,
            allow_origins: self.allow_origins,
            token: self.token.filter(|t| !t.is_empty()),
            rate_limit: self.rate_limit,
            forward: self.forward,
            forward_ca: self.forward_ca,
            forward_secret: self.forward_secret,
            trust_proxy: self.trust_proxy,
            header_timeout: Duration::from_secs(self.header_timeout),
            request_timeout: Duration::from_secs(self.request_timeout),
            max_connections: self.max_connections as usize,
            metrics_listen: self.metrics_listen,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_max_level(cli.log)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    match nps_collector::serve(cli.settings()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::from(2)
        }
    }
}
