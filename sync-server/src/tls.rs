//! TLS built in, so a small deployment needs no reverse proxy: rustls (its `ring` provider)
//! with the certificate chain and key read from PEM files, read again on SIGHUP.
//!
//! - A reload that fails (a missing file, a key that does not match the certificate) is
//!   logged and the certificate already served stays: a typo never takes the server down.
//! - Only new handshakes see a new certificate; connections already open (a kiosk's push
//!   under way) go on with theirs.
//! - Handshakes run on tasks of their own with a time limit, so a client that opens a
//!   connection and sends nothing holds one of [`MAX_HANDSHAKES`] slots for at most
//!   [`HANDSHAKE_TIMEOUT`], never the accept loop; one address holds at most
//!   [`HANDSHAKES_PER_ADDRESS`] of them (more are closed at once), so it cannot keep the
//!   others out.
//! - A connection that moves no byte either way for [`IDLE_TIMEOUT`] is closed (axum sets no
//!   timer of its own): idle sockets cannot pile up to the file limit.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client has to finish its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Handshakes under way at once; more connections wait in the kernel's backlog.
pub const MAX_HANDSHAKES: usize = 1024;
/// Handshakes under way at once from one address (a phone network's NAT shares one: a fair's
/// visitors reach the server through a few).
pub const HANDSHAKES_PER_ADDRESS: usize = 32;
/// A connection with no byte read or written for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the certificate chain and its private key are (PEM files).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// The certificate chain, the server's own certificate first.
    pub cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why a certificate could not be loaded; each says which file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS certificate {0}: {1}")]
    Cert(PathBuf, String),
    #[error(
        "the TLS certificate file {0} holds no certificate (it must be PEM: -----BEGIN CERTIFICATE-----)"
    )]
    NoCert(PathBuf),
    #[error(
        "cannot read the TLS key {0}: {1} (it must be a PEM private key, readable by the server's user)"
    )]
    Key(PathBuf, String),
    #[error("the TLS key {key} is not the key of the certificate {cert}: {why}")]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        why: String,
    },
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads and checks a certificate chain and its key.
pub fn load(files: &TlsFiles) -> Result<Arc<CertifiedKey>, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| TlsError::Cert(files.cert.clone(), pem_error(&e)))?
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Cert(files.cert.clone(), pem_error(&e)))?;
    if chain.is_empty() {
        return Err(TlsError::NoCert(files.cert.clone()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| TlsError::Key(files.key.clone(), pem_error(&e)))?;
    let mismatch = |why: String| TlsError::Mismatch {
        cert: files.cert.clone(),
        key: files.key.clone(),
        why,
    };
    let certified =
        CertifiedKey::from_der(chain, key, &provider()).map_err(|e| mismatch(e.to_string()))?;
    Ok(Arc::new(certified))
}

fn pem_error(e: &rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(io) => io.to_string(),
        other => format!("{other:?}"),
    }
}

/// The certificate served to new handshakes; [`Certificates::reload`] swaps it.
#[derive(Debug)]
pub struct Certificates {
    files: TlsFiles,
    current: RwLock<Arc<CertifiedKey>>,
}

impl Certificates {
    pub fn open(files: TlsFiles) -> Result<Arc<Certificates>, TlsError> {
        let current = RwLock::new(load(&files)?);
        Ok(Arc::new(Certificates { files, current }))
    }

    /// Reads the files again; on failure the certificate served stays as it was.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = load(&self.files)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    /// The server's own certificate now served (DER).
    pub fn leaf(&self) -> CertificateDer<'static> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).cert[0].clone()
    }

    /// A rustls configuration that asks this for its certificate at every handshake.
    pub fn server_config(self: &Arc<Self>) -> rustls::ServerConfig {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        )
    }
}

