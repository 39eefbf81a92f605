//! Who is asking: the client's address, taken from a proxy's headers only when the
//! connection comes from a proxy the operator trusts (`trusted_proxies` in amenda.toml).
//! Rocket's own `client_ip()` believes `X-Real-IP` from anyone, so a client could name a
//! new address with each request and escape every per-address limit; `web::build` turns
//! that off, and every per-address decision goes through [`client_address`].

use ipnet::IpNet;
use rocket::request::{FromRequest, Outcome, Request};
use std::net::IpAddr;

/// The proxies whose `X-Forwarded-For` and `X-Real-IP` are believed: addresses and CIDR
/// ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    fn trusts(&self, addr: IpAddr) -> bool {
        // An IPv4 peer seen as IPv6 (`::ffff:10.0.0.1`, on a dual-stack socket) is the
        // same peer.
        let addr = canonical(addr);
        self.0.iter().any(|net| net.contains(&addr))
    }
}

fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(a) => a.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address. From a peer that is not a trusted proxy: the peer itself,
/// whatever its headers say. From a trusted proxy: the last address of
/// `X-Forwarded-For` (all its headers, in order) that is not itself a trusted proxy —
/// each proxy appends the address it received the request from, so the addresses to the
/// left of the first untrusted one were written by the client and prove nothing; when
/// every address is trusted, the first. Without `X-Forwarded-For`, `X-Real-IP`; without
/// either, or when the one read is not an address, the peer (the proxy). `None` when the
/// connection has no peer address (a local test client).
pub fn client_address<'a>(
    peer: Option<IpAddr>,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    real_ip: Option<&str>,
    trusted: &TrustedProxies,
) -> Option<IpAddr> {
    let peer = peer.map(canonical)?;
    if !trusted.trusts(peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    if hops.is_empty() {
        return Some(
            real_ip
                .and_then(|r| r.trim().parse::<IpAddr>().ok())
                .map_or(peer, canonical),
        );
    }
    let mut client = peer;
    for hop in hops.iter().rev() {
        // What is not an address was not written by a proxy we trust: stop at the last
        // hop that was.
        let Ok(addr) = hop.parse::<IpAddr>() else {
            return Some(client);
        };
        client = canonical(addr);
        if !trusted.trusts(client) {
            return Some(client);
        }
    }
    Some(client)
}

/// The client's address of a request (see [`client_address`]), with the trusted proxies
/// of the running app.
pub fn of(req: &Request<'_>) -> Option<IpAddr> {
    let trusted = req
        .rocket()
        .state::<super::AppState>()
        .map(|app| &app.config.trusted_proxies);
    let none = TrustedProxies::default();
    client_address(
        req.remote().map(|r| r.ip()),
        req.headers().get("X-Forwarded-For"),
        req.headers().get_one("X-Real-IP"),
        trusted.unwrap_or(&none),
    )
}

/// The client's address, for the per-address part of the post, report and vote limits.
pub struct ClientAddr(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientAddr {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(ClientAddr(of(req).map(|ip| ip.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_proxy;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies(list.iter().map(|p| parse_proxy(p).unwrap()).collect())
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_its_headers_say() {
        let t = proxies(&["10.0.0.0/8"]);
        let peer = Some(ip("203.0.113.7"));
        assert_eq!(
            client_address(peer, ["198.51.100.1"], Some("198.51.100.2"), &t),
            peer
        );
        // With no trusted proxy at all, nobody's headers count.
        let none = TrustedProxies::default();
        assert_eq!(
            client_address(Some(ip("127.0.0.1")), ["1.2.3.4"], Some("5.6.7.8"), &none),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(client_address(None, ["1.2.3.4"], None, &t), None);
    }

    #[test]
    fn from_a_trusted_proxy_the_last_untrusted_hop_is_the_client() {
        let t = proxies(&["10.0.0.0/8", "::1", "192.0.2.10"]);
        let proxy = Some(ip("10.1.2.3"));
        // The client wrote 6.6.6.6 itself; nginx appended the address it saw.
        assert_eq!(
            client_address(proxy, ["6.6.6.6, 203.0.113.7"], Some("6.6.6.6"), &t),
            Some(ip("203.0.113.7"))
        );
        // Two proxies in a row, over two headers.
        assert_eq!(
            client_address(proxy, ["6.6.6.6, 203.0.113.7", "192.0.2.10"], None, &t),
            Some(ip("203.0.113.7"))
        );
        // Only trusted hops: the first.
        assert_eq!(
            client_address(proxy, ["10.9.9.9, 192.0.2.10"], None, &t),
            Some(ip("10.9.9.9"))
        );
        // Garbage stops the walk at the last hop a trusted proxy wrote.
        assert_eq!(
            client_address(proxy, ["unknown, 192.0.2.10"], None, &t),
            Some(ip("192.0.2.10"))
        );
        assert_eq!(client_address(proxy, ["not-an-address"], None, &t), proxy);
        // X-Real-IP when there is no X-Forwarded-For; the proxy when neither says.
        assert_eq!(
            client_address(proxy, [], Some(" 203.0.113.9 "), &t),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(client_address(proxy, [], Some("nonsense"), &t), proxy);
        assert_eq!(client_address(proxy, [], None, &t), proxy);
        // An IPv4 peer on an IPv6 socket is trusted as itself.
        assert_eq!(
            client_address(Some(ip("::ffff:10.0.0.1")), ["203.0.113.7"], None, &t),
            Some(ip("203.0.113.7"))
        );
        assert_eq!(
            client_address(Some(ip("::1")), ["2001:db8::1"], None, &t),
            Some(ip("2001:db8::1"))
        );
    }

    #[test]
    fn entries_are_addresses_or_ranges() {
        assert_eq!(
            parse_proxy("10.0.0.5"),
            Some("10.0.0.5/32".parse().unwrap())
        );
        assert_eq!(parse_proxy(" ::1 "), Some("::1/128".parse().unwrap()));
        assert_eq!(
            parse_proxy("10.0.0.0/8"),
            Some("10.0.0.0/8".parse().unwrap())
        );
        for bad in ["", "localhost", "10.0.0.0/33", "10.0.0", "*"] {
            assert_eq!(parse_proxy(bad), None, "{bad}");
        }
    }
}
