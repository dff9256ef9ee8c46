//! Home: the languages, each in its own script, and the pack's pillars as large tiles.

use bevy::prelude::*;

use super::{Action, Screen, language_bar, portrait};
use crate::kiosk::{Content, Lang};
use crate::media::MediaSlot;
use crate::theme::{self, palette};

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
    commands.spawn((
        Name::new("Home"),
        DespawnOnExit(Screen::Home),
        Node {
            width: percent(100),
            height: percent(100),
            flex_direction: FlexDirection::Column,
            justify_content: if tall {
                JustifyContent::SpaceBetween
            } else {
                JustifyContent::SpaceEvenly
            },
            align_items: AlignItems::Center,
            padding: UiRect::all(px(48)),
            row_gap: px(32),
            ..default()
        },
        children![
            (
                Node {
                    flex_direction: FlexDirection::Column,
                    align_items: AlignItems::Center,
                    row_gap: px(20),
                    ..default()
                },
                children![
                    theme::label(title, l, 72.0, palette::TEXT),
                    theme::label(choose, l, 30.0, palette::MUTED),
                    language_bar(&content, l),
                ]
            ),
            (
                Name::new("Pillars"),
                Node {
                    flex_direction: FlexDirection::Row,
                    flex_wrap: FlexWrap::Wrap,
                    justify_content: JustifyContent::Center,
                    column_gap: px(28),
                    row_gap: px(28),
                    ..default()
                },
                Children::spawn(SpawnIter(tiles.into_iter().map(
                    move |(id, name, count, icon, color)| {
                        tile(&lang_owned, id, name, count, icon, color)
                    }
                ))),
            ),
        ],
    ));
}

fn tile(
    lang: &str,
    id: String,
    name: String,
    count: String,
    icon: Option<std::path::PathBuf>,
    color: Color,
) -> impl Bundle + use<> {
    let icon_bundle = (
        Node {
            width: px(120),
            height: px(120),
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
            width: px(300),
            height: px(300),
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
