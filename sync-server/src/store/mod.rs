//! The storage layer: the traits every backend implements, the domain types they speak, and
//! the logic that does not depend on a backend (enrolment codes, Vietnam time, the reports'
//! assembly, the scope rule). [`sqlite`] executes them on SQLite. Every method is blocking;
//! handlers call it on the blocking pool.

pub mod codes;
pub mod erasure;
pub mod ingest;
pub mod inspect;
pub mod leads;
pub mod postgres;
pub mod reports;
pub mod sqlite;
pub mod time;
pub mod visits;

pub use inspect::InspectStorage;
pub use reports::ReportStorage;

use protocol::content::{Delegation, Manifest, MediaEntry, Member, Pack};
use protocol::record::SlideShown;
use protocol::sync::{ClockSample, Cursor, KioskSettings, PushAck};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A record as the server reads it: typed envelope, body kept as the kiosk sent it so that
/// fields and kinds this build does not know are stored intact.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct IncomingRecord {
    pub id: Uuid,
    pub kiosk_id: Uuid,
    pub seq: u64,
    pub wall_ms: i64,
    pub boot_id: Uuid,
    pub mono_ms: u64,
    #[serde(default)]
    pub clock_ok: bool,
    #[serde(default)]
    pub event_id: Option<String>,
    pub body: Box<RawValue>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct IncomingBatch {
    pub clock: ClockSample,
    #[serde(default)]
    pub pruned_below: u64,
    pub records: Vec<IncomingRecord>,
}

/// An authenticated kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskAuth {
    pub row: i64,
    pub uuid: Uuid,
    pub event_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKiosk {
    pub uuid: Uuid,
    /// The one-time enrolment code, shown once.
    pub code: String,
    pub expires_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KioskInfo {
    pub uuid: Uuid,
    pub name: String,
    pub event_id: Option<String>,
    pub enrolled: bool,
    pub revoked: bool,
    pub next_seq: u64,
    pub last_seen_ms: Option<i64>,
    pub app_version: Option<String>,
    pub content_version: Option<String>,
    pub backlog: Option<i64>,
    pub free_disk_bytes: Option<i64>,
    pub content_error: Option<String>,
    /// What staff set for it (its revision and event included).
    pub settings: KioskSettings,
    /// When it last asked for its cursor (to the [`CONTACT_EVERY_MS`]).
    pub last_contact_ms: Option<i64>,
    /// Staff asked for a screenshot at this time and none has come since.
    pub screenshot_requested_ms: Option<i64>,
    /// When the newest screenshot it sent was taken (the server's clock, at arrival).
    pub screenshot_ms: Option<i64>,
}

/// Why a screenshot nobody asked for is refused.
pub const NOT_ASKED: &str = "no screenshot was asked for: staff ask for one on the kiosk's page";

/// A kiosk's contact time is noted at most this often (a kiosk syncing every 15 s writes it at
/// every round; one syncing every second, once in ten).
pub const CONTACT_EVERY_MS: i64 = 10_000;

/// Whether a contact noted at `noted` should be written again at `now`.
pub fn contact_is_stale(noted: Option<i64>, now_ms: i64) -> bool {
    noted.is_none_or(|t| now_ms - t >= CONTACT_EVERY_MS || t > now_ms)
}

/// How a kiosk is doing, judged from when the server last heard from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Enrolled, never heard from.
    Never,
    Online,
    /// Silent for longer than expected (a few missed sync rounds), since the time given.
    Late(i64),
    /// Silent for long: switched off, unplugged, or off the network.
    Offline(i64),
}

/// Judges a kiosk from its last contact (cursor) and its last push, whichever is newer.
pub fn liveness(k: &KioskInfo, now_ms: i64, late_after_ms: i64, offline_after_ms: i64) -> Liveness {
    let Some(seen) = k.last_contact_ms.max(k.last_seen_ms) else {
        return Liveness::Never;
    };
    // The contact is noted every CONTACT_EVERY_MS at most: silence is counted from then.
    let silent = now_ms - seen;
    if silent >= offline_after_ms {
        Liveness::Offline(seen)
    } else if silent >= late_after_ms.max(CONTACT_EVERY_MS + 5_000) {
        Liveness::Late(seen)
    } else {
        Liveness::Online
    }
}

