//! `X-Request-Id`: taken from the request when it is sane, generated otherwise, echoed on
//! the answer, recorded on the request's tracing span, and handed to handlers as the
//! [`RequestId`] extractor.
//!
//! The correlation id of the events a command appends is always the server's own, never
//! the client's: a client that could name it could join its events to anyone's trail (a
//! customer's order under an admin's request). The client's id is kept beside it, as
//! `client_request_id` in the events' metadata and the audit trail, so a caller can still
//! follow its own request.

use std::time::Instant;

use axum::extract::{FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use uuid::Uuid;

use crate::error::ApiError;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client-supplied id kept; longer ones are replaced, so logs stay bounded.
const MAX_LEN: usize = 128;

/// The id of one request, as echoed in `X-Request-Id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId {
    header: HeaderValue,
    /// Made here for every request, whatever the client sent.
    correlation_id: Uuid,
    /// The client's own `X-Request-Id`, when it sent a sane one.
    client_request_id: Option<String>,
    /// The client's `User-Agent`, kept for the audit trail.
    user_agent: Option<String>,
    /// The command's id when the request carries an `Idempotency-Key` (derived from it, so
    /// a retry is the same command); random otherwise.
    command_id: Option<Uuid>,
}

/// Longest `User-Agent` kept in an event's metadata.
const MAX_USER_AGENT: usize = 512;

impl RequestId {
    /// The client's id when it is 1 to 128 visible ASCII characters, else a new UUID; a new
    /// correlation id either way.
    pub fn from_header(value: Option<&HeaderValue>) -> Self {
        let given = value
            .and_then(|v| v.to_str().ok())
            .filter(|s| !s.is_empty() && s.len() <= MAX_LEN)
            .filter(|s| s.bytes().all(|b| b.is_ascii_graphic()));
        match given {
            Some(s) => RequestId {
                header: HeaderValue::from_str(s).expect("visible ASCII is a valid header value"),
                correlation_id: Uuid::new_v4(),
                client_request_id: Some(s.to_owned()),
                user_agent: None,
                command_id: None,
            },
            None => Self::generate(),
        }
    }

    /// A request the client gave no id: the echoed id is the correlation id itself.
    pub fn generate() -> Self {
        let id = Uuid::new_v4();
        RequestId {
            header: HeaderValue::from_str(&id.to_string()).expect("a UUID is a header value"),
            correlation_id: id,
            client_request_id: None,
            user_agent: None,
            command_id: None,
        }
    }

    pub fn as_str(&self) -> &str {
        self.header.to_str().unwrap_or_default()
    }

    /// The correlation id of everything this request causes.
    pub fn correlation_id(&self) -> Uuid {
        self.correlation_id
    }

    /// The client's own `X-Request-Id`, when it sent a sane one.
    pub fn client_request_id(&self) -> Option<&str> {
        self.client_request_id.as_deref()
    }

    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }

    /// Makes the command this request runs the one its caller's `key` names (within
    /// `scope`, the caller), so every retry of it has the same id.
    pub fn derive_command_id(&mut self, scope: &str, key: &str) {
        const NAMESPACE: Uuid = Uuid::from_u128(0x1d3b_9c42_7e0a_4f5d_8b61_2c9e_a4f0_7d13);
        self.command_id = Some(Uuid::new_v5(
            &NAMESPACE,
            format!("{scope}\n{key}").as_bytes(),
        ));
    }

    /// The metadata of a command this request sends for `actor` from `ip`: a new command
    /// id, the request's correlation id, and the client's address, user agent and own
    /// request id for the audit trail.
    pub fn command_meta(
        &self,
        actor: commands::handler::Actor,
        ip: &super::client_ip::ClientIp,
    ) -> commands::handler::CommandMeta {
        let mut m = commands::handler::CommandMeta::new(
            self.command_id.unwrap_or_else(Uuid::new_v4),
            self.correlation_id,
            actor,
            chrono::Utc::now(),
        );
        m.client_ip = Some(ip.0.to_string());
        m.user_agent = self.user_agent.clone();
        m.client_request_id = self.client_request_id.clone();
        m
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<RequestId>()
            .cloned()
            .ok_or_else(|| ApiError::internal("the request id middleware is not installed"))
    }
}

/// Outermost layer: everything inside, errors included, logs within the request's span.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let mut id = RequestId::from_header(req.headers().get(&X_REQUEST_ID));
    id.user_agent = req
        .headers()
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(MAX_USER_AGENT).collect());
    req.extensions_mut().insert(id.clone());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_owned();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        correlation_id = %id.correlation_id(),
        client_request_id = id.client_request_id(),
        method = %req.method(),
        route = %route,
    );
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    response
        .headers_mut()
        .insert(X_REQUEST_ID.clone(), id.header);
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1e3;
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, latency_ms, "request answered");
        } else {
            tracing::info!(status, latency_ms, "request answered");
        }
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_kept_and_others_replaced() {
        let kept = RequestId::from_header(Some(&HeaderValue::from_static("abc-123")));
        assert_eq!(kept.as_str(), "abc-123");
        assert_eq!(kept.client_request_id(), Some("abc-123"));
        // The client's id never names the correlation: the same id sent twice is two
        // requests, each with a correlation id of its own.
        let again = RequestId::from_header(Some(&HeaderValue::from_static("abc-123")));
        assert_ne!(kept.correlation_id(), again.correlation_id());

        let uuid = Uuid::new_v4();
        let given = HeaderValue::from_str(&uuid.to_string()).unwrap();
        let given = RequestId::from_header(Some(&given));
        assert_ne!(given.correlation_id(), uuid);
        assert_eq!(given.client_request_id(), Some(uuid.to_string().as_str()));

        for bad in ["", "has space", &"x".repeat(MAX_LEN + 1)] {
            let replaced = RequestId::from_header(Some(&HeaderValue::from_str(bad).unwrap()));
            assert!(Uuid::parse_str(replaced.as_str()).is_ok(), "{bad:?}");
        }
        let made = RequestId::from_header(None);
        assert_eq!(made.as_str(), made.correlation_id().to_string());
        assert_eq!(made.client_request_id(), None);
    }
}
