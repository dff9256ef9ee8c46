//! Under systemd (the kiosk under cage, `Type=notify`, `NotifyAccess=all`): `READY=1` once the
//! attract loop has been drawn, then `WATCHDOG=1` from the render loop itself, so that a frozen
//! loop stops the pings and systemd restarts the kiosk. `WATCHDOG_USEC` is read directly: under
//! cage the kiosk is not the service's main process, which `WATCHDOG_PID` names. Without
//! `NOTIFY_SOCKET` the plugin does nothing.
//!
//! The notifications leave from a thread of their own: the socket blocks its sender when
//! nobody reads it, and the render loop must never wait on it.

use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::{Duration, Instant};

use bevy::diagnostic::FrameCount;
use bevy::prelude::*;
use sd_notify::NotifyState;

use crate::screens::Screen;

#[derive(Resource)]
struct Watchdog {
    /// Half the interval systemd allows, if it set one.
    every: Option<Duration>,
    last: Instant,
    /// The frame the attract loop was first laid out in, and whether READY went.
    attract_at: Option<u32>,
    ready: bool,
    to_systemd: SyncSender<NotifyState<'static>>,
}

pub(super) fn plugin(app: &mut App) {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    let every = std::env::var("WATCHDOG_USEC")
        .ok()
        .and_then(|u| u.parse::<u64>().ok())
        .filter(|&u| u > 0)
        .map(|u| Duration::from_micros(u / 2));
    let (to_systemd, queue) = std::sync::mpsc::sync_channel::<NotifyState<'static>>(4);
    std::thread::Builder::new()
        .name("sd-notify".into())
        .spawn(move || {
            for state in queue {
                if let Err(e) = sd_notify::notify(&[state]) {
                    warn!("cannot notify the service manager: {e}");
                }
            }
        })
        .expect("spawn the notification thread");
    app.insert_resource(Watchdog {
        every,
        last: Instant::now(),
        attract_at: None,
        ready: false,
        to_systemd,
    })
    .add_systems(Last, tell_systemd);
}

fn tell_systemd(frames: Res<FrameCount>, screen: Res<State<Screen>>, mut w: ResMut<Watchdog>) {
    let send = |w: &Watchdog, state| {
        // A full queue means nobody reads: this ping is dropped, the next one tries again.
        if let Err(TrySendError::Disconnected(_)) = w.to_systemd.try_send(state) {
            warn!("the notification thread stopped");
        }
    };
    if !w.ready {
        // Rendering is pipelined: when the app reaches frame N + 2, frame N is on screen.
        match w.attract_at {
            None if *screen.get() == Screen::Attract => w.attract_at = Some(frames.0),
            Some(at) if frames.0 >= at + 2 => {
                w.ready = true;
                w.last = Instant::now();
                send(&w, NotifyState::Ready);
            }
            _ => {}
        }
        // systemd arms the watchdog at READY: no ping before it.
        return;
    }
    if let Some(every) = w.every
        && w.last.elapsed() >= every
    {
        w.last = Instant::now();
        send(&w, NotifyState::Watchdog);
    }
}
