//! The app plugin: window, camera, UI scale, and every feature plugin.

use bevy::prelude::*;
use bevy::window::{ExitCondition, WindowResolution};
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
    // The layout is designed for 1080 pixels on the short side; larger screens scale it.
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
