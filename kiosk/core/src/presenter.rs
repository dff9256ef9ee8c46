//! Presenter mode's logic, without Bevy: a delegation's deck as a sequence of slides with a
//! closing slide, the host's moves (forward, back, first, blank), the time each slide was on
//! screen, and the visit record it becomes.
//!
//! A visit in progress is checkpointed in the store (see [`Checkpoint`]) at every change, so a
//! power cut mid-visit still leaves a visit record: the next start records the last checkpoint
//! as an interrupted visit. Ending a visit writes its record and removes the checkpoint in one
//! transaction ([`crate::store::Store::append_clearing`]), so a visit is recorded exactly once.

use protocol::content::{Deck, Delegation, Pack};
use protocol::record::{SlideShown, VisitBody, VisitEnd};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Stamp;

/// The store's meta key holding the visit in progress.
pub const CHECKPOINT_KEY: &str = "presenter_visit";

/// Most attendees a host can enter (a keypad slip should not record 100000 people).
pub const MAX_ATTENDEES: u32 = 999;

/// What the host asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Next,
    Previous,
    First,
    ToggleBlank,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Presentation {
    pub visit_id: Uuid,
    pub delegation: String,
    pub deck: String,
    /// The caption language beside Vietnamese.
    pub lang: String,
    /// The deck's items in order; the closing slide comes after them.
    items: Vec<String>,
    current: usize,
    blank: bool,
    started_ms: u64,
    since_ms: u64,
    shown: Vec<SlideShown>,
    blank_ms: u64,
    pub attendees: u32,
    qr_nonces: Vec<String>,
}

/// A slide that left the screen: the caller records it as a presenter view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Left {
    pub item: Option<String>,
    pub shown_ms: u64,
}

impl Presentation {
    /// Starts a visit at mono time `now`, on the first slide. `None` if the delegation's deck
    /// is not in the pack.
    pub fn start(pack: &Pack, delegation: &Delegation, now: u64) -> Option<Presentation> {
        let deck: &Deck = pack.deck(&delegation.deck)?;
        Some(Presentation {
            visit_id: Uuid::now_v7(),
            delegation: delegation.id.clone(),
            deck: deck.id.clone(),
            lang: delegation.caption_language().to_owned(),
            items: deck.slides.iter().map(|s| s.item.clone()).collect(),
            current: 0,
            blank: false,
            started_ms: now,
            since_ms: now,
            shown: Vec::new(),
            blank_ms: 0,
            attendees: delegation.member_total().min(MAX_ATTENDEES),
            qr_nonces: Vec::new(),
        })
    }

    /// The slide on screen: `0..slide_count()`, where the last one is the closing slide.
    pub fn current(&self) -> usize {
        self.current
    }

    /// Slides including the closing slide (never zero).
    pub fn slide_count(&self) -> usize {
        self.items.len() + 1
    }

    pub fn is_closing(&self) -> bool {
        self.current == self.items.len()
    }

    pub fn is_blank(&self) -> bool {
        self.blank
    }

    /// The item on screen (None on the closing slide).
    pub fn item(&self) -> Option<&str> {
        self.items.get(self.current).map(String::as_str)
    }

    /// Applies a move; returns the slide that left the screen, if one did.
    pub fn apply(&mut self, m: Move, now: u64) -> Option<Left> {
        let target = match m {
            Move::ToggleBlank => {
                let left = self.close_span(now);
                self.blank = !self.blank;
                return left;
            }
            Move::Next => (self.current + 1).min(self.slide_count() - 1),
            Move::Previous => self.current.saturating_sub(1),
            Move::First => 0,
        };
        // A move while blank shows the screen again (a clicker's "next" should never leave the
        // room looking at black).
        if target == self.current && !self.blank {
            return None;
        }
        let left = self.close_span(now);
        self.blank = false;
        self.current = target;
        left
    }

    /// Ends the span on screen (a slide or the blank) at `now`.
    fn close_span(&mut self, now: u64) -> Option<Left> {
        let ms = now.saturating_sub(self.since_ms);
        self.since_ms = now;
        if self.blank {
            self.blank_ms += ms;
            return None;
        }
        let item = self.item().map(str::to_owned);
        self.shown.push(SlideShown {
            slide: self.current as u32,
            item: item.clone(),
            shown_ms: ms,
        });
        Some(Left { item, shown_ms: ms })
    }

    /// The closing slide's QR code was shown with this nonce.
    pub fn qr_shown(&mut self, nonce: String) {
        if !self.qr_nonces.contains(&nonce) {
            self.qr_nonces.push(nonce);
        }
    }

    pub fn set_attendees(&mut self, n: u32) {
        self.attendees = n.min(MAX_ATTENDEES);
    }

