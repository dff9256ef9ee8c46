//! The screens, as states: the attract loop, home (languages and pillars), a pillar's items,
//! an item page, the lead form, the badge question and the thank-you. Each screen is a plugin
//! in its own file.

mod attract;
pub use attract::Fading;
mod badge;
mod form;
mod home;
mod item;
mod pillar;
mod presenter;
pub use presenter::Presenting;
mod state;
pub use state::{Saving, Screen, Visit};
mod thanks;

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use protocol::{QrPurpose, RecordBody};

use crate::kiosk::{Content, Lang, Services};
use crate::theme::{self, palette};

/// The pillar and item the visitor chose.
#[derive(Resource, Default, Debug, Clone)]
pub struct Selection {
    pub pillar: String,
    pub item: String,
    /// The page of the pillar's items.
    pub page: usize,
}

/// What a button does.
#[derive(Component, Debug, Clone, PartialEq)]
pub enum Action {
    Go(Screen),
    Language(String),
    Pillar(String),
    Item(String),
    /// Opens the lead form (from an item page, with its id).
    Form(Option<String>),
    /// The next (+1) or previous (-1) page of a pillar's items.
    Page(i32),
    /// Turns large text on or off for this visit.
    LargeText,
    /// Turns high contrast on or off for this visit.
    HighContrast,
}

pub(super) fn plugin(app: &mut App) {
    app.init_state::<Screen>()
        .init_resource::<Selection>()
        .init_resource::<Visit>()
        .init_resource::<Saving>()
        .add_systems(OnEnter(Screen::Attract), forget_visit)
        // A host presents as everybody sees it, whatever the last visitor chose.
        .add_systems(OnEnter(Screen::Presenter), reset_look)
        .add_systems(Update, finish_saving)
        .add_observer(press_buttons)
        .add_plugins((
            attract::plugin,
            home::plugin,
            pillar::plugin,
            item::plugin,
            form::plugin,
            badge::plugin,
            thanks::plugin,
            presenter::plugin,
        ));
}

/// A new visitor starts with nothing of the last one's, and sees the screens as everybody does.
fn forget_visit(mut visit: ResMut<Visit>, look: ResMut<theme::Look>) {
    *visit = Visit::default();
    reset_look(look);
}

fn reset_look(mut look: ResMut<theme::Look>) {
    if *look != theme::Look::default() {
        *look = theme::Look::default();
    }
}

/// Shows the thank-you once the lead is durable; on a store error, says so where the visitor is.
fn finish_saving(
    saving: Res<Saving>,
    mut visit: ResMut<Visit>,
    screen: Res<State<Screen>>,
    mut next: ResMut<NextState<Screen>>,
) {
    let Some(done) = saving.finish() else {
        return;
    };
    match done {
        // The lead is stored either way; the thank-you is only for a visitor still there (an
        // idle reset may have returned to the attract loop meanwhile).
        Ok(name) if matches!(screen.get(), Screen::Form | Screen::Badge) => {
            visit.form.clear();
            visit.errors.clear();
            visit.badge = None;
            visit.save_failed = false;
            visit.thanks_name = name;
            next.set(Screen::Thanks);
        }
        Ok(_) => {}
        Err(e) => {
            error!("a lead could not be stored: {e}");
            visit.save_failed = true;
        }
    }
}

/// A signed QR code for this kiosk, item and language, recorded as shown; None when the kiosk
/// is not enrolled. Returns the image and the short URL printed under it.
pub fn signed_qr(
    services: &Services,
    content: &Content,
    images: &mut Assets<Image>,
    purpose: QrPurpose,
    item: &str,
    lang: &str,
) -> Option<(Handle<Image>, String)> {
    let event = content.event.clone().unwrap_or_default();
    signed_qr_for(services, &event, images, purpose, item, lang).map(|(h, short, _)| (h, short))
}

/// [`signed_qr`] for an event or delegation given here; also returns the code's nonce.
pub fn signed_qr_for(
    services: &Services,
    event: &str,
    images: &mut Assets<Image>,
    purpose: QrPurpose,
    item: &str,
    lang: &str,
) -> Option<(Handle<Image>, String, String)> {
    let id = services.identity.as_ref()?;
    let stamp = services.recorder.clock().now();
    let (token, signed) = kiosk_core::qr::token(
        &id.token_key,
        id.kiosk_id,
        stamp.corrected_ms,
        stamp.clock_ok,
        event,
        item,
        lang,
    );
    let url = kiosk_core::qr::url(&id.public_url, purpose.clone(), &signed);
    let gray = kiosk_core::qr::image(&url, 6).ok()?;
    let rgba = image::DynamicImage::ImageLuma8(gray).to_rgba8();
    let handle = images.add(Image::from_dynamic(
        image::DynamicImage::ImageRgba8(rgba),
        true,
        RenderAssetUsages::RENDER_WORLD,
    ));
    let nonce = token.nonce_hex();
    services.recorder.record(
        (!event.is_empty()).then_some(event),
        RecordBody::QrShown {
            purpose,
            item: (!item.is_empty()).then(|| item.to_owned()),
            lang: lang.to_owned(),
            nonce: nonce.clone(),
        },
    );
    let short = url
        .split("://")
        .nth(1)
        .unwrap_or(&url)
        .chars()
        .take(34)
        .collect::<String>()
        + "…";
    Some((handle, short, nonce))
}

/// Acts on a button as soon as it is pressed (touch screens have no hover).
#[allow(clippy::too_many_arguments)]
fn press_buttons(
    mut press: On<Pointer<Press>>,
    actions: Query<&Action>,
    mut once: ResMut<theme::Pressed>,
    mut next: ResMut<NextState<Screen>>,
    screen: Res<State<Screen>>,
    mut lang: ResMut<Lang>,
    mut selection: ResMut<Selection>,
    mut visit: ResMut<Visit>,
    services: Res<Services>,
    content: Res<Content>,
    mut look: ResMut<theme::Look>,
) {
    let Some(action) = theme::pressed(&mut press, &actions, &mut once) else {
        return;
    };
    match &action {
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
        Action::Page(delta) => {
            let count = content.items_in(&selection.pillar).len().max(1);
            selection.page = selection
                .page
                .saturating_add_signed(*delta as isize)
                .min(count - 1);
            next.set(Screen::Pillar);
        }
        Action::Pillar(p) => {
            selection.pillar = p.clone();
            selection.page = 0;
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
        Action::LargeText | Action::HighContrast => {
            let (name, on) = if action == Action::LargeText {
                look.large_text = !look.large_text;
                ("large-text", look.large_text)
            } else {
                look.high_contrast = !look.high_contrast;
                ("high-contrast", look.high_contrast)
            };
            // Counted, so that the reports show how many visitors needed it.
            services.record(
                &content,
                protocol::RecordBody::Interaction {
                    target: format!("look:{name}:{}", if on { "on" } else { "off" }),
                    item: None,
                },
            );
            next.set(*screen.get());
        }
        Action::Form(item) => {
            visit.item = item.clone();
            visit.back_to = Some(*screen.get());
            services.record(
                &content,
                protocol::RecordBody::Interaction {
                    target: "form".into(),
                    item: item.clone(),
                },
            );
            next.set(Screen::Form);
        }
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
            // As wide as its container, as `theme::row` is (a row sized to its buttons may
            // wrap the last one at some scales).
            width: percent(100),
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
