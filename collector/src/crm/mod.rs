//! The CRM sync (`--crm hubspot|salesforce`): every account's NPS on its company or account
//! record, every person's latest answer on their contact, and each complete answer as its own
//! history record (a note on the HubSpot contact's timeline, an `NPS_Response__c` in
//! Salesforce), so the next survey does not overwrite the last one.
//!
//! The writer queues what each batch changed in the batch's own transaction
//! (`store::crm`); one collector holds the `crm` lease and sends what is due at most every
//! `--crm-interval-ms` (10 s): accounts first (a contact links to its account), then people,
//! then answers. Several changes of one account between two sends are one row, so one update.
//! A 429 waits what the CRM says (`Retry-After`, HubSpot's rate-limit headers); a 5xx or a
//! network error retries with backoff; an item the CRM refuses is kept with its answer, shown
//! in the dashboard, and not sent again until it changes; the rest of its batch goes on.
//!
//! Each CRM is a [`Sink`]: how a batch becomes its calls and how its answer says which items
//! it took. [`Api`] is the one HTTP client: the bearer token, time limits, the rate limit.

pub mod hubspot;
pub mod salesforce;

use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{watch, Mutex};

use crate::clock::now_ms;
use crate::model::{CrmAccount, CrmAnswer, CrmChange};
use crate::store::Store;

/// How long the lease lasts without renewal: longer than any one call.
const LEASE_MS: i64 = 30_000;
/// The lease's name in the `leases` table.
const LEASE: &str = "crm";
/// Longest a 429 is waited out within one send; longer waits come back next send.
const MAX_WAIT_MS: i64 = 60_000;
/// Changes read from the queue at a time.
const READ: i64 = 2_000;

/// Which CRM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// HubSpot's CRM API v3.
    Hubspot,
    /// Salesforce's REST API.
    Salesforce,
}

impl Kind {
    /// `--crm hubspot` or `--crm salesforce`.
    pub fn parse(text: &str) -> Result<Kind, String> {
        match text {
            "hubspot" => Ok(Kind::Hubspot),
            "salesforce" => Ok(Kind::Salesforce),
            other => Err(format!("--crm {other}: expected hubspot or salesforce")),
        }
    }

    /// Its name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Hubspot => "hubspot",
            Kind::Salesforce => "salesforce",
        }
    }
}

/// The CRM settings: which one, where, the token, how often and how fast to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Which CRM.
    pub kind: Kind,
    /// `https://api.hubapi.com`, or the Salesforce instance's address.
    pub url: String,
    /// A HubSpot private-app token or a Salesforce OAuth access token.
    pub token: String,
    /// Least time between two sends.
    pub interval: Duration,
    /// Most calls per 10 seconds (HubSpot's private apps: 100).
    pub rate: usize,
}

impl Config {
    /// Checks the settings, naming the flag at fault.
    pub fn new(
        kind: &str,
        url: Option<&str>,
        token: Option<&str>,
        interval_ms: u64,
        rate: usize,
    ) -> Result<Config, String> {
        let kind = Kind::parse(kind)?;
        let url = match (kind, url) {
            (_, Some(url)) if !url.is_empty() => url.trim_end_matches('/').to_owned(),
            (Kind::Hubspot, _) => "https://api.hubapi.com".to_owned(),
            (Kind::Salesforce, _) => {
                return Err(
                    "--crm salesforce needs --crm-url https://<instance>.my.salesforce.com".into(),
                )
            }
        };
        let parsed = reqwest::Url::parse(&url)
            .map_err(|e| format!("--crm-url {url}: {e} (expected https://HOST)"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!(
                "--crm-url {url}: expected an http:// or https:// address"
            ));
        }
        let token = match token {
            Some(t) if !t.trim().is_empty() => t.trim().to_owned(),
            _ => {
                return Err(format!(
                    "--crm {}: give the CRM's token with --crm-token or NPS_CRM_TOKEN",
                    kind.as_str()
                ))
            }
        };
        if rate == 0 {
            return Err("--crm-rate: give at least 1 call per 10 seconds".into());
        }
        Ok(Config {
            kind,
            url,
            token,
            interval: Duration::from_millis(interval_ms),
            rate,
        })
    }
}

