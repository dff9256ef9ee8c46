//! The lead form: name, organisation, email, phone, country, interests and the required
//! consent, typed on an on-screen keyboard with Vietnamese letters and tones. Visitors who write
//! another script are pointed to the phone form's QR code. "Thank you" comes only once the
//! lead is durable (see `finish_saving`).
//!
//! The screen is redrawn from [`Visit`] whenever it changes: what is typed lives in
//! `kiosk_core::form::LeadForm`, not in the widgets.

use bevy::prelude::*;
use kiosk_core::form::{Field, Key, keyboard_rows};
use protocol::QrPurpose;

use super::{Saving, Screen, Visit, portrait};
use crate::kiosk::{Content, Lang, Services};
use crate::theme::{self, palette};

/// What a control of the form does.
#[derive(Component, Debug, Clone)]
enum FormAction {
    Focus(Field),
    Key(Key),
    Interest(String),
    Consent,
    Submit,
    Cancel,
    /// Closes the keyboard.
    Done,
}

#[derive(Component)]
struct FormRoot;

/// The phone form's QR code, made once per visit to the screen (each one is recorded).
#[derive(Resource, Default)]
struct FormQr(Option<(Handle<Image>, String)>);

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<FormQr>()
        .add_systems(OnEnter(Screen::Form), (make_qr, draw_form).chain())
        .add_systems(
            Update,
            draw_form
                .run_if(resource_changed::<Visit>)
                .run_if(in_state(Screen::Form)),
        )
        .add_observer(press_form);
}

/// Languages typed with the Latin keyboard; the others get the phone QR as well.
fn latin(lang: &str) -> bool {
    matches!(lang, "vi" | "en" | "fr" | "de" | "es" | "id" | "ms")
}

fn make_qr(
    mut qr: ResMut<FormQr>,
    services: Res<Services>,
    content: Res<Content>,
    lang: Res<Lang>,
    visit: Res<Visit>,
    mut images: ResMut<Assets<Image>>,
) {
    qr.0 = if latin(&lang.0) {
        None
    } else {
        super::signed_qr(
            &services,
            &content,
            &mut images,
            QrPurpose::Interest,
            visit.item.as_deref().unwrap_or(""),
            &lang.0,
        )
    };
}

#[allow(clippy::too_many_arguments)]
fn press_form(
    mut press: On<Pointer<Press>>,
    actions: Query<&FormAction>,
    mut once: ResMut<theme::Pressed>,
    mut visit: ResMut<Visit>,
    saving: Res<Saving>,
    services: Res<Services>,
    content: Res<Content>,
    lang: Res<Lang>,
    mut next: ResMut<NextState<Screen>>,
) {
    let Some(action) = theme::pressed(&mut press, &actions, &mut once) else {
        return;
    };
    match &action {
        FormAction::Focus(f) => visit.form.set_focus(*f),
        FormAction::Done => visit.form.close_keyboard(),
        FormAction::Key(k) => visit.form.press(k),
        FormAction::Interest(p) => visit.form.toggle_interest(p),
        FormAction::Consent => {
            let yes = !visit.form.consent();
            visit.form.set_consent(yes);
        }
        FormAction::Cancel => {
            visit.form.clear();
            visit.errors.clear();
            next.set(visit.back_to.unwrap_or(Screen::Home));
        }
        FormAction::Submit => {
            if saving.busy() {
                return;
            }
            let now = services.recorder.clock().now().corrected_ms;
            let consent = kiosk_core::form::consent_words(
                &content.i18n,
                kiosk_core::form::CONSENT_ID,
                &lang.0,
            );
            match visit
                .form
                .lead(&lang.0, visit.item.as_deref(), &consent, now)
            {
                Err(errors) => {
                    // Close the keyboard so that every message shows where it belongs.
                    visit.form.close_keyboard();
                    visit.errors = errors;
                }
                Ok(lead) => {
                    visit.errors.clear();
                    visit.save_failed = false;
                    let name = lead.contact.name.clone();
                    saving.lead(&services, &content, lead, Some(name));
                    // Redraw to show "Saving…".
                    visit.set_changed();
                }
            }
        }
    }
    // Messages already shown go away as soon as their problem is fixed.
    if !visit.errors.is_empty() {
        let now = visit.form.errors();
        visit.errors.retain(|e| now.contains(e));
    }
}

