//! `nps-collector`: flags (clap) with environment fallbacks, logging (tracing), then serve.

#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use nps_collector::model::Choice;
use nps_collector::proxy::TrustProxy;
use nps_collector::team::{check_name, Role};
use nps_collector::{Settings, Store};

/// mimalloc instead of the system allocator: a request allocates and frees many small pieces
/// across threads (the body, its parse, the writer's batch), and glibc's malloc spent about 15 %
/// of the request threads' time in its own bookkeeping under load (perf, 64 connections).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The reference collector of nps-widget: stores responses (SQLite or PostgreSQL), reports
/// the NPS, forwards each change to a webhook, serves the dashboard.
#[derive(Debug, Parser)]
#[command(name = "nps-collector", version)]
struct Cli {
    /// Without a command: serve.
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to listen on; anything but loopback needs --token.
    #[arg(long, env = "NPS_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// sqlite://FILE or postgres://USER@HOST/DB.
    #[arg(long, env = "NPS_DB", default_value = "sqlite://nps.db", value_parser = parse_db, global = true)]
    db: String,
    /// Directory served at / (repeatable; NPS_STATIC is colon-separated).
    #[arg(long = "static", env = "NPS_STATIC", value_delimiter = ':', value_parser = parse_dir)]
    static_dirs: Vec<PathBuf>,
    /// Origin allowed to post from another site (repeatable; NPS_ALLOW_ORIGIN is comma-separated).
    #[arg(long = "allow-origin", env = "NPS_ALLOW_ORIGIN", value_delimiter = ',')]
    allow_origins: Vec<String>,
    /// An admin token (16 characters or more), for bootstrapping; teammates get their own
    /// with `nps-collector token create`. With none given or stored, one is made and printed.
    #[arg(long, env = "NPS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Secret the site's server signs user.id and user.account_id with (user.hash); responses
    /// naming a user or an account without a valid hash are refused.
    #[arg(long, env = "NPS_IDENTITY_SECRET", hide_env_values = true)]
    identity_secret: Option<String>,
    /// Refuse anonymous responses too (needs --identity-secret).
    #[arg(long, env = "NPS_REQUIRE_IDENTITY")]
    require_identity: bool,
    /// Responses accepted per client address per minute; 0 for no limit.
    #[arg(long, env = "NPS_RATE_LIMIT", default_value_t = 600)]
    rate_limit: u32,
    /// Wrong tokens accepted per client address per minute before 429; 0 for no limit.
    #[arg(long, env = "NPS_WRONG_TOKEN_LIMIT", default_value_t = 20)]
    wrong_token_limit: u32,
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
    /// Where people reach this collector, for personal links and the alerts' dashboard links
    /// (default: http:// and the listen address).
    #[arg(long, env = "NPS_PUBLIC_URL")]
    public_url: Option<String>,
    /// Key personal links are signed with (16 characters or more); without it, a key is made
    /// once and kept in the database.
    #[arg(long, env = "NPS_LINK_SECRET", hide_env_values = true)]
    link_secret: Option<String>,
    /// The product's name on the hosted survey page and in the email block ({product}).
    #[arg(long, env = "NPS_PRODUCT", default_value = "us")]
    product: String,
    /// Slack-compatible chat URL (incoming webhook) told of each detractor, and sent the
    /// digest (repeatable; NPS_NOTIFY is comma-separated).
    #[arg(long, env = "NPS_NOTIFY", value_delimiter = ',')]
    notify: Vec<String>,
    /// Seconds a detractor's partial waits for its comment before the alert goes anyway.
    #[arg(long, env = "NPS_NOTIFY_DELAY", default_value_t = 600, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    notify_delay: u64,
    /// Send a digest to the --notify URLs: daily or weekly (Monday, midnight UTC).
    #[arg(long, env = "NPS_DIGEST", value_parser = parse_digest)]
    digest: Option<nps_collector::notify::Every>,
    /// The currency account ARR is kept and reported in (ISO 4217).
    #[arg(long, env = "NPS_CURRENCY", default_value = "USD")]
    currency: String,
    /// The share of the revenue base (ARR) that should answer each period, 0 to 1.
    #[arg(long, env = "NPS_COVERAGE_TARGET", default_value_t = 0.8)]
    coverage_target: f64,
    /// The average won value of one referral, in --currency: puts a price on passive themes.
    #[arg(long, env = "NPS_REFERRAL_VALUE")]
    referral_value: Option<f64>,
    /// The user trait that names a person's role in their account (decision maker, user…).
    #[arg(long, env = "NPS_ROLE_TRAIT", default_value = "role")]
    role_trait: String,
    /// Log level: error, warn, info, debug (every request) or trace.
    #[arg(long, env = "NPS_LOG", default_value = "info")]
    log: tracing::Level,
    /// Sends every account's NPS, every person's latest answer and each answer's history
    /// record to this CRM: hubspot or salesforce.
    #[arg(long, env = "NPS_CRM", global = true)]
    crm: Option<String>,
    /// The CRM's token: a HubSpot private app's, or a Salesforce OAuth access token.
    #[arg(long, env = "NPS_CRM_TOKEN", hide_env_values = true, global = true)]
    crm_token: Option<String>,
    /// The CRM's API address: https://api.hubapi.com (the default for HubSpot) or
    /// https://<instance>.my.salesforce.com.
    #[arg(long, env = "NPS_CRM_URL", global = true)]
    crm_url: Option<String>,
    /// Least time between two sends to the CRM, in milliseconds.
    #[arg(long, env = "NPS_CRM_INTERVAL_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(10..=3_600_000), global = true)]
    crm_interval_ms: u64,
    /// Most calls to the CRM per 10 seconds (HubSpot's private apps allow 100).
    #[arg(long, env = "NPS_CRM_RATE", default_value_t = 100, global = true)]
    crm_rate: usize,
    /// Responses from emails at this domain (or its subdomains) are a teammate's: stored
    /// apart and left out of every report, list, alert and digest (repeatable).
    #[arg(long = "internal-email-domain", env = "NPS_INTERNAL_EMAIL_DOMAIN", value_delimiter = ',', value_parser = parse_domain)]
    internal_email_domains: Vec<String>,
    /// A user trait that marks a teammate when it is `true` (repeatable).
    #[arg(
        long = "internal-trait",
        env = "NPS_INTERNAL_TRAIT",
        value_delimiter = ','
    )]
    internal_traits: Vec<String>,
    /// Anonymises responses shown more than this many days ago, at start-up and daily: the
    /// person, email, traits, comment and page go, notes are deleted; scores, segments,
    /// surveys, accounts and dates stay, so old periods' reports do not change.
    #[arg(long, env = "NPS_RETAIN_DAYS", value_parser = clap::value_parser!(u32).range(1..=36_500))]
    retain_days: Option<u32>,
}

