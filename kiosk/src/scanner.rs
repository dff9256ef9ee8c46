//! The badge scanner: a keyboard-wedge reader types the badge's content and Enter, at any
//! screen. A badge that parses leads to the question screen; anything else is kept as a raw
//! scan for staff and gets a friendly message that does not block the screen.

use bevy::input::ButtonState;
use bevy::input::keyboard::{Key, KeyboardInput};
use bevy::prelude::*;
use kiosk_core::badge::{Scan, ScanBuffer};
use protocol::RecordBody;

use crate::kiosk::{Content, Lang, Services};
use crate::screens::{Screen, Visit};
use crate::theme::{self, palette};

/// Seconds a message stays on screen.
const TOAST_S: f32 = 6.0;

#[derive(Resource, Default)]
pub struct Scanner {
    buffer: ScanBuffer,
    /// Off while the staff overlay or the presenter takes the keyboard.
    pub paused: bool,
}

#[derive(Component)]
struct Toast(f32);

#[derive(Component)]
struct ReadingHint;

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Scanner>()
        .add_systems(Update, (read_scanner, show_reading, fade_toasts));
}

#[allow(clippy::too_many_arguments)]
fn read_scanner(
    mut commands: Commands,
    mut keys: MessageReader<KeyboardInput>,
    mut scanner: ResMut<Scanner>,
    mut visit: ResMut<Visit>,
    services: Res<Services>,
    content: Res<Content>,
    lang: Res<Lang>,
    screen: Res<State<Screen>>,
    mut next: ResMut<NextState<Screen>>,
) {
    let now = services.mono_ms();
    let mut completed = Vec::new();
    for k in keys.read() {
        if scanner.paused || k.state != ButtonState::Pressed {
            continue;
        }
        if k.logical_key == Key::Enter {
            completed.extend(scanner.buffer.push_enter(now));
        } else if let Some(text) = &k.text {
            for c in text.chars() {
                scanner.buffer.push_char(c, now);
            }
        }
    }
    if scanner.paused {
        scanner.buffer.clear();
        return;
    }
    completed.extend(scanner.buffer.poll(now));
    for done in completed {
        match done.scan() {
            Scan::Badge(badge) => {
                info!("badge scanned ({:?})", badge.format);
                visit.badge = Some(badge);
                if !matches!(screen.get(), Screen::Badge | Screen::Thanks) {
                    visit.back_to = Some(*screen.get());
                }
                next.set(Screen::Badge);
            }
            Scan::Unreadable { raw, reason } => {
                warn!("unreadable badge scan: {}", reason.as_str());
                services.record(
                    &content,
                    RecordBody::RawScan {
                        raw,
                        reason: reason.as_str().to_owned(),
                    },
                );
                toast(
                    &mut commands,
                    &content.t(&lang.0, "badge-unreadable"),
                    &lang.0,
                );
            }
        }
    }
}

/// A message at the top of the screen that goes away by itself.
pub fn toast(commands: &mut Commands, text: &str, lang: &str) {
    commands.spawn((
        Name::new("Toast"),
        Toast(TOAST_S),
        Node {
            position_type: PositionType::Absolute,
            top: px(30),
            left: percent(15),
            width: percent(70),
            padding: UiRect::all(px(24)),
            justify_content: JustifyContent::Center,
            border_radius: BorderRadius::all(px(20)),
            ..default()
        },
        BackgroundColor(palette::ACCENT),
        GlobalZIndex(150),
        children![(
            theme::label(text.to_owned(), lang, 30.0, palette::BACKGROUND),
            TextLayout::justify(Justify::Center)
        )],
    ));
}

fn fade_toasts(mut commands: Commands, time: Res<Time>, mut toasts: Query<(Entity, &mut Toast)>) {
    for (e, mut t) in &mut toasts {
        t.0 -= time.delta_secs();
        if t.0 <= 0.0 {
            commands.entity(e).despawn();
        }
    }
}

/// "Reading the badge…" while a long badge is being typed in.
fn show_reading(
    mut commands: Commands,
    scanner: Res<Scanner>,
    hint: Query<Entity, With<ReadingHint>>,
    content: Res<Content>,
    lang: Res<Lang>,
) {
    match (scanner.buffer.is_active(), hint.single()) {
        (true, Err(_)) => {
            commands.spawn((
                Name::new("Reading badge"),
                ReadingHint,
                Node {
                    position_type: PositionType::Absolute,
                    bottom: px(30),
                    right: px(30),
                    padding: UiRect::all(px(18)),
                    border_radius: BorderRadius::all(px(16)),
                    ..default()
                },
                BackgroundColor(palette::PANEL),
                GlobalZIndex(140),
                children![theme::label(
                    content.t(&lang.0, "badge-reading"),
                    &lang.0,
                    26.0,
                    palette::TEXT
                )],
            ));
        }
        (false, Ok(e)) => commands.entity(e).despawn(),
        _ => {}
    }
}
