//! Presenter mode: a host of the Department of Foreign Affairs presents a deck to a visiting
//! delegation. Slides fill the screen with captions in Vietnamese and the delegation's language;
//! a clicker or the keyboard drives it (PageDown, Right, Space: forward; PageUp, Left: back;
//! B: blank; Home: first; N: the host's notes; Escape: end), and so does a swipe. The closing
//! slide shows a QR code through which members leave their contact, tagged with the delegation.
//! Ending asks for the number of attendees, writes the visit record and returns to the attract
//! loop. The visit is checkpointed in the store at every change ([`kiosk_core::presenter`]).

use bevy::input::ButtonState;
use bevy::input::keyboard::KeyboardInput;
use bevy::input::touch::{TouchInput, TouchPhase};
use bevy::prelude::*;
use kiosk_core::presenter::{CHECKPOINT_KEY, Checkpoint, Move, Presentation};
use kiosk_core::recorder::Durable;
use protocol::{QrPurpose, RecordBody, ViewOrigin};

use super::Screen;
use crate::kiosk::{Content, Services};
use crate::media::{Media, MediaSlot};
use crate::theme::{self, palette};

/// Pixels a touch must travel sideways to turn the slide (at 1080p).
const SWIPE_PX: f32 = 120.0;
/// The host's language: texts only the host reads are in Vietnamese.
const HOST_LANG: &str = "vi";
/// A checkpoint at least this often while a slide stays on screen.
const CHECKPOINT_EVERY_S: f32 = 15.0;
const QR_PX: f32 = 420.0;

/// The presentation under way, if any.
#[derive(Resource, Default)]
pub struct Presenting {
    show: Option<Presentation>,
    /// The end panel (attendees, save) is open.
    ending: bool,
    notes: bool,
    /// The visit record being written, and the slide on screen when the host ended: its view
    /// is recorded once the visit is durable (a failed save, tried again, counts it once).
    saving: Durable<Option<kiosk_core::presenter::Left>>,
    save_failed: bool,
    swipe_from: Option<Vec2>,
    since_checkpoint_s: f32,
    /// The closing slide's QR code, made once per visit; `None` inside when not enrolled.
    qr: Option<Option<(Handle<Image>, String)>>,
}

impl Presenting {
    /// Starts presenting to a delegation (from the staff overlay). False if its deck is missing.
    pub fn start(&mut self, content: &Content, services: &Services, delegation: &str) -> bool {
        let pack = &content.pack.pack;
        let Some(d) = pack.delegation(delegation) else {
            return false;
        };
        let Some(p) = Presentation::start(pack, d, services.mono_ms()) else {
            return false;
        };
        info!(delegation, visit = %p.visit_id, "presenting");
        *self = Presenting {
            show: Some(p),
            ..default()
        };
        self.checkpoint(services);
        true
    }

    fn checkpoint(&mut self, services: &Services) {
        self.since_checkpoint_s = 0.0;
        if let Some(p) = &self.show {
            let cp = Checkpoint::new(p, services.recorder.clock().now());
            services
                .recorder
                .checkpoint(CHECKPOINT_KEY, Some(cp.to_json()));
        }
    }
}

#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
enum PresenterAction {
    End,
    Resume,
    Save,
    Attendees(i32),
}

#[derive(Component)]
struct PresenterRoot;

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Presenting>()
        .add_systems(OnExit(Screen::Presenter), forget)
        .add_systems(
            Update,
            (keys_and_swipes, finish_saving, keep_checkpoint, draw)
                .chain()
                .run_if(in_state(Screen::Presenter)),
        )
        .add_systems(Last, checkpoint_on_exit)
        .add_observer(press_presenter);
}

/// Leaving presenter mode any other way than "save" (staff chose an event from the overlay):
/// the visit so far is recorded as interrupted, replacing its checkpoint, so it is neither
/// lost nor left for the next start. Left while a save is in flight, the visit is being
/// written already: only the last slide's view is still to record.
fn forget(mut presenting: ResMut<Presenting>, services: Res<Services>) {
    if let Some(p) = presenting.show.take() {
        if let Some(left) = presenting.saving.abandon() {
            record_left(&services, &p, left);
        } else {
            let (mut visit, left) = p.clone().finish(services.mono_ms());
            visit.ended = protocol::VisitEnd::Interrupted;
            record_left(&services, &p, left);
            // The reply is not awaited: the recorder writes it in order either way.
            let _ = services.recorder.record_clearing(
                Some(&p.delegation),
                RecordBody::Visit(Box::new(visit)),
                CHECKPOINT_KEY,
            );
        }
    }
    *presenting = Presenting::default();
}

