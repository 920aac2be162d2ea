//! The client's IP address: the socket's peer, or, behind a trusted proxy
//! (`TRUST_FORWARDED_FOR`), the last entry of `X-Forwarded-For`, which is the one that proxy
//! appended (earlier entries are whatever the client claimed). Handlers read it with the
//! [`ClientIp`] extractor; the rate limit keys on it and the audit trail records it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// Where the request came from. Without a peer address (a router driven directly, as
    /// in tests), `0.0.0.0`.
    pub fn of(headers: &HeaderMap, peer: Option<SocketAddr>, trust_forwarded_for: bool) -> Self {
        let forwarded = trust_forwarded_for
            .then(|| last_forwarded_for(headers))
            .flatten();
        ClientIp(
            forwarded
                .or(peer.map(|p| p.ip()))
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        )
    }
}

fn last_forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .and_then(|ip| ip.trim().parse().ok())
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .ok_or_else(|| ApiError::internal("the client ip middleware is not installed"))
    }
}

/// Works the address out once per request and leaves it in the request's extensions.
pub async fn client_ip(
    State(trust_forwarded_for): State<bool>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let ip = ClientIp::of(req.headers(), peer, trust_forwarded_for);
    req.extensions_mut().insert(ip);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn forwarded_for_counts_only_when_trusted_and_only_its_last_entry() {
        let peer: SocketAddr = "10.0.0.5:4000".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 203.0.113.9"),
        );
        assert_eq!(ClientIp::of(&h, Some(peer), false).0, peer.ip());
        assert_eq!(
            ClientIp::of(&h, Some(peer), true).0,
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        h.insert("x-forwarded-for", HeaderValue::from_static("garbage"));
        assert_eq!(ClientIp::of(&h, Some(peer), true).0, peer.ip());
        assert_eq!(
            ClientIp::of(&HeaderMap::new(), None, false).0,
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        );
    }
}
