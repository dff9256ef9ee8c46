//! A picture of the screen when staff ask for one on the kiosk's page: taken between frames,
//! encoded as a small JPEG on a thread of its own, handed to the sync worker, which sends it
//! with its next round. Never while a visitor's details are on screen (the lead form, the badge
//! question, the thank-you with their name): the picture waits until the screen changes.

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};

use crate::kiosk::Services;
use crate::screens::Screen;

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Update, take_when_asked);
}

/// Screens that show what a visitor typed or scanned.
fn shows_personal_data(screen: Screen) -> bool {
    matches!(screen, Screen::Form | Screen::Badge | Screen::Thanks)
}

fn take_when_asked(
    mut commands: Commands,
    services: Res<Services>,
    screen: Res<State<Screen>>,
    mut asked: Local<bool>,
) {
    *asked |= services.take_screenshot_request();
    if !*asked || shows_personal_data(*screen.get()) {
        return;
    }
    *asked = false;
    let sink = services.screenshot_sink();
    commands
        .spawn(Screenshot::primary_window())
        .observe(move |cap: On<ScreenshotCaptured>| {
            let image = cap.image.clone();
            let sink = sink.clone();
            // Scaling and encoding take tens of milliseconds: not on the render thread.
            let spawned = std::thread::Builder::new()
                .name("screenshot".into())
                .spawn(move || {
                    let jpeg = image
                        .try_into_dynamic()
                        .map_err(|e| e.to_string())
                        .and_then(|img| kiosk_core::media::screenshot_jpeg(&img.to_rgba8()));
                    match jpeg {
                        Ok(jpeg) => sink.deliver(jpeg),
                        Err(e) => warn!("the screenshot staff asked for failed: {e}"),
                    }
                });
            if let Err(e) = spawned {
                warn!("no thread for the screenshot: {e}");
            }
        });
}
