//! The app plugin: window, camera, UI scale, and every feature plugin.

use bevy::prelude::*;
use bevy::window::{
    ExitCondition, PrimaryWindow, RawHandleWrapper, WindowResized, WindowResolution,
};
use bevy::winit::WinitSettings;
use kiosk_core::session::Visitor;

use crate::kiosk::{Content, Lang, Services, Session, Setup};

pub fn build(
    setup: Setup,
    (width, height): (u32, u32),
    fullscreen: bool,
    script: Option<(std::path::PathBuf, Vec<kiosk_core::script::Line>)>,
) -> App {
    let mut app = App::new();
    let window = Window {
        title: "Đồng Nai".into(),
        resolution: WindowResolution::new(width, height).with_scale_factor_override(1.0),
        mode: if fullscreen {
            bevy::window::WindowMode::BorderlessFullscreen(bevy::window::MonitorSelection::Primary)
        } else {
            bevy::window::WindowMode::Windowed
        },
        resizable: false,
        ..default()
    };
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: Some(window),
                exit_condition: ExitCondition::OnPrimaryClosed,
                ..default()
            })
            .set(bevy::log::LogPlugin {
                filter: "wgpu=error,naga=warn,bevy_render=warn,bevy_winit=warn".into(),
                ..default()
            }),
    )
    .insert_resource(WinitSettings::continuous())
    .insert_resource(ClearColor(crate::theme::palette::BACKGROUND))
    // The layout is designed for 1080 pixels on the short side; other screens scale it (and
    // `fit_to_window` follows the size the window really gets).
    .insert_resource(UiScale(width.min(height) as f32 / 1080.0))
    .insert_resource(Session(Visitor::new(setup.idle_ms, setup.countdown_ms)))
    .insert_resource(Lang(setup.lang.clone()))
    .insert_resource(crate::theme::FontBytes(setup.font));
    let clock = setup.recorder.clock().clone();
    app.insert_resource(Services::new(
        setup.recorder,
        setup.recorder_thread,
        setup.identity,
        setup.sync,
        setup.store_path,
    ));
    app.insert_resource(crate::staff::StaffPin(setup.pin_hash));
    app.insert_resource(Content {
        pack: setup.pack,
        i18n: setup.i18n,
        event: setup.event,
        languages: setup.languages,
        settings: setup.settings,
        clock,
        preferred_lang: setup.preferred_lang,
    });
    app.add_systems(Startup, spawn_camera);
    app.add_systems(First, (fit_to_window, say_window_system));
    app.add_plugins((
        crate::theme::plugin,
        crate::media::plugin,
        crate::screens::plugin,
        crate::idle::plugin,
        crate::scanner::plugin,
        crate::staff::plugin,
        crate::settings::plugin,
        crate::screenshot::plugin,
        crate::watchdog::plugin,
    ));
    if let Some((path, lines)) = script {
        app.add_plugins(crate::script::ScriptPlugin { path, lines });
    }
    app
}

fn spawn_camera(mut commands: Commands) {
    commands.spawn((Name::new("Camera"), Camera2d));
}

/// The scale follows the window's real size: a compositor (cage makes its one window fill
/// the screen) or a full-screen mode sets it, whatever size was asked for.
fn fit_to_window(
    mut resized: MessageReader<WindowResized>,
    windows: Query<&Window, With<PrimaryWindow>>,
    mut scale: ResMut<UiScale>,
) {
    if resized.read().last().is_none() {
        return;
    }
    let Ok(window) = windows.single() else {
        return;
    };
    let fit = window.width().min(window.height()) / 1080.0;
    if fit > 0.0 && (scale.0 - fit).abs() > 1e-4 {
        info!(
            width = window.width(),
            height = window.height(),
            scale = fit,
            "the window's size changed: the layout follows"
        );
        scale.0 = fit;
    }
}

/// Logs once which window system the window opened on: winit takes Wayland under a Wayland
/// compositor (cage), X11 under an X server (Xvfb).
fn say_window_system(opened: Query<&RawHandleWrapper, Added<RawHandleWrapper>>) {
    use winit::raw_window_handle::RawDisplayHandle;
    for handle in &opened {
        let system = match handle.get_display_handle() {
            RawDisplayHandle::Wayland(_) => "Wayland",
            RawDisplayHandle::Xlib(_) | RawDisplayHandle::Xcb(_) => "X11",
            _ => "another window system",
        };
        info!("window opened on {system}");
    }
}
