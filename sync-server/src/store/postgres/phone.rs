//! [`PhoneStorage`] on PostgreSQL: QR codes opened on phones and the leads phones send.

use super::PostgresStorage;
use super::sync::{lock_leads, pg_text};
use crate::store::*;

/// An open of a known kiosk's code, once per visitor, code and purpose; a code of a kiosk
/// this server does not know is not kept.
const INSERT_OPEN: &str =
    "INSERT INTO qr_opens(nonce, kiosk, event_id, item, lang, purpose, at_ms, visitor)
     SELECT $1, id, $3, $4, $5, $6, $7, $8 FROM kiosks WHERE uuid = $2
     ON CONFLICT DO NOTHING";

fn open_params(open: &QrOpen) -> [String; 7] {
    [
        pg_text(&open.nonce).into_owned(),
        open.kiosk.to_string(),
        pg_text(&open.event_id).into_owned(),
        pg_text(&open.item).into_owned(),
        pg_text(&open.lang).into_owned(),
        open.purpose.to_owned(),
        pg_text(&open.visitor).into_owned(),
    ]
}

impl PhoneStorage for PostgresStorage {
    fn record_open(&self, open: &QrOpen, now_ms: i64) -> Result<(), StorageError> {
        self.record_opens(&[(open.clone(), now_ms)])
    }

    fn record_opens(&self, opens: &[(QrOpen, i64)]) -> Result<(), StorageError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let ins = tx.prepare(INSERT_OPEN)?;
            for (open, at) in opens {
                let [nonce, kiosk, event, item, lang, purpose, visitor] = open_params(open);
                tx.execute(
                    &ins,
                    &[&nonce, &kiosk, &event, &item, &lang, &purpose, at, &visitor],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn upsert_phone_lead(&self, lead: &PhoneLead, now_ms: i64) -> Result<bool, StorageError> {
        let interests =
            serde_json::to_string(&lead.interests).map_err(|e| StorageError::Db(e.to_string()))?;
        // The consent keeps its digest; the text shown is archived once per version.
        let (consent, archived) =
            crate::store::leads::consent_to_store(Some(&lead.consent), now_ms);
        let consent = consent.unwrap_or_default();
        let t = |s: &str| pg_text(s).into_owned();
        self.with(|c| {
            let mut tx = c.transaction()?;
            // An erasure of this lead on another server waits, or is waited for.
            lock_leads(&mut tx, [lead.lead_id])?;
            let n = tx.execute(
                "INSERT INTO leads(lead_id, kiosk, event_id, item, lang, source, name, organisation,
                    email, phone, country, title, interests, consent, created_ms, updated_ms)
                 VALUES ($1, (SELECT id FROM kiosks WHERE uuid = $2), $3, $4, $5, 'phone_form', $6,
                    $7, $8, $9, $10, '', $11, $12, $13, $13)
                 ON CONFLICT (lead_id) DO UPDATE SET
                    name = excluded.name, organisation = excluded.organisation, email = excluded.email,
                    phone = excluded.phone, country = excluded.country, interests = excluded.interests,
                    consent = excluded.consent, lang = excluded.lang, updated_ms = excluded.updated_ms
                 WHERE leads.erased_ms IS NULL",
                &[
                    &lead.lead_id.as_bytes().as_slice(),
                    &lead.kiosk.to_string(),
                    &t(&lead.event_id),
                    &t(&lead.item),
                    &t(&lead.lang),
                    &t(&lead.contact.name),
                    &t(&lead.contact.organisation),
                    &t(&lead.contact.email),
                    &t(&lead.contact.phone),
                    &t(&lead.contact.country),
                    &t(&interests),
                    &t(&consent),
                    &now_ms,
                ],
            )?;
            if let Some(text) = &archived {
                super::leads::archive_consent(&mut tx, text)?;
            }
            tx.commit()?;
            Ok(n > 0)
        })
    }
}