#[allow(clippy::too_many_arguments)]
fn draw_form(
    mut commands: Commands,
    roots: Query<Entity, With<FormRoot>>,
    visit: Res<Visit>,
    saving: Res<Saving>,
    content: Res<Content>,
    lang: Res<Lang>,
    qr: Res<FormQr>,
    window: Single<&Window>,
) {
    for e in &roots {
        commands.entity(e).despawn();
    }
    let l = lang.0.as_str();
    let tall = portrait(&window);
    let form = &visit.form;
    let t = |id: &str| content.t(l, id);

    // The fields, each a row to tap; the focused one is highlighted and shows a caret.
    let fields: Vec<_> = Field::ALL
        .iter()
        .map(|&f| {
            let optional = matches!(f, Field::Organisation | Field::Country);
            let label = if optional {
                format!("{} · {}", t(f.label_id()), t("form-optional"))
            } else {
                t(f.label_id())
            };
            let focused = form.focus() == Some(f);
            let value = format!("{}{}", form.value(f), if focused { "|" } else { "" });
            // An empty value keeps its line, so that the row does not grow at the first letter.
            let value = if value.is_empty() {
                " ".to_owned()
            } else {
                value
            };
            let error = visit
                .errors
                .iter()
                .find(|e| e.field() == Some(f))
                .map(|e| t(e.message_id()));
            field_row(l, f, label, value, focused, error, tall)
        })
        .collect();

    let chips: Vec<_> = content
        .pack
        .pack
        .pillars
        .iter()
        .map(|p| {
            let on = form.has_interest(&p.id);
            let name = content.pack.localised(&p.title, l).to_owned();
            let label = if on { format!("✓ {name}") } else { name };
            (p.id.clone(), label, on)
        })
        .collect();
    let lc = l.to_owned();
    let consent_error = visit
        .errors
        .iter()
        .find(|e| e.field().is_none())
        .map(|e| t(e.message_id()));
    let status = if saving.busy() {
        t("form-saving")
    } else if visit.save_failed {
        t("form-save-failed")
    } else {
        String::new()
    };

    let interests = (
        Name::new("Interests"),
        Node {
            flex_direction: FlexDirection::Column,
            row_gap: px(10),
            ..default()
        },
        children![
            theme::label(t("form-interests"), l, 24.0, palette::MUTED),
            (
                Node {
                    flex_direction: FlexDirection::Row,
                    flex_wrap: FlexWrap::Wrap,
                    column_gap: px(10),
                    row_gap: px(10),
                    ..default()
                },
                Children::spawn(SpawnIter(chips.into_iter().map(move |(id, label, on)| {
                    small_button(
                        label,
                        &lc,
                        if on {
                            palette::BUTTON_ACTIVE
                        } else {
                            palette::BUTTON
                        },
                        FormAction::Interest(id),
                    )
                }))),
            ),
        ],
    );
    let consent = (
        Name::new("Consent"),
        Button,
        FormAction::Consent,
        Node {
            flex_direction: FlexDirection::Row,
            column_gap: px(16),
            align_items: AlignItems::Center,
            padding: UiRect::all(px(10)),
            border_radius: BorderRadius::all(px(16)),
            ..default()
        },
        BackgroundColor(if form.consent() {
            palette::BUTTON
        } else {
            palette::PANEL
        }),
        theme::Active(form.consent()),
        children![
            (
                Node {
                    width: px(64),
                    height: px(64),
                    min_width: px(64),
                    justify_content: JustifyContent::Center,
                    align_items: AlignItems::Center,
                    border: UiRect::all(px(3)),
                    border_radius: BorderRadius::all(px(12)),
                    ..default()
                },
                BorderColor::all(palette::TEXT),
                children![theme::label(
                    if form.consent() { "✓" } else { "" },
                    l,
                    40.0,
                    palette::TEXT
                )],
            ),
            (
                Node {
                    flex_direction: FlexDirection::Column,
                    flex_shrink: 1.0,
                    ..default()
                },
                children![
                    theme::label(t("form-consent"), l, 24.0, palette::ACCENT),
                    theme::label(t(kiosk_core::form::CONSENT_ID), l, 17.0, palette::TEXT),
                ],
            ),
        ],
    );
    let consent_error = theme::label(consent_error.unwrap_or_default(), l, 20.0, palette::ACCENT);
    // Send and Cancel on the bottom edge; Done closes the keyboard to show what it covers.
    let typing = form.focus().is_some();
    let done = typing.then(|| theme::button(t("form-keyboard-done"), l, 28.0, FormAction::Done));
    let nav = theme::row(Children::spawn((
        Spawn(theme::button_colored(
            t("form-submit"),
            l,
            30.0,
            palette::BUTTON_ACTIVE,
            FormAction::Submit,
        )),
        SpawnIter(done.into_iter()),
        Spawn(theme::button(t("form-cancel"), l, 28.0, FormAction::Cancel)),
        Spawn(theme::label(status, l, 22.0, palette::TEXT)),
    )));

    let phone_hint = qr.0.clone().map(|(handle, short)| {
        (
            Name::new("Phone form QR"),
            Node {
                flex_direction: FlexDirection::Row,
                column_gap: px(16),
                align_items: AlignItems::Center,
                ..default()
            },
            children![
                (
                    Node {
                        width: px(150),
                        height: px(150),
                        min_width: px(150),
                        ..default()
                    },
                    ImageNode::new(handle),
                ),
                (
                    Node {
                        flex_direction: FlexDirection::Column,
                        flex_shrink: 1.0,
                        ..default()
                    },
                    children![
                        theme::label(t("form-other-script"), l, 22.0, palette::ACCENT),
                        theme::label(short, l, 14.0, palette::MUTED),
                    ],
                ),
            ],
        )
    });
    let title = theme::label(t("form-title"), l, 40.0, palette::TEXT);
    let column = |gap: f32| Node {
        width: percent(100),
        flex_direction: FlexDirection::Column,
        row_gap: px(gap),
        ..default()
    };

    if tall {
        // The reach band holds the fields and, while typing, the keyboard; once it is closed,
        // the interests and the consent. The title above, the phone's QR code below.
        let keys = form
            .focus()
            .map(|field| keyboard(l, field, form.shift(), tall));
        let review =
            (!typing).then(|| (column(12.0), children![interests, consent, consent_error]));
        commands.spawn((
            Name::new("Form"),
            FormRoot,
            DespawnOnExit(Screen::Form),
            theme::bands(
                title,
                (
                    Name::new("Form body"),
                    column(12.0),
                    Children::spawn((
                        Spawn((
                            Node {
                                width: percent(100),
                                flex_direction: FlexDirection::Row,
                                flex_wrap: FlexWrap::Wrap,
                                column_gap: px(12),
                                row_gap: px(8),
                                ..default()
                            },
                            Children::spawn(SpawnIter(fields.into_iter())),
                        )),
                        SpawnIter(keys.into_iter()),
                        SpawnIter(review.into_iter()),
                    )),
                ),
                nav,
                (
                    Name::new("Phone"),
                    column(0.0),
                    Children::spawn(SpawnIter(phone_hint.into_iter())),
                ),
            ),
        ));
        return;
    }

    let mut root = commands.spawn((
        Name::new("Form"),
        FormRoot,
        DespawnOnExit(Screen::Form),
        Node {
            width: percent(100),
            height: percent(100),
            flex_direction: FlexDirection::Column,
            padding: UiRect::axes(px(32), px(20)),
            row_gap: px(14),
            ..default()
        },
        children![title],
    ));
    root.with_children(|root| {
        let mut body = root.spawn(Node {
            flex_direction: FlexDirection::Row,
            column_gap: px(32),
            flex_grow: 1.0,
            ..default()
        });
        body.with_children(|body| {
            let mut left = body.spawn(Node {
                width: percent(56),
                flex_direction: FlexDirection::Column,
                row_gap: px(8),
                ..default()
            });
            left.with_children(|left| {
                for f in fields {
                    left.spawn(f);
                }
                if let Some(hint) = phone_hint {
                    left.spawn(hint);
                }
            });
            body.spawn((
                Name::new("Interests and consent"),
                Node {
                    width: percent(44),
                    flex_direction: FlexDirection::Column,
                    row_gap: px(12),
                    ..default()
                },
                children![interests, consent, consent_error, nav],
            ));
        });
        if let Some(field) = form.focus() {
            root.spawn(keyboard(l, field, form.shift(), tall));
        }
    });
}

