//! The visitor session, without a window: when a session starts and ends, when the idle
//! countdown shows, and which records (views with dwell, sessions) that produces. Times are
//! the monotonic milliseconds of [`crate::clock::Clock`], so tests drive them directly.

use protocol::record::SessionEnd;
use protocol::{RecordBody, SessionPhase, ViewOrigin};
use uuid::Uuid;

/// What the screen should do after a tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idle {
    /// Nothing to show.
    Active,
    /// Show "returning to the start in N s".
    Countdown { seconds_left: u64 },
    /// Go back to the attract loop and forget everything typed.
    Reset,
}

#[derive(Debug, Clone)]
struct View {
    item: String,
    lang: String,
    origin: ViewOrigin,
    since: u64,
}

#[derive(Debug, Clone)]
pub struct Visitor {
    pub idle_ms: u64,
    pub countdown_ms: u64,
    /// The countdown asked for, before it was fitted into the idle timeout.
    countdown_wanted_ms: u64,
    session: Option<(Uuid, u64)>,
    last_touch: u64,
    view: Option<View>,
}

impl Visitor {
    /// `idle_ms` without a touch ends the session; the countdown shows for the last
    /// `countdown_ms` of it.
    pub fn new(idle_ms: u64, countdown_ms: u64) -> Visitor {
        Visitor {
            idle_ms,
            countdown_ms: countdown_ms.min(idle_ms),
            countdown_wanted_ms: countdown_ms,
            session: None,
            last_touch: 0,
            view: None,
        }
    }

    /// A new idle timeout (from the server's settings), from the next frame on; the countdown
    /// keeps the length it was given, within the timeout.
    pub fn set_idle_ms(&mut self, idle_ms: u64) {
        self.idle_ms = idle_ms;
        self.countdown_ms = self.countdown_wanted_ms.min(idle_ms);
    }

    pub fn in_session(&self) -> bool {
        self.session.is_some()
    }

    pub fn session_id(&self) -> Option<Uuid> {
        self.session.map(|(id, _)| id)
    }

    /// A touch: starts a session when there is none.
    pub fn touch(&mut self, now: u64) -> Vec<RecordBody> {
        self.last_touch = now;
        if self.session.is_some() {
            return Vec::new();
        }
        let id = Uuid::now_v7();
        self.session = Some((id, now));
        vec![RecordBody::Session {
            session_id: id,
            phase: SessionPhase::Start,
        }]
    }

    /// Called every frame.
    pub fn tick(&self, now: u64) -> Idle {
        if self.session.is_none() {
            return Idle::Active;
        }
        let idle = now.saturating_sub(self.last_touch);
        if idle >= self.idle_ms {
            Idle::Reset
        } else if idle + self.countdown_ms >= self.idle_ms {
            Idle::Countdown {
                seconds_left: (self.idle_ms - idle).div_ceil(1000),
            }
        } else {
            Idle::Active
        }
    }

    /// Starts showing an item; returns the record of the view it replaces.
    pub fn begin_view(
        &mut self,
        item: &str,
        lang: &str,
        origin: ViewOrigin,
        now: u64,
    ) -> Option<RecordBody> {
        let done = self.end_view(now);
        self.view = Some(View {
            item: item.to_owned(),
            lang: lang.to_owned(),
            origin,
            since: now,
        });
        done
    }

    /// Stops showing the current item; returns its view record with the dwell.
    pub fn end_view(&mut self, now: u64) -> Option<RecordBody> {
        let v = self.view.take()?;
        Some(RecordBody::View {
            item: v.item,
            lang: v.lang,
            dwell_ms: now.saturating_sub(v.since),
            origin: v.origin,
        })
    }

