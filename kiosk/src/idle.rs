//! The visitor session and idle reset: any touch keeps the session alive; after the idle time
//! a countdown shows, then the kiosk returns to the attract loop and forgets the visit.

use bevy::input::touch::{TouchInput, TouchPhase};
use bevy::prelude::*;
use kiosk_core::session::Idle;
use protocol::record::SessionEnd;

use crate::kiosk::{Content, Lang, Services, Session};
use crate::screens::Screen;
use crate::theme::{self, palette};

#[derive(Component)]
struct CountdownOverlay;

#[derive(Component)]
struct CountdownText;

pub(super) fn plugin(app: &mut App) {
    // Touches are counted right after input is read, before any screen acts on them (picking
    // triggers the presses later in `PreUpdate`), so a session starts before what the visitor
    // does in it is recorded, and a press that closes the staff overlay is still a staff tap.
    app.add_systems(
        PreUpdate,
        track_touches
            .after(bevy::input::InputSystems)
            .before(bevy::picking::PickingSystems::ProcessInput),
    )
    .add_systems(Update, tick_idle)
    .add_systems(Last, end_session_on_exit);
}

/// On the way out, the view on screen and the session are recorded too: the recorder writes
/// everything queued before it stops.
fn end_session_on_exit(
    mut exits: MessageReader<AppExit>,
    mut session: ResMut<Session>,
    services: Res<Services>,
    content: Res<Content>,
) {
    if exits.read().next().is_none() {
        return;
    }
    for body in session.end(SessionEnd::Shutdown, services.mono_ms()) {
        services.record(&content, body);
    }
}

#[allow(clippy::too_many_arguments)]
fn track_touches(
    mut touches: MessageReader<TouchInput>,
    mouse: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    services: Res<Services>,
    content: Res<Content>,
    mut session: ResMut<Session>,
    screen: Res<State<Screen>>,
    (overlay, scale, windows): (
        Res<crate::staff::Overlay>,
        Res<UiScale>,
        Query<&Window, With<bevy::window::PrimaryWindow>>,
    ),
) {
    // A host presenting is not a visitor, nor are staff at work in the overlay (their taps keep
    // a visit already under way alive, and start none), nor the taps in the attract loop's
    // corner that open it: no session, no idle reset.
    if *screen.get() == Screen::Presenter || (overlay.is_open() && !session.in_session()) {
        touches.clear();
        return;
    }
    let staff_corner =
        |p: Vec2| *screen.get() == Screen::Attract && crate::staff::in_corner(p, &scale);
    let cursor_in_corner = windows
        .single()
        .ok()
        .and_then(Window::cursor_position)
        .is_some_and(staff_corner);
    let touched = touches
        .read()
        .any(|t| t.phase == TouchPhase::Started && !staff_corner(t.position))
        || (mouse.get_just_pressed().next().is_some() && !cursor_in_corner)
        || keys.get_just_pressed().next().is_some();
    // The touch that leaves the attract loop starts the session.
    if touched {
        for body in session.touch(services.mono_ms()) {
            services.record(&content, body);
        }
    }
}

fn tick_idle(
    mut commands: Commands,
    session: ResMut<Session>,
    services: Res<Services>,
    content: Res<Content>,
    lang: Res<Lang>,
    screen: Res<State<Screen>>,
    mut next: ResMut<NextState<Screen>>,
    overlay: Query<Entity, With<CountdownOverlay>>,
    mut overlay_text: Query<&mut Text, With<CountdownText>>,
) {
    let mut session = session;
    if *screen.get() == Screen::Presenter {
        for e in &overlay {
            commands.entity(e).despawn();
        }
        return;
    }
    let now = services.mono_ms();
    match session.tick(now) {
        Idle::Active => {
            for e in &overlay {
                commands.entity(e).despawn();
            }
        }
        Idle::Countdown { seconds_left } => {
            let msg = content.i18n.t_args(
                &lang.0,
                "idle-countdown",
                &[("seconds", &seconds_left.to_string())],
            );
            if let Ok(mut text) = overlay_text.single_mut() {
                if text.0 != msg {
                    text.0 = msg;
                }
            } else if overlay.is_empty() {
                commands.spawn((
                    Name::new("Idle countdown"),
                    CountdownOverlay,
                    Node {
                        position_type: PositionType::Absolute,
                        bottom: px(40),
                        left: percent(10),
                        width: percent(80),
                        padding: UiRect::all(px(24)),
                        border_radius: BorderRadius::all(px(20)),
                        justify_content: JustifyContent::Center,
                        ..default()
                    },
                    BackgroundColor(palette::ACCENT),
                    GlobalZIndex(100),
                    children![(
                        CountdownText,
                        theme::label(msg, &lang.0, 34.0, palette::BACKGROUND)
                    )],
                ));
            }
        }
        Idle::Reset => {
            for body in session.end(SessionEnd::Idle, now) {
                services.record(&content, body);
            }
            for e in &overlay {
                commands.entity(e).despawn();
            }
            if *screen.get() != Screen::Attract {
                next.set(Screen::Attract);
            }
        }
    }
}