/// What went wrong with a whole call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// 429: try again after this many milliseconds.
    Wait(i64, String),
    /// A 5xx, a network error, a timeout: try again later.
    Retry(String),
    /// Any other 4xx: the CRM refused the call as a whole (its message).
    Refused(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Wait(ms, m) => write!(f, "rate limited, waiting {ms} ms: {m}"),
            CallError::Retry(m) | CallError::Refused(m) => f.write_str(m),
        }
    }
}

/// Per item of a batch: taken, or refused with the CRM's message.
pub type Items = Vec<Result<(), String>>;

/// The CRM's HTTP API: the bearer token, a client with time limits, the calls of the last
/// 10 seconds (at most `rate` of them).
#[derive(Debug)]
pub struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
    rate: usize,
    calls: Mutex<VecDeque<tokio::time::Instant>>,
    /// Calls made, for the figures of a test or a log line.
    pub made: std::sync::atomic::AtomicU64,
}

impl Api {
    /// The client of `config`'s CRM.
    pub fn new(config: &Config) -> Result<Api, String> {
        Ok(Api {
            client: crate::forward::http_client(None, "--crm-url")?,
            base: config.url.clone(),
            token: config.token.clone(),
            rate: config.rate,
            calls: Mutex::new(VecDeque::new()),
            made: Default::default(),
        })
    }

    /// The instance's address (Salesforce links records under it).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Waits until one more call stays within the rate limit, and counts it. The window is
    /// the CRM's 10 seconds and one more: a call leaves here a moment before the CRM counts
    /// it, so a window of exactly 10 s let the 101st call in while the CRM still counted the
    /// first (the 10,000-account test caught it).
    async fn slot(&self) {
        let window = Duration::from_secs(11);
        let mut calls = self.calls.lock().await;
        loop {
            let now = tokio::time::Instant::now();
            while calls
                .front()
                .is_some_and(|t| now.duration_since(*t) >= window)
            {
                calls.pop_front();
            }
            if calls.len() < self.rate {
                calls.push_back(now);
                self.made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return;
            }
            let oldest = calls.front().copied().unwrap_or(now);
            tokio::time::sleep_until(oldest + window).await;
        }
    }

    /// One call: `method path` with a JSON body, its JSON answer (`null` when empty).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), CallError> {
        self.slot().await;
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let mut request = self
            .client
            .request(method.clone(), &url)
            .bearer_auth(&self.token)
            .header("accept", "application/json");
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request
            .send()
            .await
            .map_err(|e| CallError::Retry(format!("{method} {path}: {e}")))?;
        let status = response.status().as_u16();
        let wait = wait_ms(response.headers());
        let text = response
            .text()
            .await
            .map_err(|e| CallError::Retry(format!("{method} {path}: {e}")))?;
        let json: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
        };
        let said = || format!("{method} {path}: {status} {}", message_of(&json));
        match status {
            200..=299 => Ok((status, json)),
            429 => Err(CallError::Wait(wait.unwrap_or(10_000), said())),
            400..=499 => Err(CallError::Refused(said())),
            _ => Err(CallError::Retry(said())),
        }
    }
}

/// How long a 429 says to wait: `Retry-After` (seconds), else HubSpot's
/// `X-HubSpot-RateLimit-Interval-Milliseconds` (the window to wait out).
fn wait_ms(headers: &reqwest::header::HeaderMap) -> Option<i64> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    number("retry-after")
        .map(|s| (s * 1000.0) as i64)
        .or_else(|| number("x-hubspot-ratelimit-interval-milliseconds").map(|ms| ms as i64))
        .map(|ms| ms.clamp(0, 3_600_000))
}