/// Records the slide that left the screen as a presenter view of its item.
fn record_left(services: &Services, p: &Presentation, left: Option<kiosk_core::presenter::Left>) {
    if let Some(kiosk_core::presenter::Left {
        item: Some(item),
        shown_ms,
    }) = left
    {
        services.recorder.record(
            Some(&p.delegation),
            RecordBody::View {
                item,
                lang: p.lang.clone(),
                dwell_ms: shown_ms,
                origin: ViewOrigin::Presenter,
            },
        );
    }
}

fn keys_and_swipes(
    mut keys: MessageReader<KeyboardInput>,
    mut touches: MessageReader<TouchInput>,
    mut presenting: ResMut<Presenting>,
    services: Res<Services>,
    scale: Res<UiScale>,
) {
    let mut moves = Vec::new();
    for k in keys.read() {
        if k.state != ButtonState::Pressed || k.repeat {
            continue;
        }
        let m = match k.key_code {
            KeyCode::PageDown | KeyCode::ArrowRight | KeyCode::Space => Some(Move::Next),
            KeyCode::PageUp | KeyCode::ArrowLeft => Some(Move::Previous),
            KeyCode::Home => Some(Move::First),
            KeyCode::KeyB | KeyCode::Period => Some(Move::ToggleBlank),
            KeyCode::KeyN => {
                presenting.notes = !presenting.notes;
                None
            }
            KeyCode::Escape => {
                presenting.ending = !presenting.ending;
                None
            }
            // A clicker's "start/stop slideshow" button alternates Escape and F5: F5 never
            // ends, it returns to the slides.
            KeyCode::F5 => {
                presenting.ending = false;
                None
            }
            _ => None,
        };
        moves.extend(m);
    }
    for t in touches.read() {
        match t.phase {
            TouchPhase::Started => {
                presenting.bypass_change_detection().swipe_from = Some(t.position)
            }
            TouchPhase::Ended => {
                if let Some(from) = presenting.bypass_change_detection().swipe_from.take() {
                    let d = t.position - from;
                    if d.x.abs() > SWIPE_PX * scale.0 && d.x.abs() > d.y.abs() {
                        moves.push(if d.x < 0.0 {
                            Move::Next
                        } else {
                            Move::Previous
                        });
                    }
                }
            }
            TouchPhase::Canceled => presenting.bypass_change_detection().swipe_from = None,
            TouchPhase::Moved => {}
        }
    }
    // The end panel takes the touches; slides do not move behind it.
    if moves.is_empty() || presenting.ending {
        return;
    }
    let now = services.mono_ms();
    let p = presenting.show.as_mut().expect("presenting");
    let mut changed = false;
    for m in moves {
        let before = (p.current(), p.is_blank());
        let left = p.apply(m, now);
        record_left(&services, p, left);
        changed |= before != (p.current(), p.is_blank());
    }
    if changed {
        presenting.checkpoint(&services);
    } else {
        presenting.bypass_change_detection();
    }
}

fn press_presenter(
    mut press: On<Pointer<Press>>,
    actions: Query<&PresenterAction>,
    mut once: ResMut<theme::Pressed>,
    mut presenting: ResMut<Presenting>,
    services: Res<Services>,
) {
    let Some(action) = theme::pressed(&mut press, &actions, &mut once) else {
        return;
    };
    match action {
        PresenterAction::End => presenting.ending = true,
        PresenterAction::Resume => {
            presenting.ending = false;
            presenting.save_failed = false;
        }
        PresenterAction::Attendees(delta) => {
            if let Some(p) = presenting.show.as_mut() {
                let n = (p.attendees as i64 + delta as i64).max(0) as u32;
                p.set_attendees(n);
            }
            presenting.checkpoint(&services);
        }
        PresenterAction::Save => {
            let Some(p) = presenting.show.clone() else {
                return;
            };
            let (visit, left) = p.clone().finish(services.mono_ms());
            let started = presenting.saving.start(
                || {
                    info!(
                        delegation = p.delegation,
                        attendees = visit.attendees,
                        slides = visit.slides.len(),
                        "visit ended"
                    );
                    services.recorder.record_clearing(
                        Some(&p.delegation),
                        RecordBody::Visit(Box::new(visit)),
                        CHECKPOINT_KEY,
                    )
                },
                left,
            );
            if started {
                presenting.save_failed = false;
            }
        }
    }
}

