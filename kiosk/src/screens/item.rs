//! An item: a swipeable gallery, title, text and key facts in the visitor's language, and two
//! QR codes — "Take this with you" (the item on the phone) and "I'm interested" (the lead
//! form) — signed offline by the kiosk.

use bevy::input::touch::{TouchInput, TouchPhase};
use bevy::prelude::*;
use protocol::{QrPurpose, ViewOrigin};

use super::{Action, Screen, Selection, portrait};
use crate::kiosk::{Content, Lang, Services, Session};
use crate::media::MediaSlot;
use crate::theme::{self, palette};

/// Pixels a touch must travel sideways to count as a swipe (at 1080p).
const SWIPE_PX: f32 = 120.0;

#[derive(Component)]
struct Gallery {
    images: Vec<std::path::PathBuf>,
    index: usize,
}

#[derive(Component)]
struct GalleryCounter;

#[derive(Resource, Default)]
struct SwipeStart(Option<(u64, Vec2)>);

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<SwipeStart>()
        .add_systems(OnEnter(Screen::Item), spawn_item)
        .add_systems(OnExit(Screen::Item), end_item_view)
        .add_systems(Update, swipe_gallery.run_if(in_state(Screen::Item)));
}

fn spawn_item(
    mut commands: Commands,
    content: Res<Content>,
    lang: Res<Lang>,
    selection: Res<Selection>,
    services: Res<Services>,
    mut session: ResMut<Session>,
    mut images: ResMut<Assets<Image>>,
    window: Single<&Window>,
) {
    let l = lang.0.clone();
    let tall = portrait(&window);
    let Some(item) = content.pack.pack.item(&selection.item) else {
        commands.set_state(Screen::Home);
        return;
    };
    if let Some(done) = session.begin_view(&item.id, &l, ViewOrigin::Visitor, services.mono_ms()) {
        services.record(&content, done);
    }
    let text = content.pack.text(item, &l).cloned();
    let (title, summary, body, facts) = text
        .map(|t| (t.title, t.summary, t.body, t.facts))
        .unwrap_or_default();
    let gallery_images: Vec<_> = item
        .media
        .iter()
        .map(|m| content.pack.media_path(m))
        .collect();
    let first = gallery_images.first().cloned().unwrap_or_default();
    let count = gallery_images.len();

    let mut qr_panels = Vec::new();
    for (purpose, label, hint) in [
        (QrPurpose::TakeAway, "take-with-you", "take-with-you-hint"),
        (QrPurpose::Interest, "interested", "interested-hint"),
    ] {
        if let Some((handle, short)) =
            super::signed_qr(&services, &content, &mut images, purpose, &item.id, &l)
        {
            qr_panels.push((content.t(&l, label), content.t(&l, hint), handle, short));
        }
    }
    let no_server = qr_panels.is_empty().then(|| content.t(&l, "no-server-qr"));
    let leave = content.t(&l, "leave-contact");
    let item_id = item.id.clone();
    let back = content.t(&l, "back");
    let home = content.t(&l, "home");
    let facts_title = content.t(&l, "key-facts");
    let swipe_hint = content.t(&l, "swipe-hint");
    let lf = l.clone();
    let lq = l.clone();

    let gallery = (
        Name::new("Gallery"),
        Node {
            width: percent(100),
            flex_grow: 1.0,
            min_height: px(280),
            flex_direction: FlexDirection::Column,
            justify_content: JustifyContent::FlexEnd,
            border_radius: BorderRadius::all(px(20)),
            overflow: Overflow::clip(),
            ..default()
        },
        BackgroundColor(palette::PANEL),
        children![
            (
                Gallery {
                    images: gallery_images,
                    index: 0
                },
                Node {
                    position_type: PositionType::Absolute,
                    width: percent(100),
                    height: percent(100),
                    ..default()
                },
                ImageNode::default().with_color(Color::NONE),
                MediaSlot {
                    path: first,
                    max: (1920, 1080)
                },
            ),
            (
                GalleryCounter,
                theme::label(
                    if count > 1 {
                        format!("1 / {count} · {swipe_hint}")
                    } else {
                        String::new()
                    },
                    &l,
                    24.0,
                    palette::TEXT
                ),
                Node {
                    margin: UiRect::all(px(16)),
                    ..default()
                },
            ),
        ],
    );
    let texts = (
        Name::new("Text"),
        Node {
            width: percent(100),
            flex_direction: FlexDirection::Column,
            row_gap: px(14),
            ..default()
        },
        children![
            theme::label(title, &l, 52.0, palette::TEXT),
            theme::label(summary, &l, 30.0, palette::ACCENT),
            theme::label(body, &l, 24.0, palette::TEXT),
            theme::label(facts_title, &l, 28.0, palette::MUTED),
            (
                Node {
                    flex_direction: FlexDirection::Column,
                    row_gap: px(6),
                    ..default()
                },
                Children::spawn(SpawnIter(facts.into_iter().map(move |f| theme::label(
                    format!("• {f}"),
                    &lf,
                    24.0,
                    palette::TEXT
                )))),
            ),
        ],
    );
    // Back and Home on the bottom edge of the content, beside the lead.
    let nav = theme::row(children![
        theme::button_colored(
            leave,
            &l,
            30.0,
            palette::BUTTON_ACTIVE,
            Action::Form(Some(item_id))
        ),
        theme::button(back, &l, 30.0, Action::Go(Screen::Pillar)),
        theme::button(home, &l, 30.0, Action::Go(Screen::Home)),
    ]);
    let qr_size = if tall { 230.0 } else { 220.0 };
    let codes = (
        Name::new("QR codes"),
        Node {
            flex_direction: FlexDirection::Row,
            justify_content: JustifyContent::Center,
            column_gap: px(32),
            ..default()
        },
        Children::spawn(SpawnIter(qr_panels.into_iter().map(
            move |(label, hint, handle, short)| qr_panel(&lq, label, hint, handle, short, qr_size),
        ))),
    );
    let no_server = theme::label(no_server.unwrap_or_default(), &l, 24.0, palette::MUTED);
    if tall {
        // The picture on top, the text and every control in the reach band, the codes to
        // scan below it.
        commands.spawn((
            Name::new("Item"),
            DespawnOnExit(Screen::Item),
            theme::bands(
                gallery,
                texts,
                nav,
                (codes_column(), children![codes, no_server]),
            ),
        ));
        return;
    }
    commands.spawn((
        Name::new("Item"),
        DespawnOnExit(Screen::Item),
        Node {
            width: percent(100),
            height: percent(100),
            flex_direction: FlexDirection::Row,
            padding: UiRect::all(px(32)),
            column_gap: px(40),
            ..default()
        },
        children![
            (
                Node {
                    width: percent(50),
                    flex_direction: FlexDirection::Column,
                    row_gap: px(24),
                    ..default()
                },
                children![gallery, (codes_column(), children![codes, no_server])],
            ),
            (
                Node {
                    width: percent(50),
                    flex_direction: FlexDirection::Column,
                    justify_content: JustifyContent::SpaceBetween,
                    row_gap: px(24),
                    ..default()
                },
                children![texts, nav],
            ),
        ],
    ));
}

