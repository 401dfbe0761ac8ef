//! How the collector runs: every setting, with the defaults the CLI shows.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::proxy::TrustProxy;
use crate::team::MIN_TOKEN_LEN;

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
    /// An admin token given at start (`--token`), for bootstrapping; the team's own tokens
    /// live in the database (`nps-collector token create`). With neither, the collector makes
    /// an admin token at start and prints it: there is no open mode.
    pub token: Option<String>,
    /// `--identity-secret`: responses naming a user or an account must carry `user.hash`, the
    /// site server's HMAC-SHA256 of them with this secret.
    pub identity_secret: Option<String>,
    /// `--require-identity`: anonymous responses are refused too.
    pub require_identity: bool,
    /// Responses accepted per client address per minute; 0 turns the limit off.
    pub rate_limit: u32,
    /// Wrong tokens accepted per client address per minute before 429; 0 turns it off.
    pub wrong_token_limit: u32,
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
    /// Where people reach this collector (personal links, the alerts' dashboard links);
    /// `http://<listen>` when not given.
    pub public_url: Option<String>,
    /// The key personal links are signed with; a key kept in the database when not given.
    pub link_secret: Option<String>,
    /// Fills `{product}` on the hosted page and in the email block.
    pub product: String,
    /// Chat URLs (Slack-compatible incoming webhooks) that hear of each detractor.
    pub notify: Vec<String>,
    /// How long a detractor's partial waits for its comment before the alert goes anyway.
    pub notify_delay: Duration,
    /// The digest sent to the chat URLs, daily or weekly.
    pub digest: Option<crate::notify::Every>,
    /// What the money on the reports is counted in, and what it is measured against.
    pub money: Money,
    /// The CRM the accounts, people and answers are sent to (`--crm`).
    pub crm: Option<crate::crm::Config>,
    /// Who counts as a teammate: their responses are kept apart, out of every report.
    pub internal: Internal,
    /// `--retain-days`: responses shown longer ago are anonymised (daily); `None` keeps all.
    pub retain_days: Option<u32>,
}

/// Internal people (`--internal-email-domain`, `--internal-trait`): teammates trying the
/// widget on the live site.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Internal {
    /// Email domains, lowercased, without `@`: `example.com` matches `a@example.com` and
    /// `a@eu.example.com`.
    pub email_domains: Vec<String>,
    /// User traits that mark a teammate when `true`.
    pub traits: Vec<String>,
}

impl Internal {
    /// Whether `user` is a teammate.
    pub fn matches(&self, user: &nps_widget::response::User) -> bool {
        let by_email = user
            .email
            .as_deref()
            .and_then(|e| e.rsplit_once('@'))
            .map(|(_, domain)| domain.trim().to_ascii_lowercase())
            .is_some_and(|domain| {
                self.email_domains.iter().any(|d| {
                    domain == *d
                        || domain
                            .strip_suffix(d.as_str())
                            .is_some_and(|sub| sub.ends_with('.'))
                })
            });
        by_email
            || user.traits.iter().any(|(name, value)| {
                matches!(value, nps_widget::response::TraitValue::Bool(true))
                    && self.traits.iter().any(|t| t == name)
            })
    }
}

/// The money settings: the currency ARR is kept in, the share of the revenue base that should
/// answer each period, what one won referral is worth, the user trait that names a role.
#[derive(Debug, Clone, PartialEq)]
pub struct Money {
    /// ISO 4217 (`USD`).
    pub currency: String,
    /// 0–1 (the practice's 0.8).
    pub coverage_target: f64,
    /// The average won value of one referral, in the currency; `None`: not known.
    pub referral_value: Option<f64>,
    /// The user trait read as a person's role (`role`).
    pub role_trait: String,
}

