//! Colours, fonts and the widgets every screen builds from (functions returning bundles).

use bevy::prelude::*;

pub mod palette {
    use bevy::prelude::Color;
    pub const BACKGROUND: Color = Color::srgb(0.05, 0.09, 0.12);
    pub const PANEL: Color = Color::srgba(0.02, 0.05, 0.08, 0.78);
    /// Over the screen beneath an overlay.
    pub const DIM: Color = Color::srgba(0.0, 0.0, 0.0, 0.85);
    pub const TEXT: Color = Color::srgb(0.97, 0.97, 0.95);
    pub const MUTED: Color = Color::srgb(0.78, 0.82, 0.84);
    pub const ACCENT: Color = Color::srgb(0.95, 0.66, 0.22);
    pub const BUTTON: Color = Color::srgb(0.12, 0.36, 0.45);
    pub const BUTTON_ACTIVE: Color = Color::srgb(0.95, 0.66, 0.22);
}

/// The font file's bytes, read before the app started.
#[derive(Resource)]
pub struct FontBytes(pub Option<Vec<u8>>);

/// Keeps the font asset alive.
#[derive(Resource)]
pub struct Fonts(#[allow(dead_code)] pub Option<Handle<Font>>);

/// How the visitor asked to see the screens: larger text, high contrast. Chosen on the home
/// screen, forgotten with the visit.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    pub large_text: bool,
    pub high_contrast: bool,
}

/// Text sizes are given in pixels at 1080p and resolved against the `RemSize`: this is the
/// size of one "pixel" of text, and large text is this much larger.
const REM: f32 = 20.0;
pub const LARGE_TEXT: f32 = 1.3;

/// The colours of high contrast: white and yellow on black, an outline on every control.
pub mod contrast {
    use bevy::prelude::Color;
    pub const BACKGROUND: Color = Color::BLACK;
    pub const TEXT: Color = Color::WHITE;
    pub const ACCENT: Color = Color::srgb(1.0, 0.86, 0.0);
    pub const OUTLINE_PX: f32 = 3.0;
}

/// Marks a node in its active state (a focused field, a ticked box, the thank-you's tick), which
/// high contrast shows with a yellow outline, since it paints every background black.
#[derive(Component)]
pub struct Active(pub bool);

/// What the look last painted as a node's background, and as its text's colour, so that a
/// colour a screen sets afterwards (a field taking the focus) is told from the look's own.
/// Two components, so that a node with both never takes one for the other.
#[derive(Component)]
struct PaintedBackground(Color);

#[derive(Component)]
struct PaintedText(Color);

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Look>()
        .init_resource::<Pressed>()
        .add_systems(First, release_press)
        .add_systems(PreStartup, load_font)
        .add_systems(
            PostUpdate,
            (apply_text_size, apply_contrast).before(bevy::ui::UiSystems::Prepare),
        );
}

/// One press, one action per frame: a second finger in the same frame would press a control
/// of the screen being left.
#[derive(Resource, Default)]
pub struct Pressed(bool);

fn release_press(mut pressed: ResMut<Pressed>) {
    if pressed.0 {
        pressed.0 = false;
    }
}

/// What the control under a press does: the control's action `A`, whether the finger landed
/// on it or on its label. Touch screens have no hover, so controls act on the press, not on
/// the release. The press goes no further up once a control took it, and only the first press
/// of a frame acts.
///
/// Each screen observes presses (`app.add_observer`) and asks this for its own kind of action.
pub fn pressed<A: Component + Clone>(
    press: &mut On<Pointer<Press>>,
    actions: &Query<&A>,
    once: &mut Pressed,
) -> Option<A> {
    if press.button != PointerButton::Primary {
        return None;
    }
    let action = actions.get(press.event_target()).ok()?.clone();
    press.propagate(false);
    if std::mem::replace(&mut once.0, true) {
        return None;
    }
    Some(action)
}

fn apply_text_size(look: Res<Look>, mut rem: ResMut<bevy::text::RemSize>) {
    let want = if look.large_text {
        REM * LARGE_TEXT
    } else {
        REM
    };
    if rem.0 != want {
        rem.0 = want;
    }
}