    /// The visit as it stands at `now`, without changing it (the span on screen is counted up
    /// to `now`).
    pub fn snapshot(&self, now: u64, ended: VisitEnd) -> VisitBody {
        let mut copy = self.clone();
        copy.close_span(now);
        copy.into_body(now, ended)
    }

    /// Ends the visit: the record, and the slide that was on screen (to record as a view).
    pub fn finish(mut self, now: u64) -> (VisitBody, Option<Left>) {
        let left = self.close_span(now);
        (self.into_body(now, VisitEnd::Host), left)
    }

    /// The record of a visit whose last span is already closed.
    fn into_body(self, now: u64, ended: VisitEnd) -> VisitBody {
        VisitBody {
            visit_id: self.visit_id,
            delegation: self.delegation,
            deck: self.deck,
            duration_ms: now.saturating_sub(self.started_ms),
            attendees: self.attendees,
            slides: self.shown,
            blank_ms: self.blank_ms,
            qr_nonces: self.qr_nonces,
            ended,
        }
    }
}

/// A visit in progress as kept in the store: the visit so far and the instant it was taken,
/// which becomes the record's time if the kiosk never ends the visit itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub wall_ms: i64,
    pub boot_id: Uuid,
    pub mono_ms: u64,
    pub clock_ok: bool,
    pub corrected_ms: i64,
    pub visit: VisitBody,
}

impl Checkpoint {
    pub fn new(p: &Presentation, stamp: Stamp) -> Checkpoint {
        Checkpoint {
            wall_ms: stamp.wall_ms,
            boot_id: stamp.boot_id,
            mono_ms: stamp.mono_ms,
            clock_ok: stamp.clock_ok,
            corrected_ms: stamp.corrected_ms,
            visit: p.snapshot(stamp.mono_ms, VisitEnd::Interrupted),
        }
    }

    pub fn stamp(&self) -> Stamp {
        Stamp {
            wall_ms: self.wall_ms,
            boot_id: self.boot_id,
            mono_ms: self.mono_ms,
            clock_ok: self.clock_ok,
            corrected_ms: self.corrected_ms,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a checkpoint serialises")
    }

    /// Reads a stored checkpoint; `None` if it is not one (an older or damaged value).
    pub fn from_json(s: &str) -> Option<Checkpoint> {
        serde_json::from_str(s).ok()
    }
}

/// Delegations for the host to choose from: today's first, then upcoming by date, then past
/// ones newest first. Only those whose deck is in the pack.
pub fn delegations_for_day<'a>(pack: &'a Pack, today: &str) -> Vec<&'a Delegation> {
    let mut list: Vec<&Delegation> = pack
        .delegations
        .iter()
        .filter(|d| pack.deck(&d.deck).is_some())
        .collect();
    list.sort_by(|a, b| {
        let rank = |d: &Delegation| match d.date.as_str().cmp(today) {
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => 1,
            std::cmp::Ordering::Less => 2,
        };
        rank(a).cmp(&rank(b)).then_with(|| {
            if rank(a) == 2 {
                b.date.cmp(&a.date)
            } else {
                a.date.cmp(&b.date)
            }
        })
    });
    list
}

