//! What every conformance check uses: a fresh database of each backend, the macro that runs
//! a check on both, and fixtures of kiosks and records.

#![allow(dead_code)]

use std::collections::BTreeMap;

use protocol::RecordBody;
use serde_json::json;
use sync_server::store::postgres::PostgresStorage;
use sync_server::store::sqlite::SqliteStorage;
use sync_server::store::{IncomingBatch, IncomingRecord, KioskAuth, StaffStorage, Storage};
use uuid::Uuid;

/// A fresh SQLite database (the directory goes when the test ends).
pub fn sqlite() -> (tempfile::TempDir, SqliteStorage) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStorage::open(&dir.path().join("server.sqlite")).unwrap();
    (dir, s)
}

/// The cluster `pg_virtualenv` started, from the variables it exports.
pub fn cluster_url(database: &str) -> String {
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    assert!(
        std::env::var("PGHOST").is_ok(),
        "no PostgreSQL cluster: run the tests with scripts/test.sh, or inside \
         `pg_virtualenv -o fsync=off cargo test ...` (package postgresql-common)"
    );
    format!(
        "postgres://{}:{}@{}:{}/{database}",
        var("PGUSER", "postgres"),
        var("PGPASSWORD", ""),
        var("PGHOST", "localhost"),
        var("PGPORT", "5432"),
    )
}

/// A fresh PostgreSQL database of its own for one test.
pub fn postgres() -> PostgresStorage {
    let name = format!("conformance_{}", uuid::Uuid::now_v7().simple());
    let mut admin = postgres::Client::connect(
        &cluster_url(&std::env::var("PGDATABASE").unwrap_or_else(|_| "postgres".into())),
        postgres::NoTls,
    )
    .expect("connect to the test cluster");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    PostgresStorage::open(&cluster_url(&name)).unwrap()
}

/// One check, once per backend.
#[macro_export]
macro_rules! conformance {
    ($check:ident) => {
        mod $check {
            #[test]
            fn sqlite() {
                let (_dir, s) = $crate::common::sqlite();
                super::$check(&s);
            }

            #[test]
            fn postgres() {
                super::$check(&$crate::common::postgres());
            }
        }
    };
}

pub const T0: i64 = 1_780_000_000_000;
pub const MIN: i64 = 60_000;

/// A kiosk created and enrolled at `T0`, signed in.
pub fn enrolled<S: Storage>(s: &S, name: &str, event: &str) -> KioskAuth {
    let k = s.create_kiosk(name, Some(event), T0).unwrap();
    let e = s.enrol(&k.code, "1.0", T0).unwrap();
    s.authenticate(e.uuid, &e.secret).unwrap()
}

/// Record `seq` of `kiosk`; its id is the same for the same kiosk and seq.
pub fn rec(kiosk: Uuid, seq: u64, event: &str, body: &str) -> IncomingRecord {
    let (hi, lo) = kiosk.as_u64_pair();
    IncomingRecord {
        id: Uuid::from_u64_pair(hi ^ lo, seq),
        kiosk_id: kiosk,
        seq,
        wall_ms: T0 + seq as i64 * 1_000,
        boot_id: Uuid::from_u128(7),
        mono_ms: 5_000 + seq * 1_000,
        clock_ok: true,
        event_id: Some(event.to_owned()),
        body: serde_json::value::RawValue::from_string(body.to_owned()).unwrap(),
    }
}

pub fn batch(records: Vec<IncomingRecord>, pruned_below: u64) -> IncomingBatch {
    let mono = records.iter().map(|r| r.mono_ms).max().unwrap_or(0) + 1_000;
    IncomingBatch {
        clock: protocol::sync::ClockSample {
            boot_id: Uuid::from_u128(7),
            mono_ms: mono,
            wall_ms: T0 + mono as i64,
        },
        pruned_below,
        records,
    }
}

pub fn view(item: &str, lang: &str) -> String {
    json!({"kind": "view", "item": item, "lang": lang, "dwell_ms": 4000, "origin": "visitor"})
        .to_string()
}

pub fn lead(id: Uuid, name: &str, email: &str) -> String {
    serde_json::to_string(&RecordBody::Lead(Box::new(protocol::record::LeadBody {
        lead_id: id,
        contact: protocol::record::Contact {
            name: name.into(),
            email: email.into(),
            ..Default::default()
        },
        interests: vec!["invest".into()],
        source: protocol::record::LeadSource::KioskForm,
        consent: None,
        item: Some("invest".into()),
        lang: Some("ko".into()),
        redacted: false,
    })))
    .unwrap()
}

/// Records per kind, as the dashboard counts them.
pub fn kinds<S: StaffStorage>(s: &S) -> BTreeMap<String, i64> {
    s.summary().unwrap().kinds.into_iter().collect()
}