fn field_row(
    lang: &str,
    field: Field,
    label: String,
    value: String,
    focused: bool,
    error: Option<String>,
    pair: bool,
) -> impl Bundle + use<> {
    // Each field's label above its value; on a portrait screen two fields share a row.
    let lang_owned = lang.to_owned();
    (
        Name::new(format!("Field {field:?}")),
        Button,
        FormAction::Focus(field),
        Node {
            width: percent(if pair { 48.5 } else { 100.0 }),
            flex_direction: FlexDirection::Column,
            min_height: px(64),
            padding: UiRect::axes(px(16), px(6)),
            border_radius: BorderRadius::all(px(14)),
            ..default()
        },
        BackgroundColor(if focused {
            palette::BUTTON
        } else {
            palette::PANEL
        }),
        theme::Active(focused),
        // The message line only when there is a message: an empty one takes a line.
        Children::spawn((
            Spawn(theme::label(label, lang, 20.0, palette::MUTED)),
            Spawn(theme::label(value, lang, 28.0, palette::TEXT)),
            SpawnIter(
                error
                    .into_iter()
                    .map(move |e| theme::label(e, lang_owned.as_str(), 18.0, palette::ACCENT)),
            ),
        )),
    )
}

fn small_button<A: Component>(
    text: String,
    lang: &str,
    color: Color,
    action: A,
) -> impl Bundle + use<A> {
    (
        Button,
        action,
        Node {
            min_height: px(64),
            padding: UiRect::axes(px(20), px(8)),
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            border_radius: BorderRadius::all(px(32)),
            ..default()
        },
        BackgroundColor(color),
        children![theme::label(text, lang, 22.0, palette::TEXT)],
    )
}