/// A kiosk's settings from its row: the revision and event from their columns, the rest from
/// the stored JSON (unreadable JSON, which only a hand edit could make, counts as none).
pub fn settings_from_row(
    revision: i64,
    event_id: Option<String>,
    json: Option<&str>,
) -> KioskSettings {
    let stored = json
        .and_then(|j| match serde_json::from_str::<KioskSettings>(j) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "a kiosk's stored settings are unreadable; ignored");
                None
            }
        })
        .unwrap_or_default();
    KioskSettings {
        revision: revision.max(0) as u64,
        event_id: event_id.filter(|e| !e.is_empty()),
        ..stored
    }
}

/// The JSON stored for a kiosk's settings: everything but the revision and the event, which
/// have columns of their own.
pub fn settings_json(settings: &KioskSettings) -> String {
    let mut s = settings.clone();
    s.revision = 0;
    s.event_id = None;
    serde_json::to_string(&s).unwrap_or_default()
}

/// What enrolment hands the kiosk (before the server adds its public URL and time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolled {
    pub uuid: Uuid,
    pub name: String,
    pub secret: String,
    pub token_key: Vec<u8>,
    pub event_id: Option<String>,
}

/// What the phone pages need to judge a kiosk's QR token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenKiosk {
    pub key: Vec<u8>,
    pub revoked: bool,
    /// Every event the kiosk was assigned to or served: the only ones its tokens may name.
    pub events: Vec<String>,
    /// The server's time minus the kiosk's wall clock at its last push.
    pub clock_offset_ms: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("unknown or already used enrolment code")]
    BadCode,
    #[error("unknown kiosk credentials")]
    Unauthorised,
    #[error("this kiosk was revoked")]
    Revoked,
    #[error("{0}")]
    Invalid(String),
    #[error("not found")]
    NotFound,
    /// The database's disk is full: nothing was written; try again once space is freed.
    #[error("the server's disk is full")]
    Full,
    /// A concurrent write on another connection conflicted (a deadlock or a serialisation
    /// failure PostgreSQL resolved by aborting this one): nothing was written; try again.
    #[error("a concurrent write conflicted: nothing was written, try again")]
    Conflict,
    #[error("database error: {0}")]
    Db(String),
}

pub trait Storage: Send + Sync + 'static {
    /// Creates a kiosk and its one-time enrolment code.
    fn create_kiosk(
        &self,
        name: &str,
        event_id: Option<&str>,
        now_ms: i64,
    ) -> Result<NewKiosk, StorageError>;
    /// Exchanges a one-time code for the kiosk's secret and token key.
    fn enrol(&self, code: &str, app_version: &str, now_ms: i64) -> Result<Enrolled, StorageError>;
    fn revoke_kiosk(&self, uuid: Uuid, now_ms: i64) -> Result<(), StorageError>;
    /// Assigns a kiosk to an event (or none); the kiosk follows at its next sync round.
    fn set_kiosk_event(&self, uuid: Uuid, event_id: Option<&str>) -> Result<(), StorageError>;
    /// Replaces a kiosk's settings but its event (which `set_kiosk_event` sets) and bumps their
    /// revision; answers the new revision.
    fn set_kiosk_settings(&self, uuid: Uuid, settings: &KioskSettings)
    -> Result<u64, StorageError>;
    fn kiosks(&self) -> Result<Vec<KioskInfo>, StorageError>;
    /// Checks a kiosk's bearer credentials.
    fn authenticate(&self, uuid: Uuid, secret: &str) -> Result<KioskAuth, StorageError>;
    /// The key a kiosk signs QR tokens with.
    fn token_key(&self, uuid: Uuid) -> Result<Vec<u8>, StorageError>;
    /// An enrolled kiosk's key, revocation, events and clock offset (NotFound: unknown or not
    /// enrolled).
    fn token_kiosk(&self, uuid: Uuid) -> Result<TokenKiosk, StorageError>;
    /// Changes whenever a kiosk is enrolled or revoked (by any process sharing the database):
    /// phone pages reload what they cached of kiosks then.
    fn kiosk_stamp(&self) -> Result<[i64; 4], StorageError>;
    /// The ids of enrolled kiosks (revoked ones included): a token naming another id is refused
    /// without a lookup.
    fn enrolled_kiosks(&self) -> Result<Vec<Uuid>, StorageError>;
    fn cursor(&self, kiosk: &KioskAuth, now_ms: i64) -> Result<Cursor, StorageError>;
    /// Stores a batch idempotently in one transaction; the answer is sent only after commit.
    fn ingest(
        &self,
        kiosk: &KioskAuth,
        batch: IncomingBatch,
        now_ms: i64,
    ) -> Result<PushAck, StorageError>;
    /// Erases a lead: tombstone, personal fields gone, never restored by a re-upload.
    fn erase_lead(&self, lead_id: Uuid, now_ms: i64) -> Result<(), StorageError>;
    fn record_media(&self, sha256: &str, size: u64, now_ms: i64) -> Result<(), StorageError>;
    /// Mirrors a pack's delegations before it is published: each one an event of kind
    /// `delegation` (upserted; a venue set by staff is kept) and its members replaced. An id
    /// that another unit's fair or meeting already uses is [`StorageError::Invalid`], and
    /// nothing is changed.
    fn save_delegations(&self, delegations: &[Delegation], now_ms: i64)
    -> Result<(), StorageError>;
    /// Stores a content version and makes it the current one.
    fn publish(&self, manifest: &Manifest, now_ms: i64) -> Result<(), StorageError>;
    fn current_manifest(&self) -> Result<Option<Manifest>, StorageError>;
    /// The version published to one event, when it has its own (else kiosks of the event
    /// play [`SyncStorage::current_manifest`]).
    fn event_manifest(&self, event_id: &str) -> Result<Option<Manifest>, StorageError>;
    /// What a kiosk of `event_id` plays: its event's version, or the default.
    fn manifest_for(&self, event_id: Option<&str>) -> Result<Option<Manifest>, StorageError> {
        if let Some(e) = event_id
            && let Some(m) = self.event_manifest(e)?
        {
            return Ok(Some(m));
        }
        self.current_manifest()
    }
    fn media_known(&self, sha256: &str) -> Result<bool, StorageError>;
    /// Counts for tests and reports: records per kind.
    fn count_records(&self, kiosk: Option<Uuid>) -> Result<u64, StorageError>;
}

