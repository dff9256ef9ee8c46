//! The staff overlay: five taps within five seconds in the top-left corner, then the staff PIN (checked
//! against its argon2 hash off the render thread, locked for a minute after five wrong tries).
//! It shows the kiosk id, event, content version, records waiting to sync, the last sync and
//! whether the server answers; staff can sync now, choose the event, or quit.

use std::sync::Mutex;
use std::sync::mpsc::Receiver;

use bevy::input::touch::{TouchInput, TouchPhase};
use bevy::prelude::*;
use kiosk_core::pin::PinGate;
use kiosk_core::sync::SyncStatus;
use protocol::RecordBody;
use protocol::record::SessionEnd;

use crate::kiosk::{Content, Lang, Services, Session};
use crate::scanner::Scanner;
use crate::screens::{Presenting, Screen};
use crate::theme::{self, palette};

/// The corner that listens for the gesture (pixels at 1080p).
const CORNER_PX: f32 = 140.0;
const TAPS: usize = 5;
/// Each tap of the gesture comes at most this long after the one before (a slow frame rate,
/// as under the attract loop's crossfades in software, must not break a steady hand's taps).
const TAP_GAP_MS: u64 = 3000;
/// Staff texts are read by the city's staff, in Vietnamese.
const STAFF_LANG: &str = "vi";

/// The staff PIN's hash, from the store or the configuration.
#[derive(Resource)]
pub struct StaffPin(pub Option<String>);

#[derive(Default)]
enum Phase {
    #[default]
    Closed,
    Pin,
    Checking(Mutex<Receiver<bool>>),
    Open,
}

#[derive(Resource, Default)]
pub struct Overlay {
    phase: Phase,
    pin: String,
    wrong: bool,
    /// Read from its file the first time the PIN pad is used.
    gate: Option<PinGate>,
    taps: Vec<u64>,
    status: SyncStatus,
    refresh_s: f32,
}

impl Overlay {
    pub fn is_open(&self) -> bool {
        !matches!(self.phase, Phase::Closed)
    }

    fn gate(&mut self, services: &Services) -> &mut PinGate {
        self.gate
            .get_or_insert_with(|| PinGate::load(&services.pin_gate_path()))
    }

    /// Seconds left of a PIN lockout (it survives a restart).
    fn locked_for(&mut self, services: &Services) -> Option<u64> {
        self.gate(services).locked_for(protocol::now_ms())
    }

    fn pin_result(&mut self, services: &Services, right: bool) {
        let gate = self.gate(services);
        if right {
            gate.succeeded();
        } else {
            gate.failed(protocol::now_ms());
        }
        if let Err(e) = gate.save(&services.pin_gate_path()) {
            warn!("cannot keep the PIN lockout: {e}");
        }
    }
}

#[derive(Component, Debug, Clone, PartialEq, Eq)]
enum StaffAction {
    Digit(char),
    Erase,
    Enter,
    Close,
    SyncNow,
    Event(String),
    /// Presenter mode for this delegation.
    Present(String),
    Quit,
}

#[derive(Component)]
struct OverlayRoot;

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Overlay>()
        .add_systems(
            PreUpdate,
            watch_corner
                .after(bevy::input::InputSystems)
                .before(bevy::picking::PickingSystems::ProcessInput),
        )
        .add_systems(OnEnter(Screen::Attract), close_on_reset)
        .add_systems(
            Update,
            (pause_scanner, check_pin, refresh_status, draw_overlay).chain(),
        )
        .add_observer(press_staff);
}

/// Whether a point of the window (logical pixels) is in the corner that opens the overlay.
pub fn in_corner(position: Vec2, scale: &UiScale) -> bool {
    let corner = CORNER_PX * scale.0;
    position.x <= corner && position.y <= corner
}

/// A node over the attract loop's top-left corner that takes its presses, so that staff opening
/// the overlay do not wake the kiosk into a visitor's home screen. Its own root, above the
/// attract loop's full-screen "touch anywhere": a press stops at the topmost node and goes up
/// only its own (empty) tree. Sizes scale with `UiScale`, as the corner does.
pub fn corner_guard() -> impl Bundle {
    (
        Name::new("Staff corner"),
        Node {
            position_type: PositionType::Absolute,
            left: px(0),
            top: px(0),
            width: px(CORNER_PX),
            height: px(CORNER_PX),
            ..default()
        },
        GlobalZIndex(10),
    )
}

