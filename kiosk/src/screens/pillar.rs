//! A pillar's items as cards with a picture, title and summary, a page at a time (a pack may
//! hold hundreds of items; only one page of pictures is ever decoded).

use bevy::prelude::*;

use super::{Action, Screen, Selection, portrait};
use crate::kiosk::{Content, Lang};
use crate::media::{Cover, MediaSlot};
use crate::theme::{self, palette};

pub(super) fn plugin(app: &mut App) {
    app.add_systems(OnEnter(Screen::Pillar), spawn_pillar);
}

fn spawn_pillar(
    mut commands: Commands,
    content: Res<Content>,
    lang: Res<Lang>,
    mut selection: ResMut<Selection>,
    window: Single<&Window>,
    look: Res<theme::Look>,
) {
    let l = lang.0.clone();
    let tall = portrait(&window);
    let pillar = content
        .pack
        .pack
        .pillars
        .iter()
        .find(|p| p.id == selection.pillar);
    let title = pillar
        .map(|p| content.pack.localised(&p.title, &l).to_owned())
        .unwrap_or_default();
    let color = super::home::pillar_color(pillar.and_then(|p| p.color.as_deref()));
    let all = content.items_in(&selection.pillar);
    let all_count = all.len();
    // Two rows of two in the reach band of a portrait screen, two rows of three on a landscape one.
    let per_page = if tall { 4 } else { 6 };
    let pages = all.len().div_ceil(per_page).max(1);
    let page = selection.page.min(pages - 1);
    selection.page = page;
    let cards: Vec<_> = all
        .into_iter()
        .skip(page * per_page)
        .take(per_page)
        .map(|item| {
            let text = content.pack.text(item, &l);
            // Large text shows the titles only, so that a page still fits (the summary is the
            // item page's first line).
            let summary = text
                .filter(|_| !look.large_text)
                .map(|t| t.summary.clone())
                .unwrap_or_default();
            (
                item.id.clone(),
                text.map(|t| t.title.clone()).unwrap_or_default(),
                summary,
                item.media.first().map(|m| content.pack.media_path(m)),
            )
        })
        .collect();
    let back = content.t(&l, "back");
    let count = content
        .i18n
        .t_args(&l, "items-count", &[("count", &all_count.to_string())]);
    let lang_cards = l.clone();
    let card_width = if tall { 480.0 } else { 560.0 };
    let image_height = if tall { 170.0 } else { 150.0 };
    let heading = (
        theme::label(title, &l, 60.0, palette::TEXT),
        TextLayout::justify(Justify::Center),
    );
    // Page buttons only when there is more than one page; the arrows need no translation.
    let pager = (
        Name::new("Pages"),
        Node {
            flex_direction: FlexDirection::Row,
            align_items: AlignItems::Center,
            column_gap: px(24),
            display: if pages > 1 {
                Display::Flex
            } else {
                Display::None
            },
            ..default()
        },
        children![
            theme::button("‹", &l, 40.0, Action::Page(-1)),
            theme::label(format!("{} / {pages}", page + 1), &l, 30.0, palette::MUTED),
            theme::button("›", &l, 40.0, Action::Page(1)),
        ],
    );
    let nav = theme::row(children![
        pager,
        theme::button(back, &l, 32.0, Action::Go(Screen::Home)),
    ]);
    let grid = (
        Name::new("Items"),
        Node {
            flex_direction: FlexDirection::Row,
            flex_wrap: FlexWrap::Wrap,
            justify_content: JustifyContent::Center,
            align_content: AlignContent::FlexStart,
            column_gap: px(24),
            row_gap: px(24),
            ..default()
        },
        Children::spawn(SpawnIter(cards.into_iter().map(
            move |(id, title, summary, image)| {
                card(
                    &lang_cards,
                    id,
                    title,
                    summary,
                    image,
                    color,
                    card_width,
                    image_height,
                )
            },
        ))),
    );
    if tall {
        commands.spawn((
            Name::new("Pillar"),
            DespawnOnExit(Screen::Pillar),
            theme::bands(
                heading,
                grid,
                nav,
                theme::label(count, &l, 30.0, palette::MUTED),
            ),
        ));
        return;
    }
    commands.spawn((
        Name::new("Pillar"),
        DespawnOnExit(Screen::Pillar),
        Node {
            width: percent(100),
            height: percent(100),
            flex_direction: FlexDirection::Column,
            justify_content: JustifyContent::SpaceBetween,
            align_items: AlignItems::Center,
            padding: UiRect::all(px(32)),
            row_gap: px(20),
            ..default()
        },
        children![heading, grid, nav],
    ));
}

#[allow(clippy::too_many_arguments)]
fn card(
    lang: &str,
    id: String,
    title: String,
    summary: String,
    image: Option<std::path::PathBuf>,
    color: Color,
    width: f32,
    image_height: f32,
) -> impl Bundle + use<> {
    (
        Name::new(format!("Item {id}")),
        Button,
        Action::Item(id),
        Node {
            width: px(width),
            flex_shrink: 0.0,
            flex_direction: FlexDirection::Column,
            border_radius: BorderRadius::all(px(20)),
            overflow: Overflow::clip(),
            ..default()
        },
        BackgroundColor(color.with_alpha(0.85)),
        children![
            (
                Node {
                    width: percent(100),
                    height: px(image_height),
                    ..default()
                },
                ImageNode::default().with_color(Color::NONE),
                Cover,
                MediaSlot {
                    path: image.unwrap_or_default(),
                    max: (640, 360)
                },
            ),
            (
                Node {
                    flex_direction: FlexDirection::Column,
                    padding: UiRect::all(px(20)),
                    row_gap: px(8),
                    ..default()
                },
                children![
                    theme::label(title, lang, 34.0, palette::TEXT),
                    theme::label(summary, lang, 22.0, palette::MUTED),
                ]
            ),
        ],
    )
}
