//! Colours, fonts and the widgets every screen builds from (functions returning bundles).

use bevy::prelude::*;

pub mod palette {
    use bevy::prelude::Color;
    pub const BACKGROUND: Color = Color::srgb(0.05, 0.09, 0.12);
    pub const PANEL: Color = Color::srgba(0.02, 0.05, 0.08, 0.78);
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

pub(super) fn plugin(app: &mut App) {
    app.add_systems(PreStartup, load_font);
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
        font_size: FontSize::Px(size),
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
        Name::new("Button"),
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