fn watch_corner(
    mut touches: MessageReader<TouchInput>,
    mut overlay: ResMut<Overlay>,
    services: Res<Services>,
    scale: Res<UiScale>,
) {
    let now = services.mono_ms();
    for t in touches.read() {
        if t.phase != TouchPhase::Started || overlay.is_open() {
            continue;
        }
        if !in_corner(t.position, &scale) {
            overlay.bypass_change_detection().taps.clear();
            continue;
        }
        let o = overlay.bypass_change_detection();
        if o.taps
            .last()
            .is_some_and(|&at| now.saturating_sub(at) >= TAP_GAP_MS)
        {
            o.taps.clear();
        }
        o.taps.push(now);
        if o.taps.len() >= TAPS {
            o.taps.clear();
            // The lockout kept from before a restart shows at once.
            let _ = o.gate(&services);
            overlay.phase = Phase::Pin;
            overlay.pin.clear();
            overlay.wrong = false;
        }
    }
}

/// Staff who walked away (the idle reset) or chose an event leave the overlay closed.
fn close_on_reset(mut overlay: ResMut<Overlay>) {
    if overlay.is_open() {
        overlay.phase = Phase::Closed;
    }
}

/// Badge scans wait while staff work and while a host presents (a clicker is a keyboard).
fn pause_scanner(overlay: Res<Overlay>, screen: Res<State<Screen>>, mut scanner: ResMut<Scanner>) {
    let paused = overlay.is_open() || *screen.get() == Screen::Presenter;
    if scanner.paused != paused {
        scanner.paused = paused;
    }
}

#[allow(clippy::too_many_arguments)]
fn press_staff(
    mut press: On<Pointer<Press>>,
    actions: Query<&StaffAction>,
    mut once: ResMut<theme::Pressed>,
    mut overlay: ResMut<Overlay>,
    pin_hash: Res<StaffPin>,
    services: Res<Services>,
    mut content: ResMut<Content>,
    mut lang: ResMut<Lang>,
    mut next: ResMut<NextState<Screen>>,
    mut exit: MessageWriter<AppExit>,
    (mut presenting, mut session): (ResMut<Presenting>, ResMut<Session>),
) {
    let Some(action) = theme::pressed(&mut press, &actions, &mut once) else {
        return;
    };
    match &action {
        StaffAction::Digit(d) => {
            if overlay.pin.len() < 12 {
                overlay.pin.push(*d);
            }
            overlay.wrong = false;
        }
        StaffAction::Erase => {
            overlay.pin.pop();
        }
        StaffAction::Enter => {
            if overlay.locked_for(&services).is_some() {
                return;
            }
            let Some(hash) = pin_hash.0.clone() else {
                return;
            };
            let pin = std::mem::take(&mut overlay.pin);
            let (tx, rx) = std::sync::mpsc::channel();
            // argon2 takes tens of milliseconds: never in the render loop.
            std::thread::spawn(move || {
                let _ = tx.send(kiosk_core::pin::verify_pin(&hash, &pin));
            });
            overlay.phase = Phase::Checking(Mutex::new(rx));
        }
        StaffAction::Close => {
            overlay.phase = Phase::Closed;
            overlay.pin.clear();
        }
        StaffAction::SyncNow => {
            services.sync_now();
            overlay.refresh_s = 0.5;
        }
        StaffAction::Event(id) => {
            services.record(
                &content,
                RecordBody::Interaction {
                    target: format!("staff:event:{id}"),
                    item: None,
                },
            );
            content.event = Some(id.clone());
            // The attract loop speaks the kiosk's language for the new event (`--lang` if
            // it offers it, else its first).
            content.refresh_languages();
            content.reset_language(&mut lang);
            services.remember_event(id);
            overlay.phase = Phase::Closed;
            next.set(Screen::Attract);
        }
        StaffAction::Present(id) => {
            // The visitor session (if any) ends: what follows is the host's.
            for body in session.end(SessionEnd::Explicit, services.mono_ms()) {
                services.record(&content, body);
            }
            if presenting.start(&content, &services, id) {
                overlay.phase = Phase::Closed;
                next.set(Screen::Presenter);
            } else {
                warn!(delegation = %id, "the delegation or its deck is not in the content");
            }
        }
        StaffAction::Quit => {
            info!("staff quit the kiosk");
            exit.write(AppExit::Success);
        }
    }
}

