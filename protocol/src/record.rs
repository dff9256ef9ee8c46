//! Records: what a kiosk observes, appended to its store and pushed to the server exactly once.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One observation made by a kiosk.
///
/// `(kiosk_id, seq)` is unique and gap-free per kiosk; `id` is a UUIDv7 made on the kiosk.
/// Both are dedupe keys on the server. Times: `wall_ms` is the kiosk's system clock as it was
/// (possibly 1970 or a year ahead), `boot_id` + `mono_ms` locate the record on the monotonic
/// clock of one boot, which the server maps to real time once that boot has talked to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Schema version of the record (see [`crate::RECORD_SCHEMA`]).
    #[serde(default = "default_schema")]
    pub v: u16,
    pub id: Uuid,
    pub kiosk_id: Uuid,
    pub seq: u64,
    pub wall_ms: i64,
    pub boot_id: Uuid,
    pub mono_ms: u64,
    /// True when the kiosk knew its clock to be right (it had the server's time in this boot).
    #[serde(default)]
    pub clock_ok: bool,
    /// The event or delegation the kiosk was serving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    pub body: RecordBody,
}

/// The wire form of a [`Record`] whose body is already JSON (as the kiosk stores it):
/// serialises to exactly what `Record` does, without parsing the body again.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RecordRef<'a> {
    pub v: u16,
    pub id: Uuid,
    pub kiosk_id: Uuid,
    pub seq: u64,
    pub wall_ms: i64,
    pub boot_id: Uuid,
    pub mono_ms: u64,
    pub clock_ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<&'a str>,
    pub body: &'a serde_json::value::RawValue,
}

fn default_schema() -> u16 {
    1
}

/// The longest dwell, session or visit the server counts (24 hours); longer values are
/// clamped at ingest.
pub const MAX_DURATION_MS: u64 = 24 * 3600 * 1000;

/// The typed body of a record. Internally tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordBody {
    /// A content item was on screen. The record is written when the view ends; it started
    /// `dwell_ms` before the record's time.
    View {
        item: String,
        lang: String,
        dwell_ms: u64,
        origin: ViewOrigin,
    },
    /// A touch on a control that is not otherwise recorded.
    Interaction {
        target: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<String>,
    },
    LanguageSelected {
        lang: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<String>,
    },
    QrShown {
        purpose: QrPurpose,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<String>,
        lang: String,
        nonce: String,
    },
    Lead(Box<LeadBody>),
    /// A badge scan that could not be parsed, kept for staff (it may hold personal data, so it
    /// is treated like a lead's personal fields: deleted from the kiosk once acknowledged).
    RawScan {
        raw: String,
        reason: String,
    },
    Session {
        session_id: Uuid,
        phase: SessionPhase,
    },
    Heartbeat {
        app_version: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content_version: Option<String>,
        backlog: u64,
        free_disk_bytes: u64,
        uptime_ms: u64,
        /// Why the newest published content is not playing (e.g. it does not fit the cache).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content_error: Option<String>,
    },
    /// A delegation visit presented from this kiosk, written when the host ends it (or when the
    /// kiosk starts again after a visit it could not end).
    Visit(Box<VisitBody>),
    /// A kind this build does not know (written by a newer kiosk). The server keeps the JSON.
    #[serde(other)]
    Unknown,
}

