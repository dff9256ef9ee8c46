//! Settings staff give a kiosk on the server ([`KioskSettings`]), put together with the
//! kiosk's own configuration and its pack. The sync worker keeps them in the store
//! ([`crate::store::Store::save_settings_if_newer`]); the app applies them without a restart.
//!
//! The rule: a value staff set on the server wins over the configuration file, and the newest
//! of "staff assigned an event on the server" and "staff chose an event in the kiosk's
//! overlay" wins, because both write the store's event.

pub use protocol::sync::KioskSettings;

/// The languages to offer: those of `available` (the pack's, for the event) that `wanted`
/// names, in `wanted`'s order; all of `available` when `wanted` is absent or names none of
/// them (a kiosk never offers no language).
pub fn languages(available: Vec<String>, wanted: Option<&[String]>) -> Vec<String> {
    let Some(wanted) = wanted else {
        return available;
    };
    let mut chosen: Vec<String> = Vec::new();
    for w in wanted {
        if available.contains(w) && !chosen.contains(w) {
            chosen.push(w.clone());
        }
    }
    if chosen.is_empty() { available } else { chosen }
}

/// The language of the attract loop, which every new visitor starts in: the one the kiosk was
/// started with (`--lang`) when it is offered, else the first offered (the event's, in the
/// server's order). Never the last visitor's: the loop returns to it at every reset.
pub fn attract_language(preferred: Option<&str>, offered: &[String]) -> String {
    preferred
        .filter(|p| offered.iter().any(|o| o == p))
        .map(str::to_owned)
        .or_else(|| offered.first().cloned())
        .unwrap_or_else(|| "vi".to_owned())
}

/// Milliseconds without a touch before the attract loop returns.
pub fn idle_ms(config_seconds: u64, settings: Option<&KioskSettings>) -> u64 {
    settings
        .and_then(KioskSettings::idle_seconds)
        .map(u64::from)
        .unwrap_or(config_seconds)
        .saturating_mul(1000)
}

/// Seconds each attract-loop item stays on screen: the server's setting, else the pack's.
pub fn attract_item_seconds(pack_seconds: f32, settings: Option<&KioskSettings>) -> f32 {
    settings
        .and_then(KioskSettings::attract_item_seconds)
        .map(|s| s as f32)
        .unwrap_or(pack_seconds)
}

/// The event to serve at start: once the server has sent settings, the store's event (the
/// newest of the server's and the overlay's choice) wins over the configuration's; before
/// that, the configuration (or `--event`) wins over what the overlay stored.
pub fn boot_event(
    configured: Option<String>,
    stored: Option<String>,
    settings: Option<&KioskSettings>,
) -> Option<String> {
    if settings.is_some_and(|s| s.revision > 0) {
        stored
    } else {
        configured.or(stored)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_attract_language_is_the_kiosks_not_the_last_visitors() {
        let offered = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let five = offered(&["ko", "en", "vi", "ja", "zh-Hans"]);
        assert_eq!(super::attract_language(None, &five), "ko");
        assert_eq!(super::attract_language(Some("ja"), &five), "ja");
        // Started in a language the event no longer offers: the event's first.
        assert_eq!(
            super::attract_language(Some("ja"), &offered(&["en", "vi"])),
            "en"
        );
        assert_eq!(super::attract_language(Some("ja"), &[]), "vi");
    }

    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn languages_follow_the_servers_order_within_the_pack() {
        let pack = v(&["vi", "en", "ko", "ja"]);
        assert_eq!(languages(pack.clone(), None), pack);
        assert_eq!(
            languages(pack.clone(), Some(&v(&["ko", "en", "fr", "ko"]))),
            v(&["ko", "en"])
        );
        // Nothing the pack has: the pack's languages, never none.
        assert_eq!(languages(pack.clone(), Some(&v(&["fr"]))), pack);
        assert_eq!(languages(pack.clone(), Some(&[])), pack);
    }

    #[test]
    fn server_values_win_within_bounds() {
        let s = KioskSettings {
            revision: 1,
            idle_seconds: Some(30),
            attract_item_seconds: Some(1),
            ..Default::default()
        };
        assert_eq!(idle_ms(60, None), 60_000);
        assert_eq!(idle_ms(60, Some(&s)), 30_000);
        assert_eq!(attract_item_seconds(8.0, None), 8.0);
        assert_eq!(
            attract_item_seconds(8.0, Some(&s)),
            KioskSettings::MIN_ITEM_SECONDS as f32
        );
    }

    #[test]
    fn the_event_at_start() {
        let some = |s: &str| Some(s.to_string());
        let from_server = KioskSettings {
            revision: 3,
            ..Default::default()
        };
        assert_eq!(boot_event(some("cfg"), some("stored"), None), some("cfg"));
        assert_eq!(boot_event(None, some("stored"), None), some("stored"));
        assert_eq!(
            boot_event(some("cfg"), some("stored"), Some(&from_server)),
            some("stored")
        );
        // The server cleared the event: the pack's default, not the configuration's.
        assert_eq!(boot_event(some("cfg"), None, Some(&from_server)), None);
    }
}