/// A CRM's error text: HubSpot's `message`, Salesforce's `[{"message"}]`, or the text.
pub(crate) fn message_of(json: &Value) -> String {
    if let Some(m) = json.get("message").and_then(Value::as_str) {
        return m.to_owned();
    }
    if let Some(m) = json
        .as_array()
        .and_then(|a| a.first())
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
    {
        return m.to_owned();
    }
    match json {
        Value::String(s) => s.chars().take(300).collect(),
        Value::Null => String::new(),
        other => other.to_string().chars().take(300).collect(),
    }
}

/// Where the dashboard shows an account and an answer.
#[derive(Debug, Clone)]
pub struct Links {
    /// The collector's public address, without a trailing slash.
    pub base: String,
}

impl Links {
    /// The dashboard's page of account `id`.
    pub fn account(&self, id: &str) -> String {
        format!("{}/dashboard#/accounts/{}", self.base, encode(id))
    }

    /// Where the dashboard shows `answer` (its account's page, else its segment's list).
    pub fn answer(&self, answer: &CrmAnswer) -> String {
        match &answer.account_id {
            Some(account) => self.account(account),
            None => format!("{}/dashboard#/lists/{}", self.base, answer.segment),
        }
    }
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A CRM: how accounts, people and answers become its calls, and which items it took.
pub trait Sink: Send + Sync + 'static {
    /// Most records one call takes.
    fn batch(&self) -> usize;

    /// Upserts the accounts' records.
    fn accounts(
        &self,
        api: &Api,
        links: &Links,
        accounts: &[CrmAccount],
    ) -> impl Future<Output = Result<Items, CallError>> + Send;

    /// Upserts the people's contacts with their latest answer.
    fn people(
        &self,
        api: &Api,
        links: &Links,
        people: &[CrmAnswer],
    ) -> impl Future<Output = Result<Items, CallError>> + Send;

    /// Adds each answer's history record.
    fn answers(
        &self,
        api: &Api,
        links: &Links,
        answers: &[CrmAnswer],
    ) -> impl Future<Output = Result<Items, CallError>> + Send;
}

/// Sends what is due while this collector holds the lease, a send at most every
/// `config.interval`, until `stop`.
pub async fn run<S: Sink>(
    store: Store,
    sink: S,
    api: Api,
    links: Links,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let holder = crate::forward::holder_name();
    while !*stop.borrow() {
        match store.take_lease(LEASE, &holder, now_ms(), LEASE_MS).await {
            Ok(true) => {
                if let Err(e) = send(&store, &sink, &api, &links, &holder, &stop).await {
                    tracing::warn!(error = %e, "reading the CRM queue");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "taking the CRM lease"),
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
    }
    let _ = store.release_lease(LEASE, &holder).await;
}

/// Starts the sync of `config`'s CRM in the background (see [`run`]).
pub fn start(
    store: Store,
    config: &Config,
    links: Links,
    stop: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let api = Api::new(config)?;
    let every = config.interval;
    Ok(match config.kind {
        Kind::Hubspot => tokio::spawn(run(store, hubspot::HubSpot, api, links, every, stop)),
        Kind::Salesforce => {
            tokio::spawn(run(store, salesforce::Salesforce, api, links, every, stop))
        }
    })
}

/// Which part of a send.
#[derive(Debug, Clone, Copy)]
enum Part {
    Accounts,
    People,
    Answers,
}

impl Part {
    fn kind(self) -> &'static str {
        match self {
            Part::Accounts => "account",
            Part::People => "person",
            Part::Answers => "response",
        }
    }
}

/// One send: every due account, then person, then answer, in the sink's batches.
async fn send<S: Sink>(
    store: &Store,
    sink: &S,
    api: &Api,
    links: &Links,
    holder: &str,
    stop: &watch::Receiver<bool>,
) -> Result<(), crate::store::StoreError> {
    for part in [Part::Accounts, Part::People, Part::Answers] {
        // Items the CRM had no record of here (an account without totals) or that failed
        // this send are behind `after`, so the same rows are not read twice in one send.
        let mut after = String::new();
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            let due: Vec<CrmChange> = store
                .crm_due(part.kind(), now_ms(), READ)
                .await?
                .into_iter()
                .filter(|c| c.item > after)
                .collect();
            if due.is_empty() {
                break;
            }
            for chunk in due.chunks(sink.batch()) {
                if !store.take_lease(LEASE, holder, now_ms(), LEASE_MS).await? {
                    return Ok(());
                }
                if let Some(last) = chunk.last() {
                    after = last.item.clone();
                }
                if !send_chunk(store, sink, api, links, part, chunk, stop).await? {
                    // The CRM is down or said to wait long: the rest comes next send.
                    return Ok(());
                }
            }
            if due.len() < READ as usize {
                break;
            }
        }
    }
    Ok(())
}

