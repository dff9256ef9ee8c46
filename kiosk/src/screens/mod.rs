//! The screens, as states: the attract loop, home (languages and pillars), a pillar's items,
//! and an item page. Each screen is a plugin in its own file.

mod attract;
mod home;
mod item;
mod pillar;

use bevy::prelude::*;

use crate::kiosk::{Content, Lang, Services};
use crate::theme::{self, palette};

#[derive(States, Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Screen {
    #[default]
    Attract,
    Home,
    Pillar,
    Item,
}

/// The pillar and item the visitor chose.
#[derive(Resource, Default, Debug, Clone)]
pub struct Selection {
    pub pillar: String,
    pub item: String,
}

/// What a button does.
#[derive(Component, Debug, Clone, PartialEq)]
pub enum Action {
    Go(Screen),
    Language(String),
    Pillar(String),
    Item(String),
}

pub(super) fn plugin(app: &mut App) {
    app.init_state::<Screen>()
        .init_resource::<Selection>()
        .add_systems(Update, press_buttons)
        .add_plugins((attract::plugin, home::plugin, pillar::plugin, item::plugin));
}

/// Acts on a button as soon as it is pressed (touch screens have no hover).
fn press_buttons(
    query: Query<(&Interaction, &Action), Changed<Interaction>>,
    mut next: ResMut<NextState<Screen>>,
    screen: Res<State<Screen>>,
    mut lang: ResMut<Lang>,
    mut selection: ResMut<Selection>,
    services: Res<Services>,
    content: Res<Content>,
) {
    for (interaction, action) in &query {
        if *interaction != Interaction::Pressed {
            continue;
        }
        match action {
            Action::Go(s) => next.set(*s),
            Action::Language(l) => {
                if lang.0 != *l {
                    services.record(
                        &content,
                        protocol::RecordBody::LanguageSelected {
                            lang: l.clone(),
                            previous: Some(lang.0.clone()),
                        },
                    );
                    lang.0 = l.clone();
                    // Re-enter the screen so that every text is rebuilt in the new language.
                    next.set(*screen.get());
                }
            }
            Action::Pillar(p) => {
                selection.pillar = p.clone();
                services.record(
                    &content,
                    protocol::RecordBody::Interaction {
                        target: format!("pillar:{p}"),
                        item: None,
                    },
                );
                next.set(Screen::Pillar);
            }
            Action::Item(i) => {
                selection.item = i.clone();
                next.set(Screen::Item);
            }
        }
        // One press, one action: later buttons in this frame belong to the old screen.
        break;
    }
}

/// Whether the window is taller than wide (a floor totem).
pub fn portrait(window: &Window) -> bool {
    window.height() > window.width()
}

/// The row of language buttons, each in its own name and script.
pub fn language_bar(content: &Content, current: &str) -> impl Bundle {
    let buttons: Vec<(String, String)> = content
        .languages
        .iter()
        .map(|l| (l.clone(), kiosk_core::i18n::native_name(l).to_owned()))
        .collect();
    (
        Name::new("Languages"),
        Node {
            flex_direction: FlexDirection::Row,
            flex_wrap: FlexWrap::Wrap,
            column_gap: px(16),
            row_gap: px(16),
            justify_content: JustifyContent::Center,
            ..default()
        },
        Children::spawn(SpawnIter(buttons.into_iter().map({
            let current = current.to_owned();
            move |(l, name)| {
                let active = l == current;
                let color = if active {
                    palette::BUTTON_ACTIVE
                } else {
                    palette::BUTTON
                };
                theme::button_colored(name, &l, 30.0, color, Action::Language(l.clone()))
            }
        }))),
    )
}
