//! Retention: leads, raw badge scans and delegation members past their unit's period are
//! erased, at start and then every hour.

use crate::AppState;
use crate::store::{AuditAction, StorageError};

/// Erases the leads past their unit's retention period; returns how many. Run at start and
/// then every hour by `serve`.
pub fn sweep_retention(state: &AppState, now_ms: i64) -> Result<usize, StorageError> {
    let ids = state.leads.expired_leads(now_ms)?;
    for id in &ids {
        state.storage.erase_lead(*id, now_ms)?;
    }
    if !ids.is_empty() {
        state.staff.audit(
            None,
            AuditAction::RetentionErase,
            &format!("{} leads", ids.len()),
            now_ms,
        )?;
    }
    // Raw badge scans too, counted from when they were scanned.
    let scans = state.leads.expire_raw_scans(now_ms)?;
    if scans > 0 {
        state.staff.audit(
            None,
            AuditAction::RetentionErase,
            &format!("{scans} raw scans"),
            now_ms,
        )?;
    }
    // Delegation members follow the same rule, counted from the day of the visit.
    let members = state.visits.expire_members(now_ms)?;
    if members > 0 {
        state.staff.audit(
            None,
            AuditAction::RetentionErase,
            &format!("{members} delegation members"),
            now_ms,
        )?;
    }
    Ok(ids.len())
}