/// Sends one batch; `false` when the CRM could not take it now.
async fn send_chunk<S: Sink>(
    store: &Store,
    sink: &S,
    api: &Api,
    links: &Links,
    part: Part,
    chunk: &[CrmChange],
    stop: &watch::Receiver<bool>,
) -> Result<bool, crate::store::StoreError> {
    let ids: Vec<&str> = chunk.iter().map(|c| c.item.as_str()).collect();
    // What each item is now, read at send time: several changes are one update.
    let (found, outcome) = loop {
        let (found, outcome): (Vec<String>, Result<Items, CallError>) = match part {
            Part::Accounts => {
                let accounts = store.crm_accounts(&ids).await?;
                let found = accounts.iter().map(|a| a.account_id.clone()).collect();
                (found, sink.accounts(api, links, &accounts).await)
            }
            Part::People => {
                let people = store.crm_people(&ids).await?;
                let found = people.iter().filter_map(|p| p.user_id.clone()).collect();
                (found, sink.people(api, links, &people).await)
            }
            Part::Answers => {
                let answers = store.crm_answers(&ids).await?;
                let found = answers.iter().map(|a| a.response_id.clone()).collect();
                (found, sink.answers(api, links, &answers).await)
            }
        };
        match outcome {
            Err(CallError::Wait(ms, said)) if ms <= MAX_WAIT_MS && !*stop.borrow() => {
                tracing::info!(wait_ms = ms, said = %said, "the CRM asks to wait");
                let mut stop = stop.clone();
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(ms as u64)) => {}
                    _ = stop.changed() => {}
                }
            }
            outcome => break (found, outcome),
        }
    };
    match outcome {
        Ok(items) => {
            let mut results = found.iter().zip(items);
            let (mut taken, mut refused) = (Vec::new(), Vec::new());
            for change in chunk {
                // An item with nothing to send (no totals, no answer left to record) is done.
                let result = match found.iter().position(|f| *f == change.item) {
                    Some(_) => results
                        .next()
                        .map(|(_, r)| r)
                        .unwrap_or_else(|| Err("the CRM did not answer for it".into())),
                    None => Ok(()),
                };
                match result {
                    Ok(()) => taken.push(change),
                    Err(error) => {
                        tracing::info!(kind = %change.kind, item = %change.item, %error, "the CRM refused an item");
                        refused.push((change, error));
                    }
                }
            }
            store.crm_settle(&taken, &refused).await?;
            if !refused.is_empty() {
                store
                    .crm_outcome(Some(&format!(
                        "{} of {} {}s refused; see the Team view",
                        refused.len(),
                        chunk.len(),
                        part.kind()
                    )))
                    .await?;
            }
            store.crm_outcome(None).await?;
            Ok(true)
        }
        Err(e) => {
            tracing::warn!(error = %e, "CRM send failed, will retry");
            store.crm_outcome(Some(&e.to_string())).await?;
            let wait = match &e {
                CallError::Wait(ms, _) => Some(*ms),
                _ => None,
            };
            for change in chunk {
                let next = now_ms()
                    + wait.unwrap_or_else(|| crate::forward::backoff_ms(change.attempts + 1));
                store.crm_later(change, next).await?;
            }
            Ok(false)
        }
    }
}

