//! Start-up: the webhook forwarder, the metrics address, the server, and a graceful stop on
//! Ctrl-C or SIGTERM.

use std::time::Duration;

use crate::settings::Settings;
use crate::store::Store;
use crate::team::Role;
use crate::{forward, http, server};

/// Serves the collector on `listener` until `shutdown`, then finishes the requests it
/// accepted (each is answered only once committed) and stops forwarding; with
/// `settings.forward`, drains the webhook queue meanwhile (open the store with
/// [`Store::open_with`] so that it fills it).
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
    let (app, state) = http::app(store, settings);
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
    Ok(())
}

/// Opens the store, binds, prints the address, and serves until Ctrl-C or SIGTERM.
pub async fn serve(settings: Settings) -> Result<(), String> {
    settings.check()?;
    let store = Store::open_with(&settings.db, settings.forward.is_some())
        .await
        .map_err(|e| e.to_string())?;
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
