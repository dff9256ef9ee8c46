//! Benchmarks. Each prints figures and ends with one summary line.
//!
//! `bench sync --records N`: N records drained from a kiosk store file to the real server over
//! loopback, against plain SQLite inserts of the same rows measured in the same run.
//!
//! `bench server`: 100,000 leads exported as CSV and XLSX through the staff pages, the event
//! report over roll-ups holding 10 million views, and the phone item page's latency under 200
//! concurrent clients (each from its own loopback address, as phones on a fair's network are
//! rate-limited per address) on loopback.
//!
//! `bench phones [--phones N] [--seconds S]`: a fair's crowd. N phones (2,000), each from its
//! own address behind a trusted reverse proxy on loopback (the server trusts 127.0.0.1 and
//! reads the phone's address from `X-Forwarded-For`, as behind nginx or Caddy), arrive over ten
//! minutes of a fair compressed into S seconds (30): each opens an item page from the QR code
//! of the kiosk's screen it stood at (one code per ten visitors), reads, and sends the lead
//! form. Latencies of both, pages served, leads stored (each exactly once) and answers refused.
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
            let records = number(&args, "--records", 100_000)?;
            let postgres = match args.iter().position(|a| a == "--backend") {
                Some(i) => match args.get(i + 1).map(String::as_str) {
                    Some("sqlite") => false,
                    Some("postgres") => true,
                    _ => anyhow::bail!("--backend is sqlite or postgres"),
                },
                None => false,
            };
            sync(records, postgres)
        }
        Some("kiosk") => kiosk(number(&args, "--seconds", 20)?),
        Some("server") => server_bench(),
        Some("ingest") => ingest(
            number(&args, "--records", 100_000)?,
            number(&args, "--batch", 10_000)?,
        ),
        Some("phones") => phones(
            number(&args, "--phones", 2000)?,
            number(&args, "--seconds", 30)?,
        ),
        _ => anyhow::bail!(
            "usage: bench sync [--records N] [--backend sqlite|postgres] | bench ingest [--records N] [--batch B] | bench kiosk [--seconds S] | bench server | bench phones [--phones N] [--seconds S]"
        ),
    }
}

/// `postgres`: the server on a fresh database in the cluster `pg_virtualenv` started, and the
/// raw rows into that cluster too.
/// The number after `flag` in `args`, or `default` without the flag.
fn number(args: &[String], flag: &str, default: u64) -> anyhow::Result<u64> {
    match args.iter().position(|a| a == flag) {
        Some(i) => Ok(args
            .get(i + 1)
            .ok_or_else(|| anyhow::anyhow!("{flag} needs a number"))?
            .parse()?),
        None => Ok(default),
    }
}

fn sync(n: u64, postgres: bool) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let database = postgres.then(e2e::test_database);
    let server = TestServer::start_with(&dir.path().join("server"), |c| {
        c.database = database.clone()
    });
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

    // The limit on this machine: the same rows straight into the same backend, in 1,000-row
    // transactions.
    let rows: Vec<(u64, uuid::Uuid, String)> = store
        .all()?
        .into_iter()
        .map(|s| (s.seq, s.id, serde_json::to_string(&s.body).unwrap()))
        .collect();
    let raw_start;
    if database.is_some() {
        // A database of its own beside the server's, in the same cluster.
        let raw_url = e2e::test_database();
        let mut c = postgres::Client::connect(&raw_url, postgres::NoTls)?;
        c.batch_execute(
            "CREATE TABLE records (kiosk BIGINT NOT NULL, seq BIGINT NOT NULL, id BYTEA NOT NULL UNIQUE,
             body TEXT NOT NULL, PRIMARY KEY (kiosk, seq))",
        )?;
        raw_start = Instant::now();
        for chunk in rows.chunks(1000) {
            let mut tx = c.transaction()?;
            let ins =
                tx.prepare("INSERT INTO records(kiosk, seq, id, body) VALUES (1, $1, $2, $3)")?;
            for (seq, id, body) in chunk {
                tx.execute(&ins, &[&(*seq as i64), &id.as_bytes().as_slice(), body])?;
            }
            tx.commit()?;
        }
    } else {
        let conn = rusqlite::Connection::open(dir.path().join("raw.sqlite"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE records (kiosk INTEGER NOT NULL, seq INTEGER NOT NULL, id BLOB NOT NULL UNIQUE,
             body TEXT NOT NULL, PRIMARY KEY (kiosk, seq)) WITHOUT ROWID",
        )?;
        let mut conn = conn;
        raw_start = Instant::now();
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
    }
    let raw_s = raw_start.elapsed().as_secs_f64();
    let records_per_s = n as f64 / drain_s;
    let raw_per_s = n as f64 / raw_s;
    println!(
        "sync records={n} drain_s={drain_s:.3} records_per_s={records_per_s:.0} wire_bytes_per_record={:.1} raw_records_per_s={raw_per_s:.0} ratio_to_raw={:.2} backend={}",
        report.wire_bytes as f64 / n as f64,
        raw_per_s / records_per_s,
        if postgres { "postgres" } else { "sqlite" }
    );
    Ok(())
}

