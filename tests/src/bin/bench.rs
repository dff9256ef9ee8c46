//! Benchmarks. Each prints figures and ends with one summary line.
//!
//! `bench sync --records N`: N records drained from a kiosk store file to the real server over
//! loopback, against plain SQLite inserts of the same rows measured in the same run.

use std::time::Instant;

use e2e::{TestServer, enrol_store, fill_store};
use kiosk_core::clock::Clock;
use kiosk_core::store::Store;
use kiosk_core::sync::{SyncClient, SyncConfig};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("sync") => {
            let records = match args.iter().position(|a| a == "--records") {
                Some(i) => args
                    .get(i + 1)
                    .ok_or_else(|| anyhow::anyhow!("--records needs a number"))?
                    .parse()?,
                None => 100_000,
            };
            sync(records)
        }
        _ => anyhow::bail!("usage: bench sync [--records N]"),
    }
}

fn sync(n: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = TestServer::start(&dir.path().join("server"));
    let store_path = dir.path().join("kiosk.sqlite");
    let identity = enrol_store(&server, &store_path, &server.url());
    let mut store = Store::open(&store_path)?;
    let clock = Clock::system();
    let t = Instant::now();
    fill_store(&mut store, &clock, 0, n);
    eprintln!(
        "filled the kiosk store with {n} records in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut client = SyncClient::new(identity.clone(), clock, SyncConfig::default())?;
    let start = Instant::now();
    let report = rt.block_on(client.round(&mut store))?;
    let drain_s = start.elapsed().as_secs_f64();
    anyhow::ensure!(store.backlog()? == 0, "backlog left after the round");
    let on_server = server.storage().count_records(Some(identity.kiosk_id))?;
    anyhow::ensure!(
        on_server == n,
        "server has {on_server} records, expected {n}"
    );
    eprintln!(
        "{} batches, {} inserted, {} duplicates",
        report.batches, report.inserted, report.duplicates
    );

    // The limit on this machine: the same rows straight into a SQLite file.
    let raw_path = dir.path().join("raw.sqlite");
    let rows: Vec<(u64, uuid::Uuid, String)> = store
        .all()?
        .into_iter()
        .map(|s| (s.seq, s.id, serde_json::to_string(&s.body).unwrap()))
        .collect();
    let conn = rusqlite::Connection::open(&raw_path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE TABLE records (kiosk INTEGER NOT NULL, seq INTEGER NOT NULL, id BLOB NOT NULL UNIQUE,
         body TEXT NOT NULL, PRIMARY KEY (kiosk, seq)) WITHOUT ROWID",
    )?;
    let mut conn = conn;
    let raw_start = Instant::now();
    for chunk in rows.chunks(1000) {
        let tx = conn.transaction()?;
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO records(kiosk, seq, id, body) VALUES (1, ?1, ?2, ?3)",
            )?;
            for (seq, id, body) in chunk {
                ins.execute(rusqlite::params![
                    *seq as i64,
                    id.as_bytes().as_slice(),
                    body
                ])?;
            }
        }
        tx.commit()?;
    }
    let raw_s = raw_start.elapsed().as_secs_f64();
    let records_per_s = n as f64 / drain_s;
    let raw_per_s = n as f64 / raw_s;
    println!(
        "sync records={n} drain_s={drain_s:.3} records_per_s={records_per_s:.0} wire_bytes_per_record={:.1} sqlite_raw_records_per_s={raw_per_s:.0} ratio_to_raw={:.2}",
        report.wire_bytes as f64 / n as f64,
        raw_per_s / records_per_s
    );
    Ok(())
}
