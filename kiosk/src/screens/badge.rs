//! After a badge scan: "Hello, name. Share the contact on your badge?", with the consent text
//! and exactly what would be kept. A lead is stored only on "Yes" (Law 91/2025: no personal
//! data without recorded consent); "No" forgets the badge.

use bevy::prelude::*;
use kiosk_core::form::{BADGE_CONSENT_ID, CONSENT_ID, badge_lead, consent_words};
use protocol::RecordBody;

use super::{Saving, Screen, Visit};
use crate::kiosk::{Content, Lang, Services};
use crate::theme::{self, palette};

#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Yes,
    No,
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(OnEnter(Screen::Badge), spawn_badge)
        .add_observer(answer);
}

fn spawn_badge(
    mut commands: Commands,
    content: Res<Content>,
    lang: Res<Lang>,
    visit: Res<Visit>,
    mut next: ResMut<NextState<Screen>>,
    window: Single<&Window>,
) {
    let Some(badge) = &visit.badge else {
        next.set(visit.back_to.unwrap_or(Screen::Home));
        return;
    };
    let l = lang.0.as_str();
    let t = |id: &str| content.t(l, id);
    let hello = match badge.greeting_name() {
        Some(name) => content.i18n.t_args(l, "badge-hello", &[("name", name)]),
        None => t("badge-hello-anonymous"),
    };
    // Exactly what would be kept, so that the visitor agrees to something they can see.
    let c = &badge.contact;
    let shown: Vec<String> = [
        &c.name,
        &c.title,
        &c.organisation,
        &c.email,
        &c.phone,
        &c.country,
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .cloned()
    .chain(badge.code.clone())
    .collect();
    let lo = l.to_owned();
    let tall = super::portrait(&window);
    let hello = (
        theme::label(hello, l, 64.0, palette::ACCENT),
        TextLayout::justify(Justify::Center),
    );
    let question = (
        theme::label(t("badge-question"), l, 36.0, palette::TEXT),
        TextLayout::justify(Justify::Center),
    );
    let kept = (
        Name::new("What is kept"),
        Node {
            flex_direction: FlexDirection::Column,
            align_items: AlignItems::Center,
            padding: UiRect::all(px(20)),
            row_gap: px(6),
            border_radius: BorderRadius::all(px(20)),
            ..default()
        },
        BackgroundColor(palette::PANEL),
        Children::spawn(SpawnIter(
            shown
                .into_iter()
                .map(move |s| theme::label(s, &lo, 28.0, palette::TEXT)),
        )),
    );
    let words = (
        // A width without a clamp: a text is measured at its box's width before the clamp.
        Node {
            width: if tall { percent(100) } else { px(1100) },
            ..default()
        },
        children![theme::paragraph(t(CONSENT_ID), l, 22.0, palette::MUTED)],
    );
    let answers = theme::row(children![
        theme::button_colored(t("badge-yes"), l, 34.0, palette::BUTTON_ACTIVE, Answer::Yes),
        theme::button(t("badge-no"), l, 34.0, Answer::No),
    ]);
    if tall {
        commands.spawn((
            Name::new("Badge"),
            DespawnOnExit(Screen::Badge),
            theme::bands(
                hello,
                theme::wide_column(24.0, children![question, kept, words]),
                answers,
                (),
            ),
        ));
        return;
    }
    commands.spawn((
        Name::new("Badge"),
        DespawnOnExit(Screen::Badge),
        Node {
            width: percent(100),
            height: percent(100),
            flex_direction: FlexDirection::Column,
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            row_gap: px(28),
            padding: UiRect::all(px(60)),
            ..default()
        },
        children![hello, question, kept, words, answers],
    ));
}

#[allow(clippy::too_many_arguments)]
fn answer(
    mut press: On<Pointer<Press>>,
    actions: Query<&Answer>,
    mut once: ResMut<theme::Pressed>,
    mut visit: ResMut<Visit>,
    saving: Res<Saving>,
    services: Res<Services>,
    content: Res<Content>,
    lang: Res<Lang>,
    mut next: ResMut<NextState<Screen>>,
) {
    let Some(answer) = theme::pressed(&mut press, &actions, &mut once) else {
        return;
    };
    match &answer {
        Answer::No => {
            visit.badge = None;
            services.record(
                &content,
                RecordBody::Interaction {
                    target: "badge:declined".into(),
                    item: None,
                },
            );
            next.set(visit.back_to.unwrap_or(Screen::Home));
        }
        Answer::Yes => {
            if saving.busy() {
                return;
            }
            let Some(badge) = visit.badge.clone() else {
                return;
            };
            let lead = badge_lead(
                &badge,
                content.event.as_deref(),
                &lang.0,
                visit.item.as_deref(),
                visit.form.interests(),
                &consent_words(&content.i18n, BADGE_CONSENT_ID, &lang.0),
                services.recorder.clock().now().corrected_ms,
            );
            let name = badge.greeting_name().map(str::to_owned);
            saving.lead(&services, &content, lead, name);
        }
    }
}
