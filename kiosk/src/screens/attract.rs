//! The attract loop: the event's playlist full screen, images with a slow zoom and
//! crossfades, a title card, and "Touch to start" cycling through the kiosk's languages.
//! The next image is decoded ahead of time; if it is late the current one stays: never a
//! black frame.

use bevy::prelude::*;
use protocol::ViewOrigin;

use super::{Action, Screen};
use crate::kiosk::{Content, Lang, Services, Session};
use crate::media::{Cover, Media};
use crate::theme::{self, palette};

const FADE_S: f32 = 1.2;
const ZOOM: f32 = 8.0;
const TOUCH_LINE_S: f32 = 2.5;

#[derive(Resource, Default)]
struct Loop {
    index: usize,
    elapsed: f32,
    front: u8,
    touch_elapsed: f32,
    touch_lang: usize,
    started: bool,
    /// An item just ended: a new content version may take over now.
    switch_due: bool,
    /// The event whose playlist plays: another one starts from its first item.
    event: Option<String>,
    /// The staff overlay covers the loop: it holds still, and no view is counted.
    covered: bool,
}

/// Whether a crossfade is on screen now (the benchmark measures frame times during them).
#[derive(Resource, Default)]
pub struct Fading(pub bool);

#[derive(Component)]
struct Layer(u8);

#[derive(Component)]
struct TitleText;

#[derive(Component)]
struct AttractRoot;

#[derive(Component)]
struct PillarText;

#[derive(Component)]
struct TouchLine;

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Loop>()
        .init_resource::<Fading>()
        .add_systems(
            OnEnter(Screen::Attract),
            (attract_language, spawn_attract).chain(),
        )
        .add_systems(OnExit(Screen::Attract), end_attract_view)
        .add_systems(
            Update,
            (
                adopt_new_content,
                hold_under_the_overlay,
                (advance_loop, cycle_touch_line).run_if(|l: Res<Loop>| !l.covered),
            )
                .chain()
                .run_if(in_state(Screen::Attract)),
        );
}

fn layer(n: u8) -> impl Bundle {
    (
        Name::new(format!("Attract layer {n}")),
        Layer(n),
        ImageNode::default().with_color(Color::WHITE.with_alpha(0.0)),
        // The picture fills the screen in either orientation (a totem shows its middle).
        Cover,
        Node {
            position_type: PositionType::Absolute,
            width: percent(100),
            height: percent(100),
            ..default()
        },
        ZIndex(n as i32),
    )
}

fn spawn_attract(
    mut commands: Commands,
    content: Res<Content>,
    lang: Res<Lang>,
    mut state: ResMut<Loop>,
) {
    state.started = false;
    state.elapsed = 0.0;
    // Staff open their overlay from this corner: its taps wake no visitor's home screen.
    commands.spawn((crate::staff::corner_guard(), DespawnOnExit(Screen::Attract)));
    let touch = content.t(&lang.0, "touch-to-start");
    commands.spawn((
        Name::new("Attract"),
        AttractRoot,
        DespawnOnExit(Screen::Attract),
        Button,
        Action::Go(Screen::Home),
        Node {
            width: percent(100),
            height: percent(100),
            flex_direction: FlexDirection::Column,
            justify_content: JustifyContent::FlexEnd,
            ..default()
        },
        BackgroundColor(palette::BACKGROUND),
        children![
            layer(0),
            layer(1),
            (
                Name::new("Title card"),
                ZIndex(10),
                Node {
                    flex_direction: FlexDirection::Column,
                    padding: UiRect::new(px(80), px(80), px(40), px(40)),
                    row_gap: px(8),
                    ..default()
                },
                BackgroundColor(palette::PANEL),
                children![
                    (PillarText, theme::label("", &lang.0, 30.0, palette::ACCENT)),
                    (TitleText, theme::label("", &lang.0, 64.0, palette::TEXT)),
                    (
                        TouchLine,
                        theme::label(touch, &lang.0, 40.0, palette::MUTED),
                        Node {
                            margin: UiRect::top(px(24)),
                            ..default()
                        }
                    ),
                ]
            ),
        ],
    ));
}

fn item_image(content: &Content, id: &str) -> Option<std::path::PathBuf> {
    let item = content.pack.pack.item(id)?;
    item.media.first().map(|m| content.pack.media_path(m))
}

