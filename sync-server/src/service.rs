//! Running as a service under systemd (`Type=notify`): `READY=1` once the server listens,
//! `WATCHDOG=1` while it can still answer, `STOPPING=1` when it begins a graceful shutdown, and
//! the signals that start one (SIGTERM from systemd, SIGINT from a terminal). Without systemd
//! (no `NOTIFY_SOCKET`) every notification is a no-op.

use std::time::Duration;

use sd_notify::NotifyState;

use crate::AppState;

fn notify(state: NotifyState<'_>) {
    if let Err(e) = sd_notify::notify(&[state]) {
        tracing::warn!(error = %e, "cannot notify the service manager");
    }
}

/// The server listens and its store is open.
pub fn ready() {
    notify(NotifyState::Ready);
}

/// The interval between watchdog pings: half of what systemd allows (`WATCHDOG_USEC`, read
/// directly), or `None` when no watchdog is set.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

/// Pings the watchdog while the server can still answer: each ping follows a query the store
/// answered on the blocking pool in time, so a wedged database or a saturated pool stops the
/// pings and systemd restarts the server.
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
            Ok(Ok(Ok(_))) => notify(NotifyState::Watchdog),
            Ok(Ok(Err(e))) => {
                tracing::error!(error = %e, "the store did not answer; no watchdog ping")
            }
            Ok(Err(e)) => tracing::error!(error = %e, "the store check panicked; no watchdog ping"),
            Err(_) => tracing::error!("the store did not answer in time; no watchdog ping"),
        }
    }
}

/// Resolves at SIGTERM or SIGINT, after telling systemd the server is stopping. In-flight
/// requests (a kiosk's push) then finish; new connections are refused.
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
    notify(NotifyState::Stopping);
}
