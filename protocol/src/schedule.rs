//! When a content item shows: a window of days and a time of day, in Vietnam time (UTC+7, no
//! daylight saving), which the kiosk honours by its corrected clock, online or not.

use crate::content::Item;

/// Vietnam's offset from UTC.
pub const VIETNAM_OFFSET_MS: i64 = 7 * 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// `YYYY-MM-DD` or `YYYY-MM-DD HH:MM` in Vietnam time, as Unix milliseconds. A day alone is
/// its first minute, or with `end_of_day` the first minute of the next day (so "until
/// 2026-11-22" includes the 22nd).
pub fn vietnam_ms(text: &str, end_of_day: bool) -> Option<i64> {
    let t = text.trim();
    let (day, time) = match t.split_once([' ', 'T']) {
        Some((d, tm)) => (d, Some(tm.trim())),
        None => (t, None),
    };
    let mut parts = day.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let midnight = days_from_civil(y, m, d) * DAY_MS - VIETNAM_OFFSET_MS;
    match time {
        None => Some(midnight + if end_of_day { DAY_MS } else { 0 }),
        Some(tm) => Some(midnight + i64::from(minute_of_day(tm)?) * 60_000),
    }
}

/// `HH:MM-HH:MM`: the minutes of the day an item shows, from the first (included) to the
/// second (excluded); a second time before the first spans midnight.
pub fn daily_minutes(text: &str) -> Option<(u32, u32)> {
    let (from, to) = text.split_once('-')?;
    let (from, to) = (minute_of_day(from.trim())?, minute_of_day(to.trim())?);
    (from != to).then_some((from, to))
}

/// `HH:MM` (00:00 to 24:00) as minutes since midnight.
fn minute_of_day(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 || h == 24 && m == 0).then_some(h * 60 + m)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Item {
    /// What is wrong with the item's window, said so that staff can fix it.
    pub fn window_problem(&self) -> Option<String> {
        let from = self
            .shows_from
            .as_deref()
            .map(|s| (s, vietnam_ms(s, false)));
        let until = self
            .shows_until
            .as_deref()
            .map(|s| (s, vietnam_ms(s, true)));
        for (key, v) in [("shows_from", from), ("shows_until", until)] {
            if let Some((text, None)) = v {
                return Some(format!(
                    "{key} = \"{text}\" is not a day: write YYYY-MM-DD or YYYY-MM-DD HH:MM (Vietnam time)"
                ));
            }
        }
        if let (Some((_, Some(a))), Some((_, Some(b)))) = (from, until)
            && b <= a
        {
            return Some("shows_until is not after shows_from: the item would never show".into());
        }
        if let Some(d) = self.daily.as_deref()
            && daily_minutes(d).is_none()
        {
            return Some(format!(
                "daily = \"{d}\" is not a time of day: write HH:MM-HH:MM, e.g. 08:00-12:00 (Vietnam time)"
            ));
        }
        None
    }

    /// Whether the item's last day (or time) has passed at `unix_ms`: it will not show again.
    pub fn ended_at(&self, unix_ms: i64) -> bool {
        self.shows_until
            .as_deref()
            .and_then(|s| vietnam_ms(s, true))
            .is_some_and(|until| unix_ms >= until)
    }

    /// Whether the item shows at `unix_ms`. An item without a window always shows; a window
    /// that cannot be read (never published: import refuses it) does not hide it.
    pub fn shows_at(&self, unix_ms: i64) -> bool {
        if let Some(from) = self
            .shows_from
            .as_deref()
            .and_then(|s| vietnam_ms(s, false))
            && unix_ms < from
        {
            return false;
        }
        if let Some(until) = self
            .shows_until
            .as_deref()
            .and_then(|s| vietnam_ms(s, true))
            && unix_ms >= until
        {
            return false;
        }
        if let Some((a, b)) = self.daily.as_deref().and_then(daily_minutes) {
            let minute = ((unix_ms + VIETNAM_OFFSET_MS).rem_euclid(DAY_MS) / 60_000) as u32;
            let inside = if a < b {
                (a..b).contains(&minute)
            } else {
                minute >= a || minute < b
            };
            if !inside {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(from: Option<&str>, until: Option<&str>, daily: Option<&str>) -> Item {
        Item {
            id: "x".into(),
            pillar: "events".into(),
            media: vec![],
            link: None,
            text: Default::default(),
            shows_from: from.map(Into::into),
            shows_until: until.map(Into::into),
            daily: daily.map(Into::into),
        }
    }

    #[test]
    fn days_and_times_are_vietnam_time() {
        // 2026-11-20 00:00 in Vietnam is 2026-11-19 17:00 UTC.
        assert_eq!(vietnam_ms("2026-11-20", false), Some(1_795_107_600_000));
        assert_eq!(
            vietnam_ms("2026-11-20 09:30", false),
            Some(1_795_107_600_000 + (9 * 60 + 30) * 60_000)
        );
        assert_eq!(
            vietnam_ms("2026-11-20", true),
            Some(1_795_107_600_000 + DAY_MS)
        );
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "20-11-2026",
            "2026-11-20 25:00",
            "soon",
            "",
        ] {
            assert_eq!(vietnam_ms(bad, false), None, "{bad}");
        }
        assert_eq!(daily_minutes("08:00-12:00"), Some((480, 720)));
        assert_eq!(daily_minutes("22:00-02:00"), Some((1320, 120)));
        assert_eq!(daily_minutes("08:00"), None);
        assert_eq!(daily_minutes("12:00-12:00"), None);
    }

    #[test]
    fn an_item_shows_only_inside_its_window() {
        let fair = item(Some("2026-11-20"), Some("2026-11-22"), Some("08:00-12:00"));
        let at = |s: &str| vietnam_ms(s, false).unwrap();
        assert!(!fair.shows_at(at("2026-11-19 09:00")), "the day before");
        assert!(fair.shows_at(at("2026-11-20 08:00")), "first morning");
        assert!(!fair.shows_at(at("2026-11-20 12:00")), "afternoon");
        assert!(fair.shows_at(at("2026-11-22 11:59")), "last day counts");
        assert!(!fair.shows_at(at("2026-11-23 09:00")), "the day after");
        assert!(!fair.ended_at(at("2026-11-22 23:59")) && fair.ended_at(at("2026-11-23 00:00")));
        assert!(item(None, None, None).shows_at(0));
        let night = item(None, None, Some("22:00-02:00"));
        assert!(night.shows_at(at("2026-11-20 23:00")));
        assert!(night.shows_at(at("2026-11-21 01:00")));
        assert!(!night.shows_at(at("2026-11-21 03:00")));
        assert_eq!(fair.window_problem(), None);
        assert!(
            item(Some("next week"), None, None)
                .window_problem()
                .unwrap()
                .contains("shows_from")
        );
        assert!(
            item(Some("2026-11-22"), Some("2026-11-21"), None)
                .window_problem()
                .is_some()
        );
        assert!(
            item(None, None, Some("mornings"))
                .window_problem()
                .unwrap()
                .contains("HH:MM-HH:MM")
        );
    }
}
