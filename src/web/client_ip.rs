//! Who the client is, for rate limits, the held-seat cap and the cookie's `Secure` flag: the
//! peer address, or, when the peer is a trusted proxy, the right-most `X-Forwarded-For`
//! address that is not itself a trusted proxy. Forwarding headers from anyone else are
//! ignored, so they cannot buy a fresh budget or claim TLS.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use actix_web::http::header::{HeaderMap, HeaderName, FORWARDED, X_FORWARDED_FOR};
use actix_web::{web, HttpRequest};

use crate::state::AppState;

const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// The unit a per-client budget is kept for: an IPv4 address, or an IPv6 /64 (one subscriber
/// usually holds a whole /64, so a budget per address would be one per address they pick).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientKey {
    V4(Ipv4Addr),
    /// The network's upper 64 bits.
    V6Net(u64),
}

impl From<IpAddr> for ClientKey {
    fn from(ip: IpAddr) -> Self {
        // `::ffff:a.b.c.d` is an IPv4 client seen through a dual-stack socket.
        match ip.to_canonical() {
            IpAddr::V4(v4) => ClientKey::V4(v4),
            IpAddr::V6(v6) => ClientKey::V6Net((u128::from(v6) >> 64) as u64),
        }
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientKey::V4(ip) => write!(f, "{ip}"),
            ClientKey::V6Net(net) => write!(f, "{}/64", Ipv6Addr::from(u128::from(*net) << 64)),
        }
    }
}

/// The client's budget key for this request (see the module's doc).
pub fn client_key(req: &HttpRequest) -> ClientKey {
    ClientKey::from(client_ip(req))
}

/// The client's address for this request (see the module's doc).
pub fn client_ip(req: &HttpRequest) -> IpAddr {
    resolve(
        trusted_proxies(req),
        req.peer_addr().map(|a| a.ip()),
        req.headers(),
    )
}

/// Whether the client reached us over TLS: our own listener's, or a trusted proxy's word.
pub fn is_https(req: &HttpRequest) -> bool {
    req.app_config().secure()
        || forwarded_https(
            trusted_proxies(req),
            req.peer_addr().map(|a| a.ip()),
            req.headers(),
        )
}

fn trusted_proxies(req: &HttpRequest) -> &[IpAddr] {
    req.app_data::<web::Data<AppState>>()
        .map(|state| state.settings.trusted_proxies.as_slice())
        .unwrap_or(&[])
}

fn trusts(trusted: &[IpAddr], ip: IpAddr) -> bool {
    trusted.iter().any(|t| t.to_canonical() == ip)
}

/// The pure rule behind [`client_ip`].
pub fn resolve(trusted: &[IpAddr], peer: Option<IpAddr>, headers: &HeaderMap) -> IpAddr {
    let peer = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.to_canonical());
    if !trusts(trusted, peer) {
        return peer;
    }
    // The hop we know for sure: each trusted proxy vouches for the one to its left.
    let mut nearest = peer;
    for hop in list_elements(headers, &X_FORWARDED_FOR).iter().rev() {
        match parse_hop(hop) {
            Some(ip) if trusts(trusted, ip) => nearest = ip,
            Some(ip) => return ip,
            // Unreadable where a trusted proxy wrote it: skipping it would let the hops to its
            // left (the client's own words) decide, so the proxy itself is the client.
            None => return nearest,
        }
    }
    nearest
}

/// The elements of a comma-separated header, every line of it joined in order, as HTTP reads
/// a repeated field (RFC 9110 §5.3); empty elements are dropped (§5.6.1). A line that is not
/// visible ASCII is one unreadable element.
fn list_elements<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Vec<&'a str> {
    let mut elements = Vec::new();
    for line in headers.get_all(name) {
        match line.to_str() {
            Ok(text) => elements.extend(text.split(',').map(str::trim).filter(|e| !e.is_empty())),
            Err(_) => elements.push("\u{0}"),
        }
    }
    elements
}

/// `203.0.113.9`, `203.0.113.9:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .and_then(|h| h.parse().ok())
        })?;
    Some(ip.to_canonical())
}