fn check_pin(mut overlay: ResMut<Overlay>, services: Res<Services>) {
    let answer = match &overlay.phase {
        Phase::Checking(rx) => match rx.lock().map(|r| r.try_recv()) {
            Ok(Ok(ok)) => Some(ok),
            Ok(Err(std::sync::mpsc::TryRecvError::Empty)) => None,
            _ => Some(false),
        },
        _ => return,
    };
    match answer {
        Some(true) => {
            overlay.pin_result(&services, true);
            overlay.status = services.sync_status();
            overlay.phase = Phase::Open;
        }
        Some(false) => {
            overlay.pin_result(&services, false);
            overlay.wrong = true;
            overlay.phase = Phase::Pin;
        }
        None => {}
    }
}

fn refresh_status(time: Res<Time>, mut overlay: ResMut<Overlay>, services: Res<Services>) {
    let o = overlay.bypass_change_detection();
    let locked = o.locked_for(&services).is_some();
    let showing = matches!(o.phase, Phase::Open) || (matches!(o.phase, Phase::Pin) && locked);
    if !showing {
        return;
    }
    o.refresh_s -= time.delta_secs();
    if o.refresh_s <= 0.0 {
        o.refresh_s = 1.0;
        o.status = services.sync_status();
        overlay.set_changed();
    }
}