fn same(a: Color, b: Color) -> bool {
    a.to_srgba() == b.to_srgba()
}

/// In high contrast, every background a screen paints becomes black (controls get a white
/// outline, a yellow one when active), every text white (yellow where it was the accent).
#[allow(clippy::type_complexity)]
fn apply_contrast(
    look: Res<Look>,
    mut clear: ResMut<ClearColor>,
    mut commands: Commands,
    mut backgrounds: Query<
        (
            Entity,
            &mut BackgroundColor,
            Option<&PaintedBackground>,
            Has<Button>,
            Option<&Active>,
        ),
        Changed<BackgroundColor>,
    >,
    mut texts: Query<(Entity, &mut TextColor, Option<&PaintedText>), Changed<TextColor>>,
) {
    let want = if look.high_contrast {
        contrast::BACKGROUND
    } else {
        palette::BACKGROUND
    };
    if !same(clear.0, want) {
        clear.0 = want;
    }
    if !look.high_contrast {
        return;
    }
    for (e, mut bg, painted, button, marked) in &mut backgrounds {
        let marked = marked.is_some_and(|a| a.0);
        if painted.is_some_and(|p| same(p.0, bg.0)) || bg.0.alpha() == 0.0 {
            continue;
        }
        let active = marked || same(bg.0, palette::BUTTON_ACTIVE) || same(bg.0, palette::ACCENT);
        let black =
            contrast::BACKGROUND.with_alpha(if button { 1.0 } else { bg.0.alpha().max(0.92) });
        bg.0 = black;
        commands.entity(e).insert(PaintedBackground(black));
        if button || marked {
            // An outline, not a border: it takes no room, so nothing is laid out again.
            let edge = if active {
                contrast::ACCENT
            } else {
                contrast::TEXT
            };
            let width = if active { 2.0 } else { 1.0 } * contrast::OUTLINE_PX;
            commands
                .entity(e)
                .insert(Outline::new(px(width), px(0), edge));
        }
    }
    for (e, mut color, painted) in &mut texts {
        if painted.is_some_and(|p| same(p.0, color.0)) {
            continue;
        }
        let c = if same(color.0, palette::ACCENT) {
            contrast::ACCENT
        } else {
            contrast::TEXT
        };
        color.0 = c;
        commands.entity(e).insert(PaintedText(c));
    }
}

/// The three bands of a portrait screen (the reach rule, `kiosk_core::layout`): the top
/// quarter for what is only looked at (titles, pictures), the middle half for every control
/// with Back and Home on its bottom edge (`nav`), the bottom quarter for what is looked at or
/// scanned.
pub fn bands(
    top: impl Bundle,
    middle: impl Bundle,
    nav: impl Bundle,
    bottom: impl Bundle,
) -> impl Bundle {
    let band = |name: &'static str, share: f32, justify: JustifyContent| {
        (
            Name::new(name),
            Node {
                width: percent(100),
                height: percent(share),
                flex_shrink: 0.0,
                flex_direction: FlexDirection::Column,
                justify_content: justify,
                align_items: AlignItems::Center,
                padding: UiRect::axes(px(40), px(24)),
                row_gap: px(16),
                ..default()
            },
        )
    };
    (
        Node {
            width: percent(100),
            height: percent(100),
            flex_direction: FlexDirection::Column,
            ..default()
        },
        children![
            (
                band(
                    "Top band",
                    100.0 * kiosk_core::layout::REACH_TOP,
                    JustifyContent::Center
                ),
                children![top]
            ),
            (
                band(
                    "Reach band",
                    100.0 * (kiosk_core::layout::REACH_BOTTOM - kiosk_core::layout::REACH_TOP),
                    JustifyContent::SpaceBetween
                ),
                children![middle, nav]
            ),
            (
                band(
                    "Bottom band",
                    100.0 * (1.0 - kiosk_core::layout::REACH_BOTTOM),
                    JustifyContent::Center
                ),
                children![bottom]
            ),
        ],
    )
}

/// A column of things centred on one another, `gap` pixels apart (at 1080p).
pub fn column(gap: f32, children: impl Bundle) -> impl Bundle {
    (
        Node {
            flex_direction: FlexDirection::Column,
            align_items: AlignItems::Center,
            row_gap: px(gap),
            ..default()
        },
        children,
    )
}

