//! Home: the languages, each in its own script, and the pack's pillars as large tiles.

use bevy::prelude::*;

use super::{Action, Screen, language_bar, portrait};
use crate::kiosk::{Content, Lang};
use crate::media::MediaSlot;
use crate::theme::{self, Look, palette};

pub(super) fn plugin(app: &mut App) {
    app.add_systems(OnEnter(Screen::Home), spawn_home);
}

/// A pillar's colour from the pack, or the accent.
pub fn pillar_color(hex: Option<&str>) -> Color {
    hex.and_then(|h| Srgba::hex(h).ok())
        .map(Color::from)
        .unwrap_or(palette::BUTTON)
}

fn spawn_home(
    mut commands: Commands,
    content: Res<Content>,
    lang: Res<Lang>,
    window: Single<&Window>,
    look: Res<Look>,
) {
    let l = lang.0.as_str();
    let tall = portrait(&window);
    let title = content.t(l, "home-title");
    let choose = content.t(l, "choose-language");
    let tiles: Vec<_> = content
        .pack
        .pack
        .pillars
        .iter()
        .map(|p| {
            let name = content.pack.localised(&p.title, l).to_owned();
            let count = content.items_in(&p.id).len();
            let count = content
                .i18n
                .t_args(l, "items-count", &[("count", &count.to_string())]);
            let icon = p.icon.as_ref().map(|i| content.pack.media_path(i));
            (
                p.id.clone(),
                name,
                count,
                icon,
                pillar_color(p.color.as_deref()),
            )
        })
        .collect();
    let lang_owned = l.to_owned();
    let size = if tall { 280.0 } else { 300.0 };
    // Large text takes room from the icons, so that the tiles keep their size.
    let icon = size * if look.large_text { 0.24 } else { 0.36 };
    let heading = (
        Name::new("Heading"),
        theme::column(
            20.0,
            children![
                (
                    theme::label(title, l, 72.0, palette::TEXT),
                    TextLayout::justify(Justify::Center)
                ),
                theme::label(choose, l, 30.0, palette::MUTED),
            ],
        ),
    );
    let pillars = (
        Name::new("Pillars"),
        Node {
            // As wide as the screen allows: a row sized to its tiles rounds a fraction of a
            // pixel below their width at some scales (5 tiles at 1280×720) and wraps the last.
            width: percent(100),
            flex_direction: FlexDirection::Row,
            flex_wrap: FlexWrap::Wrap,
            justify_content: JustifyContent::Center,
            column_gap: px(28),
            row_gap: px(28),
            ..default()
        },
        Children::spawn(SpawnIter(tiles.into_iter().map(
            move |(id, name, count, path, color)| {
                tile(&lang_owned, id, name, count, path, color, (size, icon))
            },
        ))),
    );
    let toggles = look_toggles(&content, l, *look);
    if tall {
        // The languages and the pillars in the reach band, the toggles on its bottom edge.
        commands.spawn((
            Name::new("Home"),
            DespawnOnExit(Screen::Home),
            theme::bands(
                heading,
                theme::column(28.0, children![language_bar(&content, l), pillars]),
                toggles,
                theme::label(content.t(l, "home-hint"), l, 30.0, palette::MUTED),
            ),
        ));
        return;
    }
    commands.spawn((
        Name::new("Home"),
        DespawnOnExit(Screen::Home),
        Node {
            width: percent(100),
            height: percent(100),
            flex_direction: FlexDirection::Column,
            justify_content: JustifyContent::SpaceEvenly,
            align_items: AlignItems::Center,
            padding: UiRect::all(px(40)),
            row_gap: px(24),
            ..default()
        },
        children![
            theme::column(20.0, children![heading, language_bar(&content, l)]),
            pillars,
            toggles,
        ],
    ));
}

/// The two toggles of the look, each showing whether it is on.
fn look_toggles(content: &Content, l: &str, look: Look) -> impl Bundle + use<> {
    let toggle = |id: &str, on: bool, action: Action| {
        let label = content.t(l, id);
        let color = if on {
            palette::BUTTON_ACTIVE
        } else {
            palette::BUTTON
        };
        theme::button_colored(label, l, 28.0, color, action)
    };
    theme::row(children![
        toggle("large-text", look.large_text, Action::LargeText),
        toggle("high-contrast", look.high_contrast, Action::HighContrast),
    ])
}

fn tile(
    lang: &str,
    id: String,
    name: String,
    count: String,
    icon: Option<std::path::PathBuf>,
    color: Color,
    (size, icon_size): (f32, f32),
) -> impl Bundle + use<> {
    let icon_bundle = (
        Node {
            width: px(icon_size),
            height: px(icon_size),
            ..default()
        },
        ImageNode::default().with_color(Color::NONE),
        MediaSlot {
            path: icon.unwrap_or_default(),
            max: (256, 256),
        },
    );
    (
        Name::new(format!("Pillar {id}")),
        Button,
        Action::Pillar(id),
        Node {
            width: px(size),
            min_height: px(size),
            flex_direction: FlexDirection::Column,
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            row_gap: px(12),
            padding: UiRect::all(px(16)),
            border_radius: BorderRadius::all(px(28)),
            ..default()
        },
        BackgroundColor(color),
        children![
            icon_bundle,
            (
                theme::label(name, lang, 38.0, palette::TEXT),
                TextLayout::justify(Justify::Center)
            ),
            theme::label(count, lang, 24.0, palette::MUTED),
        ],
    )
}
