//! A fault-injecting HTTP/1.1 proxy on loopback. Per request, on a seeded random schedule, it
//! passes the request, delays it, answers 500/503/413 itself, drops the connection in the
//! middle of the request or of the response (after the server committed), resets it, or
//! delivers the request to the server twice.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    Pass,
    Delay,
    Answer500,
    Answer503,
    Answer413,
    DropMidRequest,
    DropMidResponse,
    Reset,
    Duplicate,
}

/// Weights of each fault, out of their sum.
pub const DEFAULT_SCHEDULE: [(Fault, u32); 9] = [
    (Fault::Pass, 45),
    (Fault::Delay, 10),
    (Fault::Answer500, 5),
    (Fault::Answer503, 5),
    (Fault::Answer413, 5),
    (Fault::DropMidRequest, 6),
    (Fault::DropMidResponse, 10),
    (Fault::Reset, 4),
    (Fault::Duplicate, 10),
];

#[derive(Default, Debug)]
pub struct Counters {
    pub requests: AtomicU64,
    pub faults: Mutex<std::collections::HashMap<String, u64>>,
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    pub counters: Arc<Counters>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts on 127.0.0.1:0 in the current tokio runtime.
    pub async fn start(upstream: SocketAddr, seed: u64, schedule: &[(Fault, u32)]) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let rng = Arc::new(Mutex::new(StdRng::seed_from_u64(seed)));
        let schedule: Arc<Vec<(Fault, u32)>> = Arc::new(schedule.to_vec());
        let counters = Arc::new(Counters::default());
        let c = counters.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let _ = client.set_nodelay(true);
                let (rng, schedule, c) = (rng.clone(), schedule.clone(), c.clone());
                tokio::spawn(async move {
                    let _ = serve_conn(client, upstream, rng, schedule, c).await;
                });
            }
        });
        FaultProxy {
            addr,
            counters,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn fault_counts(&self) -> std::collections::HashMap<String, u64> {
        self.counters.faults.lock().unwrap().clone()
    }
}

fn pick(rng: &Mutex<StdRng>, schedule: &[(Fault, u32)]) -> (Fault, u64) {
    let mut rng = rng.lock().unwrap();
    let total: u32 = schedule.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total.max(1));
    let delay = rng.random_range(0..80);
    for (f, w) in schedule {
        if x < *w {
            return (*f, delay);
        }
        x -= w;
    }
    (Fault::Pass, delay)
}

/// Reads one HTTP/1.1 message (head and a Content-Length or chunked body).
async fn read_message(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Option<Vec<u8>>> {
    let head_end = loop {
        if let Some(p) = find(buf, b"\r\n\r\n") {
            break p + 4;
        }
        let mut chunk = [0u8; 16 * 1024];
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head.contains("transfer-encoding: chunked");
    loop {
        let complete = match (len, chunked) {
            (Some(n), _) => buf.len() >= head_end + n,
            (None, true) => find(&buf[head_end..], b"0\r\n\r\n").is_some(),
            (None, false) => true,
        };
        if complete {
            break;
        }
        let mut chunk = [0u8; 64 * 1024];
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let end = match (len, chunked) {
        (Some(n), _) => head_end + n,
        (None, true) => head_end + find(&buf[head_end..], b"0\r\n\r\n").unwrap() + 5,
        _ => head_end,
    };
    let msg: Vec<u8> = buf.drain(..end).collect();
    Ok(Some(msg))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn exchange(upstream: SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await?;
    up.set_nodelay(true)?;
    up.write_all(request).await?;
    let mut buf = Vec::new();
    read_message(&mut up, &mut buf)
        .await?
        .ok_or_else(|| std::io::Error::other("upstream closed"))
}

fn canned(status: &str, extra: &str) -> Vec<u8> {
    let body = format!("{{\"code\":\"injected\",\"message\":\"fault injected: {status}\"}}");
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn serve_conn(
    mut client: TcpStream,
    upstream: SocketAddr,
    rng: Arc<Mutex<StdRng>>,
    schedule: Arc<Vec<(Fault, u32)>>,
    counters: Arc<Counters>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    while let Some(request) = read_message(&mut client, &mut buf).await? {
        counters.requests.fetch_add(1, Ordering::Relaxed);
        let (fault, delay) = pick(&rng, &schedule);
        *counters
            .faults
            .lock()
            .unwrap()
            .entry(format!("{fault:?}"))
            .or_default() += 1;
        match fault {
            Fault::Pass => {
                let resp = exchange(upstream, &request).await?;
                client.write_all(&resp).await?;
            }
            Fault::Delay => {
                tokio::time::sleep(Duration::from_millis(delay)).await;
                let resp = exchange(upstream, &request).await?;
                tokio::time::sleep(Duration::from_millis(delay)).await;
                client.write_all(&resp).await?;
            }
            Fault::Answer500 => {
                client
                    .write_all(&canned("500 Internal Server Error", ""))
                    .await?
            }
            Fault::Answer503 => {
                client
                    .write_all(&canned("503 Service Unavailable", "retry-after: 0\r\n"))
                    .await?
            }
            Fault::Answer413 => {
                client
                    .write_all(&canned("413 Payload Too Large", ""))
                    .await?
            }
            Fault::DropMidRequest => {
                // Half the request reaches the server, then both sides are cut.
                let mut up = TcpStream::connect(upstream).await?;
                up.write_all(&request[..request.len() / 2]).await?;
                drop(up);
                return Ok(());
            }
            Fault::DropMidResponse => {
                // The server commits; the kiosk gets half an answer.
                let resp = exchange(upstream, &request).await?;
                client.write_all(&resp[..resp.len() / 2]).await?;
                return Ok(());
            }
            Fault::Reset => return Ok(()),
            Fault::Duplicate => {
                let _first = exchange(upstream, &request).await?;
                let second = exchange(upstream, &request).await?;
                client.write_all(&second).await?;
            }
        }
    }
    Ok(())
}