fn parse_domain(s: &str) -> Result<String, String> {
    let d = s.trim().trim_start_matches('@').to_ascii_lowercase();
    if d.is_empty() || !d.contains('.') || d.contains(['@', '/', ' ']) {
        return Err(format!(
            "{s:?} is not an email domain (expected example.com)"
        ));
    }
    Ok(d)
}

/// What else the binary does besides serving.
#[derive(Debug, Subcommand)]
enum Command {
    /// The team's tokens, in the database of --db (a running collector sees a change on the
    /// next request).
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// The accounts' records (ARR, plan, owner, renewal), in the database of --db.
    Accounts {
        #[command(subcommand)]
        action: AccountsAction,
    },
    /// Copies the SQLite database of --db to FILE while it serves: a consistent snapshot,
    /// which opens in a collector (for PostgreSQL, use pg_dump -Fc).
    Backup {
        /// The copy, a new file.
        file: PathBuf,
    },
    /// The CRM of --crm.
    Crm {
        #[command(subcommand)]
        action: CrmAction,
    },
    /// A person's data, in the database of --db: all of it erased, or printed as JSON.
    People {
        #[command(subcommand)]
        action: PeopleAction,
    },
}

#[derive(Debug, Subcommand)]
enum PeopleAction {
    /// Erases everything held about one person, in one transaction (with --forward set, the
    /// webhook gets a `person.erased` event); prints what went.
    Erase {
        #[command(flatten)]
        who: WhoArgs,
    },
    /// Prints everything held about one person, as JSON.
    Export {
        #[command(flatten)]
        who: WhoArgs,
    },
}

