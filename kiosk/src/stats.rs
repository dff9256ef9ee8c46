//! Frame statistics for the benchmark (`kiosk --frame-stats FILE`): prints `first-frame` on
//! standard output once the attract loop's first frame has been drawn, and writes every frame
//! time, and those during crossfades, to FILE on exit.

use std::path::PathBuf;

use bevy::diagnostic::FrameCount;
use bevy::prelude::*;

use crate::screens::{Fading, Screen};

#[derive(Resource)]
pub struct FrameStats {
    path: PathBuf,
    all_ms: Vec<f32>,
    fade_ms: Vec<f32>,
    first_frame_at: Option<u32>,
}

pub struct StatsPlugin(pub PathBuf);

impl Plugin for StatsPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(FrameStats {
            path: self.0.clone(),
            all_ms: Vec::new(),
            fade_ms: Vec::new(),
            first_frame_at: None,
        })
        .add_systems(Last, (collect, write_on_exit).chain());
    }
}

fn collect(
    time: Res<Time<Real>>,
    frames: Res<FrameCount>,
    screen: Res<State<Screen>>,
    fading: Res<Fading>,
    mut stats: ResMut<FrameStats>,
) {
    let in_attract = *screen.get() == Screen::Attract;
    // Rendering is pipelined: when the app reaches its frame N + 2, frame N is on screen.
    match stats.first_frame_at {
        None if in_attract => stats.first_frame_at = Some(frames.0),
        Some(at) if frames.0 == at + 2 => println!("first-frame"),
        _ => {}
    }
    if frames.0 < 3 {
        return;
    }
    let ms = time.delta_secs() * 1000.0;
    stats.all_ms.push(ms);
    if in_attract && fading.0 {
        stats.fade_ms.push(ms);
    }
}

fn write_on_exit(mut exits: MessageReader<AppExit>, stats: Res<FrameStats>) {
    if exits.read().next().is_none() {
        return;
    }
    let json = format!(
        "{{\"all_ms\":{:?},\"fade_ms\":{:?}}}",
        stats.all_ms, stats.fade_ms
    );
    if let Err(e) = std::fs::write(&stats.path, json) {
        error!(
            "cannot write the frame statistics {}: {e}",
            stats.path.display()
        );
    }
}
