//! The real client address behind reverse proxies (`--trust-proxy`). Without it, the TCP peer
//! is the client and `X-Forwarded-For` / `Forwarded` are ignored, so no client can spoof its
//! way past the rate limit. With it, the address is read from those headers, walking from the
//! nearest proxy outwards and trusting only the hops the operator named.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// Which proxies in front of the collector are trusted to say who the client is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustProxy {
    /// This many proxy hops: the client is the address that many entries from the right of
    /// the forwarded chain (the peer itself being the nearest proxy).
    Hops(usize),
    /// Proxies at these networks: the client is the nearest address not in them.
    Networks(Vec<IpNet>),
}

impl TrustProxy {
    /// Parses `N` (hops) or a comma-separated list of CIDRs or addresses
    /// (`10.0.0.0/8,192.168.1.5`).
    pub fn parse(text: &str) -> Result<TrustProxy, String> {
        let text = text.trim();
        if let Ok(hops) = text.parse::<usize>() {
            if hops == 0 {
                return Err("--trust-proxy 0: give a number of hops from 1, or a CIDR list".into());
            }
            return Ok(TrustProxy::Hops(hops));
        }
        let mut networks = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let net = part
                .parse::<IpNet>()
                .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!(
                        "--trust-proxy {text}: {part:?} is neither a number of hops nor a CIDR \
                         (10.0.0.0/8) or address"
                    )
                })?;
            networks.push(net);
        }
        if networks.is_empty() {
            return Err("--trust-proxy: expected a number of hops or a CIDR list".into());
        }
        Ok(TrustProxy::Networks(networks))
    }

    /// The client address of a request from `peer` with these headers.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        // Nearest first: the peer, then the forwarded chain read from the right.
        let mut chain = forwarded_chain(headers);
        chain.reverse();
        match self {
            TrustProxy::Hops(hops) => {
                // The peer is hop 1; each further trusted hop vouches for the one before it.
                chain
                    .get(hops - 1)
                    .copied()
                    .or(chain.last().copied())
                    .unwrap_or(peer)
            }
            TrustProxy::Networks(networks) => {
                let trusted = |ip: &IpAddr| networks.iter().any(|n| n.contains(ip));
                if !trusted(&peer) {
                    return peer;
                }
                let mut client = peer;
                for ip in chain {
                    client = ip;
                    if !trusted(&ip) {
                        break;
                    }
                }
                client
            }
        }
    }
}

/// The addresses proxies appended, oldest (the original client) first: from `Forwarded`
/// (RFC 7239 `for=`) when present, otherwise `X-Forwarded-For`. Entries that are not
/// addresses (`unknown`, obfuscated names) end the chain there, as nothing before them can be
/// checked.
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let forwarded: Vec<String> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                key.eq_ignore_ascii_case("for").then(|| value.to_owned())
            })
        })
        .collect();
    let entries: Vec<String> = if forwarded.is_empty() {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_owned())
            .collect()
    } else {
        forwarded
    };
    let mut chain = Vec::new();
    for entry in entries.iter().rev() {
        match parse_node(entry) {
            Some(ip) => chain.push(ip),
            None => break,
        }
    }
    chain.reverse();
    chain
}

/// `203.0.113.7`, `"[2001:db8::1]:4711"`, `203.0.113.7:51000`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    text.rsplit_once(':')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_trusted_hop_takes_the_address_the_proxy_saw() {
        let trust = TrustProxy::parse("1").unwrap();
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7")]);
        assert_eq!(trust.client(ip("10.0.0.2"), &h), ip("203.0.113.7"));
        assert_eq!(
            trust.client(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2"),
            "no header: the peer"
        );
    }

    #[test]
    fn two_hops_skip_the_inner_proxy_but_not_a_spoofed_entry() {
        let trust = TrustProxy::parse("2").unwrap();
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.9")]);
        assert_eq!(trust.client(ip("10.0.0.2"), &h), ip("203.0.113.7"));
    }

    #[test]
    fn networks_walk_past_trusted_proxies_only() {
        let trust = TrustProxy::parse("10.0.0.0/8, 192.168.1.5").unwrap();
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 192.168.1.5")]);
        assert_eq!(trust.client(ip("10.1.2.3"), &h), ip("203.0.113.7"));
        assert_eq!(
            trust.client(ip("198.51.100.1"), &h),
            ip("198.51.100.1"),
            "an untrusted peer's headers are ignored"
        );
    }

    #[test]
    fn forwarded_header_is_read_with_ports_and_brackets() {
        let trust = TrustProxy::parse("1").unwrap();
        let h = headers(&[(
            "forwarded",
            "for=6.6.6.6, for=\"[2001:db8::1]:4711\";proto=https",
        )]);
        assert_eq!(trust.client(ip("10.0.0.2"), &h), ip("2001:db8::1"));
        let h = headers(&[("forwarded", "for=203.0.113.7:5100")]);
        assert_eq!(trust.client(ip("10.0.0.2"), &h), ip("203.0.113.7"));
    }

    #[test]
    fn bad_settings_name_the_problem() {
        assert!(TrustProxy::parse("0").unwrap_err().contains("hops"));
        assert!(TrustProxy::parse("proxy.local")
            .unwrap_err()
            .contains("\"proxy.local\""));
    }
}
