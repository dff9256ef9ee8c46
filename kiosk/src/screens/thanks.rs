//! The thank-you, shown only once the lead is durable in the store; back to home after a
//! while, so the next visitor does not find the last one's name.

use bevy::prelude::*;

use super::{Action, Screen, Visit};
use crate::kiosk::{Content, Lang};
use crate::theme::{self, palette};

const SHOW_S: f32 = 10.0;

#[derive(Resource, Default)]
struct Shown(f32);

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Shown>()
        .add_systems(OnEnter(Screen::Thanks), spawn_thanks)
        .add_systems(Update, leave_thanks.run_if(in_state(Screen::Thanks)));
}

fn spawn_thanks(
    mut commands: Commands,
    mut shown: ResMut<Shown>,
    content: Res<Content>,
    lang: Res<Lang>,
    visit: Res<Visit>,
) {
    shown.0 = 0.0;
    let l = lang.0.as_str();
    let title = match &visit.thanks_name {
        Some(name) if !name.trim().is_empty() => {
            content
                .i18n
                .t_args(l, "thanks-title", &[("name", name.trim())])
        }
        _ => content.t(l, "thanks-title-anonymous"),
    };
    commands.spawn((
        Name::new("Thanks"),
        DespawnOnExit(Screen::Thanks),
        Node {
            width: percent(100),
            height: percent(100),
            flex_direction: FlexDirection::Column,
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            row_gap: px(36),
            padding: UiRect::all(px(60)),
            ..default()
        },
        children![
            (
                Name::new("Tick"),
                Node {
                    width: px(220),
                    height: px(220),
                    justify_content: JustifyContent::Center,
                    align_items: AlignItems::Center,
                    border_radius: BorderRadius::all(px(110)),
                    ..default()
                },
                BackgroundColor(palette::BUTTON),
                theme::Active(true),
                children![theme::label("✓", l, 140.0, palette::TEXT)],
            ),
            (
                theme::label(title, l, 72.0, palette::ACCENT),
                TextLayout::justify(Justify::Center)
            ),
            (
                theme::label(content.t(l, "thanks-body"), l, 36.0, palette::TEXT),
                TextLayout::justify(Justify::Center)
            ),
            theme::button(content.t(l, "home"), l, 32.0, Action::Go(Screen::Home)),
        ],
    ));
}

fn leave_thanks(
    time: Res<Time>,
    mut shown: ResMut<Shown>,
    mut visit: ResMut<Visit>,
    mut next: ResMut<NextState<Screen>>,
) {
    shown.0 += time.delta_secs();
    if shown.0 > SHOW_S {
        visit.thanks_name = None;
        next.set(Screen::Home);
    }
}