impl Default for Money {
    fn default() -> Money {
        Money {
            currency: "USD".into(),
            coverage_target: 0.8,
            referral_value: None,
            role_trait: "role".into(),
        }
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            db: "sqlite://nps.db".into(),
            static_dirs: Vec::new(),
            allow_origins: Vec::new(),
            token: None,
            identity_secret: None,
            require_identity: false,
            rate_limit: 600,
            wrong_token_limit: 20,
            forward: None,
            forward_ca: None,
            forward_secret: None,
            trust_proxy: None,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 4096,
            metrics_listen: None,
            public_url: None,
            link_secret: None,
            product: "us".into(),
            notify: Vec::new(),
            notify_delay: Duration::from_secs(600),
            digest: None,
            money: Money::default(),
            crm: None,
            internal: Internal::default(),
            retain_days: None,
        }
    }
}

impl Settings {
    /// Refuses settings that would leave a door open: a short `--token`, or
    /// `--require-identity` without a secret to check identities with.
    pub fn check(&self) -> Result<(), String> {
        if let Some(token) = &self.token {
            if token.chars().count() < MIN_TOKEN_LEN {
                return Err(format!(
                    "--token: {} characters is too short to be a lock; give at least \
                     {MIN_TOKEN_LEN}, for example --token $(openssl rand -hex 16)",
                    token.chars().count()
                ));
            }
        }
        if self.require_identity && self.identity_secret.is_none() {
            return Err(
                "--require-identity needs --identity-secret (or NPS_IDENTITY_SECRET) to check \
                 user.hash with"
                    .into(),
            );
        }
        for (flag, secret) in [
            ("--identity-secret", &self.identity_secret),
            ("--link-secret", &self.link_secret),
        ] {
            if secret
                .as_ref()
                .is_some_and(|s| s.chars().count() < MIN_TOKEN_LEN)
            {
                return Err(format!("{flag}: give at least {MIN_TOKEN_LEN} characters"));
            }
        }
        if let Some(url) = &self.public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!(
                    "--public-url {url}: expected http://HOST or https://HOST, where people \
                     reach this collector"
                ));
            }
        }
        let m = &self.money;
        if !(m.currency.len() == 3 && m.currency.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(format!(
                "--currency {}: expected an ISO 4217 code of three capital letters, like USD or EUR",
                m.currency
            ));
        }
        if !(0.0..=1.0).contains(&m.coverage_target) {
            return Err(format!(
                "--coverage-target {}: expected a share from 0 to 1, like 0.8",
                m.coverage_target
            ));
        }
        if m.referral_value
            .is_some_and(|v| !(v.is_finite() && v >= 0.0))
        {
            return Err("--referral-value: expected an amount of 0 or more".into());
        }
        if m.role_trait.trim().is_empty() {
            return Err("--role-trait: expected the name of a user trait, like role".into());
        }
        if self.digest.is_some() && self.notify.is_empty() {
            return Err("--digest needs a --notify URL to send the digest to".into());
        }
        Ok(())
    }

    /// Where people reach this collector, without a trailing `/`.
    pub fn public_url(&self, listening: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{listening}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_tokens_and_identity_without_a_secret_are_refused() {
        let short = Settings {
            token: Some("t0ken".into()),
            ..Settings::default()
        };
        assert!(short
            .check()
            .unwrap_err()
            .starts_with("--token: 5 characters"));
        let long = Settings {
            token: Some("0123456789abcdef".into()),
            ..Settings::default()
        };
        assert!(long.check().is_ok());
        let require = Settings {
            require_identity: true,
            ..Settings::default()
        };
        assert!(require.check().unwrap_err().contains("--identity-secret"));
        let short_link_key = Settings {
            link_secret: Some("short".into()),
            ..Settings::default()
        };
        assert!(short_link_key
            .check()
            .unwrap_err()
            .starts_with("--link-secret: give at least 16"));
        let digest = Settings {
            digest: Some(crate::notify::Every::Week),
            ..Settings::default()
        };
        assert!(digest
            .check()
            .unwrap_err()
            .starts_with("--digest needs a --notify"));
        let public = Settings {
            public_url: Some("nps.example.com".into()),
            ..Settings::default()
        };
        assert!(public
            .check()
            .unwrap_err()
            .starts_with("--public-url nps.example.com"));
        let public = Settings {
            public_url: Some("https://nps.example.com/".into()),
            ..Settings::default()
        };
        assert_eq!(
            public.public_url(SocketAddr::from(([127, 0, 0, 1], 1))),
            "https://nps.example.com"
        );
    }
}
