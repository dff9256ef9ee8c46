//! Ingest as a pure plan: everything a push decides that does not need the database. A backend
//! asks the plan what to look up ([`Plan::boot_ids`], [`Plan::lead_ids`]), hands the answers to
//! [`Plan::resolve`], stores each [`Planned`] record (one savepoint each), reports what became
//! of it with [`Plan::stored`], and writes what [`Plan::finish`] returns: the roll-up deltas,
//! the cursor's movement, the events served and the acknowledgement. Both backends execute the
//! same plan, so clock correction, redaction of erased leads, quarantine, roll-ups and the
//! cursor rule are written once, here, and tested without a database.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use protocol::RecordBody;
use protocol::record::SessionPhase;
use protocol::sync::PushAck;
use uuid::Uuid;

use super::time::{HOUR_MS, vn_day};
use super::{IncomingBatch, KioskAuth, StorageError, corrected_time};

/// One record of a batch, ready to store.
#[derive(Debug)]
pub struct Planned {
    pub seq: i64,
    pub id: Uuid,
    pub event_id: Option<String>,
    pub wall_ms: i64,
    pub boot_id: Uuid,
    pub mono_ms: i64,
    pub clock_ok: bool,
    /// When it happened on the server's clock, and how that was found.
    pub corrected_ms: i64,
    pub quality: &'static str,
    /// The body to keep: as sent, or without the personal fields of a lead erased here.
    pub body: String,
    /// The body read as its kind; None when it cannot be (then `held` says why).
    pub typed: Option<RecordBody>,
    /// Why the record is kept in quarantine (acknowledged, never counted), if it is.
    pub held: Option<String>,
}

impl Planned {
    /// The kind stored in `records`: the body's, or `quarantined`.
    pub fn kind(&self) -> &'static str {
        match (&self.typed, &self.held) {
            (Some(t), None) => t.kind(),
            _ => "quarantined",
        }
    }

    /// The kind the body claims, whether or not it could be read as it (for the quarantine,
    /// which is rare: read from the body only then).
    pub fn declared_kind(&self) -> String {
        declared_kind(&self.body)
    }

    /// The lead's interests and consent as stored (JSON; the consent without its text, which
    /// [`Finish::consent_texts`] archives once).
    pub fn lead_json(lead: &protocol::record::LeadBody) -> (String, Option<String>) {
        let interests = serde_json::to_string(&lead.interests).unwrap_or_default();
        let (consent, _) = super::leads::consent_to_store(lead.consent.as_ref(), 0);
        (interests, consent)
    }
}

/// What became of one planned record in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored now.
    Inserted,
    /// Stored before (the same kiosk and seq): acknowledged, not counted again.
    Duplicate,
    /// The record row was kept but its effects could not be stored: quarantined with this
    /// reason.
    Failed(String),
}

/// A push being ingested.
#[derive(Debug)]
pub struct Plan {
    kiosk_row: i64,
    now_ms: i64,
    pruned_below: i64,
    batch: IncomingBatch,
    /// Each record's body read as its kind, once (in `batch.records`' order), or why not.
    read: Vec<Result<RecordBody, String>>,
    pub records: Vec<Planned>,
    outcomes: Vec<Option<Outcome>>,
}

/// Views of one (event, item, language, hour, origin) in a batch.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ViewDelta {
    pub views: i64,
    pub dwell_ms: i64,
}

/// Sessions of one (event, hour) in a batch.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SessionDelta {
    pub started: i64,
    pub ended: i64,
    pub duration_ms: i64,
}