/// What the nearest trusted proxy says of the scheme: the last `Forwarded` element's `proto`,
/// else the last `X-Forwarded-Proto` value. Nobody else is asked.
pub fn forwarded_https(trusted: &[IpAddr], peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
    let Some(peer) = peer else {
        return false;
    };
    if !trusts(trusted, peer.to_canonical()) {
        return false;
    }
    let from_forwarded = list_elements(headers, &FORWARDED)
        .last()
        .and_then(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("proto")
                    .then(|| value.trim().trim_matches('"'))
            })
        });
    let proto =
        from_forwarded.or_else(|| list_elements(headers, &X_FORWARDED_PROTO).last().copied());
    proto.is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(lines: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in lines {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted = [ip("10.0.0.1")];
        let claims = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-real-ip", "1.2.3.5"),
            ("forwarded", "for=1.2.3.6;proto=https"),
            ("x-forwarded-proto", "https"),
        ]);
        let peer = Some(ip("203.0.113.9"));
        assert_eq!(resolve(&trusted, peer, &claims), ip("203.0.113.9"));
        assert!(!forwarded_https(&trusted, peer, &claims));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        let proxy = Some(ip("10.0.0.1"));
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.2")]);
        assert_eq!(resolve(&trusted, proxy, &chain), ip("198.51.100.7"));
        assert_eq!(resolve(&trusted, proxy, &HeaderMap::new()), ip("10.0.0.1"));
        let garbage = headers(&[("x-forwarded-for", "6.6.6.6, garbage")]);
        assert_eq!(resolve(&trusted, proxy, &garbage), ip("10.0.0.1"));
        let all_trusted = headers(&[("x-forwarded-for", "10.0.0.2")]);
        assert_eq!(resolve(&trusted, proxy, &all_trusted), ip("10.0.0.2"));
    }

    #[test]
    fn every_line_of_a_repeated_header_counts_in_order() {
        let trusted = [ip("10.0.0.1")];
        let proxy = Some(ip("10.0.0.1"));
        // The client's own line first, then the one HAProxy's `option forwardfor` adds.
        let lines = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "198.51.100.7"),
        ]);
        assert_eq!(resolve(&trusted, proxy, &lines), ip("198.51.100.7"));
    }

    #[test]
    fn ports_brackets_and_mapped_addresses_are_read() {
        let trusted = [ip("10.0.0.1")];
        for (hop, client) in [
            ("198.51.100.7:4711", "198.51.100.7"),
            ("[2001:db8::1]:4711", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("::ffff:198.51.100.7", "198.51.100.7"),
        ] {
            let mut map = HeaderMap::new();
            map.insert(X_FORWARDED_FOR, HeaderValue::from_str(hop).unwrap());
            let peer = Some(ip("::ffff:10.0.0.1"));
            assert_eq!(resolve(&trusted, peer, &map), ip(client), "{hop}");
        }
    }

    #[test]
    fn ipv6_clients_share_a_key_per_64() {
        let a = ClientKey::from(ip("2001:db8:1:2::1"));
        let b = ClientKey::from(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        let c = ClientKey::from(ip("2001:db8:1:3::1"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.to_string(), "2001:db8:1:2::/64");
        assert_eq!(
            ClientKey::from(ip("::ffff:192.0.2.1")),
            ClientKey::V4(Ipv4Addr::new(192, 0, 2, 1))
        );
        assert_eq!(ClientKey::from(ip("192.0.2.1")).to_string(), "192.0.2.1");
    }

    #[test]
    fn the_scheme_is_taken_from_the_nearest_trusted_proxy_only() {
        let trusted = [ip("10.0.0.1")];
        let proxy = Some(ip("10.0.0.1"));
        for (lines, https) in [
            (headers(&[("x-forwarded-proto", "https")]), true),
            (headers(&[("x-forwarded-proto", "http")]), false),
            (headers(&[("x-forwarded-proto", "https, http")]), false),
            (headers(&[("forwarded", "for=1.2.3.4;proto=https")]), true),
            (
                headers(&[
                    ("forwarded", "proto=http"),
                    ("forwarded", "Proto=\"HTTPS\""),
                ]),
                true,
            ),
            (HeaderMap::new(), false),
        ] {
            assert_eq!(forwarded_https(&trusted, proxy, &lines), https, "{lines:?}");
        }
    }
}