/// A staff account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub org: String,
}

/// An account as the admins' accounts page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub org: String,
    pub created_ms: i64,
    pub disabled_ms: Option<i64>,
    pub locked_until_ms: Option<i64>,
}

/// The fewest characters a staff password has.
pub const PASSWORD_MIN_CHARS: usize = 10;

/// What a staff account may do. Stored as its name; a name this build does not know reads as
/// [`Role::Staff`], the lesser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Every event, the kiosks, content, the audit log.
    Admin,
    /// Their unit's events' leads and reports.
    Staff,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Admin, Role::Staff];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
        }
    }

    /// The role of a name (None: not a role).
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// The role stored in the database.
    pub fn stored(name: &str) -> Role {
        Role::parse(name).unwrap_or(Role::Staff)
    }
}

/// What the audit log says was done. The names are what the log has always stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Login,
    LoginFailed,
    LoginLocked,
    Logout,
    UserAdd,
    UserPassword,
    UserUnlock,
    UserDisable,
    UserEnable,
    UserInvite,
    UserResetLink,
    UserTotpOn,
    UserTotpOff,
    UserRole,
    KioskAdd,
    KioskEnrol,
    KioskEvent,
    KioskSettings,
    KioskScreenshot,
    Revoke,
    ContentImport,
    ContentDraft,
    Publish,
    Event,
    Retention,
    LeadStatus,
    LeadRestore,
    Erase,
    LeadErase,
    Merge,
    PrivacyLookup,
    PrivacyErase,
    EraseMember,
    RetentionErase,
    Export,
    TokenRefusedEvent,
    /// A lead's contact was replaced (written by the database's trigger on `leads`).
    LeadOverwritten,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        use AuditAction::*;
        match self {
            Login => "login",
            LoginFailed => "login_failed",
            LoginLocked => "login_locked",
            Logout => "logout",
            UserAdd => "user_add",
            UserPassword => "user_password",
            UserUnlock => "user_unlock",
            UserDisable => "user_disable",
            UserEnable => "user_enable",
            UserInvite => "user_invite",
            UserResetLink => "user_reset_link",
            UserTotpOn => "user_totp_on",
            UserTotpOff => "user_totp_off",
            UserRole => "user_role",
            KioskAdd => "kiosk_add",
            KioskEnrol => "kiosk_enrol",
            KioskEvent => "kiosk-event",
            KioskSettings => "kiosk-settings",
            KioskScreenshot => "kiosk-screenshot",
            Revoke => "revoke",
            ContentImport => "content_import",
            ContentDraft => "content-draft",
            Publish => "publish",
            Event => "event",
            Retention => "retention",
            LeadStatus => "lead-status",
            LeadRestore => "lead_restore",
            Erase => "erase",
            LeadErase => "lead_erase",
            Merge => "merge",
            PrivacyLookup => "privacy-lookup",
            PrivacyErase => "privacy-erase",
            EraseMember => "erase-member",
            RetentionErase => "retention-erase",
            Export => "export",
            TokenRefusedEvent => "token_refused_event",
            LeadOverwritten => "lead_overwritten",
        }
    }
}