/// Leaves for the attract loop once the visit is durable; on a store error, says so and stays
/// (the checkpoint is still there, so nothing is lost).
fn finish_saving(
    mut presenting: ResMut<Presenting>,
    mut next: ResMut<NextState<Screen>>,
    services: Res<Services>,
) {
    let Some(done) = presenting.saving.finish() else {
        return;
    };
    match done {
        Ok(left) => {
            if let Some(p) = presenting.show.take() {
                record_left(&services, &p, left);
            }
            services.sync_now();
            next.set(Screen::Attract);
        }
        Err(e) => {
            error!("the visit could not be stored: {e}");
            presenting.save_failed = true;
        }
    }
}

fn keep_checkpoint(time: Res<Time>, mut presenting: ResMut<Presenting>, services: Res<Services>) {
    let p = presenting.bypass_change_detection();
    if p.show.is_none() || p.saving.busy() {
        return;
    }
    p.since_checkpoint_s += time.delta_secs();
    if p.since_checkpoint_s >= CHECKPOINT_EVERY_S {
        p.checkpoint(&services);
    }
}

/// On the way out mid-visit, the checkpoint is brought up to date; the next start records it.
fn checkpoint_on_exit(
    mut exits: MessageReader<AppExit>,
    mut presenting: ResMut<Presenting>,
    services: Res<Services>,
) {
    if exits.read().next().is_some() && presenting.show.is_some() && !presenting.saving.busy() {
        presenting.checkpoint(&services);
    }
}