/// The push as the storage sees it, on SQLite and on PostgreSQL in the same run: one kiosk's
/// records (views, a lead in a hundred) in batches as the kiosk sends them, then the same
/// batches again (all duplicates, as after a lost answer). PostgreSQL is the cluster
/// `pg_virtualenv` started (PGHOST, PGPORT, PGUSER, PGPASSWORD); without one it is left out.
fn ingest(n: u64, batch_size: u64) -> anyhow::Result<()> {
    use sync_server::store::{IncomingBatch, IncomingRecord, Storage};
    let t0 = protocol::now_ms();
    let batches = |kiosk: uuid::Uuid| -> Vec<IncomingBatch> {
        let langs = ["vi", "en", "ko", "ja", "zh-Hans"];
        (0..n.div_ceil(batch_size))
            .map(|b| {
                let seqs = (b * batch_size + 1)..=((b + 1) * batch_size).min(n);
                let records = seqs
                    .map(|seq| {
                        let body = if seq % 100 == 0 {
                            serde_json::to_value(protocol::RecordBody::Lead(Box::new(
                                protocol::record::LeadBody {
                                    lead_id: uuid::Uuid::now_v7(),
                                    contact: protocol::Contact {
                                        name: "Kim".into(),
                                        email: format!("k{seq}@example.kr"),
                                        ..Default::default()
                                    },
                                    interests: vec![],
                                    source: protocol::LeadSource::KioskForm,
                                    consent: None,
                                    item: None,
                                    lang: Some("ko".into()),
                                    redacted: false,
                                },
                            )))
                            .expect("JSON")
                        } else {
                            serde_json::json!({"kind": "view", "item": format!("item-{}", seq % 27),
                                "lang": langs[seq as usize % 5], "dwell_ms": 4000 + seq % 5000,
                                "origin": "visitor"})
                        };
                        IncomingRecord {
                            id: uuid::Uuid::now_v7(),
                            kiosk_id: kiosk,
                            seq,
                            wall_ms: t0 - (n - seq) as i64 * 1000,
                            boot_id: uuid::Uuid::from_u128(1),
                            mono_ms: seq * 1000,
                            clock_ok: true,
                            event_id: Some("fair-2026".into()),
                            body: serde_json::value::RawValue::from_string(body.to_string())
                                .expect("JSON"),
                        }
                    })
                    .collect();
                IncomingBatch {
                    clock: protocol::sync::ClockSample {
                        boot_id: uuid::Uuid::from_u128(1),
                        mono_ms: n * 1000 + 1000,
                        wall_ms: t0,
                    },
                    pruned_below: 0,
                    records,
                }
            })
            .collect()
    };
    // Records per second: first sent, then sent again.
    let run = |s: &dyn Storage| -> anyhow::Result<(f64, f64)> {
        let k = s.create_kiosk("bench", Some("fair-2026"), t0)?;
        let e = s.enrol(&k.code, "bench", t0)?;
        let auth = s.authenticate(e.uuid, &e.secret)?;
        let all = batches(e.uuid);
        let mut rates = [0.0; 2];
        for (round, rate) in rates.iter_mut().enumerate() {
            let start = Instant::now();
            for b in all.iter().cloned() {
                let ack = s.ingest(&auth, b, protocol::now_ms())?;
                anyhow::ensure!(
                    (round == 0) == (ack.duplicates == 0),
                    "round {round}: {} duplicates",
                    ack.duplicates
                );
            }
            *rate = n as f64 / start.elapsed().as_secs_f64();
        }
        anyhow::ensure!(
            s.count_records(Some(e.uuid))? == n,
            "records lost or doubled"
        );
        Ok((rates[0], rates[1]))
    };
    let dir = tempfile::tempdir()?;
    let sqlite =
        sync_server::store::sqlite::SqliteStorage::open(&dir.path().join("server.sqlite"))?;
    let (sq_new, sq_dup) = run(&sqlite)?;
    let mut line = format!(
        "ingest records={n} batch={batch_size} sqlite_records_per_s={sq_new:.0} sqlite_duplicates_per_s={sq_dup:.0}"
    );
    if std::env::var("PGHOST").is_ok() {
        let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
        let url = format!(
            "postgres://{}:{}@{}:{}/{}",
            var("PGUSER", "postgres"),
            var("PGPASSWORD", ""),
            var("PGHOST", "localhost"),
            var("PGPORT", "5432"),
            var("PGDATABASE", "postgres"),
        );
        let pg = sync_server::store::postgres::PostgresStorage::open(&url)?;
        let (pg_new, pg_dup) = run(&pg)?;
        line.push_str(&format!(
            " postgres_records_per_s={pg_new:.0} postgres_duplicates_per_s={pg_dup:.0} postgres_to_sqlite={:.2}",
            pg_new / sq_new
        ));
    } else {
        eprintln!("no PostgreSQL cluster (PGHOST unset): run inside pg_virtualenv to compare");
    }
    println!("{line}");
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
        server_ca: None,
    })?;
    drop(store);
    let loaded = kiosk_core::content::LoadedPack::from_dir(pack)?;
    let lang = loaded.languages(None)[0].clone();
    let pillar = &loaded.pack.pillars[0];
    let pillar_title = loaded.localised(&pillar.title, &lang).to_owned();
    // The attract loop with its crossfades, then a visit: home, a pillar, three pages on, back.
    let pages = if loaded.items_in(&pillar.id, protocol::now_ms()).len() > 6 {
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

fn server_bench() -> anyhow::Result<()> {
    const LEADS: u64 = 100_000;
    const VIEWS: u64 = 10_000_000;
    let dir = tempfile::tempdir()?;
    let server = TestServer::start(&dir.path().join("server"));
    let now = protocol::now_ms();
    let password = "bench staff password";
    let hash = sync_server::http::staff::hash_password(password).map_err(|e| anyhow::anyhow!(e))?;
    server.state.staff.add_user(
        "bench@dn.example",
        &hash,
        sync_server::store::Role::Admin,
        "Investment, Trade and Tourism Promotion Centre",
        now,
    )?;
    let store_path = dir.path().join("kiosk.sqlite");
    let identity = enrol_store(&server, &store_path, &server.url());
    e2e::publish(&server, &e2e::demo_pack_dir());
    let event = "korea-investment-2026";
    let pack = kiosk_core::content::LoadedPack::from_dir(&e2e::demo_pack_dir())?;

    // Setup (not measured): leads and roll-ups straight into the database.
    let t = Instant::now();
    let mut conn = rusqlite::Connection::open(dir.path().join("server").join("server.sqlite"))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let tx = conn.transaction()?;
    {
        let mut ins = tx.prepare(
            "INSERT INTO leads(lead_id, kiosk, event_id, item, lang, source, name, organisation,
                email, phone, country, interests, consent, created_ms, updated_ms)
             VALUES (?1, 1, ?2, ?3, ?4, 'phone_form', ?5, ?6, ?7, ?8, ?9, '[\"invest\"]', ?10, ?11, ?11)",
        )?;
        let countries = ["Korea", "Japan", "China", "Vietnam", "Germany", "Singapore"];
        let langs = ["ko", "ja", "zh-Hans", "vi", "en", "en"];
        let names = [
            "김민준",
            "田中 宏",
            "王伟",
            "Nguyễn Thị Hương",
            "=cmd|' /C calc'!A0",
            "Anna Müller",
        ];
        for i in 0..LEADS {
            let k = (i % 6) as usize;
            let item = &pack.pack.items[(i as usize) % pack.pack.items.len()].id;
            ins.execute(rusqlite::params![
                uuid::Uuid::now_v7().as_bytes().as_slice(),
                event,
                item,
                langs[k],
                format!("{} {i}", names[k]),
                "Hanwha Solutions, Seoul",
                format!("visitor{i}@example.com"),
                format!("+82 10 {:04} {:04}", i / 10_000, i % 10_000),
                countries[k],
                format!("{{\"text_id\":\"phone-consent-text\",\"version\":1,\"lang\":\"{}\",\"at_ms\":{}}}", langs[k], now - (i as i64) * 1000),
                now - (i as i64) * 1000,
            ])?;
        }
        // Ten million views over 30 days of a fair's hours, every item and language, attract
        // loop and visitors: the roll-up rows ingest would have written.
        let mut rv = tx.prepare(
            "INSERT INTO rollup_views(event_id, item, lang, hour, origin, views, dwell_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let hour0 = now / 3_600_000 - 30 * 24;
        let items: Vec<&str> = pack.pack.items.iter().map(|i| i.id.as_str()).collect();
        let mut cells = Vec::new();
        for d in 0..30 {
            for h in 8..18 {
                for item in &items {
                    for lang in ["vi", "en", "ko", "ja", "zh-Hans"] {
                        for origin in ["attract", "visitor"] {
                            cells.push((hour0 + d * 24 + h, *item, lang, origin));
                        }
                    }
                }
            }
        }
        let per = VIEWS / cells.len() as u64;
        let extra = VIEWS - per * cells.len() as u64;
        let mut total_views = 0;
        for (i, (hour, item, lang, origin)) in cells.iter().enumerate() {
            let views = per + u64::from((i as u64) < extra);
            total_views += views;
            rv.execute(rusqlite::params![
                event,
                item,
                lang,
                hour,
                origin,
                views as i64,
                (views * 9_000) as i64
            ])?;
        }
        anyhow::ensure!(total_views == VIEWS);
        tx.execute(
            "INSERT INTO rollup_kinds(event_id, kind, hour, count) VALUES (?1, 'view', ?2, ?3)",
            rusqlite::params![event, hour0, VIEWS as i64],
        )?;
    }
    tx.commit()?;
    drop(conn);
    eprintln!(
        "setup: {LEADS} leads, roll-ups of {VIEWS} views in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let url = server.url();
    let (export_csv_ms, export_xlsx_ms, report_ms) = rt.block_on(async {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()?;
        let html = http
            .get(format!("{url}/staff/login"))
            .send()
            .await?
            .text()
            .await?;
        let at = html
            .find("name=\"csrf\" value=\"")
            .ok_or_else(|| anyhow::anyhow!("no csrf"))?
            + 19;
        let csrf = html[at..at + 64].to_owned();
        let r = http
            .post(format!("{url}/staff/login"))
            .form(&[
                ("email", "bench@dn.example"),
                ("password", password),
                ("csrf", &csrf),
            ])
            .send()
            .await?;
        anyhow::ensure!(r.status() == 303, "sign-in failed: {}", r.status());
        let timed = |path: String| {
            let http = http.clone();
            let url = url.clone();
            async move {
                let t = Instant::now();
                let r = http.get(format!("{url}{path}")).send().await?;
                anyhow::ensure!(r.status() == 200, "{path}: {}", r.status());
                let bytes = r.bytes().await?;
                Ok::<_, anyhow::Error>((t.elapsed().as_secs_f64() * 1000.0, bytes.len()))
            }
        };
        let (csv_ms, csv_len) = timed("/staff/leads/export?format=csv".into()).await?;
        let (xlsx_ms, xlsx_len) = timed("/staff/leads/export?format=xlsx".into()).await?;
        eprintln!("csv {csv_len} bytes, xlsx {xlsx_len} bytes");
        // The report page: the first answer warms SQLite's cache, the median of five counts.
        let mut times = Vec::new();
        for _ in 0..6 {
            times.push(timed(format!("/staff/reports?event={event}")).await?.0);
        }
        times.remove(0);
        times.sort_by(f64::total_cmp);
        Ok::<_, anyhow::Error>((csv_ms, xlsx_ms, times[times.len() / 2]))
    })?;

    // The phone page under 200 concurrent clients, each its own loopback address.
    let item = &pack.pack.items[0].id;
    let (_, signed) = kiosk_core::qr::token(
        &identity.token_key,
        identity.kiosk_id,
        now,
        true,
        event,
        item,
        "ko",
    );
    let page_url = kiosk_core::qr::url(&server.url(), protocol::QrPurpose::TakeAway, &signed);
    let landing_p99_ms = rt.block_on(async {
        let mut tasks = Vec::new();
        for c in 0..200u32 {
            let page_url = page_url.clone();
            tasks.push(tokio::spawn(async move {
                let local = std::net::IpAddr::V4(std::net::Ipv4Addr::new(
                    127,
                    0,
                    (c / 250 + 1) as u8,
                    (c % 250 + 1) as u8,
                ));
                let http = reqwest::Client::builder().local_address(local).build()?;
                let mut lat = Vec::with_capacity(50);
                for _ in 0..50 {
                    let t = Instant::now();
                    let r = http.get(&page_url).send().await?;
                    anyhow::ensure!(r.status() == 200, "phone page: {}", r.status());
                    r.bytes().await?;
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                Ok::<_, anyhow::Error>(lat)
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await??);
        }
        all.sort_by(f64::total_cmp);
        eprintln!(
            "phone page: {} requests, p50 {:.1} ms",
            all.len(),
            all[all.len() / 2]
        );
        Ok::<_, anyhow::Error>(all[((all.len() - 1) as f64 * 0.99).round() as usize])
    })?;
    println!(
        "server leads={LEADS} export_csv_ms={export_csv_ms:.0} export_xlsx_ms={export_xlsx_ms:.0} report_ms_10m_views={report_ms:.1} landing_p99_ms={landing_p99_ms:.1}"
    );
    Ok(())
}

fn phones(n: u64, seconds: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = TestServer::start_with(&dir.path().join("server"), |c| {
        c.trusted_proxies = sync_server::http::client_ip::TrustedProxies::new(vec![
            sync_server::http::client_ip::parse_net("127.0.0.1").expect("an address"),
        ]);
    });
    let pack = e2e::publish(&server, &e2e::demo_pack_dir());
    let identity = enrol_store(&server, &dir.path().join("kiosk.sqlite"), &server.url());
    let items: Vec<String> = pack.pack.items.iter().map(|i| i.id.clone()).collect();
    let langs = ["ko", "ja", "en", "zh-Hans", "vi"];
    // One code per ten visitors: what a kiosk shows changes with every session.
    let codes: Vec<String> = (0..n.div_ceil(10))
        .map(|k| {
            kiosk_core::qr::token(
                &identity.token_key,
                identity.kiosk_id,
                protocol::now_ms(),
                true,
                "test-event",
                &items[k as usize % items.len()],
                langs[k as usize % langs.len()],
            )
            .1
        })
        .collect();
    let url = server.url();
    let rt = tokio::runtime::Runtime::new()?;
    let started = Instant::now();
    let window = std::time::Duration::from_secs(seconds.max(1));
    let results = rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..n {
            let url = url.clone();
            let code = codes[(i / 10) as usize].clone();
            // Arrivals spread evenly over the window, in a shuffled order.
            let at = window.mul_f64(((i * 7919) % n) as f64 / n as f64);
            set.spawn(async move {
                tokio::time::sleep(at).await;
                let ip = format!("198.18.{}.{}", i / 250, i % 250 + 1);
                // Each phone its own connection, as on a fair's network.
                let http = reqwest::Client::builder().build()?;
                let t = Instant::now();
                let page = http
                    .get(format!("{url}/p/{code}"))
                    .header("x-forwarded-for", &ip)
                    .send()
                    .await?;
                let page_status = page.status().as_u16();
                page.bytes().await?;
                let page_ms = t.elapsed().as_secs_f64() * 1000.0;
                tokio::time::sleep(std::time::Duration::from_millis(200 + i % 300)).await;
                let t = Instant::now();
                let lead = http
                    .post(format!("{url}/i/{code}"))
                    .header("x-forwarded-for", &ip)
                    .form(&[
                        ("name", format!("Visitor {i}")),
                        ("email", format!("visitor{i}@example.kr")),
                        ("country", "Korea".to_owned()),
                        ("consent", "yes".to_owned()),
                    ])
                    .send()
                    .await?;
                let lead_status = lead.status().as_u16();
                lead.bytes().await?;
                let lead_ms = t.elapsed().as_secs_f64() * 1000.0;
                Ok::<_, anyhow::Error>((page_status, page_ms, lead_status, lead_ms))
            });
        }
        let mut out = Vec::with_capacity(n as usize);
        while let Some(r) = set.join_next().await {
            out.push(r??);
        }
        Ok::<_, anyhow::Error>(out)
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    let p99 = |mut v: Vec<f64>| -> f64 {
        v.sort_by(f64::total_cmp);
        v.get(((v.len().max(1) - 1) as f64 * 0.99).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let served = results.iter().filter(|r| r.0 == 200).count();
    let refused = results
        .iter()
        .map(|r| usize::from(r.0 != 200) + usize::from(r.2 != 200))
        .sum::<usize>();
    let page_p99 = p99(results.iter().map(|r| r.1).collect());
    let lead_p99 = p99(results.iter().map(|r| r.3).collect());
    let conn = rusqlite::Connection::open(server.data_dir.join("server.sqlite"))?;
    let leads: i64 = conn.query_row(
        "SELECT count(*) FROM leads WHERE source = 'phone_form' AND erased_ms IS NULL",
        [],
        |r| r.get(0),
    )?;
    let distinct: i64 = conn.query_row(
        "SELECT count(DISTINCT email) FROM leads WHERE source = 'phone_form'",
        [],
        |r| r.get(0),
    )?;
    anyhow::ensure!(
        leads == distinct,
        "a lead was stored twice: {leads} rows, {distinct} emails"
    );
    eprintln!(
        "phones: {n} in {elapsed:.1} s ({:.0} requests/s), page p50 {:.1} ms, lead p50 {:.1} ms",
        2.0 * n as f64 / elapsed,
        {
            let mut v: Vec<f64> = results.iter().map(|r| r.1).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        },
        {
            let mut v: Vec<f64> = results.iter().map(|r| r.3).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        },
    );
    println!(
        "phones clients={n} via_proxy=1 page_p99_ms={page_p99:.1} lead_p99_ms={lead_p99:.1} served={served} leads={leads} refused={refused}"
    );
    Ok(())
}
