//! [`PhoneStorage`] on SQLite: QR opens and the leads visitors leave on their phones.

use rusqlite::params;

use super::SqliteStorage;
use crate::store::*;

impl PhoneStorage for SqliteStorage {
    fn record_open(&self, open: &QrOpen, now_ms: i64) -> Result<(), StorageError> {
        self.write(|c| {
            c.execute(
                "INSERT OR IGNORE INTO qr_opens(nonce, kiosk, event_id, item, lang, purpose, at_ms, visitor)
                 VALUES (?1, (SELECT id FROM kiosks WHERE uuid = ?2), ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    open.nonce,
                    open.kiosk.to_string(),
                    open.event_id,
                    open.item,
                    open.lang,
                    open.purpose,
                    now_ms,
                    open.visitor
                ],
            )?;
            Ok(())
        })
    }

    fn record_opens(&self, opens: &[(QrOpen, i64)]) -> Result<(), StorageError> {
        self.write(|c| {
            let tx = c.transaction()?;
            {
                let mut ins = tx.prepare_cached(
                    "INSERT OR IGNORE INTO qr_opens(nonce, kiosk, event_id, item, lang, purpose, at_ms, visitor)
                     VALUES (?1, (SELECT id FROM kiosks WHERE uuid = ?2), ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                for (open, at) in opens {
                    ins.execute(params![
                        open.nonce,
                        open.kiosk.to_string(),
                        open.event_id,
                        open.item,
                        open.lang,
                        open.purpose,
                        at,
                        open.visitor
                    ])?;
                }
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
        self.write(|c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "INSERT INTO leads(lead_id, kiosk, event_id, item, lang, source, name, organisation,
                    email, phone, country, title, interests, consent, created_ms, updated_ms)
                 VALUES (?1, (SELECT id FROM kiosks WHERE uuid = ?2), ?3, ?4, ?5, 'phone_form', ?6, ?7,
                    ?8, ?9, ?10, '', ?11, ?12, ?13, ?13)
                 ON CONFLICT(lead_id) DO UPDATE SET
                    name = excluded.name, organisation = excluded.organisation, email = excluded.email,
                    phone = excluded.phone, country = excluded.country, interests = excluded.interests,
                    consent = excluded.consent, lang = excluded.lang, updated_ms = excluded.updated_ms
                 WHERE leads.erased_ms IS NULL",
                params![
                    lead.lead_id.as_bytes().as_slice(),
                    lead.kiosk.to_string(),
                    lead.event_id,
                    lead.item,
                    lead.lang,
                    lead.contact.name,
                    lead.contact.organisation,
                    lead.contact.email,
                    lead.contact.phone,
                    lead.contact.country,
                    interests,
                    consent,
                    now_ms
                ],
            )?;
            if let Some(text) = &archived {
                super::leads::archive_consent(&tx, text)?;
            }
            tx.commit()?;
            Ok(n > 0)
        })
    }
}