/// `YYYY-MM-DD` in Vietnam (UTC+7) for a unix-milliseconds time.
pub fn vietnam_date(unix_ms: i64) -> String {
    let days = (unix_ms + 7 * 3_600_000).div_euclid(86_400_000);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::content::Slide;

    fn pack() -> Pack {
        let toml = r#"
            id = "t"
            version = "1"
            default_language = "vi"
            languages = ["vi", "ko", "ja"]
            [[items]]
            id = "a"
            pillar = "invest"
            [items.text.vi]
            title = "A"
            [[items]]
            id = "b"
            pillar = "invest"
            [items.text.vi]
            title = "B"
        "#;
        let mut p: Pack = toml::from_str(toml).unwrap();
        p.decks.push(Deck {
            id: "deck".into(),
            title: Default::default(),
            slides: ["a", "b"]
                .map(|i| Slide {
                    item: i.into(),
                    media: 0,
                    notes: Default::default(),
                })
                .to_vec(),
        });
        for (id, date) in [
            ("past", "2026-11-01"),
            ("today", "2026-11-26"),
            ("later", "2026-12-03"),
            ("soon", "2026-11-28"),
            ("older", "2026-10-01"),
        ] {
            p.delegations.push(Delegation {
                id: id.into(),
                name: Default::default(),
                country: "KR".into(),
                languages: vec!["ko".into()],
                date: date.into(),
                host: String::new(),
                org: "Department of Foreign Affairs".into(),
                deck: "deck".into(),
                members: vec![],
                member_count: 12,
            });
        }
        p
    }

    #[test]
    fn a_whole_presentation_records_every_slide_with_its_time() {
        let pack = pack();
        let d = pack.delegation("today").unwrap();
        let mut p = Presentation::start(&pack, d, 1_000).unwrap();
        assert_eq!(
            (p.slide_count(), p.lang.as_str(), p.attendees),
            (3, "ko", 12)
        );
        assert_eq!(p.item(), Some("a"));
        let left = p.apply(Move::Next, 11_000).unwrap();
        assert_eq!((left.item.as_deref(), left.shown_ms), (Some("a"), 10_000));
        assert_eq!(p.apply(Move::ToggleBlank, 15_000).unwrap().shown_ms, 4_000);
        assert!(p.is_blank());
        // "Next" while blank moves on and shows the screen again.
        assert_eq!(
            p.apply(Move::Next, 20_000),
            None,
            "blank time is not a slide"
        );
        assert!(!p.is_blank() && p.is_closing() && p.item().is_none());
        assert_eq!(
            p.apply(Move::Next, 21_000),
            None,
            "nothing after the closing slide"
        );
        p.qr_shown("ab".into());
        p.qr_shown("ab".into());
        p.apply(Move::First, 30_000).unwrap();
        p.apply(Move::Previous, 31_000);
        p.set_attendees(100_000);
        let (visit, left) = p.finish(41_000);
        assert_eq!(left.unwrap().shown_ms, 11_000);
        assert_eq!(visit.duration_ms, 40_000);
        assert_eq!(visit.blank_ms, 5_000);
        assert_eq!(visit.attendees, MAX_ATTENDEES);
        assert_eq!(visit.qr_nonces, vec!["ab".to_owned()]);
        assert_eq!(visit.ended, VisitEnd::Host);
        let slides: Vec<(u32, Option<&str>, u64)> = visit
            .slides
            .iter()
            .map(|s| (s.slide, s.item.as_deref(), s.shown_ms))
            .collect();
        assert_eq!(
            slides,
            vec![
                (0, Some("a"), 10_000),
                (1, Some("b"), 4_000),
                (2, None, 10_000),
                (0, Some("a"), 11_000),
            ]
        );
        let total: u64 = visit.slides.iter().map(|s| s.shown_ms).sum::<u64>() + visit.blank_ms;
        assert_eq!(
            total, visit.duration_ms,
            "every millisecond is accounted for"
        );
    }

    #[test]
    fn back_on_the_first_slide_changes_nothing() {
        let pack = pack();
        let mut p = Presentation::start(&pack, pack.delegation("today").unwrap(), 0).unwrap();
        assert_eq!(p.apply(Move::Previous, 5), None);
        assert_eq!(p.apply(Move::First, 6), None);
        assert_eq!(p.snapshot(10, VisitEnd::Host).slides.len(), 1);
    }

    #[test]
    fn a_checkpoint_round_trips_and_does_not_change_the_visit() {
        let pack = pack();
        let mut p = Presentation::start(&pack, pack.delegation("today").unwrap(), 0).unwrap();
        p.apply(Move::Next, 7_000);
        let stamp = Stamp {
            wall_ms: 1_800_000_000_000,
            boot_id: Uuid::now_v7(),
            mono_ms: 9_000,
            clock_ok: true,
            corrected_ms: 1_800_000_000_000,
        };
        let c = Checkpoint::new(&p, stamp);
        let back = Checkpoint::from_json(&c.to_json()).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.stamp(), stamp);
        assert_eq!(back.visit.ended, VisitEnd::Interrupted);
        assert_eq!(back.visit.duration_ms, 9_000);
        assert_eq!(back.visit.slides.last().unwrap().shown_ms, 2_000);
        assert_eq!(
            p.current(),
            1,
            "taking a checkpoint leaves the presentation as it was"
        );
        assert_eq!(Checkpoint::from_json("{not json"), None);
    }

    #[test]
    fn the_host_sees_today_first_then_upcoming_then_past() {
        let pack = pack();
        let ids: Vec<&str> = delegations_for_day(&pack, "2026-11-26")
            .iter()
            .map(|d| d.id.as_str())
            .collect();
        assert_eq!(ids, ["today", "soon", "later", "past", "older"]);
    }

    #[test]
    fn a_delegation_without_its_deck_cannot_start() {
        let mut pack = pack();
        pack.delegations[0].deck = "gone".into();
        assert!(Presentation::start(&pack, &pack.delegations[0], 0).is_none());
        assert!(
            !delegations_for_day(&pack, "2026-11-26")
                .iter()
                .any(|d| d.deck == "gone")
        );
    }

    #[test]
    fn vietnam_dates() {
        assert_eq!(vietnam_date(0), "1970-01-01");
        // 2026-11-26 17:00 UTC is already the 27th in Vietnam.
        assert_eq!(vietnam_date(1_795_712_400_000), "2026-11-27");
        assert_eq!(vietnam_date(1_795_712_400_000 - 3_600_001), "2026-11-26");
        assert_eq!(vietnam_date(951_782_400_000), "2000-02-29");
    }
}
