//! End-to-end harness: the real sync server on `127.0.0.1:0`, real kiosk stores and sync
//! clients, and a fault-injecting HTTP proxy between them.

pub mod browser;
pub mod pages;
pub mod proxy;
pub mod window;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kiosk_core::clock::{Clock, Stamp};
use kiosk_core::store::{Identity, Store};
use protocol::{RecordBody, ViewOrigin};
use sync_server::store::Storage;
pub use sync_server::store::inspect::{Row, Table};
use sync_server::{AppState, ServerConfig};

/// Which database a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `server.sqlite` in the data directory.
    Sqlite,
    /// A fresh database in the cluster `pg_virtualenv` started ([`test_database`]).
    Postgres,
}

/// Runs a test function `fn name(backend: Backend)` twice, as `name::sqlite` and
/// `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[test]
            fn sqlite() {
                super::$name($crate::Backend::Sqlite);
            }

            #[test]
            fn postgres() {
                super::$name($crate::Backend::Postgres);
            }
        }
    };
}

/// A running server on loopback, on its own runtime thread.
pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    pub data_dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server whose database lives in `data_dir` (kept across restarts).
    pub fn start(data_dir: &Path) -> TestServer {
        TestServer::start_with(data_dir, |_| {})
    }

    /// Starts a server on `backend`.
    pub fn start_on(data_dir: &Path, backend: Backend) -> TestServer {
        let database = (backend == Backend::Postgres).then(test_database);
        TestServer::start_with(data_dir, |c| c.database = database)
    }

    /// Starts a server with its configuration adjusted by `configure`.
    pub fn start_with(data_dir: &Path, configure: impl FnOnce(&mut ServerConfig)) -> TestServer {
        // Bind first, so that the public URL (printed in QR codes) has the real port.
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let mut config = ServerConfig {
            listen: addr,
            data_dir: data_dir.to_owned(),
            public_url: format!("http://{addr}"),
            ..Default::default()
        };
        configure(&mut config);
        let state = sync_server::open_state(config).expect("open server state");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
                sync_server::serve(listener, st, async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
            });
        });
        TestServer {
            addr,
            state,
            data_dir: data_dir.to_owned(),
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.state.storage
    }

    /// Every row of `table` as the server stored it, on either backend
    /// ([`sync_server::store::InspectStorage`]; ids read as UUID text).
    pub fn rows(&self, table: Table) -> Vec<Row> {
        self.state.inspect.rows(table).expect("read a table")
    }

    /// The rows of `table` for which `keep` holds.
    pub fn rows_where(&self, table: Table, keep: impl Fn(&Row) -> bool) -> Vec<Row> {
        let mut rows = self.rows(table);
        rows.retain(|r| keep(r));
        rows
    }

    /// How many rows of `table` `keep` holds for.
    pub fn count(&self, table: Table, keep: impl Fn(&Row) -> bool) -> usize {
        self.rows(table).iter().filter(|r| keep(r)).count()
    }

    /// The server's own number for a kiosk: what the `kiosk` column of its rows holds.
    pub fn kiosk_key(&self, kiosk: uuid::Uuid) -> serde_json::Value {
        let uuid = kiosk.to_string();
        self.rows(Table::Kiosks)
            .into_iter()
            .find(|r| r.text("uuid") == uuid)
            .map(|r| r["id"].clone())
            .unwrap_or_else(|| panic!("no kiosk {kiosk} on the server"))
    }

    /// Every `(seq, id)` the server holds for a kiosk, in order.
    pub fn records_of(&self, kiosk: uuid::Uuid) -> Vec<(u64, uuid::Uuid)> {
        let key = self.kiosk_key(kiosk);
        self.rows_where(Table::Records, |r| r["kiosk"] == key)
            .iter()
            .map(|r| (r.int("seq") as u64, r.uuid("id")))
            .collect()
    }

    /// `sync-server backup DIR`, as a nightly backup would run it, while the server runs.
    pub fn backup_to(&self, dir: &Path) {
        sync_server::backup::backup(&self.state.config, dir).expect("backup");
    }

    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// A fresh, empty database in the PostgreSQL cluster that `pg_virtualenv` started for the test
/// run (it exports PGHOST, PGPORT, PGUSER, PGPASSWORD), as a `postgres://` URL.
pub fn test_database() -> String {
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    assert!(
        std::env::var("PGHOST").is_ok(),
        "no PostgreSQL cluster: run the tests with scripts/test.sh, or inside \
         `pg_virtualenv -o fsync=off cargo test ...` (package postgresql-common)"
    );
    let url = |db: &str| {
        format!(
            "postgres://{}:{}@{}:{}/{db}",
            var("PGUSER", "postgres"),
            var("PGPASSWORD", ""),
            var("PGHOST", "localhost"),
            var("PGPORT", "5432"),
        )
    };
    let name = format!("e2e_{}", uuid::Uuid::now_v7().simple());
    let mut admin =
        postgres::Client::connect(&url(&var("PGDATABASE", "postgres")), postgres::NoTls)
            .expect("connect to the test cluster");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create a test database");
    url(&name)
}