fn codes_column() -> impl Bundle {
    Node {
        flex_direction: FlexDirection::Column,
        align_items: AlignItems::Center,
        row_gap: px(8),
        ..default()
    }
}

fn qr_panel(
    lang: &str,
    label: String,
    hint: String,
    qr: Handle<Image>,
    short: String,
    size: f32,
) -> impl Bundle + use<> {
    (
        Node {
            flex_direction: FlexDirection::Column,
            align_items: AlignItems::Center,
            width: px(size + 80.0),
            row_gap: px(8),
            padding: UiRect::all(px(16)),
            border_radius: BorderRadius::all(px(20)),
            ..default()
        },
        BackgroundColor(palette::PANEL),
        children![
            theme::label(label, lang, 28.0, palette::ACCENT),
            (
                Node {
                    width: px(size),
                    height: px(size),
                    ..default()
                },
                ImageNode::new(qr)
            ),
            theme::label(short, lang, 16.0, palette::MUTED),
            theme::label(hint, lang, 18.0, palette::TEXT),
        ],
    )
}

fn swipe_gallery(
    mut commands: Commands,
    mut touches: MessageReader<TouchInput>,
    mut start: ResMut<SwipeStart>,
    mut gallery: Query<(Entity, &mut Gallery)>,
    mut counter: Query<&mut Text, With<GalleryCounter>>,
    content: Res<Content>,
    lang: Res<Lang>,
) {
    for t in touches.read() {
        match t.phase {
            TouchPhase::Started => start.0 = Some((t.id, t.position)),
            TouchPhase::Ended => {
                let Some((id, from)) = start.0.take() else {
                    continue;
                };
                if id != t.id {
                    continue;
                }
                let d = t.position - from;
                if d.x.abs() < SWIPE_PX || d.x.abs() < d.y.abs() {
                    continue;
                }
                for (entity, mut g) in &mut gallery {
                    let n = g.images.len();
                    if n < 2 {
                        continue;
                    }
                    g.index = if d.x < 0.0 {
                        (g.index + 1) % n
                    } else {
                        (g.index + n - 1) % n
                    };
                    commands.entity(entity).insert(MediaSlot {
                        path: g.images[g.index].clone(),
                        max: (1920, 1080),
                    });
                    if let Ok(mut text) = counter.single_mut() {
                        text.0 = format!(
                            "{} / {n} · {}",
                            g.index + 1,
                            content.t(&lang.0, "swipe-hint")
                        );
                    }
                }
            }
            TouchPhase::Canceled => start.0 = None,
            TouchPhase::Moved => {}
        }
    }
}

fn end_item_view(mut session: ResMut<Session>, services: Res<Services>, content: Res<Content>) {
    if let Some(done) = session.end_view(services.mono_ms()) {
        services.record(&content, done);
    }
}