/// Splits a batch the CRM refused as a whole (one bad item spoils some CRMs' batches) into
/// single calls (`single(i)` sends item `i` alone), so only the bad items stay behind; any
/// other outcome as it came.
pub(crate) async fn one_by_one<T, F, Fut>(
    items: &[T],
    whole: Result<Items, CallError>,
    mut single: F,
) -> Result<Items, CallError>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<Items, CallError>>,
{
    match whole {
        Err(CallError::Refused(_)) if items.len() > 1 => {
            let mut out = Vec::with_capacity(items.len());
            for i in 0..items.len() {
                match single(i).await {
                    Ok(mut one) => out.push(one.pop().unwrap_or(Ok(()))),
                    Err(CallError::Refused(m)) => out.push(Err(m)),
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        }
        Err(CallError::Refused(m)) => Ok(vec![Err(m)]),
        other => other,
    }
}

/// What an import from the CRM did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Records read from the CRM.
    pub read: usize,
    /// Calls made (pages of records and of owners).
    pub calls: u64,
    /// What the account records became.
    pub imported: crate::store::Imported,
}

/// `nps-collector accounts import --from hubspot|salesforce`: every company or account of the
/// CRM, page by page, merged into the account records (its name, annual revenue, owner and
/// the link to its record replace ours; our other fields stay).
pub async fn import(store: &Store, config: &Config) -> Result<Imported, String> {
    let api = Api::new(config)?;
    let read = match config.kind {
        Kind::Hubspot => hubspot::companies(&api).await?,
        Kind::Salesforce => salesforce::accounts(&api).await?,
    };
    let mut records = Vec::with_capacity(read.len());
    for (id, from_crm) in read {
        let mut record = store
            .account_record(&id)
            .await
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        record.name = from_crm.name.or(record.name);
        record.arr_cents = from_crm.arr_cents.or(record.arr_cents);
        record.owner = from_crm.owner.or(record.owner);
        record.crm_url = from_crm.crm_url.or(record.crm_url);
        records.push((id, record));
    }
    let imported = store
        .import_account_records(&records, &format!("{} import", config.kind.as_str()))
        .await
        .map_err(|e| e.to_string())?;
    Ok(Imported {
        read: records.len(),
        calls: api.made.load(std::sync::atomic::Ordering::Relaxed),
        imported,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_name_the_flag_at_fault() {
        let ok = Config::new("hubspot", None, Some("pat-1"), 10_000, 100).unwrap();
        assert_eq!(ok.url, "https://api.hubapi.com");
        assert!(Config::new("zoho", None, Some("t"), 10_000, 100)
            .unwrap_err()
            .contains("--crm zoho"));
        assert!(Config::new("salesforce", None, Some("t"), 10_000, 100)
            .unwrap_err()
            .contains("--crm-url"));
        assert!(Config::new("hubspot", None, None, 10_000, 100)
            .unwrap_err()
            .contains("--crm-token"));
        assert!(
            Config::new("hubspot", Some("ftp://x"), Some("t"), 10_000, 100)
                .unwrap_err()
                .contains("--crm-url ftp://x")
        );
    }

    #[test]
    fn waits_come_from_retry_after_or_hubspots_window() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(wait_ms(&h), None);
        h.insert(
            "x-hubspot-ratelimit-interval-milliseconds",
            "10000".parse().unwrap(),
        );
        assert_eq!(wait_ms(&h), Some(10_000));
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(wait_ms(&h), Some(2_000));
    }

    #[test]
    fn dashboard_links_are_encoded() {
        let links = Links {
            base: "https://nps.example.com".into(),
        };
        assert_eq!(
            links.account("acme & co"),
            "https://nps.example.com/dashboard#/accounts/acme%20%26%20co"
        );
    }
}
