//! Benchmarks. Each prints figures and ends with one summary line.
//!
//! `bench sync --records N`: N records drained from a kiosk store file to the real server over
//! loopback, against plain SQLite inserts of the same rows measured in the same run.
//!
//! `bench kiosk [--seconds S]`: the real kiosk binary under the current display (under
//! `xvfb-run` when there is none), enrolled to a server that accepts connections and never
//! answers: time from process start to the attract loop's first frame, frame times during
//! crossfades, and peak resident memory with the demo pack and with a generated pack of 500
//! items (browsed the same way).

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
        Some("kiosk") => {
            let seconds = match args.iter().position(|a| a == "--seconds") {
                Some(i) => args
                    .get(i + 1)
                    .ok_or_else(|| anyhow::anyhow!("--seconds needs a number"))?
                    .parse()?,
                None => 20,
            };
            kiosk(seconds)
        }
        _ => anyhow::bail!("usage: bench sync [--records N] | bench kiosk [--seconds S]"),
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

/// One kiosk run's figures.
struct KioskRun {
    first_frame_ms: f64,
    fade_ms: Vec<f64>,
    rss_mb: f64,
}

fn kiosk(seconds: u64) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let bin = exe.with_file_name("kiosk");
    anyhow::ensure!(
        bin.exists(),
        "{} is missing: cargo build --release --workspace --bins",
        bin.display()
    );
    let dir = tempfile::tempdir()?;
    // A server that takes the connection and never says a word: nothing may wait on it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0")?;
    let silent_url = format!("http://{}", silent.local_addr()?);
    let demo = e2e::demo_pack_dir();
    let big = dir.path().join("pack-500");
    generate_pack(&demo, &big, 500)?;
    let mut runs = Vec::new();
    for (name, pack) in [("demo", demo.clone()), ("500", big.clone())] {
        let run = run_kiosk(&bin, &dir.path().join(name), &pack, &silent_url, seconds)?;
        eprintln!(
            "{name}: first frame {:.0} ms, {} crossfade frames, peak RSS {:.1} MB",
            run.first_frame_ms,
            run.fade_ms.len(),
            run.rss_mb
        );
        runs.push(run);
    }
    drop(silent);
    let mut fades: Vec<f64> = runs.iter().flat_map(|r| r.fade_ms.clone()).collect();
    anyhow::ensure!(!fades.is_empty(), "no crossfade happened: run longer");
    fades.sort_by(f64::total_cmp);
    let pct = |p: f64| fades[((fades.len() - 1) as f64 * p).round() as usize];
    println!(
        "kiosk first_frame_ms={:.0} frame_p50_ms={:.1} frame_p99_ms={:.1} rss_mb_demo={:.1} rss_mb_500={:.1}",
        runs[0].first_frame_ms.max(runs[1].first_frame_ms),
        pct(0.5),
        pct(0.99),
        runs[0].rss_mb,
        runs[1].rss_mb
    );
    Ok(())
}

/// A pack of `n` items made from the demo pack's, each with media files of its own (hard links),
/// so that nothing is shared between items but the bytes on disk.
fn generate_pack(demo: &std::path::Path, out: &std::path::Path, n: usize) -> anyhow::Result<()> {
    let mut pack: protocol::content::Pack =
        toml::from_str(&std::fs::read_to_string(demo.join("pack.toml"))?)?;
    std::fs::create_dir_all(out.join("media"))?;
    for entry in std::fs::read_dir(demo.join("media"))? {
        let entry = entry?;
        let to = out.join("media").join(entry.file_name());
        if std::fs::hard_link(entry.path(), &to).is_err() {
            std::fs::copy(entry.path(), &to)?;
        }
    }
    let originals = pack.items.clone();
    pack.items.clear();
    for i in 0..n {
        let mut item = originals[i % originals.len()].clone();
        item.id = format!("{}-{i:03}", item.id);
        for (k, m) in item.media.iter_mut().enumerate() {
            let name = format!("media/gen-{}-{k}.png", item.id);
            let from = demo.join(&*m);
            let to = out.join(&name);
            if std::fs::hard_link(&from, &to).is_err() {
                std::fs::copy(&from, &to)?;
            }
            *m = name;
        }
        pack.items.push(item);
    }
    let ids: Vec<String> = pack.items.iter().map(|i| i.id.clone()).collect();
    for p in &mut pack.playlists {
        p.items = ids.clone();
    }
    std::fs::write(out.join("pack.toml"), toml::to_string(&pack)?)?;
    Ok(())
}