/// Creates a kiosk on the server and enrols a fresh store at `store_path` against `url`.
pub fn enrol_store(server: &TestServer, store_path: &Path, url: &str) -> Identity {
    enrol_on(server.storage().as_ref(), store_path, url)
}

/// Creates a kiosk in `storage` and enrols the store at `store_path` with it through the
/// server at `url` (for servers that are other processes).
pub fn enrol_on(storage: &dyn Storage, store_path: &Path, url: &str) -> Identity {
    let k = storage
        .create_kiosk("test kiosk", Some("test-event"), protocol::now_ms())
        .unwrap();
    let mut store = Store::open(store_path).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(kiosk_core::sync::enrol(
        &mut store, url, &k.code, false, None,
    ))
    .expect("enrol")
}

/// A binary of the workspace, built beside the test binary (target/release/deps/<test>-… →
/// target/release/<name>).
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join(name);
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build --release --workspace --bins` (scripts/test.sh does)",
        bin.display()
    );
    bin
}

/// A `sync-server serve` process: the real binary (built beside the tests), for tests whose
/// servers must share nothing but the database and the data directory.
pub struct ServerProcess {
    pub addr: SocketAddr,
    scheme: &'static str,
    child: std::process::Child,
}

impl ServerProcess {
    /// Starts `sync-server serve` on a free loopback port with its data in `data_dir` and its
    /// database at `database`, and waits until it answers.
    pub fn spawn(data_dir: &Path, database: &str) -> ServerProcess {
        ServerProcess::spawn_with(data_dir, Some(database), &[])
    }

    /// [`ServerProcess::spawn`] with SQLite in `data_dir` when `database` is `None`, and these
    /// variables in its environment (e.g. systemd's `NOTIFY_SOCKET`).
    pub fn spawn_with(
        data_dir: &Path,
        database: Option<&str>,
        env: &[(&str, &str)],
    ) -> ServerProcess {
        ServerProcess::start(data_dir, database, env, None)
    }

    /// [`ServerProcess::spawn_with`] (SQLite) serving HTTPS with this certificate chain and key
    /// (PEM files); its [`ServerProcess::url`] is `https://127.0.0.1:PORT`.
    pub fn spawn_tls(data_dir: &Path, cert: &Path, key: &Path) -> ServerProcess {
        ServerProcess::start(data_dir, None, &[], Some((cert, key)))
    }

    fn start(
        data_dir: &Path,
        database: Option<&str>,
        env: &[(&str, &str)],
        tls: Option<(&Path, &Path)>,
    ) -> ServerProcess {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let bin = workspace_bin("sync-server");
        // Its log goes to a file beside its data (`server-PORT.log`), named when it fails.
        std::fs::create_dir_all(data_dir).unwrap();
        let log = data_dir.join(format!("server-{}.log", addr.port()));
        let mut cmd = std::process::Command::new(&bin);
        cmd.current_dir(repo_root())
            .stderr(std::fs::File::create(&log).unwrap())
            .stdout(std::process::Stdio::null())
            .env_remove("PROMO_SERVER_CONFIG")
            // Its own default level (info), which tests read in its log.
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .arg("--data-dir")
            .arg(data_dir);
        if let Some(db) = database {
            cmd.arg("--database").arg(db);
        }
        cmd.args(["serve", "--listen", &addr.to_string()]);
        if let Some((cert, key)) = tls {
            cmd.arg("--tls-cert").arg(cert).arg("--tls-key").arg(key);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        let scheme = if tls.is_some() { "https" } else { "http" };
        let mut server = ServerProcess {
            addr,
            scheme,
            child,
        };
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!(
                    "sync-server exited ({status}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(30),
                "sync-server did not listen on {addr} in 30 s: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        server
    }

    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    fn signal(&self, name: &str) {
        let sent = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -{name} failed");
    }

    /// Sends SIGHUP, as systemd's `ExecReload` does.
    pub fn hangup(&self) {
        self.signal("HUP");
    }

    /// Sends SIGTERM, as systemd does to stop a service, and waits up to `within` for the
    /// process to exit; its exit status, or `None` if it is still running.
    pub fn terminate(&mut self, within: std::time::Duration) -> Option<std::process::ExitStatus> {
        self.signal("TERM");
        let start = std::time::Instant::now();
        while start.elapsed() < within {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A realistic mix of records: mostly views, with sessions, QR codes and some leads.
pub fn sample_body(i: u64) -> RecordBody {
    const ITEMS: [&str; 8] = [
        "long-thanh-airport",
        "industrial-parks",
        "cat-tien",
        "tri-an-lake",
        "van-mieu-tran-bien",
        "bien-hoa-pottery",
        "tan-trieu-pomelo",
        "cashew",
    ];
    const LANGS: [&str; 5] = ["vi", "en", "ko", "ja", "zh-Hans"];
    let item = ITEMS[(i % 8) as usize].to_owned();
    let lang = LANGS[(i / 8 % 5) as usize].to_owned();
    match i % 50 {
        0 => RecordBody::Lead(Box::new(protocol::record::LeadBody {
            lead_id: uuid::Uuid::now_v7(),
            contact: protocol::Contact {
                name: format!("Visitor {i}"),
                email: format!("visitor{i}@example.kr"),
                country: "KR".into(),
                ..Default::default()
            },
            interests: vec!["invest".into()],
            source: protocol::LeadSource::KioskForm,
            consent: Some(protocol::Consent::shown(
                "lead-consent",
                &lang,
                "I agree that the Đồng Nai Investment, Trade and Tourism Promotion Centre stores my contact details to follow up on my interest. I can ask at any time to see or erase them.",
                0,
            )),
            item: Some(item),
            lang: Some(lang),
            redacted: false,
        })),
        1 => RecordBody::QrShown {
            purpose: protocol::QrPurpose::Interest,
            item: Some(item),
            lang,
            nonce: format!("{i:016x}"),
        },
        2 => RecordBody::LanguageSelected {
            lang,
            previous: None,
        },
        _ => RecordBody::View {
            item,
            lang,
            dwell_ms: 2_000 + (i * 37) % 9_000,
            origin: if i.is_multiple_of(3) {
                ViewOrigin::Visitor
            } else {
                ViewOrigin::Attract
            },
        },
    }
}

/// Appends `n` sample records in transactions of 5,000.
pub fn fill_store(store: &mut Store, clock: &Clock, start: u64, n: u64) {
    let mut i = start;
    while i < start + n {
        let end = (i + 5_000).min(start + n);
        store
            .append_many((i..end).map(|k| -> (Stamp, Option<String>, RecordBody) {
                (clock.now(), Some("test-event".to_owned()), sample_body(k))
            }))
            .unwrap();
        i = end;
    }
}

/// Every `(seq, id)` of a store, in order.
pub fn store_records(store: &Store) -> Vec<(u64, uuid::Uuid)> {
    store
        .all()
        .unwrap()
        .into_iter()
        .map(|s| (s.seq, s.id))
        .collect()
}

/// A staff unit's admin (`email`, `password`) and fairs of that unit (`id`, name), as the
/// staff pages know them; `on` gives each fair its days (Vietnam time), else none.
pub fn admin_and_fairs(
    server: &TestServer,
    email: &str,
    password: &str,
    org: &str,
    fairs: &[(&str, &str)],
    on: Option<(String, String)>,
) {
    let st = &server.state;
    let now = protocol::now_ms();
    let hash = sync_server::http::staff::hash_password(password).unwrap();
    st.staff
        .add_user(email, &hash, sync_server::store::Role::Admin, org, now)
        .unwrap();
    for (id, name) in fairs {
        let (starts, ends) = on.clone().unwrap_or_default();
        let event = sync_server::store::EventRow {
            id: (*id).into(),
            name: (*name).into(),
            kind: "fair".into(),
            org: org.into(),
            starts,
            ends,
            ..Default::default()
        };
        st.leads.upsert_event(&event, now).unwrap();
    }
}

/// The workspace's demo pack folder.
pub fn demo_pack_dir() -> PathBuf {
    repo_root().join("assets/demo-pack")
}

/// Imports a pack folder into the server and publishes it, as `sync-server content import`.
pub fn publish(server: &TestServer, pack: &Path) -> protocol::content::Manifest {
    sync_server::content::import(
        pack,
        server.storage().as_ref(),
        &server.state.media_dir(),
        (3840, 2160),
    )
    .expect("import the pack")
}

/// The checkout under test: from CARGO_MANIFEST_DIR as cargo sets it when running the tests
/// (the path compiled in may name another checkout that shares the target directory).
pub fn repo_root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join("..")
}

/// Reading a column of a [`Row`] (panics, naming the column, when it is not what is asked).
pub trait RowExt {
    /// A text column ("" for NULL).
    fn text(&self, column: &str) -> &str;
    /// An integer column.
    fn int(&self, column: &str) -> i64;
    /// An integer column that may be NULL.
    fn opt_int(&self, column: &str) -> Option<i64>;
    /// An id column (stored as bytes, read as a UUID).
    fn uuid(&self, column: &str) -> uuid::Uuid;
}

impl RowExt for Row {
    fn text(&self, column: &str) -> &str {
        match self.get(column) {
            Some(serde_json::Value::String(s)) => s,
            Some(serde_json::Value::Null) => "",
            other => panic!("column {column} is not text: {other:?} in {self:?}"),
        }
    }

    fn int(&self, column: &str) -> i64 {
        self.opt_int(column)
            .unwrap_or_else(|| panic!("column {column} is NULL in {self:?}"))
    }

    fn opt_int(&self, column: &str) -> Option<i64> {
        match self.get(column) {
            Some(serde_json::Value::Null) => None,
            Some(v) => Some(
                v.as_i64()
                    .unwrap_or_else(|| panic!("column {column} is not an integer: {v}")),
            ),
            None => panic!("no column {column} in {self:?}"),
        }
    }

    fn uuid(&self, column: &str) -> uuid::Uuid {
        uuid::Uuid::parse_str(self.text(column))
            .unwrap_or_else(|e| panic!("column {column} is not an id: {e}"))
    }
}