/// A listener whose connections have finished their TLS handshake, for `axum::serve`.
pub struct TlsListener {
    done: mpsc::Receiver<(Idle<TlsStream<TcpStream>>, SocketAddr)>,
    local: SocketAddr,
    accepting: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, certificates: &Arc<Certificates>) -> io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(Arc::new(certificates.server_config()));
        let (tx, done) = mpsc::channel(64);
        let accepting = tokio::spawn(accept_loop(tcp, acceptor, tx));
        Ok(TlsListener {
            done,
            local,
            accepting,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// Handshakes under way per client address.
#[derive(Default)]
struct PerAddress(std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>);

impl PerAddress {
    /// Counts one more for `ip`, unless it has its share already.
    fn enter(self: &Arc<Self>, ip: std::net::IpAddr) -> Option<Leave> {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = all.entry(ip).or_default();
        if *n >= HANDSHAKES_PER_ADDRESS {
            return None;
        }
        *n += 1;
        Some(Leave(self.clone(), ip))
    }
}

/// Counts one less for its address when dropped.
struct Leave(Arc<PerAddress>, std::net::IpAddr);

impl Drop for Leave {
    fn drop(&mut self) {
        let mut all = self.0.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = all.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                all.remove(&self.1);
            }
        }
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    done: mpsc::Sender<(Idle<TlsStream<TcpStream>>, SocketAddr)>,
) {
    let slots = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    let per_address = Arc::new(PerAddress::default());
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match tcp.accept().await {
            Ok(s) => s,
            Err(e) => {
                // Out of file descriptors and the like: wait rather than spin.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(leave) = per_address.enter(peer.ip()) else {
            tracing::debug!(%peer, "too many TLS handshakes from this address; closed");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let handed = done.clone();
        tokio::spawn(async move {
            let shaken = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
            drop((slot, leave));
            match shaken {
                Ok(Ok(tls)) => {
                    let _ = handed.send((Idle::new(tls, IDLE_TIMEOUT), peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
        if done.is_closed() {
            return;
        }
    }
}

/// A stream that fails with `TimedOut` once no byte has moved either way for `limit`.
pub struct Idle<S> {
    inner: S,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
}

impl<S> Idle<S> {
    pub fn new(inner: S, limit: Duration) -> Idle<S> {
        Idle {
            inner,
            deadline: Box::pin(tokio::time::sleep(limit)),
            limit,
        }
    }

    /// After an attempt: moves the deadline on progress, or says the time is up.
    fn check(&mut self, cx: &mut std::task::Context<'_>, progress: bool) -> Option<io::Error> {
        if progress {
            let next = tokio::time::Instant::now() + self.limit;
            self.deadline.as_mut().reset(next);
            None
        } else if self.deadline.as_mut().poll(cx).is_ready() {
            Some(io::Error::new(
                io::ErrorKind::TimedOut,
                "idle connection closed",
            ))
        } else {
            None
        }
    }
}

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

impl<S: AsyncRead + Unpin> AsyncRead for Idle<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        let progress = matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before;
        match this.check(cx, progress) {
            Some(e) if r.is_pending() => Poll::Ready(Err(e)),
            _ => r,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Idle<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, data);
        let progress = matches!(r, Poll::Ready(Ok(n)) if n > 0);
        match this.check(cx, progress) {
            Some(e) if r.is_pending() => Poll::Ready(Err(e)),
            _ => r,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = Idle<TlsStream<TcpStream>>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.done.recv().await {
            Some(conn) => conn,
            // The accept loop only ends once this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// Listens for SIGHUP (systemd's `ExecReload`) from now on: call it before telling systemd
/// the server is ready, since a SIGHUP nobody listens for ends the process. In the runtime.
pub fn hangups() -> Option<tokio::signal::unix::Signal> {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP");
            None
        }
    }
}

/// Reloads the certificate at every SIGHUP, until the process ends.
pub async fn reload_on_hangup(
    mut hangups: tokio::signal::unix::Signal,
    certificates: Option<Arc<Certificates>>,
) {
    while hangups.recv().await.is_some() {
        match &certificates {
            None => tracing::info!("SIGHUP: TLS is off, nothing to reload"),
            Some(c) => match c.reload() {
                Ok(()) => {
                    tracing::info!(cert = %c.files.cert.display(), "TLS certificate reloaded")
                }
                Err(e) => tracing::error!("TLS certificate not reloaded, the old one stays: {e}"),
            },
        }
    }
}
