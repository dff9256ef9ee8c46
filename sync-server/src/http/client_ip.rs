//! The visitor's address, for rate limits and the funnel's distinct visitors.
//!
//! Behind a reverse proxy every request comes from the proxy's address. The address a proxy
//! saw is taken from `Forwarded` or `X-Forwarded-For` **only** when the TCP peer is in one of
//! the configured trusted ranges; then the right-most address that is not itself a trusted
//! proxy is the client. From any other peer those headers are ignored, so a client cannot
//! pick its own address to escape a limit. IPv4-mapped IPv6 (`::ffff:a.b.c.d`, what a server
//! listening on `[::]` sees for IPv4 clients) is normalised to IPv4 first.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::AppState;
use crate::error::AppError;

/// The ranges whose requests carry a trustworthy forwarded address.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "Vec<String>")]
pub struct TrustedProxies(Vec<IpNet>);

impl TryFrom<Vec<String>> for TrustedProxies {
    type Error = String;

    fn try_from(list: Vec<String>) -> Result<Self, String> {
        list.iter()
            .map(|s| parse_net(s))
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }
}

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies(nets)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|n| n.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Reads `10.0.0.0/8`, `2001:db8::/32` or a single address (`127.0.0.1` = `/32`).
pub fn parse_net(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    if let Ok(n) = s.parse::<IpNet>() {
        return Ok(n.trunc());
    }
    s.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("\"{s}\" is not an address or a CIDR range such as 10.0.0.0/8"))
}

/// The client of a request whose TCP peer is `peer`.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if trusted.is_empty() || !trusted.contains(peer) {
        return peer;
    }
    let chain = forwarded_chain(headers);
    // From the right: each hop was added by the hop after it; the first one that is not a
    // trusted proxy is the client. An entry that is not an address (`unknown`, a hidden
    // name) ends the walk: what lies left of it cannot be trusted, so the last proxy stands.
    let mut client = peer;
    for hop in chain.iter().rev() {
        let Some(ip) = hop else {
            return client;
        };
        let ip = ip.to_canonical();
        client = ip;
        if !trusted.contains(ip) {
            return ip;
        }
    }
    client
}

/// The addresses of `Forwarded` (RFC 7239) if present, else of `X-Forwarded-For`, left to
/// right over every header line; `None` for an entry that is not an address.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<Option<IpAddr>> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_node(v.trim().trim_matches('"')))
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| parse_node(s.trim()))
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711`, `2001:db8::1`.
fn parse_node(s: &str) -> Option<IpAddr> {
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    s.parse::<SocketAddr>().ok().map(|a| a.ip())
}

/// The key a limit counts under: an IPv4 address, or an IPv6 /64 (one phone may use many
/// addresses of its network).
pub fn limit_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// The client's address as [`client_ip`] finds it, for a handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .ok_or_else(|| AppError::Internal("no peer address on the connection".into()))?;
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trusted(nets: &[&str]) -> TrustedProxies {
        TrustedProxies::new(nets.iter().map(|n| parse_net(n).unwrap()).collect())
    }

    #[test]
    fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(
            client_ip(ip("203.0.113.9"), &h, &trusted(&[])),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(ip("203.0.113.9"), &h, &trusted(&["10.0.0.0/8"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_address_is_the_client() {
        let t = trusted(&["10.0.0.0/8", "127.0.0.1"]);
        // The client put a fake address first; the proxy appended the real one.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.1.2.3")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &t), ip("198.51.100.7"));
        // Several header lines are one list.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "198.51.100.8"),
        ]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &t), ip("198.51.100.8"));
        // Forwarded wins over X-Forwarded-For; ports, quotes and brackets are read.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            (
                "forwarded",
                "for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https, for=10.0.0.9:80",
            ),
        ]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &t), ip("2001:db8:cafe::17"));
        // A garbage entry right of the proxies: the last trusted hop stands.
        let h = headers(&[("x-forwarded-for", "198.51.100.1, unknown")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &t), ip("10.0.0.2"));
        // No header at all: the proxy itself.
        assert_eq!(client_ip(ip("10.0.0.2"), &headers(&[]), &t), ip("10.0.0.2"));
    }

    #[test]
    fn ipv4_mapped_addresses_are_ipv4() {
        let mapped = ip("::ffff:198.51.100.20");
        assert_eq!(
            client_ip(mapped, &headers(&[]), &trusted(&[])),
            ip("198.51.100.20")
        );
        assert_eq!(limit_key(mapped), "198.51.100.20");
        assert!(trusted(&["127.0.0.0/8"]).contains(ip("::ffff:127.0.0.1")));
        let h = headers(&[("x-forwarded-for", "::ffff:198.51.100.21")]);
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), &h, &trusted(&["127.0.0.1"])),
            ip("198.51.100.21")
        );
        assert_eq!(limit_key(ip("2001:db8:1:2:3:4:5:6")), "2001:db8:1:2::/64");
    }

    #[test]
    fn ranges_parse_or_say_what_is_wrong() {
        assert_eq!(parse_net("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_net(" ::1 ").unwrap().to_string(), "::1/128");
        assert!(parse_net("nginx").unwrap_err().contains("CIDR"));
    }
}