/// What the staff dashboard shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub kiosks: Vec<KioskInfo>,
    /// Records per kind, from the roll-ups.
    pub kinds: Vec<(String, i64)>,
    /// Leads not erased.
    pub leads: i64,
    /// QR codes opened on phones.
    pub qr_opens: i64,
}

/// A record the server acknowledged but could not read or store as its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineRow {
    pub kiosk_name: String,
    pub kiosk: Uuid,
    pub seq: i64,
    pub kind: String,
    pub reason: String,
    pub received_ms: i64,
}

/// A staff session ends after this long unused.
pub const SESSION_IDLE_MS: i64 = 30 * 60 * 1000;

/// The longest audit detail kept (characters): a flood of huge form fields cannot fill the log.
pub const AUDIT_DETAIL_MAX: usize = 1000;

/// Staff accounts, sessions, audit and the dashboard: the part of storage the web pages use.
pub trait StaffStorage: Send + Sync + 'static {
    fn add_user(
        &self,
        email: &str,
        password_hash: &str,
        role: Role,
        org: &str,
        now_ms: i64,
    ) -> Result<i64, StorageError>;
    fn user_by_email(&self, email: &str) -> Result<Option<User>, StorageError>;
    /// Replaces a user's password hash and ends every session of the user, in one
    /// transaction. False: no such account.
    fn set_password(&self, email: &str, password_hash: &str) -> Result<bool, StorageError>;
    fn create_session(
        &self,
        user_id: i64,
        token_hash: &str,
        csrf: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StorageError>;
    /// The user and CSRF token of a live session: not past its absolute end, and used within
    /// [`SESSION_IDLE_MS`] (a use moves that clock on).
    fn session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<(User, String)>, StorageError>;
    fn delete_session(&self, token_hash: &str) -> Result<(), StorageError>;
    /// Ends every session of a user (at sign-out, and when the password changes).
    fn end_sessions(&self, user_id: i64) -> Result<(), StorageError>;
    /// Counts a failed sign-in for the account with this email (if any); every fifth in a row
    /// locks it, for longer each time (1 min, 5 min, 15 min, 1 h). Returns the lock's end.
    fn login_failed(&self, email: &str, now_ms: i64) -> Result<Option<i64>, StorageError>;
    /// A successful sign-in clears the failures.
    fn login_succeeded(&self, user_id: i64) -> Result<(), StorageError>;
    /// Until when the account is locked (None: it is not, or there is no such account).
    fn locked_until(&self, email: &str, now_ms: i64) -> Result<Option<i64>, StorageError>;
    /// Lifts an account's lockout. False: no such account.
    fn unlock_user(&self, email: &str) -> Result<bool, StorageError>;
    /// Records held in quarantine (newest first, at most `limit`) and how many there are.
    fn quarantine(&self, limit: u64) -> Result<(Vec<QuarantineRow>, u64), StorageError>;
    /// Accounts locked now, with the lock's end: for the admins' audit page.
    fn locked_users(&self, now_ms: i64) -> Result<Vec<(String, i64)>, StorageError>;
    /// Keeps a one-time link (`purpose` `invite` or `reset`) for an account, replacing any
    /// earlier link of that account that was not used.
    fn create_user_link(
        &self,
        user_id: i64,
        token_hash: &str,
        purpose: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StorageError>;
    /// The account and purpose of a link that still works (not used, not expired, the account
    /// not disabled).
    fn user_link(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<(User, String)>, StorageError>;
    /// Sets the password through a link that still works, in one transaction: the link is used
    /// up, the lockout cleared and every session of the account ended. None: the link does not
    /// work (any more).
    fn redeem_user_link(
        &self,
        token_hash: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<Option<User>, StorageError>;
    /// Every account, by email, for the admins' accounts page.
    fn users(&self) -> Result<Vec<UserRow>, StorageError>;
    /// Disables an account (its sessions end in the same transaction, it cannot sign in) or
    /// enables it again. False: no such account.
    fn set_user_disabled(
        &self,
        user_id: i64,
        disabled: bool,
        now_ms: i64,
    ) -> Result<bool, StorageError>;
    /// Gives an account another role or unit; what it sees changes at its next page (false:
    /// no such account).
    fn set_user_role(&self, user_id: i64, role: Role, org: &str) -> Result<bool, StorageError>;
    /// The account's TOTP secret (base32), when its second factor is on.
    fn totp_secret(&self, user_id: i64) -> Result<Option<String>, StorageError>;
    /// Turns the second factor on with `secret`, or off (None); either way no code is used yet.
    fn set_totp_secret(&self, user_id: i64, secret: Option<&str>) -> Result<(), StorageError>;
    /// Takes a code's 30-second step: true only the first time a step at or after the last one
    /// taken is offered, so a code read over a shoulder cannot be used again (atomic across
    /// servers sharing the database).
    fn use_totp_step(&self, user_id: i64, step: i64) -> Result<bool, StorageError>;
    /// A sign-in whose password was right, waiting for its code (expired ones are cleared).
    fn create_login_challenge(
        &self,
        token_hash: &str,
        user_id: i64,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StorageError>;
    /// The account a live challenge is for (never a disabled one).
    fn login_challenge(&self, token_hash: &str, now_ms: i64) -> Result<Option<User>, StorageError>;
    fn end_login_challenge(&self, token_hash: &str) -> Result<(), StorageError>;
    fn audit(
        &self,
        user_id: Option<i64>,
        action: AuditAction,
        detail: &str,
        now_ms: i64,
    ) -> Result<(), StorageError>;
    /// One page of the audit log, newest first, and how many entries there are.
    fn audit_log(&self, limit: u64, offset: u64) -> Result<(Vec<AuditEntry>, u64), StorageError>;
    fn summary(&self) -> Result<Summary, StorageError>;
}

/// A phone opened a kiosk's QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrOpen {
    pub nonce: String,
    pub kiosk: Uuid,
    pub event_id: String,
    pub item: String,
    pub lang: String,
    pub purpose: &'static str,
    /// A pseudonymous key of the phone (a hash of the code and its network): one open per
    /// visitor, code and purpose.
    pub visitor: String,
}

/// A lead a visitor left on their phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneLead {
    pub lead_id: Uuid,
    pub kiosk: Uuid,
    pub event_id: String,
    pub item: String,
    pub lang: String,
    pub contact: protocol::Contact,
    pub interests: Vec<String>,
    pub consent: protocol::Consent,
}

/// The visitor's phone pages: what they record.
pub trait PhoneStorage: Send + Sync + 'static {
    fn record_open(&self, open: &QrOpen, now_ms: i64) -> Result<(), StorageError>;
    /// Several opens in one transaction (one disk flush): phones opening codes together
    /// share the commit.
    fn record_opens(&self, opens: &[(QrOpen, i64)]) -> Result<(), StorageError> {
        for (open, at) in opens {
            self.record_open(open, *at)?;
        }
        Ok(())
    }
    /// Stores or updates (same visitor, same code) a lead; an erased lead stays erased.
    /// Returns false when the lead was erased and nothing was stored.
    fn upsert_phone_lead(&self, lead: &PhoneLead, now_ms: i64) -> Result<bool, StorageError>;
}

/// The organising unit whose staff see every event's leads (with the admins).
pub const ALL_LEADS_ORG: &str = "Department of Culture, Sports and Tourism";

/// Which leads a staff member may see and act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// The leads of the events this unit organises.
    Org(String),
}

