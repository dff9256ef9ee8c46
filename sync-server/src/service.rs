//! Running as a service under systemd (`Type=notify`): `READY=1` once the server listens,
//! `WATCHDOG=1` while its store still answers, `STOPPING=1` when it begins a graceful shutdown,
//! and the signals that start one (SIGTERM from systemd, SIGINT from a terminal). Without
//! systemd (no `NOTIFY_SOCKET`) every notification is a no-op.

use std::time::Duration;

use sd_notify::NotifyState;

use crate::AppState;

/// How long requests under way may take to finish after the stop signal before the server
/// stops anyway (systemd's `TimeoutStopSec` must be longer).
pub const DRAIN: Duration = Duration::from_secs(20);

/// Sends on the blocking pool: the notification socket blocks when nobody reads it, and the
/// async workers must never wait on it.
async fn notify(state: NotifyState<'static>) {
    let sent = tokio::time::timeout(
        Duration::from_secs(1),
        tokio::task::spawn_blocking(move || sd_notify::notify(&[state])),
    )
    .await;
    match sent {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::warn!(error = %e, "cannot notify the service manager"),
        Ok(Err(e)) => tracing::warn!(error = %e, "notifying the service manager panicked"),
        Err(_) => tracing::warn!("the service manager does not read its notifications"),
    }
}

/// The server listens and its store is open.
pub async fn ready() {
    notify(NotifyState::Ready).await;
}

/// The interval between watchdog pings: a third of what systemd allows (`WATCHDOG_USEC`, read
/// directly), so that a ping plus the check before it fit in the allowance; `None` when no
/// watchdog is set.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 3))
}

/// Pings the watchdog while the store still answers: each ping follows a query the store
/// answered on the blocking pool within `every`, so a store that stops answering, or a
/// blocking pool with no thread free, stops the pings and systemd restarts the server.
pub async fn keep_watchdog(state: AppState, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let s = state.clone();
        let answered = tokio::time::timeout(
            every,
            tokio::task::spawn_blocking(move || s.storage.kiosk_stamp()),
        )
        .await;
        match answered {
            Ok(Ok(Ok(_))) => notify(NotifyState::Watchdog).await,
            Ok(Ok(Err(e))) => {
                tracing::error!(error = %e, "the store did not answer; no watchdog ping")
            }
            Ok(Err(e)) => tracing::error!(error = %e, "the store check panicked; no watchdog ping"),
            Err(_) => tracing::error!("the store did not answer in time; no watchdog ping"),
        }
    }
}

/// Resolves at SIGTERM or SIGINT, after telling systemd the server is stopping. Requests under
/// way (a kiosk's push) then finish; new connections are refused.
pub async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = term => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    tracing::info!("stopping: finishing the requests under way");
    notify(NotifyState::Stopping).await;
}