/// What a backend writes after the records: counts to add, the cursor, the events served.
#[derive(Debug, PartialEq, Eq)]
pub struct Finish {
    /// (event, item, lang, hour, origin) → views
    pub views: BTreeMap<(String, String, String, i64, String), ViewDelta>,
    /// (event, kind, hour) → records
    pub kinds: BTreeMap<(String, &'static str, i64), i64>,
    /// (event, hour) → sessions
    pub sessions: BTreeMap<(String, i64), SessionDelta>,
    /// (event, Vietnam day) → records
    pub kiosk_days: BTreeMap<(String, i64), i64>,
    /// (event, item, lang, hour, purpose) → QR codes shown
    pub qr_shown: BTreeMap<(String, String, String, i64, String), i64>,
    /// A hole the kiosk declared it can no longer fill: [from, to).
    pub gap: Option<(i64, i64)>,
    /// The kiosk's cursor after the batch.
    pub next_seq: i64,
    /// Events the batch's records were made at (a kiosk may sign QR codes for them).
    pub served: BTreeSet<String>,
    /// The server's offset to the kiosk's wall clock.
    pub clock_offset_ms: i64,
    /// The consent texts the batch's new leads agreed to, by digest, to keep if they are new.
    pub consent_texts: BTreeMap<String, super::ConsentText>,
    pub ack: PushAck,
}

impl Plan {
    /// Checks that every record is the kiosk's own and orders them by seq.
    pub fn new(
        kiosk: &KioskAuth,
        mut batch: IncomingBatch,
        now_ms: i64,
    ) -> Result<Plan, StorageError> {
        if let Some(r) = batch.records.iter().find(|r| r.kiosk_id != kiosk.uuid) {
            return Err(StorageError::Invalid(format!(
                "record {} belongs to kiosk {}, not to the kiosk that sent it",
                r.id, r.kiosk_id
            )));
        }
        batch.records.sort_by_key(|r| r.seq);
        // A body this server cannot read as the kind it claims (a negative dwell, a lead
        // without a contact, not JSON of a record at all) is kept in quarantine with the
        // reason: acknowledged, never counted, shown to admins.
        let read = batch
            .records
            .iter()
            .map(|r| {
                serde_json::from_str::<RecordBody>(r.body.get())
                    .map_err(|e| format!("the body cannot be read: {e}"))
            })
            .collect();
        Ok(Plan {
            kiosk_row: kiosk.row,
            now_ms,
            pruned_below: i64::try_from(batch.pruned_below).unwrap_or(i64::MAX),
            batch,
            read,
            records: Vec::new(),
            outcomes: Vec::new(),
        })
    }

    /// The boot the kiosk is in now, to place on the server's clock: (boot id, monotonic ms).
    pub fn current_boot(&self) -> (Uuid, i64) {
        (self.batch.clock.boot_id, self.batch.clock.mono_ms as i64)
    }

    /// Every boot the records were made in.
    pub fn boot_ids(&self) -> Vec<Uuid> {
        let set: BTreeSet<Uuid> = self.batch.records.iter().map(|r| r.boot_id).collect();
        set.into_iter().collect()
    }

    /// Every lead the records carry, to ask which were erased here.
    pub fn lead_ids(&self) -> Vec<Uuid> {
        let set: BTreeSet<Uuid> = self
            .read
            .iter()
            .filter_map(|t| match t {
                Ok(RecordBody::Lead(lead)) => Some(lead.lead_id),
                _ => None,
            })
            .collect();
        set.into_iter().collect()
    }

    /// Plans every record, given the boots known on the server's clock (boot id → (server
    /// ms, monotonic ms)) and the leads erased here.
    pub fn resolve(
        &mut self,
        boots: &HashMap<Uuid, (i64, i64)>,
        erased: &HashSet<Uuid>,
    ) -> Result<(), StorageError> {
        let now_ms = self.now_ms;
        let mut out = Vec::with_capacity(self.batch.records.len());
        let read = std::mem::take(&mut self.read);
        for (r, t) in self.batch.records.iter().zip(read) {
            let (corrected_ms, quality) = corrected_time(
                boots.get(&r.boot_id).copied(),
                r.mono_ms,
                r.wall_ms,
                r.clock_ok,
                now_ms,
            );
            let (mut typed, held) = match t {
                Ok(t) => (Some(t), None),
                Err(e) => (None, Some(e)),
            };
            if let Some(t) = &mut typed
                && t.clamp_durations()
            {
                tracing::warn!(
                    kiosk_row = self.kiosk_row,
                    seq = r.seq,
                    "a duration over 24 h was clamped"
                );
            }
            // A lead erased here arrives without its personal fields, even in the raw body.
            let mut body = r.body.get().to_owned();
            if let Some(RecordBody::Lead(lead)) = &mut typed
                && erased.contains(&lead.lead_id)
            {
                lead.redact();
                body = serde_json::to_string(&RecordBody::Lead(lead.clone()))
                    .map_err(|e| StorageError::Db(e.to_string()))?;
            }
            out.push(Planned {
                seq: i64::try_from(r.seq).unwrap_or(i64::MAX),
                id: r.id,
                event_id: r.event_id.clone(),
                wall_ms: r.wall_ms,
                boot_id: r.boot_id,
                mono_ms: i64::try_from(r.mono_ms).unwrap_or(i64::MAX),
                clock_ok: r.clock_ok,
                corrected_ms,
                quality,
                body,
                typed,
                held,
            });
        }
        self.outcomes = vec![None; out.len()];
        self.records = out;
        Ok(())
    }