impl Scope {
    /// The rule, once: admins and the Department of Culture, Sports and Tourism see every
    /// unit's events; everyone else their own unit's.
    pub fn of(user: &User) -> Scope {
        if user.role == Role::Admin || user.org == ALL_LEADS_ORG {
            Scope::All
        } else {
            Scope::Org(user.org.clone())
        }
    }

    /// The unit a query must keep to (None: every unit).
    pub fn org(&self) -> Option<&str> {
        match self {
            Scope::All => None,
            Scope::Org(o) => Some(o),
        }
    }

    /// Whether an event organised by `org` is in this scope.
    pub fn covers(&self, org: &str) -> bool {
        self.org().is_none_or(|o| o == org)
    }
}

/// Filters of the leads table and its exports; empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct LeadFilter {
    pub event: String,
    pub org: String,
    pub kiosk: String,
    /// `YYYY-MM-DD`, inclusive, Vietnam time.
    pub from: String,
    pub to: String,
    pub country: String,
    pub lang: String,
    pub interest: String,
    pub source: String,
    pub status: String,
    /// Searched in name, organisation, email, phone and notes.
    pub q: String,
}

/// One version of a consent text, with its exact words, kept the first time a lead agreed
/// to it (by its digest, the sha256 of the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentText {
    pub digest: String,
    pub text_id: String,
    pub lang: String,
    pub text: String,
    pub first_seen_ms: i64,
}