impl RecordBody {
    /// The `kind` tag as stored on the server.
    pub fn kind(&self) -> &'static str {
        match self {
            RecordBody::View { .. } => "view",
            RecordBody::Interaction { .. } => "interaction",
            RecordBody::LanguageSelected { .. } => "language_selected",
            RecordBody::QrShown { .. } => "qr_shown",
            RecordBody::Lead(_) => "lead",
            RecordBody::RawScan { .. } => "raw_scan",
            RecordBody::Session { .. } => "session",
            RecordBody::Heartbeat { .. } => "heartbeat",
            RecordBody::Visit(_) => "visit",
            RecordBody::Unknown => "unknown",
        }
    }

    /// Clamps every duration to [`MAX_DURATION_MS`]: a kiosk with a broken clock or a bug
    /// cannot inflate a report or overflow a roll-up. Returns whether anything was clamped.
    pub fn clamp_durations(&mut self) -> bool {
        let mut clamped = false;
        let mut cap = |v: &mut u64| {
            if *v > MAX_DURATION_MS {
                *v = MAX_DURATION_MS;
                clamped = true;
            }
        };
        match self {
            RecordBody::View { dwell_ms, .. } => cap(dwell_ms),
            RecordBody::Session {
                phase: SessionPhase::End { duration_ms, .. },
                ..
            } => cap(duration_ms),
            RecordBody::Visit(v) => {
                cap(&mut v.duration_ms);
                cap(&mut v.blank_ms);
                for s in &mut v.slides {
                    cap(&mut s.shown_ms);
                }
            }
            _ => {}
        }
        clamped
    }

    /// Whether the body carries personal data that the kiosk must delete once acknowledged.
    pub fn has_personal_data(&self) -> bool {
        matches!(self, RecordBody::Lead(_) | RecordBody::RawScan { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadBody {
    /// Stable id of the lead (a second submission of the same visitor updates it).
    pub lead_id: Uuid,
    pub contact: Contact,
    #[serde(default)]
    pub interests: Vec<String>,
    pub source: LeadSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<Consent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// True once the kiosk has deleted the personal fields (after acknowledgement). A server
    /// that receives a redacted lead again (restored from backup) keeps what it has.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
}

impl LeadBody {
    /// Removes the personal fields, keeping the country for reports, and marks the lead
    /// redacted (after acknowledgement on the kiosk, or after an erasure on the server).
    pub fn redact(&mut self) {
        self.contact = Contact {
            country: std::mem::take(&mut self.contact.country),
            ..Default::default()
        };
        self.redacted = true;
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub organisation: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phone: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub country: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
}

impl Contact {
    pub fn is_empty(&self) -> bool {
        self == &Contact::default()
    }
}

crate::wire_enum! {
    /// How a lead was taken.
    pub enum LeadSource {
        PhoneForm = "phone_form",
        Badge = "badge",
        KioskForm = "kiosk_form",
    }
}

/// A delegation visit: the record's time is its end; it started `duration_ms` before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitBody {
    /// Unique per visit; the server keeps one visit per id.
    pub visit_id: Uuid,
    pub delegation: String,
    pub deck: String,
    pub duration_ms: u64,
    /// The number of people present, as the host entered it.
    pub attendees: u32,
    /// Every slide as it was shown, in order (a slide shown twice appears twice); the closing
    /// slide is `item: None`.
    pub slides: Vec<SlideShown>,
    /// Time the screen was blanked.
    #[serde(default)]
    pub blank_ms: u64,
    /// Nonces of the closing slide's QR codes: leads and opens made through them belong to
    /// this visit.
    #[serde(default)]
    pub qr_nonces: Vec<String>,
    pub ended: VisitEnd,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlideShown {
    /// Position in the deck (0-based; the closing slide is the deck's length).
    pub slide: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    pub shown_ms: u64,
}

crate::wire_enum! {
    /// How a delegation visit ended.
    pub enum VisitEnd {
        /// The host ended the presentation.
        Host = "host",
        /// The kiosk stopped mid-visit (power cut, crash); recorded from its last checkpoint.
        Interrupted = "interrupted",
    }
}

/// The consent a visitor gave: which text, which version, in which language, when.
///
/// A text's version is taken from its content: `digest` is the sha256 of the exact text the
/// visitor was shown, so changing a consent text in `locales/` makes a new version with no
/// number to bump. The text travels with the lead once, so that the server can archive it
/// ([`Consent::verified_text`]); leads made before digests carry only `version` 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub text_id: String,
    /// The first 32 bits of `digest` (1 for consents recorded before digests).
    pub version: u32,
    pub lang: String,
    pub at_ms: i64,
    /// The sha256 (lower-case hex) of the exact text shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The exact text shown (the server keeps it once per digest, not in each lead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Consent {
    /// The consent to `text`, shown as `text_id` in `lang`, given at `at_ms`.
    pub fn shown(text_id: &str, lang: &str, text: &str, at_ms: i64) -> Consent {
        let digest = Consent::digest_of(text);
        Consent {
            text_id: text_id.to_owned(),
            version: u32::from_str_radix(&digest[..8], 16).unwrap_or(0),
            lang: lang.to_owned(),
            at_ms,
            digest: Some(digest),
            text: Some(text.to_owned()),
        }
    }

    /// The sha256 of a text, in lower-case hex: the name of its version.
    pub fn digest_of(text: &str) -> String {
        use sha2::{Digest, Sha256};
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The version as staff read it: the digest's first eight hex digits, or the old number.
    pub fn version_label(&self) -> String {
        match &self.digest {
            Some(d) => d.chars().take(8).collect(),
            None => self.version.to_string(),
        }
    }

    /// The text sent with the consent, if it is the one its digest names.
    pub fn verified_text(&self) -> Option<&str> {
        let text = self.text.as_deref()?;
        (self.digest.as_deref() == Some(Consent::digest_of(text).as_str())).then_some(text)
    }

    /// The consent as a lead keeps it: the digest names the text, kept once elsewhere.
    pub fn without_text(&self) -> Consent {
        Consent {
            text: None,
            ..self.clone()
        }
    }
}

crate::wire_enum! {
    /// What put an item on screen.
    pub enum ViewOrigin {
        /// Shown by the attract loop with nobody touching the screen.
        Attract = "attract",
        /// Opened by a visitor.
        Visitor = "visitor",
        /// Shown by a presenter to a delegation.
        Presenter = "presenter",
    }
}

crate::wire_enum! {
    /// What a QR code shown on the kiosk opens.
    pub enum QrPurpose {
        /// "Take this with you": the item page on the visitor's phone.
        TakeAway = "take_away",
        /// "I'm interested": the lead form.
        Interest = "interest",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum SessionPhase {
    Start,
    End {
        reason: SessionEnd,
        duration_ms: u64,
    },
    /// A phase this build does not know (from a newer kiosk); the server keeps the record's
    /// JSON as it came.
    #[serde(other)]
    Other,
}

crate::wire_enum! {
    /// Why a visitor session ended.
    pub enum SessionEnd {
        /// Nobody touched the screen for the idle time.
        Idle = "idle",
        /// The visitor went back to the attract loop.
        Explicit = "explicit",
        /// The app shut down mid-session.
        Shutdown = "shutdown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(body: RecordBody) -> Record {
        Record {
            v: 1,
            id: Uuid::now_v7(),
            kiosk_id: Uuid::now_v7(),
            seq: 7,
            wall_ms: 1,
            boot_id: Uuid::now_v7(),
            mono_ms: 5,
            clock_ok: false,
            event_id: Some("fair".into()),
            body,
        }
    }

    #[test]
    fn a_consent_text_names_its_version_by_its_content() {
        let a = Consent::shown("kiosk-consent-text", "ko", "동의합니다.", 5);
        let b = Consent::shown("kiosk-consent-text", "ko", "동의합니다!", 5);
        assert_ne!(a.digest, b.digest, "a changed text is a new version");
        assert_ne!(a.version, b.version);
        assert_eq!(a.verified_text(), Some("동의합니다."));
        assert_eq!(a.version_label().len(), 8);
        assert_eq!(
            u32::from_str_radix(&a.version_label(), 16).unwrap(),
            a.version
        );
        // A text that is not the one its digest names is not taken for it.
        let forged = Consent {
            text: Some("I agree to anything".into()),
            ..a.clone()
        };
        assert_eq!(forged.verified_text(), None);
        let kept = a.without_text();
        assert_eq!((kept.text, kept.digest), (None, a.digest.clone()));
        // A consent from a kiosk built before digests still reads, as version 1.
        let old: Consent = serde_json::from_str(
            r#"{"text_id":"kiosk-consent-text","version":1,"lang":"vi","at_ms":3}"#,
        )
        .unwrap();
        assert_eq!(
            (old.version_label(), old.digest.clone()),
            ("1".to_owned(), None)
        );
        assert_eq!(old.verified_text(), None);
    }

    #[test]
    fn every_kind_round_trips() {
        let bodies = vec![
            RecordBody::View {
                item: "a".into(),
                lang: "ko".into(),
                dwell_ms: 3,
                origin: ViewOrigin::Attract,
            },
            RecordBody::Interaction {
                target: "t".into(),
                item: None,
            },
            RecordBody::LanguageSelected {
                lang: "ja".into(),
                previous: Some("vi".into()),
            },
            RecordBody::QrShown {
                purpose: QrPurpose::Interest,
                item: Some("x".into()),
                lang: "en".into(),
                nonce: "n".into(),
            },
            RecordBody::Lead(Box::new(LeadBody {
                lead_id: Uuid::now_v7(),
                contact: Contact {
                    name: "Kim Minji".into(),
                    ..Default::default()
                },
                interests: vec!["invest".into()],
                source: LeadSource::Badge,
                consent: None,
                item: None,
                lang: None,
                redacted: false,
            })),
            RecordBody::Session {
                session_id: Uuid::now_v7(),
                phase: SessionPhase::End {
                    reason: SessionEnd::Idle,
                    duration_ms: 9,
                },
            },
            RecordBody::Heartbeat {
                app_version: "1".into(),
                content_version: None,
                backlog: 0,
                free_disk_bytes: 1,
                uptime_ms: 2,
                content_error: Some("does not fit".into()),
            },
            RecordBody::Visit(Box::new(VisitBody {
                visit_id: Uuid::now_v7(),
                delegation: "kr-delegation".into(),
                deck: "invest-deck".into(),
                duration_ms: 600_000,
                attendees: 12,
                slides: vec![
                    SlideShown {
                        slide: 0,
                        item: Some("long-thanh-airport".into()),
                        shown_ms: 90_000,
                    },
                    SlideShown {
                        slide: 1,
                        item: None,
                        shown_ms: 30_000,
                    },
                ],
                blank_ms: 5_000,
                qr_nonces: vec!["00ff".into()],
                ended: VisitEnd::Host,
            })),
        ];
        for body in bodies {
            let r = sample(body);
            let json = serde_json::to_string(&r).unwrap();
            let back: Record = serde_json::from_str(&json).unwrap();
            assert_eq!(r, back, "{json}");
        }
    }

    #[test]
    fn the_raw_wire_form_serialises_like_a_record() {
        let r = sample(RecordBody::View {
            item: "cat-tien".into(),
            lang: "ja".into(),
            dwell_ms: 5,
            origin: ViewOrigin::Visitor,
        });
        let body = serde_json::value::to_raw_value(&r.body).unwrap();
        let wire = RecordRef {
            v: r.v,
            id: r.id,
            kiosk_id: r.kiosk_id,
            seq: r.seq,
            wall_ms: r.wall_ms,
            boot_id: r.boot_id,
            mono_ms: r.mono_ms,
            clock_ok: r.clock_ok,
            event_id: r.event_id.as_deref(),
            body: &body,
        };
        assert_eq!(
            serde_json::to_string(&wire).unwrap(),
            serde_json::to_string(&r).unwrap()
        );
    }

    #[test]
    fn unknown_kinds_and_fields_from_newer_kiosks_are_accepted() {
        let r = sample(RecordBody::Unknown);
        let mut json: serde_json::Value = serde_json::to_value(&r).unwrap();
        json["body"] = serde_json::json!({"kind": "hologram", "depth": 3});
        json["future_field"] = serde_json::json!(true);
        let back: Record = serde_json::from_value(json).unwrap();
        assert_eq!(back.body, RecordBody::Unknown);
    }

    #[test]
    fn records_from_older_kiosks_without_optional_fields_are_accepted() {
        let json = r#"{"id":"0192f0c0-0000-7000-8000-000000000001","kiosk_id":"0192f0c0-0000-7000-8000-000000000002","seq":1,"wall_ms":0,"boot_id":"0192f0c0-0000-7000-8000-000000000003","mono_ms":0,"body":{"kind":"interaction","target":"home"}}"#;
        let r: Record = serde_json::from_str(json).unwrap();
        assert_eq!(r.v, 1);
        assert!(!r.clock_ok);
        assert_eq!(r.event_id, None);
    }
}