#[allow(clippy::too_many_arguments)]
fn draw(
    mut commands: Commands,
    mut presenting: ResMut<Presenting>,
    roots: Query<Entity, With<PresenterRoot>>,
    content: Res<Content>,
    services: Res<Services>,
    mut media: ResMut<Media>,
    mut images: ResMut<Assets<Image>>,
) {
    if !presenting.is_changed() {
        return;
    }
    for e in &roots {
        commands.entity(e).despawn();
    }
    let Some(p) = presenting.show.clone() else {
        return;
    };
    let pack = &content.pack;
    let lang = p.lang.clone();
    let root = commands
        .spawn((
            Name::new("Presenter"),
            PresenterRoot,
            DespawnOnExit(Screen::Presenter),
            Node {
                width: percent(100),
                height: percent(100),
                flex_direction: FlexDirection::Column,
                ..default()
            },
            BackgroundColor(Color::BLACK),
        ))
        .id();

    if p.is_blank() {
        // Black, and nothing else: the room looks at the host.
    } else if p.is_closing() {
        if presenting.qr.is_none() {
            let made = super::signed_qr_for(
                &services,
                &p.delegation,
                &mut images,
                QrPurpose::Interest,
                "",
                &lang,
            );
            let qr = made.map(|(h, short, nonce)| {
                if let Some(show) = presenting.bypass_change_detection().show.as_mut() {
                    show.qr_shown(nonce);
                }
                (h, short)
            });
            presenting.bypass_change_detection().qr = Some(qr);
            presenting.bypass_change_detection().checkpoint(&services);
        }
        let qr = presenting.qr.clone().flatten();
        let mut lines: Vec<(String, String, f32, Color)> = Vec::new();
        for l in bilingual(&lang) {
            lines.push((
                content.t(l, "presenter-closing-title"),
                l.to_owned(),
                60.0,
                palette::ACCENT,
            ));
            // "Scan the code" only where there is a code.
            if qr.is_some() {
                lines.push((
                    content.t(l, "presenter-closing-hint"),
                    l.to_owned(),
                    36.0,
                    palette::TEXT,
                ));
            }
        }
        let closing = commands
            .spawn((
                Name::new("Closing slide"),
                Node {
                    width: percent(100),
                    height: percent(100),
                    flex_direction: FlexDirection::Column,
                    justify_content: JustifyContent::Center,
                    align_items: AlignItems::Center,
                    row_gap: px(18),
                    ..default()
                },
                BackgroundColor(palette::BACKGROUND),
                Children::spawn(SpawnIter(
                    lines
                        .into_iter()
                        .map(|(text, l, size, color)| theme::label(text, &l, size, color)),
                )),
            ))
            .id();
        commands.entity(root).add_child(closing);
        match qr {
            Some((handle, short)) => {
                let image = commands
                    .spawn((
                        Name::new("Closing QR"),
                        ImageNode::new(handle),
                        Node {
                            width: px(QR_PX),
                            height: px(QR_PX),
                            margin: UiRect::top(px(24)),
                            ..default()
                        },
                    ))
                    .id();
                let url = commands
                    .spawn(theme::label(short, HOST_LANG, 24.0, palette::MUTED))
                    .id();
                commands.entity(closing).add_children(&[image, url]);
            }
            None => {
                let note = commands
                    .spawn(theme::label(
                        content.t(HOST_LANG, "presenter-no-qr"),
                        HOST_LANG,
                        26.0,
                        palette::MUTED,
                    ))
                    .id();
                commands.entity(closing).add_child(note);
            }
        }
    } else if let Some(item) = p.item().and_then(|id| pack.pack.item(id)) {
        let slide = pack
            .pack
            .deck(&p.deck)
            .and_then(|d| d.slides.get(p.current()));
        let picture = slide
            .and_then(|s| item.media.get(s.media))
            .or(item.media.first())
            .map(|m| pack.media_path(m));
        // The next slide's picture is decoded while this one shows.
        if let Some(next) = pack
            .pack
            .deck(&p.deck)
            .and_then(|d| d.slides.get(p.current() + 1))
            .and_then(|s| {
                pack.pack
                    .item(&s.item)
                    .and_then(|i| i.media.get(s.media).or(i.media.first()))
            })
        {
            let _ = media.get(&pack.media_path(next), 1920, 1080);
        }
        let stage = commands
            .spawn((
                Name::new("Slide picture"),
                Node {
                    width: percent(100),
                    flex_grow: 1.0,
                    min_height: px(0),
                    justify_content: JustifyContent::Center,
                    align_items: AlignItems::Center,
                    overflow: Overflow::clip(),
                    ..default()
                },
            ))
            .id();
        if let Some(path) = picture {
            let image = commands
                .spawn((
                    ImageNode::default().with_color(Color::NONE),
                    Node {
                        height: percent(100),
                        max_width: percent(100),
                        ..default()
                    },
                    MediaSlot {
                        path,
                        max: (1920, 1080),
                    },
                ))
                .id();
            commands.entity(stage).add_child(image);
        }
        let mut captions = Vec::new();
        for l in bilingual(&lang) {
            let text = pack.text(item, l);
            let title = text.map(|t| t.title.clone()).unwrap_or_default();
            let summary = text.map(|t| t.summary.clone()).unwrap_or_default();
            captions.push((l.to_owned(), title, summary));
        }
        let band = commands
            .spawn((
                Name::new("Captions"),
                Node {
                    width: percent(100),
                    flex_direction: FlexDirection::Column,
                    row_gap: px(14),
                    padding: UiRect::axes(px(56), px(28)),
                    ..default()
                },
                BackgroundColor(palette::PANEL),
                Children::spawn(SpawnIter(captions.into_iter().map(
                    |(l, title, summary)| {
                        (
                            Node {
                                flex_direction: FlexDirection::Column,
                                row_gap: px(4),
                                ..default()
                            },
                            children![
                                theme::label(title, &l, 40.0, palette::ACCENT),
                                theme::label(summary, &l, 26.0, palette::TEXT),
                            ],
                        )
                    },
                ))),
            ))
            .id();
        commands.entity(root).add_children(&[stage, band]);
    }

    // The slide number, small, for the host.
    if !p.is_blank() {
        let counter = commands
            .spawn((
                Name::new("Slide number"),
                Node {
                    position_type: PositionType::Absolute,
                    top: px(20),
                    right: px(28),
                    ..default()
                },
                children![theme::label(
                    format!("{} / {}", p.current() + 1, p.slide_count()),
                    HOST_LANG,
                    24.0,
                    palette::MUTED
                )],
            ))
            .id();
        commands.entity(root).add_child(counter);
    }

    if presenting.notes && !p.is_blank() && !p.is_closing() {
        let notes = pack
            .pack
            .deck(&p.deck)
            .and_then(|d| d.slides.get(p.current()))
            .map(|s| pack.localised(&s.notes, HOST_LANG).to_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| content.t(HOST_LANG, "presenter-no-notes"));
        let strip = commands
            .spawn((
                Name::new("Notes"),
                // Below the end button and the slide number.
                Node {
                    position_type: PositionType::Absolute,
                    top: px(96),
                    left: px(0),
                    width: percent(100),
                    padding: UiRect::axes(px(40), px(16)),
                    ..default()
                },
                BackgroundColor(Color::srgba(0.0, 0.0, 0.0, 0.8)),
                children![theme::label(notes, HOST_LANG, 28.0, palette::TEXT)],
            ))
            .id();
        commands.entity(root).add_child(strip);
    }

    if presenting.ending {
        let delegation = pack.pack.delegation(&p.delegation);
        let name = delegation
            .map(|d| pack.localised(&d.name, HOST_LANG).to_owned())
            .unwrap_or_else(|| p.delegation.clone());
        let mut lines = vec![
            (name, 36.0, palette::ACCENT),
            (
                content.t(HOST_LANG, "presenter-attendees"),
                28.0,
                palette::TEXT,
            ),
            (p.attendees.to_string(), 64.0, palette::TEXT),
        ];
        if presenting.save_failed {
            lines.push((
                content.t(HOST_LANG, "presenter-save-failed"),
                26.0,
                palette::ACCENT,
            ));
        }
        let steps = [-10, -1, 1, 10].map(|d| {
            (
                if d > 0 {
                    format!("+{d}")
                } else {
                    format!("−{}", -d)
                },
                PresenterAction::Attendees(d),
            )
        });
        let finish = [
            (
                content.t(HOST_LANG, "presenter-save"),
                PresenterAction::Save,
            ),
            (
                content.t(HOST_LANG, "presenter-resume"),
                PresenterAction::Resume,
            ),
        ];
        let panel = commands
            .spawn(theme::overlay(
                "End of visit",
                Children::spawn((
                    SpawnIter(
                        lines
                            .into_iter()
                            .map(|(t, size, color)| theme::label(t, HOST_LANG, size, color)),
                    ),
                    Spawn(row(steps.into_iter())),
                    Spawn(row(finish.into_iter())),
                )),
            ))
            .id();
        commands.entity(root).add_child(panel);
    } else if !p.is_blank() {
        // A quiet button for a host without a keyboard.
        let end = commands
            .spawn((
                Name::new("End button"),
                Node {
                    position_type: PositionType::Absolute,
                    top: px(12),
                    left: px(160),
                    ..default()
                },
                children![theme::button_colored(
                    content.t(HOST_LANG, "presenter-end"),
                    HOST_LANG,
                    24.0,
                    Color::srgba(0.12, 0.36, 0.45, 0.55),
                    PresenterAction::End,
                )],
            ))
            .id();
        commands.entity(root).add_child(end);
    }
}

fn row(
    buttons: impl Iterator<Item = (String, PresenterAction)> + Send + Sync + 'static,
) -> impl Bundle {
    (
        Node {
            flex_direction: FlexDirection::Row,
            column_gap: px(16),
            justify_content: JustifyContent::Center,
            ..default()
        },
        Children::spawn(SpawnIter(
            buttons.map(|(label, action)| theme::button(label, HOST_LANG, 30.0, action)),
        )),
    )
}

/// Vietnamese first, then the delegation's language (once, if it is Vietnamese).
fn bilingual(lang: &str) -> Vec<&str> {
    if lang == "vi" {
        vec!["vi"]
    } else {
        vec!["vi", lang]
    }
}