/// A lead as staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadRow {
    pub lead_id: Uuid,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub event_id: String,
    pub event_name: String,
    pub org: String,
    pub kiosk_name: String,
    pub item: String,
    pub lang: String,
    pub source: String,
    pub contact: protocol::Contact,
    pub interests: Vec<String>,
    pub status: String,
    pub notes: String,
    pub consent: Option<protocol::Consent>,
}

/// An event or a delegation visit.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct EventRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub starts: String,
    pub ends: String,
    pub venue: String,
    pub country: String,
    pub languages: String,
    pub org: String,
    pub responsible: String,
}

/// An entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at_ms: i64,
    pub email: Option<String>,
    pub action: String,
    pub detail: String,
}

pub const LEAD_STATUSES: [&str; 3] = ["new", "contacted", "qualified"];

/// What a lead said before a later submission changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadVersion {
    pub id: i64,
    /// When it was replaced.
    pub replaced_ms: i64,
    /// When it had been written, and how.
    pub updated_ms: i64,
    pub source: String,
    pub contact: protocol::Contact,
}

/// Leads, events, units and the audit log: what the staff pages read and change.
pub trait LeadStorage: Send + Sync + 'static {
    /// One page of the leads in scope that pass the filter, newest first, and how many pass.
    fn leads(
        &self,
        scope: &Scope,
        filter: &LeadFilter,
        limit: u64,
        offset: u64,
    ) -> Result<(Vec<LeadRow>, u64), StorageError>;
    /// A lead in scope (None if it is not, or is erased).
    fn lead(&self, scope: &Scope, lead_id: Uuid) -> Result<Option<LeadRow>, StorageError>;
    fn update_lead(
        &self,
        scope: &Scope,
        lead_id: Uuid,
        status: &str,
        notes: &str,
        now_ms: i64,
    ) -> Result<bool, StorageError>;
    /// The earlier versions of a lead in scope, newest first.
    fn lead_versions(&self, scope: &Scope, lead_id: Uuid)
    -> Result<Vec<LeadVersion>, StorageError>;
    /// Puts an earlier version's contact back (the current one becomes a version in turn).
    /// False: no such lead or version in scope.
    fn restore_lead_version(
        &self,
        scope: &Scope,
        lead_id: Uuid,
        version: i64,
        now_ms: i64,
    ) -> Result<bool, StorageError>;
    /// Groups of leads in scope that share an email or a phone within one event.
    fn duplicates(&self, scope: &Scope) -> Result<Vec<Vec<LeadRow>>, StorageError>;
    /// Merges `others` into `keep`: empty fields and interests filled in, notes joined; the
    /// others point at `keep` and are erased (tombstoned).
    fn merge_leads(
        &self,
        scope: &Scope,
        keep: Uuid,
        others: &[Uuid],
        now_ms: i64,
    ) -> Result<usize, StorageError>;
    /// Every lead (in any scope) with this email or phone: a data subject's request.
    fn leads_of_person(&self, email_or_phone: &str) -> Result<Vec<LeadRow>, StorageError>;
    fn events(&self) -> Result<Vec<EventRow>, StorageError>;
    fn upsert_event(&self, event: &EventRow, now_ms: i64) -> Result<(), StorageError>;
    /// Whether records, kiosks or leads already name this event id (so that creating its
    /// event row, which decides who sees them, is for an admin).
    fn event_id_in_use(&self, id: &str) -> Result<bool, StorageError>;
    fn orgs(&self) -> Result<Vec<(String, Option<i64>)>, StorageError>;
    fn upsert_org(&self, name: &str, retention_days: Option<i64>) -> Result<(), StorageError>;
    /// Raw badge scans (not yet erased) whose text holds this email or phone number, by the
    /// rule of [`protocol::contact::PersonKey`] applied to each word of the scan.
    fn raw_scans_of_person(&self, email_or_phone: &str) -> Result<Vec<RawScanRow>, StorageError>;
    /// Erases raw scans' text (kiosk row, seq), keeping the record and its reason.
    fn erase_raw_scans(&self, scans: &[(i64, i64)], now_ms: i64) -> Result<usize, StorageError>;
    /// Erases the raw scans older than their unit's retention period; returns how many.
    fn expire_raw_scans(&self, now_ms: i64) -> Result<usize, StorageError>;
    /// Leads older than their unit's retention period (not yet erased).
    fn expired_leads(&self, now_ms: i64) -> Result<Vec<Uuid>, StorageError>;
    /// The version of a consent text that this digest names, as first seen.
    fn consent_text(&self, digest: &str) -> Result<Option<ConsentText>, StorageError>;
}

