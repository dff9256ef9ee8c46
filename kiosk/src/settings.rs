//! Settings staff give this kiosk on the server, applied as they arrive, without a restart:
//! the event (its playlist, languages and the event records carry), the idle timeout, the
//! languages and their order, the attract loop's item duration and the staff PIN. The sync
//! worker has already kept them in the store, so they also hold after a restart.

use bevy::prelude::*;

use crate::kiosk::{Content, Lang, Services, Session};
use crate::screens::Screen;
use crate::staff::StaffPin;

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Update, apply_new_settings);
}

fn apply_new_settings(
    services: Res<Services>,
    mut content: ResMut<Content>,
    mut lang: ResMut<Lang>,
    mut session: ResMut<Session>,
    mut pin: ResMut<StaffPin>,
    screen: Res<State<Screen>>,
    mut next: ResMut<NextState<Screen>>,
) {
    let Some(settings) = services.take_new_settings() else {
        return;
    };
    info!(
        revision = settings.revision,
        event = ?settings.event_id,
        "applying settings from the server"
    );
    if let Some(idle) = settings.idle_seconds() {
        session.set_idle_ms(u64::from(idle) * 1000);
    }
    if let Some(hash) = &settings.staff_pin_hash {
        pin.0 = Some(hash.clone());
    }
    let languages_before = content.languages.clone();
    content.event = settings.event_id.clone();
    content.settings = Some(settings);
    content.refresh_languages();
    // A visitor keeps the language they are reading; the attract loop speaks the kiosk's
    // (a new event's first language), and returns to it at every reset.
    if *screen.get() == Screen::Attract {
        content.reset_language(&mut lang);
    }
    // Screens show the languages offered: the one on screen is drawn again. A delegation's
    // presentation is left alone, and so is the attract loop, which reads them every frame
    // (entering it again would close the staff overlay staff may be using over it).
    if content.languages != languages_before
        && !matches!(screen.get(), Screen::Presenter | Screen::Attract)
    {
        next.set(*screen.get());
    }
}
