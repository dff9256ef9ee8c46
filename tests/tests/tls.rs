//! TLS built into the server: a kiosk syncs over https to a certificate made here, trusts
//! nothing it was not told to, and a new certificate given at SIGHUP is served to new
//! connections while a push under way goes on to the end.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use e2e::{ServerProcess, TestServer, fill_store, store_records};
use kiosk_core::clock::Clock;
use kiosk_core::store::Store;
use kiosk_core::sync::{SyncClient, SyncConfig, SyncError};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, ServerName};

/// A certificate authority of the test's own.
struct Authority {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Authority {
    fn new() -> Authority {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "promo-kiosk test authority");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Authority { cert, key }
    }

    /// A server certificate for 127.0.0.1 and localhost with a key of its own, written as
    /// PEM to `cert` and `key`; its DER.
    fn issue(&self, cert: &Path, key: &Path) -> CertificateDer<'static> {
        let params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = params.signed_by(&leaf_key, &self.cert, &self.key).unwrap();
        std::fs::write(cert, leaf.pem()).unwrap();
        std::fs::write(key, leaf_key.serialize_pem()).unwrap();
        leaf.der().clone()
    }
}

/// The certificate a new TLS connection to `addr` is shown, checked against `ca` alone.
fn served(addr: SocketAddr, ca: &CertificateDer<'static>) -> CertificateDer<'static> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let rt = kiosk_core::runtime().unwrap();
    rt.block_on(async {
        let shake = async {
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
                .await
                .expect("a handshake the authority vouches for")
        };
        let tls = tokio::time::timeout(Duration::from_secs(10), shake)
            .await
            .expect("a handshake within 10 s");
        tls.get_ref().1.peer_certificates().unwrap()[0].clone()
    })
}