/// A raw badge scan as a person's request shows it (its text may hold personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawScanRow {
    pub kiosk: i64,
    pub seq: i64,
    pub kiosk_name: String,
    pub event_id: String,
    pub at_ms: i64,
    pub raw: String,
}

/// A content version as staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentVersion {
    pub version: String,
    pub created_ms: i64,
    pub published_ms: Option<i64>,
    pub items: usize,
    pub media: usize,
    /// Whether kiosks pull this version now (the newest published).
    pub current: bool,
}

/// A version published to one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventContent {
    pub event_id: String,
    pub version: String,
    pub published_ms: i64,
}

/// The draft staff edit in the browser: a pack and the media it uses, not yet a version.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// The version it started from.
    pub based_on: Option<String>,
    pub pack: Pack,
    pub media: Vec<MediaEntry>,
    pub updated_ms: i64,
    pub updated_by: String,
    /// The revision it was read at (1 when first stored; 0: a new draft not stored yet):
    /// saving it succeeds only if nobody saved or discarded the draft since.
    pub revision: i64,
}

/// A draft from its stored columns.
pub fn draft_from(
    based_on: Option<String>,
    pack: &str,
    media: &str,
    updated_ms: i64,
    updated_by: String,
    revision: i64,
) -> Result<Draft, StorageError> {
    let bad =
        |e: serde_json::Error| StorageError::Db(format!("the stored draft is unreadable: {e}"));
    Ok(Draft {
        based_on,
        pack: serde_json::from_str(pack).map_err(bad)?,
        media: serde_json::from_str(media).map_err(bad)?,
        updated_ms,
        updated_by,
        revision,
    })
}

/// A draft's pack and media as stored.
pub fn draft_json(draft: &Draft) -> Result<(String, String), StorageError> {
    let bad = |e: serde_json::Error| StorageError::Db(e.to_string());
    Ok((
        serde_json::to_string(&draft.pack).map_err(bad)?,
        serde_json::to_string(&draft.media).map_err(bad)?,
    ))
}

/// Content versions for the staff pages.
pub trait FleetStorage: Send + Sync + 'static {
    fn content_versions(&self) -> Result<Vec<ContentVersion>, StorageError>;
    /// Makes an imported version the current one again (a rollback, or a staged import).
    fn republish(&self, version: &str, now_ms: i64) -> Result<bool, StorageError>;
    /// One stored version's manifest.
    fn version_manifest(&self, version: &str) -> Result<Option<Manifest>, StorageError>;
    /// Stores a version without publishing it; false when that version exists already.
    fn add_version(&self, manifest: &Manifest, now_ms: i64) -> Result<bool, StorageError>;
    /// Publishes a stored version to one event's kiosks (false: no such version).
    fn publish_to_event(
        &self,
        version: &str,
        event_id: &str,
        now_ms: i64,
    ) -> Result<bool, StorageError>;
    /// Sends an event's kiosks back to the default version (false: it had none of its own).
    fn unpublish_event(&self, event_id: &str) -> Result<bool, StorageError>;
    /// Every event that has a version of its own.
    fn event_contents(&self) -> Result<Vec<EventContent>, StorageError>;
    fn draft(&self) -> Result<Option<Draft>, StorageError>;
    /// Saves the draft if it is still at `draft.revision` (a new one: if there is none); false
    /// when another save or a discard came first, and nothing was written.
    fn save_draft(&self, draft: &Draft) -> Result<bool, StorageError>;
    fn discard_draft(&self) -> Result<(), StorageError>;
    /// A cheap stamp of the current version (row id, publication time): changes whenever
    /// another version becomes current, so a parsed manifest can be kept until then.
    fn current_stamp(&self) -> Result<Option<(i64, i64)>, StorageError>;
    /// Asks a kiosk for a picture of its screen with its next sync round (NotFound: unknown).
    fn request_screenshot(&self, uuid: Uuid, now_ms: i64) -> Result<(), StorageError>;
    /// Keeps a kiosk's screenshot (only the newest) and clears its request.
    fn save_screenshot(
        &self,
        kiosk: &KioskAuth,
        jpeg: &[u8],
        now_ms: i64,
    ) -> Result<(), StorageError>;
    /// The newest screenshot of a kiosk and when it arrived.
    fn screenshot(&self, uuid: Uuid) -> Result<Option<(i64, Vec<u8>)>, StorageError>;
}