fn advance_loop(
    time: Res<Time>,
    mut state: ResMut<Loop>,
    content: Res<Content>,
    lang: Res<Lang>,
    mut media: ResMut<Media>,
    mut layers: Query<(&Layer, &mut ImageNode, &mut Node, &mut ZIndex)>,
    mut title: Query<&mut Text, (With<TitleText>, Without<PillarText>)>,
    mut pillar: Query<&mut Text, (With<PillarText>, Without<TitleText>)>,
    mut session: ResMut<Session>,
    services: Res<Services>,
    mut root: Query<&mut BackgroundColor, With<AttractRoot>>,
    mut fading: ResMut<Fading>,
) {
    if state.event != content.event {
        // Another event (staff chose it here or on the server): its playlist from the start.
        state.event = content.event.clone();
        state.index = 0;
        state.elapsed = 0.0;
        state.started = false;
    }
    let (items, secs) = content.playlist();
    if items.is_empty() {
        return;
    }
    let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    let n = ids.len();
    let current = ids[state.index % n];
    let next = ids[(state.index + 1) % n];
    let (w, h) = (1920, 1080);
    let cur_img = item_image(&content, current).and_then(|p| media.get(&p, w, h));
    // Decode the next image ahead of time.
    let next_img = if state.elapsed > secs * 0.3 {
        item_image(&content, next).and_then(|p| media.get(&p, w, h))
    } else {
        None
    };
    if !state.started {
        state.started = true;
        if let Some(done) =
            session.begin_view(current, &lang.0, ViewOrigin::Attract, services.mono_ms())
        {
            services.record(&content, done);
        }
    }
    state.elapsed += time.delta_secs();
    let fade_start = secs - FADE_S;
    // Hold the current item until the next image is ready: never an empty frame.
    let next_ready = next_img.is_some()
        || item_image(&content, next).is_some_and(|p| media.failed(&p))
        || item_image(&content, next).is_none();
    if state.elapsed > fade_start && !next_ready {
        state.elapsed = fade_start;
    }
    let fade = ((state.elapsed - fade_start) / FADE_S).clamp(0.0, 1.0);
    fading.0 = fade > 0.0 && fade < 1.0;
    let front = state.front;
    for (layer, mut image, mut node, mut z) in &mut layers {
        let is_front = layer.0 == front;
        // The incoming image fades in on top of the current one.
        let want_z = if is_front { 0 } else { 1 };
        if z.0 != want_z {
            z.0 = want_z;
        }
        let (handle, alpha, progress) = if is_front {
            (cur_img.clone(), 1.0, state.elapsed / secs)
        } else {
            (next_img.clone(), fade, 0.0)
        };
        if let Some(h) = handle {
            if image.image != h {
                image.image = h;
            }
            image.color.set_alpha(alpha);
        } else if !is_front {
            image.color.set_alpha(0.0);
        }
        let zoom = ZOOM * progress.clamp(0.0, 1.0);
        node.width = percent(100.0 + zoom);
        node.height = percent(100.0 + zoom);
        node.left = percent(-zoom / 2.0);
        node.top = percent(-zoom / 3.0);
    }
    let item = items[state.index % n];
    let shown = content
        .pack
        .text(item, &lang.0)
        .map(|t| t.title.clone())
        .unwrap_or_default();
    if let Ok(mut t) = title.single_mut()
        && t.0 != shown
    {
        t.0 = shown;
    }
    let pillar_def = content
        .pack
        .pack
        .pillars
        .iter()
        .find(|p| p.id == item.pillar);
    let pillar_title = pillar_def
        .map(|p| content.pack.localised(&p.title, &lang.0).to_owned())
        .unwrap_or_default();
    // Under a missing or late image the pillar's colour shows, never an empty screen.
    let field = super::home::pillar_color(pillar_def.and_then(|p| p.color.as_deref()));
    if let Ok(mut bg) = root.single_mut()
        && bg.0 != field
    {
        bg.0 = field;
    }
    if let Ok(mut t) = pillar.single_mut()
        && t.0 != pillar_title
    {
        t.0 = pillar_title;
    }
    if state.elapsed >= secs {
        state.elapsed = 0.0;
        state.switch_due = true;
        state.index = (state.index + 1) % n;
        state.front = 1 - state.front;
        if let Some(done) =
            session.begin_view(next, &lang.0, ViewOrigin::Attract, services.mono_ms())
        {
            services.record(&content, done);
        }
    }
}

/// Switches to a content version the sync worker pulled, between two attract-loop items, so
/// the loop never shows half of one version.
fn adopt_new_content(
    mut state: ResMut<Loop>,
    services: Res<Services>,
    mut content: ResMut<Content>,
    mut lang: ResMut<Lang>,
) {
    if !std::mem::take(&mut state.switch_due) {
        return;
    }
    let Some(pack) = services.take_new_content() else {
        return;
    };
    info!(version = %pack.version, "switching to new content");
    let event = content
        .event
        .clone()
        .filter(|e| pack.pack.event(e).is_some());
    content.event = event;
    services.showing();
    content.pack = pack;
    content.refresh_languages();
    content.reset_language(&mut lang);
    state.index = 0;
    state.started = false;
}

/// While the staff overlay covers the loop nobody watches it: the view on screen ends when the
/// overlay opens, and the loop holds still until it closes, then shows that item anew.
fn hold_under_the_overlay(
    overlay: Res<crate::staff::Overlay>,
    mut state: ResMut<Loop>,
    mut session: ResMut<Session>,
    services: Res<Services>,
    content: Res<Content>,
    mut fading: ResMut<Fading>,
) {
    let covered = overlay.is_open();
    if state.covered == covered {
        return;
    }
    state.covered = covered;
    if covered {
        fading.0 = false;
        if let Some(done) = session.end_view(services.mono_ms()) {
            services.record(&content, done);
        }
    } else {
        state.started = false;
        state.elapsed = 0.0;
    }
}

/// The attract loop speaks the kiosk's language, never the last visitor's: its views are
/// recorded in it, and the next visitor starts in it.
fn attract_language(content: Res<Content>, mut lang: ResMut<Lang>) {
    content.reset_language(&mut lang);
}

fn cycle_touch_line(
    time: Res<Time>,
    mut state: ResMut<Loop>,
    content: Res<Content>,
    mut line: Query<(&mut Text, &mut TextFont), With<TouchLine>>,
) {
    state.touch_elapsed += time.delta_secs();
    if state.touch_elapsed < TOUCH_LINE_S {
        return;
    }
    state.touch_elapsed = 0.0;
    state.touch_lang = (state.touch_lang + 1) % content.languages.len().max(1);
    let Some(lang) = content.languages.get(state.touch_lang) else {
        return;
    };
    if let Ok((mut text, mut font)) = line.single_mut() {
        text.0 = content.t(lang, "touch-to-start");
        *font = theme::font(lang, 40.0);
    }
}

fn end_attract_view(
    mut fading: ResMut<Fading>,
    mut session: ResMut<Session>,
    services: Res<Services>,
    content: Res<Content>,
) {
    fading.0 = false;
    if let Some(done) = session.end_view(services.mono_ms()) {
        services.record(&content, done);
    }
}