fn key_label(key: &Key, shift: bool) -> String {
    match key {
        Key::Char(c) if shift => c.to_uppercase().collect(),
        Key::Char(c) => c.to_string(),
        Key::Text(s) => (*s).to_owned(),
        Key::Space => "␣".to_owned(),
        Key::Backspace => "←".to_owned(),
        Key::Shift => "⇧".to_owned(),
        Key::Tone(t) => t.key_label().to_owned(),
        Key::Next => "→".to_owned(),
    }
}

/// The on-screen keyboard, at the bottom of the screen where a seated visitor reaches it.
fn keyboard(lang: &str, field: Field, shift: bool, tall: bool) -> impl Bundle + use<> {
    let key_w = if tall { 78.0 } else { 104.0 };
    let rows: Vec<Vec<(Key, String)>> = keyboard_rows(field)
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|k| {
                    let label = key_label(&k, shift);
                    (k, label)
                })
                .collect()
        })
        .collect();
    let lang = lang.to_owned();
    (
        Name::new("Keyboard"),
        theme::column(
            8.0,
            Children::spawn(SpawnIter(rows.into_iter().map(move |row| {
                let lang = lang.clone();
                (
                    Node {
                        flex_direction: FlexDirection::Row,
                        column_gap: px(8),
                        ..default()
                    },
                    Children::spawn(SpawnIter(row.into_iter().map(move |(k, label)| {
                        let wide = matches!(k, Key::Space | Key::Text(_));
                        let active = k == Key::Shift && shift;
                        (
                            Name::new("Key"),
                            Button,
                            FormAction::Key(k),
                            Node {
                                width: px(if wide { key_w * 2.5 } else { key_w }),
                                height: px(64),
                                justify_content: JustifyContent::Center,
                                align_items: AlignItems::Center,
                                border_radius: BorderRadius::all(px(12)),
                                ..default()
                            },
                            BackgroundColor(if active {
                                palette::BUTTON_ACTIVE
                            } else {
                                palette::BUTTON
                            }),
                            children![theme::label(label, &lang, 30.0, palette::TEXT)],
                        )
                    }))),
                )
            }))),
        ),
    )
}