    /// Ends the session (idle, explicit or shutdown): the current view and the session end.
    pub fn end(&mut self, reason: SessionEnd, now: u64) -> Vec<RecordBody> {
        // The idle wait itself was nobody's visit: after an idle timeout the view on screen and
        // the session end at the last touch (a view that began later, at that instant).
        let end = if reason == SessionEnd::Idle && self.session.is_some() {
            self.last_touch
        } else {
            now
        };
        let view_end = self.view.as_ref().map_or(end, |v| end.max(v.since));
        let mut out: Vec<RecordBody> = self.end_view(view_end).into_iter().collect();
        if let Some((id, start)) = self.session.take() {
            out.push(RecordBody::Session {
                session_id: id,
                phase: SessionPhase::End {
                    reason,
                    duration_ms: end.saturating_sub(start),
                },
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_idle_timeout_applies_at_once_and_keeps_the_countdown() {
        let mut v = Visitor::new(5_000, 10_000);
        assert_eq!(v.countdown_ms, 5_000, "the countdown fits in the timeout");
        v.touch(0);
        v.set_idle_ms(30_000);
        assert_eq!(v.countdown_ms, 10_000, "the countdown asked for comes back");
        assert_eq!(v.tick(6_000), Idle::Active);
        assert_eq!(v.tick(21_000), Idle::Countdown { seconds_left: 9 });
        v.set_idle_ms(4_000);
        assert_eq!(v.tick(21_000), Idle::Reset);
    }

    #[test]
    fn idle_countdown_then_reset() {
        let mut v = Visitor::new(60_000, 10_000);
        assert_eq!(v.tick(0), Idle::Active);
        let start = v.touch(1_000);
        assert!(matches!(
            start[..],
            [RecordBody::Session {
                phase: SessionPhase::Start,
                ..
            }]
        ));
        assert!(
            v.touch(2_000).is_empty(),
            "a second touch does not start another session"
        );
        assert_eq!(v.tick(40_000), Idle::Active);
        assert_eq!(v.tick(52_000), Idle::Countdown { seconds_left: 10 });
        assert_eq!(v.tick(61_500), Idle::Countdown { seconds_left: 1 });
        assert_eq!(v.tick(62_000), Idle::Reset);
        v.begin_view("a", "ko", ViewOrigin::Visitor, 1_500);
        let end = v.end(SessionEnd::Idle, 62_000);
        assert_eq!(end.len(), 2);
        // The view opened at 1.5 s and the last touch was at 2 s: its dwell is 0.5 s, not the
        // minute the idle timeout waited.
        assert!(matches!(&end[0], RecordBody::View { dwell_ms: 500, .. }));
        assert!(matches!(
            &end[1],
            RecordBody::Session {
                phase: SessionPhase::End {
                    reason: SessionEnd::Idle,
                    duration_ms: 1_000
                },
                ..
            }
        ));
        assert!(!v.in_session());
        assert_eq!(v.tick(100_000), Idle::Active);
    }

    #[test]
    fn dwell_excludes_the_idle_wait() {
        let mut v = Visitor::new(60_000, 10_000);
        v.touch(0);
        v.begin_view("airport", "ko", ViewOrigin::Visitor, 1_000);
        // The visitor reads, touching the page now and then, then walks away.
        v.touch(9_000);
        v.touch(21_000);
        assert_eq!(v.tick(81_000), Idle::Reset);
        let end = v.end(SessionEnd::Idle, 81_000);
        assert_eq!(
            end[0],
            RecordBody::View {
                item: "airport".into(),
                lang: "ko".into(),
                dwell_ms: 20_000,
                origin: ViewOrigin::Visitor
            },
            "the dwell ends at the last touch"
        );
        assert!(matches!(
            end[1],
            RecordBody::Session {
                phase: SessionPhase::End {
                    reason: SessionEnd::Idle,
                    duration_ms: 21_000
                },
                ..
            }
        ));
        // A page left by the visitor ends when they left it, and the next one keeps counting
        // only until the last touch.
        v.touch(100_000);
        v.begin_view("port", "ja", ViewOrigin::Visitor, 100_000);
        v.touch(130_000);
        let left = v.begin_view("river", "ja", ViewOrigin::Visitor, 130_000);
        assert!(matches!(
            left,
            Some(RecordBody::View {
                dwell_ms: 30_000,
                ..
            })
        ));
        let end = v.end(SessionEnd::Idle, 190_000);
        assert!(
            matches!(end[0], RecordBody::View { dwell_ms: 0, .. }),
            "opened by the last touch: no touch after it is counted as reading it: {end:?}"
        );
        // Ended by staff or a shutdown, a view ends then.
        v.touch(200_000);
        v.begin_view("port", "en", ViewOrigin::Visitor, 200_000);
        let end = v.end(SessionEnd::Explicit, 204_000);
        assert!(matches!(
            end[0],
            RecordBody::View {
                dwell_ms: 4_000,
                ..
            }
        ));
    }

    #[test]
    fn views_record_their_dwell_when_replaced() {
        let mut v = Visitor::new(60_000, 10_000);
        assert!(v.begin_view("a", "en", ViewOrigin::Attract, 0).is_none());
        let done = v.begin_view("b", "en", ViewOrigin::Attract, 8_000).unwrap();
        assert_eq!(
            done,
            RecordBody::View {
                item: "a".into(),
                lang: "en".into(),
                dwell_ms: 8_000,
                origin: ViewOrigin::Attract
            }
        );
        assert!(
            v.end(SessionEnd::Explicit, 9_000).len() == 1,
            "no session, only the view"
        );
    }
}