/// Waits until new connections are shown `want`.
fn wait_served(addr: SocketAddr, ca: &CertificateDer<'static>, want: &CertificateDer<'static>) {
    let start = Instant::now();
    while served(addr, ca) != *want {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the new certificate was not served 10 s after SIGHUP"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn tls_kiosk_syncs_over_https_and_a_new_certificate_at_sighup_drops_no_push() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let ca = Authority::new();
    let first = ca.issue(&cert, &key);
    let mut server = ServerProcess::spawn_tls(&data, &cert, &key);
    let url = server.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert_eq!(served(server.addr, ca.cert.der()), first);

    // Staff pages over TLS set their cookies `Secure`.
    let rt = kiosk_core::runtime().unwrap();
    let ca_pem = ca.cert.pem();
    let login = rt.block_on(async {
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
            .build()
            .unwrap()
            .get(format!("{url}/staff/login"))
            .send()
            .await
            .unwrap()
    });
    assert_eq!(login.status(), 200);
    let cookies: Vec<_> = login
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(!cookies.is_empty());
    assert!(
        cookies.iter().all(|c| c.contains("; Secure")),
        "{cookies:?}"
    );

    // A kiosk not told of the authority trusts nothing: its enrolment fails on the
    // certificate, and it keeps no identity.
    let storage = sync_server::open_state(sync_server::config::ServerConfig {
        data_dir: data.clone(),
        ..Default::default()
    })
    .unwrap()
    .storage;
    let kiosk_dir = tempfile::tempdir().unwrap();
    let store_path = kiosk_dir.path().join("kiosk.sqlite");
    let k = storage
        .create_kiosk("hall B", Some("test-event"), protocol::now_ms())
        .unwrap();
    let mut store = Store::open(&store_path).unwrap();
    let refused = rt.block_on(kiosk_core::sync::enrol(
        &mut store, &url, &k.code, false, None,
    ));
    match &refused {
        Err(SyncError::Network(why)) => {
            eprintln!("without the authority: {why}");
            assert!(why.contains("certificate"), "{why}")
        }
        other => panic!("enrolment without the authority: {other:?}"),
    }
    assert_eq!(store.identity().unwrap(), None);
    // A file that is not a certificate is refused before anything is sent.
    let garbage = rt.block_on(kiosk_core::sync::enrol(
        &mut store,
        &url,
        &k.code,
        false,
        Some("not a certificate".into()),
    ));
    assert!(matches!(garbage, Err(SyncError::Trust(_))), "{garbage:?}");
    // Told of it at enrolment, the kiosk keeps it in its store.
    let identity = rt
        .block_on(kiosk_core::sync::enrol(
            &mut store,
            &url,
            &k.code,
            false,
            Some(ca_pem.clone()),
        ))
        .unwrap();
    assert_eq!(
        store.identity().unwrap().unwrap().server_ca.as_deref(),
        Some(ca_pem.as_str())
    );

    // A backlog is pushed over https; a new certificate arrives at SIGHUP in the middle.
    let clock = Clock::system();
    const RECORDS: u64 = 60_000;
    fill_store(&mut store, &clock, 0, RECORDS);
    let config = SyncConfig {
        batch_records: 500,
        request_timeout: Duration::from_secs(10),
        ..Default::default()
    };
    let pushing = {
        let (identity, clock, config) = (identity.clone(), clock.clone(), config.clone());
        std::thread::spawn(move || {
            let rt = kiosk_core::runtime().unwrap();
            let mut client = SyncClient::new(identity, clock, config).unwrap();
            let result = rt.block_on(client.round(&mut store));
            (result.map_err(|e| e.to_string()), store)
        })
    };
    let begun = Instant::now();
    while Store::open(&store_path).unwrap().acked_seq().unwrap() < 2_000 {
        assert!(
            begun.elapsed() < Duration::from_secs(60),
            "no batch acknowledged"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = ca.issue(&cert, &key);
    let acked_at_reload = Store::open(&store_path).unwrap().acked_seq().unwrap();
    server.hangup();
    wait_served(server.addr, ca.cert.der(), &second);
    let (result, store) = pushing.join().unwrap();
    let report = result.expect("the push under way at the reload finishes");
    assert_eq!(store.backlog().unwrap(), 0, "{report:?}");
    assert!(
        acked_at_reload < RECORDS,
        "the reload landed after the push had ended ({acked_at_reload} acknowledged)"
    );
    eprintln!("SIGHUP at {acked_at_reload} of {RECORDS} acknowledged; the round: {report:?}");
    // A new connection, a new client: it syncs with the new certificate.
    let fresh = SyncClient::new(identity.clone(), clock.clone(), config).unwrap();
    rt.block_on(fresh.cursor())
        .expect("a new connection after the reload");

    // A reload that cannot be done (the key is not the certificate's) keeps the one served.
    let other = dir.path().join("other-key.pem");
    ca.issue(&dir.path().join("other-cert.pem"), &other);
    std::fs::copy(&other, &key).unwrap();
    server.hangup();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(served(server.addr, ca.cert.der()), second);
    rt.block_on(fresh.cursor())
        .expect("still serving after a failed reload");

    // Someone opens connections and sends nothing: one address holds at most its share of
    // handshakes (more are closed at once), each for at most the handshake's time limit.
    use std::io::Read;
    let held: Vec<std::net::TcpStream> = (0..sync_server::tls::HANDSHAKES_PER_ADDRESS)
        .map(|_| std::net::TcpStream::connect(server.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let mut extra = std::net::TcpStream::connect(server.addr).unwrap();
    extra
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let mut byte = [0u8; 1];
    match extra.read(&mut byte) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("a connection past the address's share was not closed: {other:?}"),
    }
    let start = Instant::now();
    let mut first = &held[0];
    first
        .set_read_timeout(Some(sync_server::tls::HANDSHAKE_TIMEOUT * 3))
        .unwrap();
    assert!(
        matches!(first.read(&mut byte), Ok(0) | Err(_)),
        "a silent connection is closed"
    );
    let waited = start.elapsed();
    assert!(
        waited < sync_server::tls::HANDSHAKE_TIMEOUT * 2,
        "closed after {waited:?}"
    );
    drop(held);
    assert_eq!(served(server.addr, ca.cert.der()), second, "served again");

    // Every record is on the server once, gap-free.
    let status = server.terminate(Duration::from_secs(15)).expect("stops");
    assert!(status.success(), "{status}");
    let log = std::fs::read_to_string(data.join(format!("server-{}.log", server.addr.port())))
        .unwrap_or_default();
    assert!(log.contains("TLS certificate reloaded"), "{log}");
    assert!(log.contains("not reloaded, the old one stays"), "{log}");
    let check = TestServer::start(&data);
    assert_eq!(
        check.records_of(identity.kiosk_id),
        store_records(&store),
        "the server holds each record once"
    );
    assert_eq!(check.records_of(identity.kiosk_id).len() as u64, RECORDS);
}