fn draw_overlay(
    mut commands: Commands,
    overlay: Res<Overlay>,
    roots: Query<Entity, With<OverlayRoot>>,
    content: Res<Content>,
    services: Res<Services>,
    pin_hash: Res<StaffPin>,
) {
    if !overlay.is_changed() {
        return;
    }
    for e in &roots {
        commands.entity(e).despawn();
    }
    let l = STAFF_LANG;
    let t = |id: &str| content.t(l, id);
    let panel: Vec<(String, f32, Color)>;
    let mut buttons: Vec<Vec<(String, StaffAction)>> = Vec::new();
    // A caption above a row of buttons, by the row's index.
    let mut captions: std::collections::HashMap<usize, String> = Default::default();
    match &overlay.phase {
        Phase::Closed => return,
        Phase::Pin | Phase::Checking(_) => {
            let mut lines = vec![(t("staff-pin"), 36.0, palette::TEXT)];
            if pin_hash.0.is_none() {
                lines.push((t("staff-no-pin"), 26.0, palette::ACCENT));
                buttons.push(vec![(t("staff-close"), StaffAction::Close)]);
            } else {
                let dots = "●".repeat(overlay.pin.chars().count());
                lines.push((
                    if dots.is_empty() { " ".into() } else { dots },
                    44.0,
                    palette::ACCENT,
                ));
                if let Some(s) = overlay
                    .gate
                    .as_ref()
                    .and_then(|g| g.locked_for(protocol::now_ms()))
                {
                    lines.push((
                        content
                            .i18n
                            .t_args(l, "staff-locked", &[("seconds", &s.to_string())]),
                        26.0,
                        palette::ACCENT,
                    ));
                } else if matches!(overlay.phase, Phase::Checking(_)) {
                    lines.push((t("staff-pin-checking"), 26.0, palette::MUTED));
                } else if overlay.wrong {
                    lines.push((t("staff-pin-wrong"), 26.0, palette::ACCENT));
                }
                for row in ["123", "456", "789"] {
                    buttons.push(
                        row.chars()
                            .map(|d| (d.to_string(), StaffAction::Digit(d)))
                            .collect(),
                    );
                }
                buttons.push(vec![
                    ("←".into(), StaffAction::Erase),
                    ("0".into(), StaffAction::Digit('0')),
                    (t("staff-ok"), StaffAction::Enter),
                ]);
                buttons.push(vec![(t("staff-close"), StaffAction::Close)]);
            }
            panel = lines;
        }
        Phase::Open => {
            let s = &overlay.status;
            let kiosk = services
                .identity
                .as_ref()
                .map(|i| i.kiosk_id.to_string())
                .unwrap_or_else(|| t("staff-not-enrolled"));
            // An event the server assigned may be one this pack does not describe: its id.
            let event = content
                .event
                .as_deref()
                .map(|id| match content.pack.pack.event(id) {
                    Some(e) => format!("{} ({})", content.pack.localised(&e.name, l), e.id),
                    None => id.to_owned(),
                })
                .unwrap_or_else(|| t("staff-no-event"));
            let version = s
                .content_version
                .clone()
                .unwrap_or_else(|| content.pack.version.clone());
            let last = match s.last_sync_ms {
                Some(at) => {
                    let ago = (services.recorder.clock().now().corrected_ms - at).max(0) / 1000;
                    content
                        .i18n
                        .t_args(l, "staff-ago", &[("seconds", &ago.to_string())])
                }
                None => t("staff-never"),
            };
            let server = if s.revoked {
                t("staff-revoked")
            } else {
                match s.reachable {
                    Some(true) => t("staff-reachable"),
                    Some(false) => t("staff-unreachable"),
                    None => t("staff-untried"),
                }
            };
            panel = vec![
                (t("staff-title"), 40.0, palette::ACCENT),
                (
                    format!("{}: {kiosk}", t("staff-kiosk")),
                    26.0,
                    palette::TEXT,
                ),
                (
                    format!("{}: {event}", t("staff-event")),
                    26.0,
                    palette::TEXT,
                ),
                (
                    format!("{}: {version}", t("staff-content")),
                    26.0,
                    palette::TEXT,
                ),
                (
                    format!("{}: {}", t("staff-backlog"), s.backlog),
                    26.0,
                    palette::TEXT,
                ),
                (
                    format!("{}: {last}", t("staff-last-sync")),
                    26.0,
                    palette::TEXT,
                ),
                (
                    format!("{}: {server}", t("staff-server")),
                    26.0,
                    palette::TEXT,
                ),
            ];
            captions.insert(buttons.len(), t("staff-event"));
            buttons.push(
                content
                    .pack
                    .pack
                    .events
                    .iter()
                    .map(|e| {
                        (
                            content.pack.localised(&e.name, l).to_owned(),
                            StaffAction::Event(e.id.clone()),
                        )
                    })
                    .collect(),
            );
            let today =
                kiosk_core::presenter::vietnam_date(services.recorder.clock().now().corrected_ms);
            let delegations =
                kiosk_core::presenter::delegations_for_day(&content.pack.pack, &today);
            captions.insert(
                buttons.len(),
                t(if delegations.is_empty() {
                    "staff-no-delegations"
                } else {
                    "staff-present"
                }),
            );
            buttons.push(
                delegations
                    .into_iter()
                    .map(|d| {
                        (
                            format!("{} · {}", content.pack.localised(&d.name, l), d.date),
                            StaffAction::Present(d.id.clone()),
                        )
                    })
                    .collect(),
            );
            buttons.push(vec![
                (t("staff-sync-now"), StaffAction::SyncNow),
                (t("staff-quit"), StaffAction::Quit),
                (t("staff-close"), StaffAction::Close),
            ]);
        }
    }
    let current_event = content.event.clone();
    commands.spawn((
        OverlayRoot,
        // Over every screen; presses stop here, so the screen underneath does not react.
        GlobalZIndex(200),
        theme::overlay(
            "Staff overlay",
            Children::spawn((
                SpawnIter(
                    panel
                        .into_iter()
                        .map(|(text, size, color)| theme::label(text, l, size, color))
                ),
                SpawnIter(buttons.into_iter().enumerate().map(move |(i, row)| {
                    let current_event = current_event.clone();
                    let caption = captions.get(&i).cloned();
                    theme::wide_column(
                        8.0,
                        Children::spawn((
                            SpawnIter(caption.into_iter().map(|c| theme::label(c, l, 24.0, palette::MUTED))),
                            Spawn((
                        Node {
                            width: percent(100),
                            flex_direction: FlexDirection::Row,
                            flex_wrap: FlexWrap::Wrap,
                            justify_content: JustifyContent::Center,
                            column_gap: px(16),
                            row_gap: px(12),
                            ..default()
                        },
                        Children::spawn(SpawnIter(row.into_iter().map(move |(label, action)| {
                            let active = matches!(&action, StaffAction::Event(e) if Some(e) == current_event.as_ref());
                            let color = if active {
                                palette::BUTTON_ACTIVE
                            } else {
                                palette::BUTTON
                            };
                            theme::button_colored(label, l, 30.0, color, action)
                        }))),
                            )),
                        )),
                    )
                })),
            )),
        ),
    ));
}
