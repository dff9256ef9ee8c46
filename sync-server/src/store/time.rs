//! Vietnam time (UTC+7), in which reports count days and hours and exports print times: once.

use time::macros::{format_description, offset};
use time::{OffsetDateTime, UtcOffset};

const VIETNAM: UtcOffset = offset!(+7);

pub const HOUR_MS: i64 = 3_600_000;

pub const DAY_MS: i64 = 86_400_000;

/// Vietnam time, in which reports count days and hours.
pub const VN_OFFSET_MS: i64 = 7 * HOUR_MS;

/// The Vietnam day (days since 1970-01-01 in UTC+7) of a time.
pub fn vn_day(ms: i64) -> i64 {
    (ms + VN_OFFSET_MS).div_euclid(DAY_MS)
}

/// `YYYY-MM-DD` of a Vietnam day number.
pub fn day_label(day: i64) -> String {
    time::Date::from_julian_day((day + 2_440_588) as i32)
        .map(|d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
        .unwrap_or_default()
}

/// Midnight (Vietnam time) of a `YYYY-MM-DD` date, as unix ms.
pub fn day_start_ms(date: &str) -> Option<i64> {
    let d = time::Date::parse(
        date,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()?;
    Some(d.midnight().assume_utc().unix_timestamp() * 1000 - VN_OFFSET_MS)
}

/// `YYYY-MM-DD HH:MM` in Vietnam time; the raw number if it is out of range.
pub fn vietnam_time(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.to_offset(VIETNAM)
                .format(format_description!("[year]-[month]-[day] [hour]:[minute]"))
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

/// `DD/MM/YYYY HH:MM` in Vietnam time, as Vietnamese readers write dates.
pub fn vietnam_time_vi(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.to_offset(VIETNAM)
                .format(format_description!("[day]/[month]/[year] [hour]:[minute]"))
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

/// Vietnam day number of 1 January of `year` (None: a year `time` cannot represent).
pub fn new_year_day(year: i32) -> Option<i64> {
    let d = time::Date::from_calendar_date(year, time::Month::January, 1).ok()?;
    Some(i64::from(d.to_julian_day()) - 2_440_588)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnam_days_and_labels() {
        // 2026-03-10 00:00 in Vietnam is 2026-03-09 17:00 UTC.
        let midnight = day_start_ms("2026-03-10").unwrap();
        assert_eq!(day_label(vn_day(midnight)), "2026-03-10");
        assert_eq!(day_label(vn_day(midnight - 1)), "2026-03-09");
        assert_eq!(
            new_year_day(2026).unwrap(),
            vn_day(day_start_ms("2026-01-01").unwrap())
        );
    }
}