/// A delegation as the visits pages list it: its event row and what its visits gathered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DelegationRow {
    pub id: String,
    pub name: String,
    /// `YYYY-MM-DD` (the event's first day).
    pub date: String,
    pub country: String,
    /// Comma-separated tags.
    pub languages: String,
    /// The person from the Department of Foreign Affairs who presents (the event's person
    /// responsible).
    pub host: String,
    /// The organising unit (`""`: visits of a delegation no event row names).
    pub org: String,
    pub visits: i64,
    pub attendees: i64,
    /// Phones that opened the closing slides' QR codes.
    pub qr_opens: i64,
    /// Leads made for the delegation (not erased).
    pub leads: i64,
}

/// One visit as staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitRow {
    pub visit_id: Uuid,
    pub kiosk_name: String,
    pub deck: String,
    pub started_ms: i64,
    pub ended_ms: i64,
    pub duration_ms: i64,
    pub attendees: i64,
    pub blank_ms: i64,
    /// In the order shown.
    pub slides: Vec<SlideShown>,
    pub qr_nonces: Vec<String>,
    /// `host` | `interrupted`.
    pub ended: String,
}

/// A phone that opened a visit's closing-slide QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitOpen {
    pub at_ms: i64,
    pub nonce: String,
    pub kiosk_name: String,
    pub lang: String,
    pub purpose: String,
}

/// The visit report of one delegation (its leads come from [`LeadStorage::leads`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DelegationReport {
    pub delegation: DelegationRow,
    pub members: Vec<Member>,
    /// Oldest first.
    pub visits: Vec<VisitRow>,
    /// Oldest first.
    pub opens: Vec<VisitOpen>,
}

/// Delegations and their visits: what the visits pages read. Scoped like leads: a unit sees
/// the delegations it organises.
pub trait VisitStorage: Send + Sync + 'static {
    /// The delegations in scope (kind `delegation`, or named by a visit), newest first.
    fn delegations(&self, scope: &Scope) -> Result<Vec<DelegationRow>, StorageError>;
    /// A delegation in scope with its members, visits and QR opens (None: unknown, or another
    /// unit's).
    fn delegation_report(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<DelegationReport>, StorageError>;
    /// Erases a member of a delegation in scope (every member of that name), leaving a hash so
    /// that a later import of the same pack does not add them again. False: not found.
    fn erase_member(
        &self,
        scope: &Scope,
        delegation: &str,
        name: &str,
        now_ms: i64,
    ) -> Result<bool, StorageError>;
    /// Erases the members of delegations whose visit day is older than their unit's lead
    /// retention (the same rule as leads), with the same tombstones. Returns how many.
    fn expire_members(&self, now_ms: i64) -> Result<usize, StorageError>;
}

/// When a record was made, on the server's clock, and how that was found: from its boot's
/// reference (the server's time at the boot's first push against the kiosk's monotonic clock
/// then) — never later than the record arrived, since a slow first push puts the reference
/// late — else the kiosk's wall clock when it is plausible, else the time it arrived.
pub fn corrected_time(
    boot: Option<(i64, i64)>,
    mono_ms: u64,
    wall_ms: i64,
    clock_ok: bool,
    now_ms: i64,
) -> (i64, &'static str) {
    match boot {
        Some((server, mono)) => ((server + (mono_ms as i64 - mono)).min(now_ms), "boot"),
        None if clock_ok || plausible_wall(wall_ms, now_ms) => (wall_ms, "kiosk"),
        None => (now_ms, "received"),
    }
}

/// A kiosk wall time that could be true: after 2024 and not ahead of the server by a day.
fn plausible_wall(wall_ms: i64, now_ms: i64) -> bool {
    wall_ms > 1_704_067_200_000 && wall_ms < now_ms + 86_400_000
}

/// Text cut to `max` characters, with an ellipsis when something was cut.
pub fn capped(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// The lock a failed sign-in puts on an account with `failed` failures in a row: every fifth
/// locks, for longer each time (1 min, 5 min, 15 min, then 1 h). None: no lock.
pub fn lockout_end(failed: i64, now_ms: i64) -> Option<i64> {
    const LOCKS_MS: [i64; 4] = [60_000, 300_000, 900_000, 3_600_000];
    if failed <= 0 || failed % 5 != 0 {
        return None;
    }
    let level = ((failed / 5 - 1) as usize).min(LOCKS_MS.len() - 1);
    Some(now_ms + LOCKS_MS[level])
}

/// Whether two hashes of equal length are equal, compared without an early exit.
pub fn same_hash(given: &str, stored: &str) -> bool {
    given
        .bytes()
        .zip(stored.bytes())
        .fold(given.len() ^ stored.len(), |acc, (a, b)| {
            acc | (a ^ b) as usize
        })
        == 0
}

/// The hex SHA-256 of some bytes (media names, stored secrets and session tokens).
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}