    /// Notes what became of record `i`. A failed record is quarantined from here on.
    pub fn stored(&mut self, i: usize, outcome: Outcome) {
        if let Outcome::Failed(reason) = &outcome {
            let r = &mut self.records[i];
            r.held = Some(format!("the record could not be stored: {reason}"));
            r.typed = None;
        }
        self.outcomes[i] = Some(outcome);
    }

    /// The batch's counts and the cursor. `next_seq` is the cursor before the batch;
    /// `stored_at(seq)` says whether a record with that seq was stored by an earlier push
    /// (records beyond a gap this batch filled); `erased` are the batch's leads erased here.
    pub fn finish(
        &self,
        mut next_seq: i64,
        erased: &HashSet<Uuid>,
        mut stored_at: impl FnMut(i64) -> Result<bool, StorageError>,
    ) -> Result<Finish, StorageError> {
        let mut f = Finish {
            views: BTreeMap::new(),
            kinds: BTreeMap::new(),
            sessions: BTreeMap::new(),
            kiosk_days: BTreeMap::new(),
            qr_shown: BTreeMap::new(),
            gap: None,
            next_seq,
            served: BTreeSet::new(),
            clock_offset_ms: 0,
            consent_texts: BTreeMap::new(),
            ack: PushAck {
                inserted: 0,
                duplicates: 0,
                next_seq: 0,
                server_time_ms: self.now_ms,
                erased_leads: Vec::new(),
            },
        };
        let (mut inserted, mut duplicates) = (0u64, 0u64);
        let mut leads = BTreeSet::new();
        // Counted under keys borrowed from the records (most share them), owned at the end.
        let mut views: HashMap<(&str, &str, &str, i64, &str), ViewDelta> = HashMap::new();
        let mut kinds: HashMap<(&str, &'static str, i64), i64> = HashMap::new();
        let mut sessions: HashMap<(&str, i64), SessionDelta> = HashMap::new();
        let mut kiosk_days: HashMap<(&str, i64), i64> = HashMap::new();
        let mut qr_shown: HashMap<(&str, &str, &str, i64, &str), i64> = HashMap::new();
        for (r, outcome) in self.records.iter().zip(&self.outcomes) {
            if r.seq == next_seq {
                next_seq += 1;
            }
            if let Some(RecordBody::Lead(lead)) = &r.typed {
                leads.insert(lead.lead_id);
            }
            match outcome {
                Some(Outcome::Duplicate) | None => {
                    duplicates += 1;
                    continue;
                }
                Some(_) => inserted += 1,
            }
            if r.held.is_some() {
                continue;
            }
            let event = r.event_id.as_deref().unwrap_or_default();
            let hour = r.corrected_ms.div_euclid(HOUR_MS);
            *kinds.entry((event, r.kind(), hour)).or_default() += 1;
            *kiosk_days
                .entry((event, vn_day(r.corrected_ms)))
                .or_default() += 1;
            match &r.typed {
                Some(RecordBody::Session { phase, .. }) => {
                    let s = sessions.entry((event, hour)).or_default();
                    match phase {
                        SessionPhase::Start => s.started += 1,
                        SessionPhase::End { duration_ms, .. } => {
                            s.ended += 1;
                            s.duration_ms = s.duration_ms.saturating_add(*duration_ms as i64);
                        }
                        SessionPhase::Other => {}
                    }
                }
                Some(RecordBody::View {
                    item,
                    lang,
                    dwell_ms,
                    origin,
                }) => {
                    let v = views
                        .entry((event, item, lang, hour, origin.as_str()))
                        .or_default();
                    v.views += 1;
                    // Clamped at resolve: a day at most, so a sum cannot overflow.
                    v.dwell_ms = v.dwell_ms.saturating_add(*dwell_ms as i64);
                }
                Some(RecordBody::QrShown {
                    purpose,
                    item,
                    lang,
                    ..
                }) => {
                    let key = (
                        event,
                        item.as_deref().unwrap_or_default(),
                        lang.as_str(),
                        hour,
                        purpose.as_str(),
                    );
                    *qr_shown.entry(key).or_default() += 1;
                }
                Some(RecordBody::Lead(lead)) => {
                    if let (_, Some(text)) =
                        super::leads::consent_to_store(lead.consent.as_ref(), self.now_ms)
                    {
                        f.consent_texts.entry(text.digest.clone()).or_insert(text);
                    }
                }
                _ => {}
            }
        }
        let own = |s: &str| s.to_owned();
        f.views = views
            .into_iter()
            .map(|((e, i, l, h, o), v)| ((own(e), own(i), own(l), h, own(o)), v))
            .collect();
        f.kinds = kinds
            .into_iter()
            .map(|((e, k, h), n)| ((own(e), k, h), n))
            .collect();
        f.sessions = sessions
            .into_iter()
            .map(|((e, h), s)| ((own(e), h), s))
            .collect();
        f.kiosk_days = kiosk_days
            .into_iter()
            .map(|((e, d), n)| ((own(e), d), n))
            .collect();
        f.qr_shown = qr_shown
            .into_iter()
            .map(|((e, i, l, h, p), n)| ((own(e), own(i), own(l), h, own(p)), n))
            .collect();
        // A hole the kiosk can no longer fill is recorded, and the cursor moves past it.
        if self.pruned_below > next_seq {
            tracing::warn!(
                kiosk_row = self.kiosk_row,
                from = next_seq,
                to = self.pruned_below,
                "kiosk declared records it no longer holds"
            );
            f.gap = Some((next_seq, self.pruned_below));
            next_seq = self.pruned_below;
        }
        // Records stored earlier beyond a gap that this batch filled.
        while stored_at(next_seq)? {
            next_seq += 1;
        }
        f.next_seq = next_seq;
        let served: BTreeSet<&str> = self
            .records
            .iter()
            .filter_map(|r| r.event_id.as_deref())
            .filter(|e| !e.is_empty())
            .collect();
        f.served = served.into_iter().map(str::to_owned).collect();
        f.clock_offset_ms = self.now_ms.saturating_sub(self.batch.clock.wall_ms);
        f.ack = PushAck {
            inserted,
            duplicates,
            next_seq: next_seq as u64,
            server_time_ms: self.now_ms,
            erased_leads: leads.into_iter().filter(|l| erased.contains(l)).collect(),
        };
        Ok(f)
    }
}

/// The `kind` a body claims, whether or not it can be read as that kind.
fn declared_kind(body: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Kind {
        kind: String,
    }
    serde_json::from_str::<Kind>(body)
        .map(|k| k.kind.chars().take(64).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::IncomingRecord;

    fn kiosk() -> KioskAuth {
        KioskAuth {
            row: 1,
            uuid: Uuid::from_u128(7),
            event_id: None,
        }
    }

    fn record(seq: u64, body: &str) -> IncomingRecord {
        IncomingRecord {
            id: Uuid::from_u128(1000 + seq as u128),
            kiosk_id: Uuid::from_u128(7),
            seq,
            wall_ms: 1_780_000_000_000,
            boot_id: Uuid::from_u128(9),
            mono_ms: 5_000 + seq,
            clock_ok: true,
            event_id: Some("fair".into()),
            body: serde_json::value::RawValue::from_string(body.to_owned()).unwrap(),
        }
    }

    fn batch(records: Vec<IncomingRecord>, pruned_below: u64) -> IncomingBatch {
        IncomingBatch {
            clock: protocol::sync::ClockSample {
                boot_id: Uuid::from_u128(9),
                mono_ms: 10_000,
                wall_ms: 1_780_000_001_000,
            },
            pruned_below,
            records,
        }
    }

    const VIEW: &str =
        r#"{"kind":"view","item":"invest","lang":"ko","dwell_ms":4000,"origin":"visitor"}"#;

    #[test]
    fn foreign_records_are_refused() {
        let mut r = record(1, VIEW);
        r.kiosk_id = Uuid::from_u128(8);
        assert!(matches!(
            Plan::new(&kiosk(), batch(vec![r], 0), 0),
            Err(StorageError::Invalid(_))
        ));
    }

    #[test]
    fn cursor_moves_over_what_arrived_in_order_and_past_a_declared_gap() {
        let now = 1_780_000_002_000;
        let recs = vec![
            record(3, VIEW),
            record(1, VIEW),
            record(2, r#"{"kind":"view","dwell_ms":-1}"#),
        ];
        let mut plan = Plan::new(&kiosk(), batch(recs, 0), now).unwrap();
        plan.resolve(&HashMap::new(), &HashSet::new()).unwrap();
        assert_eq!(
            plan.records.iter().map(|r| r.seq).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(plan.records[1].kind(), "quarantined");
        plan.stored(0, Outcome::Inserted);
        plan.stored(1, Outcome::Inserted);
        plan.stored(2, Outcome::Duplicate);
        // seq 4 and 5 arrived in an earlier push beyond a gap.
        let f = plan
            .finish(1, &HashSet::new(), |s| Ok(s == 4 || s == 5))
            .unwrap();
        assert_eq!(f.next_seq, 6);
        assert_eq!((f.ack.inserted, f.ack.duplicates), (2, 1));
        // One view counted (seq 1); the quarantined one and the duplicate are not.
        assert_eq!(f.views.values().map(|v| v.views).sum::<i64>(), 1);
        assert_eq!(f.kinds.values().sum::<i64>(), 1);
        assert_eq!(f.clock_offset_ms, now - 1_780_000_001_000);

        let mut plan = Plan::new(&kiosk(), batch(vec![record(9, VIEW)], 8), now).unwrap();
        plan.resolve(&HashMap::new(), &HashSet::new()).unwrap();
        plan.stored(0, Outcome::Inserted);
        let f = plan.finish(3, &HashSet::new(), |_| Ok(false)).unwrap();
        assert_eq!(f.gap, Some((3, 8)));
        assert_eq!(f.next_seq, 8, "seq 9 is beyond the hole at 8");
    }

    #[test]
    fn erased_leads_arrive_redacted_and_are_acknowledged() {
        let lead = Uuid::from_u128(55);
        let body = serde_json::to_string(&RecordBody::Lead(Box::new(protocol::record::LeadBody {
            lead_id: lead,
            contact: protocol::record::Contact {
                name: "Kim".into(),
                email: "kim@example.kr".into(),
                ..Default::default()
            },
            interests: vec![],
            source: protocol::record::LeadSource::KioskForm,
            consent: None,
            item: None,
            lang: None,
            redacted: false,
        })))
        .unwrap();
        let mut plan = Plan::new(&kiosk(), batch(vec![record(1, &body)], 0), 0).unwrap();
        assert_eq!(plan.lead_ids(), [lead]);
        let erased: HashSet<Uuid> = [lead].into();
        plan.resolve(&HashMap::new(), &erased).unwrap();
        assert!(
            !plan.records[0].body.contains("kim@example.kr"),
            "{}",
            plan.records[0].body
        );
        plan.stored(0, Outcome::Inserted);
        let f = plan.finish(1, &erased, |_| Ok(false)).unwrap();
        assert_eq!(f.ack.erased_leads, [lead]);
    }

    #[test]
    fn a_failed_record_is_quarantined_and_not_counted() {
        let mut plan = Plan::new(&kiosk(), batch(vec![record(1, VIEW)], 0), 0).unwrap();
        plan.resolve(&HashMap::new(), &HashSet::new()).unwrap();
        plan.stored(0, Outcome::Failed("constraint".into()));
        assert_eq!(plan.records[0].kind(), "quarantined");
        // The quarantine names the kind the record claimed.
        assert_eq!(plan.records[0].declared_kind(), "view");
        let f = plan.finish(1, &HashSet::new(), |_| Ok(false)).unwrap();
        assert_eq!((f.ack.inserted, f.next_seq), (1, 2));
        assert!(f.views.is_empty() && f.kinds.is_empty());
    }

    #[test]
    fn boot_reference_places_records_on_the_server_clock() {
        let now = 1_780_000_100_000;
        let mut plan = Plan::new(&kiosk(), batch(vec![record(1, VIEW)], 0), now).unwrap();
        assert_eq!(plan.boot_ids(), [Uuid::from_u128(9)]);
        let boots = [(Uuid::from_u128(9), (now - 60_000, 1_000))].into();
        plan.resolve(&boots, &HashSet::new()).unwrap();
        assert_eq!(plan.records[0].quality, "boot");
        assert_eq!(plan.records[0].corrected_ms, now - 60_000 + 5_001 - 1_000);
    }
}