fn run_kiosk(
    bin: &std::path::Path,
    dir: &std::path::Path,
    pack: &std::path::Path,
    server_url: &str,
    seconds: u64,
) -> anyhow::Result<KioskRun> {
    use std::io::BufRead;
    let data = dir.join("data");
    let mut store = Store::open(&data.join("kiosk.sqlite"))?;
    store.set_identity(&kiosk_core::store::Identity {
        kiosk_id: uuid::Uuid::now_v7(),
        name: "bench".into(),
        secret: "bench-secret".into(),
        token_key: vec![7; 32],
        server_url: server_url.to_owned(),
        public_url: server_url.to_owned(),
    })?;
    drop(store);
    let loaded = kiosk_core::content::LoadedPack::from_dir(pack)?;
    let lang = loaded.languages(None)[0].clone();
    let pillar = &loaded.pack.pillars[0];
    let pillar_title = loaded.localised(&pillar.title, &lang).to_owned();
    // The attract loop with its crossfades, then a visit: home, a pillar, three pages on, back.
    let pages = if loaded.items_in(&pillar.id).len() > 6 {
        "tap-text \"›\"\nwait 1s\n".repeat(3)
    } else {
        String::new()
    };
    let script = format!(
        "wait {seconds}s\ntap 960 300\nwait 1s\ntap-text \"{pillar_title}\"\nwait 1s\n{pages}wait 2s\nquit\n"
    );
    let script_path = dir.join("bench.txt");
    std::fs::write(&script_path, script)?;
    let stats = dir.join("frames.json");
    let mut cmd = if std::env::var_os("DISPLAY").is_some() {
        std::process::Command::new(bin)
    } else {
        let mut c = std::process::Command::new("xvfb-run");
        c.args(["-a", "-s", "-screen 0 1920x1080x24"]).arg(bin);
        c
    };
    let runtime = dir.join("xdg");
    std::fs::create_dir_all(&runtime)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700))?;
    }
    if std::env::var_os("VK_ICD_FILENAMES").is_none() {
        cmd.env(
            "VK_ICD_FILENAMES",
            "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json",
        );
    }
    let start = Instant::now();
    let mut child = cmd
        .arg("--data-dir")
        .arg(&data)
        .arg("--content")
        .arg(pack)
        .arg("--window")
        .arg("1920x1080")
        .arg("--script")
        .arg(&script_path)
        .arg("--frame-stats")
        .arg(&stats)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().expect("piped");
    let first = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if line.ok().as_deref() == Some("first-frame") {
                return Some(start.elapsed().as_secs_f64() * 1000.0);
            }
        }
        None
    });
    // The kiosk is the deepest process (xvfb-run wraps it): follow its peak resident size.
    let mut peak_kb = 0u64;
    while child.try_wait()?.is_none() {
        if let Some(kb) = kiosk_peak_rss_kb(child.id()) {
            peak_kb = peak_kb.max(kb);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let status = child.wait()?;
    anyhow::ensure!(status.success(), "the kiosk failed: {status}");
    let first_frame_ms = first
        .join()
        .map_err(|_| anyhow::anyhow!("reader thread"))?
        .ok_or_else(|| anyhow::anyhow!("the kiosk never reported its first frame"))?;
    let frames: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&stats)?)?;
    let fade_ms = frames["fade_ms"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
        .unwrap_or_default();
    Ok(KioskRun {
        first_frame_ms,
        fade_ms,
        rss_mb: peak_kb as f64 / 1024.0,
    })
}

/// VmHWM (peak resident set) of the process named `kiosk` at or under `pid`.
fn kiosk_peak_rss_kb(pid: u32) -> Option<u64> {
    let status = |p: u32| std::fs::read_to_string(format!("/proc/{p}/status")).ok();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let s = status(p)?;
        if s.lines()
            .next()
            .is_some_and(|l| l.trim_end() == "Name:\tkiosk")
        {
            return s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok());
        }
        if let Ok(children) = std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")) {
            todo.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
    }
    None
}