/// Whom: by user id or by email, one of the two.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct WhoArgs {
    /// The person's id in the site's own system.
    #[arg(long)]
    user_id: Option<String>,
    /// Their email address (compared without case).
    #[arg(long)]
    email: Option<String>,
}

impl WhoArgs {
    fn who(self) -> Result<nps_collector::store::Who, String> {
        use nps_collector::store::Who;
        match (self.user_id, self.email) {
            (Some(id), _) if !id.trim().is_empty() => Ok(Who::UserId(id.trim().to_owned())),
            (_, Some(email)) if !email.trim().is_empty() => Ok(Who::Email(email.trim().to_owned())),
            _ => Err("people: give --user-id or --email, not empty".into()),
        }
    }
}

/// `nps-collector people erase|export`.
async fn people(cli: &Cli, action: PeopleAction) -> Result<(), String> {
    let queues = nps_collector::store::Queues::forward(cli.forward.is_some());
    let store = Store::open_with(&cli.db, queues)
        .await
        .map_err(|e| e.to_string())?;
    match action {
        PeopleAction::Erase { who } => {
            let who = who.who()?;
            let erased = store.erase(&who).await.map_err(|e| e.to_string())?;
            let detail = serde_json::to_string(&erased).unwrap_or_default();
            store
                .audit("command line", "person.erase", &who.digest(), Some(&detail))
                .await
                .map_err(|e| e.to_string())?;
            println!("{}", serde_json::json!({ "erased": erased }));
        }
        PeopleAction::Export { who } => {
            let who = who.who()?;
            let person = store.person(&who).await.map_err(|e| e.to_string())?;
            store
                .audit("command line", "person.export", &who.digest(), None)
                .await
                .map_err(|e| e.to_string())?;
            let text = serde_json::to_string_pretty(&person).unwrap_or_default();
            println!("{text}");
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
enum CrmAction {
    /// Makes what the sync writes: in HubSpot, the `nps` property groups and properties of
    /// companies and contacts; for Salesforce, lists the custom fields to create.
    Setup,
}

/// `nps-collector backup FILE`.
async fn backup(db: &str, file: &std::path::Path) -> Result<(), String> {
    let store = Store::open(db).await.map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    store.backup(file).await?;
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    println!(
        "backed up {db} to {} ({:.1} MB) in {:.1} s; restore: stop the collector, put the copy \
         in the database file's place (remove its -wal and -shm files), start it",
        file.display(),
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `nps-collector crm setup`.
async fn crm(cli: &Cli, action: CrmAction) -> Result<(), String> {
    let CrmAction::Setup = action;
    let config = cli
        .crm_config()?
        .ok_or("crm setup: give --crm hubspot or --crm salesforce")?;
    match config.kind {
        nps_collector::crm::Kind::Hubspot => {
            let api = nps_collector::crm::Api::new(&config)?;
            for line in nps_collector::crm::hubspot::setup(&api).await? {
                println!("{line}");
            }
        }
        nps_collector::crm::Kind::Salesforce => {
            println!(
                "Salesforce: create these custom fields (Setup → Object Manager), and the custom \
                 object NPS_Response__c:"
            );
            for (object, field, kind) in nps_collector::crm::salesforce::FIELDS {
                println!("  {object}.{field}: {kind}");
            }
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
enum AccountsAction {
    /// Upserts the accounts of FILE, a CSV as HubSpot or Salesforce export companies or
    /// accounts; says what it created, updated and left, and each bad row by line and column.
    Import {
        /// The CSV file (or none, with --from).
        file: Option<PathBuf>,
        /// Reads the companies (hubspot) or accounts (salesforce) from the CRM of --crm-token
        /// and --crm-url instead of a file, with a link to each record.
        #[arg(long, value_parser = ["hubspot", "salesforce"], conflicts_with = "file")]
        from: Option<String>,
        /// Which column is which of our fields: `id:Record ID,arr:ARR (EUR)`.
        #[arg(long, default_value = "")]
        map: String,
    },
}

/// `nps-collector accounts import FILE`.
async fn accounts(cli: &Cli, action: AccountsAction) -> Result<(), String> {
    let db = cli.db.as_str();
    let AccountsAction::Import { file, from, map } = action;
    if let Some(from) = from {
        return accounts_from_crm(cli, &from).await;
    }
    let file = file.ok_or("accounts import: give a CSV file, or --from hubspot|salesforce")?;
    let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let map = nps_collector::import::parse_map(&map).map_err(|e| format!("--map: {e}"))?;
    let read = nps_collector::import::read(&bytes, &map)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let records: Vec<_> = read
        .records
        .into_iter()
        .map(nps_collector::import::Record::into_record)
        .collect();
    let store = Store::open(db).await.map_err(|e| e.to_string())?;
    let done = store
        .import_account_records(&records, "import")
        .await
        .map_err(|e| e.to_string())?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
    audit(&store, "accounts import", &name.unwrap_or_default()).await?;
    for e in &read.errors {
        eprintln!(
            "{}: line {}, column {:?}: {}",
            file.display(),
            e.line,
            e.column,
            e.error
        );
    }
    println!(
        "{} created, {} updated, {} unchanged, {} rows left out",
        done.created,
        done.updated,
        done.unchanged,
        read.errors.len()
    );
    Ok(())
}

/// `nps-collector accounts import --from hubspot|salesforce`: each record's name, annual
/// revenue, owner and link merged into the account records (other fields kept).
async fn accounts_from_crm(cli: &Cli, from: &str) -> Result<(), String> {
    let config = nps_collector::crm::Config::new(
        from,
        cli.crm_url.as_deref(),
        cli.crm_token.as_deref(),
        cli.crm_interval_ms,
        cli.crm_rate,
    )?;
    let store = Store::open(&cli.db).await.map_err(|e| e.to_string())?;
    let done = nps_collector::crm::import(&store, &config).await?;
    audit(&store, "accounts import", from).await?;
    println!(
        "{} records read from {from} in {} calls: {} created, {} updated, {} unchanged",
        done.read,
        done.calls,
        done.imported.created,
        done.imported.updated,
        done.imported.unchanged
    );
    Ok(())
}

#[derive(Debug, Subcommand)]
enum TokenAction {
    /// Makes a token and prints it once, as the last line.
    Create {
        /// Who holds it (shown as the author of their changes).
        #[arg(long)]
        name: String,
        /// viewer (reads), member (also changes follow-ups, adds notes) or admin (also
        /// manages tokens and surveys).
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Name, role, created, last used; never the tokens.
    List,
    /// Deletes NAME's token.
    Revoke {
        /// The token's name.
        name: String,
    },
}

fn parse_digest(every: &str) -> Result<nps_collector::notify::Every, String> {
    nps_collector::notify::Every::parse(every).ok_or_else(nps_collector::notify::Every::expected)
}

fn parse_role(role: &str) -> Result<Role, String> {
    Role::parse(role).ok_or_else(Role::expected)
}

/// `nps-collector token …`.
async fn token(db: &str, action: TokenAction) -> Result<(), String> {
    let store = Store::open(db).await.map_err(|e| e.to_string())?;
    match action {
        TokenAction::Create { name, role } => {
            check_name(&name).map_err(|e| format!("--name: {e}"))?;
            let token = store
                .create_token(&name, role)
                .await
                .map_err(|e| e.to_string())?;
            let object = format!("/v1/tokens/{name}");
            audit(&store, "token create", &object).await?;
            println!(
                "made a {} token for {name}; it is shown this once:",
                role.as_str()
            );
            println!("{token}");
        }
        TokenAction::List => {
            let tokens = store.tokens().await.map_err(|e| e.to_string())?;
            println!("{:<24} {:<7} {:<25} last used", "name", "role", "created");
            for t in tokens {
                println!(
                    "{:<24} {:<7} {:<25} {}",
                    t.name,
                    t.role.as_str(),
                    t.created_at,
                    t.last_used_at.as_deref().unwrap_or("never")
                );
            }
        }
        TokenAction::Revoke { name } => {
            if !store.revoke_token(&name).await.map_err(|e| e.to_string())? {
                return Err(format!("no token named {name}"));
            }
            audit(&store, "token revoke", &format!("/v1/tokens/{name}")).await?;
            println!("revoked {name}'s token");
        }
    }
    Ok(())
}

/// The audit trail's row for a change made from the command line (its actor: `command line`).
async fn audit(store: &Store, action: &str, object: &str) -> Result<(), String> {
    store
        .audit("command line", action, object, None)
        .await
        .map_err(|e| e.to_string())
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
    /// The CRM settings, if `--crm` is given.
    fn crm_config(&self) -> Result<Option<nps_collector::crm::Config>, String> {
        self.crm
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(|kind| {
                nps_collector::crm::Config::new(
                    kind,
                    self.crm_url.as_deref(),
                    self.crm_token.as_deref(),
                    self.crm_interval_ms,
                    self.crm_rate,
                )
            })
            .transpose()
    }

    fn settings(self) -> Result<Settings, String> {
        let crm = self.crm_config()?;
        Ok(Settings {
            listen: self.listen,
            db: self.db,
            static_dirs: self.static_dirs,
            allow_origins: self.allow_origins,
            token: self.token.filter(|t| !t.is_empty()),
            identity_secret: self.identity_secret.filter(|s| !s.is_empty()),
            require_identity: self.require_identity,
            rate_limit: self.rate_limit,
            wrong_token_limit: self.wrong_token_limit,
            forward: self.forward,
            forward_ca: self.forward_ca,
            forward_secret: self.forward_secret,
            trust_proxy: self.trust_proxy,
            header_timeout: Duration::from_secs(self.header_timeout),
            request_timeout: Duration::from_secs(self.request_timeout),
            max_connections: self.max_connections as usize,
            metrics_listen: self.metrics_listen,
            public_url: self.public_url.filter(|u| !u.is_empty()),
            link_secret: self.link_secret.filter(|s| !s.is_empty()),
            product: self.product,
            notify: self.notify.into_iter().filter(|u| !u.is_empty()).collect(),
            notify_delay: Duration::from_secs(self.notify_delay),
            digest: self.digest,
            money: nps_collector::settings::Money {
                currency: self.currency,
                coverage_target: self.coverage_target,
                referral_value: self.referral_value,
                role_trait: self.role_trait,
            },
            crm,
            internal: nps_collector::settings::Internal {
                email_domains: self.internal_email_domains,
                traits: self
                    .internal_traits
                    .into_iter()
                    .filter(|t| !t.is_empty())
                    .collect(),
            },
            retain_days: self.retain_days,
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut cli = Cli::parse();
    let command = cli.command.take();
    tracing_subscriber::fmt()
        .with_max_level(cli.log)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let done = match command {
        Some(Command::Token { action }) => token(&cli.db, action).await,
        Some(Command::Accounts { action }) => accounts(&cli, action).await,
        Some(Command::Crm { action }) => crm(&cli, action).await,
        Some(Command::Backup { file }) => backup(&cli.db, &file).await,
        Some(Command::People { action }) => people(&cli, action).await,
        None => match cli.settings() {
            Ok(settings) => nps_collector::serve(settings).await,
            Err(e) => Err(e),
        },
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::from(2)
        }
    }
}