/// A [`column`] as wide as its container (its paragraphs wrap to that width).
pub fn wide_column(gap: f32, children: impl Bundle) -> impl Bundle {
    (
        Node {
            width: percent(100),
            flex_direction: FlexDirection::Column,
            align_items: AlignItems::Center,
            row_gap: px(gap),
            ..default()
        },
        children,
    )
}

/// A panel over the whole screen (the staff overlay, the end of a delegation's visit): the
/// screen beneath is dimmed and takes no press, since a press stops at the topmost node.
pub fn overlay(name: &'static str, children: impl Bundle) -> impl Bundle {
    (
        Name::new(name),
        Node {
            position_type: PositionType::Absolute,
            width: percent(100),
            height: percent(100),
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            ..default()
        },
        BackgroundColor(palette::DIM),
        children![(
            Name::new(format!("{name} panel")),
            Node {
                flex_direction: FlexDirection::Column,
                align_items: AlignItems::Center,
                row_gap: px(16),
                padding: UiRect::all(px(44)),
                max_width: px(1400),
                border_radius: BorderRadius::all(px(24)),
                ..default()
            },
            BackgroundColor(palette::BACKGROUND),
            children,
        )],
    )
}

/// A row of controls (Back, Home, the screen's own), centred, wrapping when it must.
///
/// As wide as its container: a row sized to its controls can come out a hair narrower than
/// their sum at some scales (1280×720 under cage), and then wraps the last one.
pub fn row(children: impl Bundle) -> impl Bundle {
    (
        Name::new("Row"),
        Node {
            width: percent(100),
            flex_direction: FlexDirection::Row,
            flex_wrap: FlexWrap::Wrap,
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            column_gap: px(24),
            row_gap: px(16),
            ..default()
        },
        children,
    )
}

fn load_font(mut commands: Commands, bytes: Res<FontBytes>, mut fonts: ResMut<Assets<Font>>) {
    let handle = bytes.0.clone().map(|b| fonts.add(Font::from_bytes(b)));
    commands.insert_resource(Fonts(handle));
}

/// The text style of a language at a size: the face of Noto Sans CJK that draws it
/// ([`kiosk_core::fonts::family`]).
pub fn font(lang: &str, size: f32) -> TextFont {
    TextFont {
        font: FontSource::Family(kiosk_core::fonts::family(lang).into()),
        // Resolved against the `RemSize`, which large text enlarges.
        font_size: FontSize::Rem(size / REM),
        ..default()
    }
}

/// A line of text in a language.
pub fn label<T: Into<String>>(
    text: T,
    lang: &str,
    size: f32,
    color: Color,
) -> impl Bundle + use<T> {
    let text: String = text.into();
    (Text::new(text), font(lang, size), TextColor(color))
}

/// A paragraph: a text as wide as its container, wrapped to it (a text sized by its own
/// content can be measured at one width and drawn at another).
pub fn paragraph<T: Into<String>>(
    text: T,
    lang: &str,
    size: f32,
    color: Color,
) -> impl Bundle + use<T> {
    (
        label(text, lang, size, color),
        Node {
            width: percent(100),
            ..default()
        },
    )
}

/// A button: at least 64 px high at 1080p, with a label; `action` marks what it does.
pub fn button<A: Component, T: Into<String>>(
    text: T,
    lang: &str,
    size: f32,
    action: A,
) -> impl Bundle + use<A, T> {
    let text: String = text.into();
    button_colored(text, lang, size, palette::BUTTON, action)
}

pub fn button_colored<A: Component, T: Into<String>>(
    text: T,
    lang: &str,
    size: f32,
    color: Color,
    action: A,
) -> impl Bundle + use<A, T> {
    let text: String = text.into();
    (
        Name::new(format!("Button {text}")),
        Button,
        action,
        Node {
            min_height: px(72),
            min_width: px(160),
            padding: UiRect::axes(px(28), px(12)),
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            border_radius: BorderRadius::all(px(36)),
            ..default()
        },
        BackgroundColor(color),
        children![label(text, lang, size, palette::TEXT)],
    )
}
