//! A headless kiosk for crash tests: records sample records into a store and pushes them with
//! the real sync client, so that a test can `kill -9` it mid-push and start it again.
//!
//! `kiosk_sim STORE RECORDS` appends RECORDS records, one transaction each, pushing every 50;
//! `kiosk_sim STORE 0` only drains the backlog.

use std::time::Duration;

use kiosk_core::clock::Clock;
use kiosk_core::store::Store;
use kiosk_core::sync::{SyncClient, SyncConfig};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, store_path, records] = &args[..] else {
        anyhow::bail!("usage: kiosk_sim STORE RECORDS");
    };
    let records: u64 = records.parse()?;
    let mut store = Store::open(std::path::Path::new(store_path))?;
    let identity = store
        .identity()?
        .ok_or_else(|| anyhow::anyhow!("the store is not enrolled"))?;
    let clock = Clock::system();
    let config = SyncConfig {
        batch_records: 40,
        request_timeout: Duration::from_secs(10),
        ..Default::default()
    };
    let mut client = SyncClient::new(identity, clock.clone(), config)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let start = store.next_seq()?;
    for i in 0..records {
        store.append(clock.now(), Some("test-event"), e2e::sample_body(start + i))?;
        if i % 50 == 49
            && let Err(e) = rt.block_on(client.round(&mut store))
        {
            eprintln!("round failed: {e}");
        }
    }
    while store.backlog()? > 0 {
        if let Err(e) = rt.block_on(client.round(&mut store)) {
            eprintln!("round failed: {e}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    println!("drained next_seq={}", store.next_seq()?);
    Ok(())
}
