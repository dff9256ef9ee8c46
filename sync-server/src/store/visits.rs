//! What delegation visits mean the same on every backend: a visit's lists as they are stored
//! (JSON text), and when the members of a delegation outlive their unit's retention. Backends
//! find the rows and keep what these functions decide.

use protocol::record::SlideShown;

use crate::store::time::DAY_MS;

/// A visit as the `visits` table holds it: its times placed from the record's time (the
/// visit's end) and its lists as JSON.
pub struct VisitColumns {
    pub started_ms: i64,
    pub ended_ms: i64,
    pub duration_ms: i64,
    pub attendees: i64,
    pub blank_ms: i64,
    pub slides: String,
    pub qr_nonces: String,
}

impl VisitColumns {
    /// The columns of `visit`, recorded at `corrected_ms`.
    pub fn of(
        visit: &protocol::record::VisitBody,
        corrected_ms: i64,
    ) -> Result<VisitColumns, crate::store::StorageError> {
        let db = |e: serde_json::Error| crate::store::StorageError::Db(e.to_string());
        let duration_ms = i64::try_from(visit.duration_ms).unwrap_or(i64::MAX);
        Ok(VisitColumns {
            started_ms: corrected_ms.saturating_sub(duration_ms),
            ended_ms: corrected_ms,
            duration_ms,
            attendees: i64::from(visit.attendees),
            blank_ms: i64::try_from(visit.blank_ms).unwrap_or(i64::MAX),
            slides: serde_json::to_string(&visit.slides).map_err(db)?,
            qr_nonces: serde_json::to_string(&visit.qr_nonces).map_err(db)?,
        })
    }
}

/// A visit's slides, from the JSON array stored with it (none when it cannot be read).
pub fn stored_slides(json: &str) -> Vec<SlideShown> {
    serde_json::from_str(json).unwrap_or_default()
}

/// A visit's closing-slide QR nonces, from the JSON array stored with it (none when it cannot
/// be read).
pub fn stored_nonces(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Whether the members of a delegation whose visit day is `starts` (the event's first day)
/// are older than their unit's retention of `retention_days` at `now_ms`: the day, at
/// midnight UTC, more than the retention before now. A day that is not a date never expires.
pub fn members_expired(starts: &str, retention_days: i64, now_ms: i64) -> bool {
    day_ms(starts).is_some_and(|t| {
        i128::from(t) < i128::from(now_ms) - i128::from(retention_days) * i128::from(DAY_MS)
    })
}

/// An event's first day as unix ms, read as SQLite's `strftime('%s', …)` reads a date (the
/// rule the SQLite backend kept in SQL before it moved here): `YYYY-MM-DD` (a day past the
/// month's end, up to 31, runs into the next month), then blanks or `T`, then optionally
/// `HH:MM[:SS[.fff]]` and a zone (`Z`, `±HH:MM`), then blanks; the time is UTC unless a zone
/// says otherwise, cut to whole seconds. Anything else (a day number, `now`, a time alone)
/// names no day: None.
pub fn day_ms(starts: &str) -> Option<i64> {
    let b = starts.as_bytes();
    let digits = |at: usize, n: usize, min: i64, max: i64| -> Option<i64> {
        let s = b.get(at..at + n)?;
        if !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let v = s.iter().fold(0i64, |v, d| v * 10 + i64::from(d - b'0'));
        (min..=max).contains(&v).then_some(v)
    };
    let at = |i: usize| b.get(i).copied();
    let year = digits(0, 4, 0, 9999)?;
    (at(4) == Some(b'-')).then_some(())?;
    let month = digits(5, 2, 1, 12)?;
    (at(7) == Some(b'-')).then_some(())?;
    let day = digits(8, 2, 1, 31)?;
    let blank = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let mut i = 10;
    while at(i).is_some_and(|c| blank(c) || c == b'T') {
        i += 1;
    }
    let mut ms = (days_from_civil(year, month) + day - 1) * DAY_MS;
    if i < b.len() {
        // A time, then perhaps a zone.
        let h = digits(i, 2, 0, 24)?;
        (at(i + 2) == Some(b':')).then_some(())?;
        let m = digits(i + 3, 2, 0, 59)?;
        i += 5;
        let mut s = 0;
        if at(i) == Some(b':') {
            s = digits(i + 1, 2, 0, 59)?;
            i += 3;
            if at(i) == Some(b'.') && at(i + 1).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
                while at(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
            }
        }
        ms += ((h * 60 + m) * 60 + s) * 1000;
        while at(i).is_some_and(blank) {
            i += 1;
        }
        match at(i) {
            Some(b'Z' | b'z') => i += 1,
            Some(sign @ (b'+' | b'-')) => {
                let zh = digits(i + 1, 2, 0, 14)?;
                (at(i + 3) == Some(b':')).then_some(())?;
                let zm = digits(i + 4, 2, 0, 59)?;
                let zone = (zh * 60 + zm) * 60_000;
                ms -= if sign == b'+' { zone } else { -zone };
                i += 6;
            }
            _ => {}
        }
        while at(i).is_some_and(blank) {
            i += 1;
        }
        (i == b.len()).then_some(())?;
    }
    Some(ms.div_euclid(1000) * 1000)
}

/// Days from 1970-01-01 to the first of `month` of `year` (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_expire_after_the_retention() {
        let day = day_ms("2026-03-01").unwrap();
        assert!(!members_expired("2026-03-01", 730, day + 730 * DAY_MS));
        assert!(members_expired("2026-03-01", 730, day + 730 * DAY_MS + 1));
        assert!(!members_expired("not a day", 1, i64::MAX));
        assert!(!members_expired("2026-03-01", i64::MAX, i64::MAX));
    }
}
