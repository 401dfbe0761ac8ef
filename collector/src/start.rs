//! Start-up: the webhook forwarder, the metrics address, the server, and a graceful stop on
//! Ctrl-C or SIGTERM.

use std::time::Duration;

use crate::notify::{self, Chat, Every};
use crate::settings::Settings;
use crate::store::{Queues, Store};
use crate::team::Role;
use crate::{crm, forward, http, server};

/// Opens the store of `settings.db` with the queues its settings fill: the webhook's
/// (`--forward`) and the detractor alerts' (`--notify`).
pub async fn open(settings: &Settings) -> Result<Store, String> {
    let chat = Chat::new(&settings.notify, settings.forward_ca.as_deref())?;
    let queues = Queues {
        forward: settings.forward.is_some(),
        notify: chat.targets(),
        notify_delay_ms: settings.notify_delay.as_millis() as i64,
        crm: settings.crm.is_some(),
    };
    Store::open_with(&settings.db, queues)
        .await
        .map_err(|e| e.to_string())
}

/// Serves the collector on `listener` until `shutdown`, then finishes the requests it
/// accepted (each is answered only once committed) and stops forwarding; with
/// `settings.forward`, drains the webhook queue meanwhile, with `settings.notify` sends the
/// detractor alerts and the digest (open the store with [`open`] so that it fills the queues).
pub async fn run(
    listener: tokio::net::TcpListener,
    store: Store,
    settings: &Settings,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let forwarder = match &settings.forward {
        Some(url) => {
            let target = forward::Target::new(
                url,
                settings.forward_ca.as_deref(),
                settings.forward_secret.as_deref(),
            )?;
            Some(tokio::spawn(forward::run(store.clone(), target, stopped)))
        }
        None => None,
    };
    let chat = Chat::new(&settings.notify, settings.forward_ca.as_deref())?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let public_url = settings.public_url(local);
    if settings.public_url.is_none() && local.ip().is_unspecified() {
        tracing::warn!(
            "personal links and alert links will name {public_url}, which nobody can open: \
             give --public-url, the address people reach this collector at"
        );
    }
    let link_key = match &settings.link_secret {
        Some(secret) => secret.as_bytes().to_vec(),
        None => store.link_key().await.map_err(|e| e.to_string())?,
    };
    let mut background = Vec::new();
    if !chat.is_empty() {
        background.push(tokio::spawn(notify::run_alerts(
            store.clone(),
            chat.clone(),
            public_url.clone(),
            stop.subscribe(),
        )));
    }
    if let Some(every) = settings.digest {
        background.push(tokio::spawn(notify::run_digests(
            store.clone(),
            chat.clone(),
            every,
            public_url.clone(),
            stop.subscribe(),
        )));
    }
    if let Some(days) = settings.retain_days {
        background.push(tokio::spawn(retain_daily(
            store.clone(),
            days,
            stop.subscribe(),
        )));
    }
    if let Some(config) = &settings.crm {
        let links = crm::Links {
            base: public_url.clone(),
        };
        background.push(crm::start(store.clone(), config, links, stop.subscribe())?);
    }
    let reach = http::Reach {
        link_key,
        public_url,
        product: settings.product.clone(),
        chat,
        every: settings.digest.unwrap_or(Every::Week),
    };
    let (app, state) = http::app(store, settings, reach);
    if let Some(addr) = settings.metrics_listen {
        let metrics_listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("--metrics-listen {addr}: {e}"))?;
        let metrics_app = http::metrics_router(state);
        let limits = server::Limits {
            header_timeout: settings.header_timeout,
            max_connections: 64,
            drain_timeout: Duration::from_secs(1),
        };
        let mut on_stop = stop.subscribe();
        tokio::spawn(server::serve(
            metrics_listener,
            metrics_app,
            limits,
            async move {
                let _ = on_stop.changed().await;
            },
        ));
    }
    let limits = server::Limits {
        header_timeout: settings.header_timeout,
        max_connections: settings.max_connections,
        drain_timeout: settings.request_timeout + Duration::from_secs(5),
    };
    server::serve(listener, app, limits, shutdown).await;
    let _ = stop.send(true);
    if let Some(forwarder) = forwarder {
        let _ = tokio::time::timeout(Duration::from_secs(15), forwarder).await;
    }
    for task in background {
        let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
    }
    Ok(())
}

/// The lease one collector holds while it runs retention.
const RETAIN_LEASE: &str = "retain";
/// Longer than a run takes: a collector that dies mid-run frees it after that.
const RETAIN_LEASE_MS: i64 = 3_600_000;
/// How often retention runs.
const RETAIN_EVERY_MS: i64 = 86_400_000;

/// Retention (`--retain-days`): at start-up (unless another collector ran it within the hour)
/// and once a day, by whichever collector holds the `retain` lease.
async fn retain_daily(store: Store, days: u32, mut stop: tokio::sync::watch::Receiver<bool>) {
    let holder = forward::holder_name();
    let mut started = true;
    while !*stop.borrow() {
        let now = crate::clock::now_ms();
        let last = match store.chore("retain").await {
            Ok(run) => run.and_then(|r| crate::clock::parse_ms(&r.at)),
            Err(e) => {
                tracing::warn!(error = %e, "reading when retention last ran");
                Some(now)
            }
        };
        let due = last.is_none_or(|at| {
            let since = now - at;
            since >= RETAIN_EVERY_MS || (started && since >= 3_600_000)
        });
        if due {
            match store
                .take_lease(RETAIN_LEASE, &holder, now, RETAIN_LEASE_MS)
                .await
            {
                Ok(true) => {
                    match store.retain(days, now).await {
                        Ok(done) => tracing::info!(
                            cutoff = done.cutoff,
                            responses = done.responses,
                            notes = done.notes,
                            "retention: anonymised what was shown before the cutoff"
                        ),
                        Err(e) => tracing::warn!(error = %e, "retention"),
                    }
                    let _ = store.release_lease(RETAIN_LEASE, &holder).await;
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "taking the retention lease"),
            }
        }
        started = false;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(600)) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Opens the store, binds, prints the address, and serves until Ctrl-C or SIGTERM.
pub async fn serve(settings: Settings) -> Result<(), String> {
    settings.check()?;
    let store = open(&settings).await?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", settings.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!(
        "nps-collector listening on http://{addr}/ (database {})",
        settings.db
    );
    if let Some(token) = first_token(&store, &settings).await? {
        println!(
            "no token was given or stored: made an admin token named \"{}\" (shown once, keep it)\n\
             dashboard: http://{addr}/dashboard#token={token}\n{token}",
            http::BOOTSTRAP_NAME
        );
    }
    run(listener, store, &settings, shutdown()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// There is no open mode: without `--token` and with no token stored, an admin token is made
/// (and returned, to be printed once).
async fn first_token(store: &Store, settings: &Settings) -> Result<Option<String>, String> {
    if settings.token.is_some() || !store.tokens().await.map_err(|e| e.to_string())?.is_empty() {
        return Ok(None);
    }
    store
        .create_token(http::BOOTSTRAP_NAME, Role::Admin)
        .await
        .map(Some)
        .map_err(|e| e.to_string())
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
