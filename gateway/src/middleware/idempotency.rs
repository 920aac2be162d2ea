//! `Idempotency-Key` on commands (POST, PUT, PATCH, DELETE under `/api/v1`): the first
//! successful answer is kept in PostgreSQL (`idempotency.responses`) for [`TTL`], and a
//! retry with the same key and the same request is answered with it, marked
//! `Idempotent-Replayed: true`, without reaching the handler, so it appends nothing.
//!
//! - A key is 1 to 255 visible ASCII characters (else 400 `invalid_idempotency_key`).
//! - Keys are scoped per authenticated user, or per guest cart token (kept as its SHA-256,
//!   so the table holds no credential), so one client cannot read another's answer by
//!   guessing its key. A caller who is neither (a first guest line, a bearer token that
//!   does not check out) has no scope, and the key is ignored: scoping by address would
//!   hand one guest's answer, new cart token and all, to another behind the same NAT.
//! - `/auth/*` is never kept: its answers are credentials and one-time tokens, and a
//!   refresh replayed from a cache would defeat refresh-token reuse detection (the second
//!   use of a spent token must be refused, not answered with the first pair again).
//! - Only 2xx answers are kept: a refusal may not hold once the state changes (stock
//!   arrives, a conflict clears), so its retry runs again.
//! - Each scope keeps at most `IDEMPOTENCY_QUOTA` answers at once; a new key beyond that
//!   is refused with 429 `idempotency_quota_exceeded` (`Retry-After`: when the oldest
//!   expires), rather than run without the promise the client asked for. Replays of kept
//!   keys still answer. Concurrent new keys can overshoot the quota by their number.
//! - The request's fingerprint is a SHA-256 of method, path and query, and body (JSON bodies
//!   re-serialised, so whitespace does not count): the same key with another request is
//!   refused with 422 `idempotency_key_reused`.
//! - While the first request is being answered, a duplicate gets 409
//!   `idempotency_key_in_flight` and may retry.
//! - Nothing is kept when the first request dies (a panic, a dropped connection): the
//!   client's retry then runs the command. A claim whose request has not answered within
//!   [`IN_FLIGHT_LEASE`] is taken to have died with its process (a gateway killed
//!   mid-request cannot release it): the next retry, through any gateway, runs.
//!
//! The claim is an `insert ... on conflict do nothing` on `(scope, key)`, so of two
//! concurrent requests exactly one runs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// How long a claimed key waits for its request's answer before a retry may run the
/// command again: far longer than any request takes, short enough that a buyer whose
/// gateway died retries within the minute.
pub const IN_FLIGHT_LEASE: Duration = Duration::from_secs(30);

use super::request_id::RequestId;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub static IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How long a kept answer is replayed.
pub const TTL: Duration = Duration::from_secs(24 * 60 * 60);
pub const MAX_KEY_LEN: usize = 255;

/// The answer headers a replay repeats; the rest (request id, security headers, CORS) are
/// set afresh by the outer layers for the retry. Never a credential: `X-Guest-Cart` only
/// comes with a new guest cart, an answer that is never kept.
const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "location",
    "retry-after",
    "x-consistency-token",
];

/// The guest cart header (see `cart::owner`), whose token scopes a guest's keys.
const GUEST_HEADER: &str = "x-guest-cart";

/// Every this many claims, expired answers are swept.
const SWEEP_EVERY: u64 = 256;
static CLAIMS: AtomicU64 = AtomicU64::new(0);

pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) || !req.headers().contains_key(&IDEMPOTENCY_KEY)
    {
        return next.run(req).await;
    }
    // The route's pattern, not the raw path: whatever spelling reached the route, it is
    // the route that decides.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path(), MatchedPath::as_str);
    if is_auth(route) {
        return next.run(req).await;
    }
    match keyed(state, req, next).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

fn parse_key(headers: &HeaderMap) -> Result<String, ApiError> {
    headers
        .get(&IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LEN)
        .filter(|k| k.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
            )
        })
}

/// Whether `path` (under `/api/v1`, or with the prefix when a router sees it whole) is one
/// of `/auth/*`.
fn is_auth(path: &str) -> bool {
    path.strip_prefix("/api/v1")
        .unwrap_or(path)
        .starts_with("/auth/")
}

/// Whose keys these are: the user of a valid access token, else the guest of a cart token;
/// `None` for anyone else, whose keys are not kept.
async fn scope_of(parts: &mut Parts, state: &AppState) -> Option<String> {
    if parts.headers.contains_key(header::AUTHORIZATION) {
        return AuthUser::from_request_parts(parts, state)
            .await
            .ok()
            .map(|user| format!("user:{}", user.user_id));
    }
    let token = parts
        .headers
        .get(GUEST_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| uuid::Uuid::parse_str(t.trim()).ok())?;
    // The token is the guest's credential for the cart: the table keeps only its hash.
    let digest = Sha256::digest(token.as_bytes());
    Some(format!("guest:{}", URL_SAFE_NO_PAD.encode(digest)))
}

fn fingerprint(parts: &Parts, body: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(parts.method.as_str().as_bytes());
    h.update(b"\n");
    h.update(
        parts
            .uri
            .path_and_query()
            .map_or(parts.uri.path(), |p| p.as_str())
            .as_bytes(),
    );
    h.update(b"\n");
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => h.update(serde_json::to_vec(&v).unwrap_or_else(|_| body.to_vec())),
        Err(_) => h.update(body),
    }
    h.finalize().to_vec()
}

/// A kept answer: status, `[name, value]` headers, body.
type Kept = (Option<i16>, Option<serde_json::Value>, Option<Vec<u8>>);

#[derive(sqlx::FromRow)]
struct KeptRow {
    fingerprint: Vec<u8>,
    status: Option<i16>,
    headers: Option<serde_json::Value>,
    body: Option<Vec<u8>>,
}

enum Claim {
    /// This request holds the key and runs.
    Ours,
    Replay(Response),
    InFlight,
    Mismatch,
    /// The scope keeps its quota of answers already; the oldest expires in this long.
    OverQuota(Duration),
}

async fn claim(
    pool: &PgPool,
    scope: &str,
    key: &str,
    fingerprint: &[u8],
    quota: u32,
) -> Result<Claim, ApiError> {
    if CLAIMS
        .fetch_add(1, Ordering::Relaxed)
        .is_multiple_of(SWEEP_EVERY)
    {
        sqlx::query("delete from idempotency.responses where expires_at < now()")
            .execute(pool)
            .await?;
    }
    // Twice: the holder may let go (a 5xx) between our insert and our look.
    for _ in 0..2 {
        sqlx::query(
            "delete from idempotency.responses
              where scope = $1 and idempotency_key = $2
                and (expires_at < now()
                     or (status is null and created_at < now() - make_interval(secs => $3)))",
        )
        .bind(scope)
        .bind(key)
        .bind(IN_FLIGHT_LEASE.as_secs_f64())
        .execute(pool)
        .await?;
        // The quota holds only new keys back: a kept answer is still replayed.
        let inserted = sqlx::query(
            "insert into idempotency.responses (scope, idempotency_key, fingerprint, expires_at)
             select $1, $2, $3, now() + make_interval(secs => $4)
              where $5 = 0 or (select count(*) from idempotency.responses
                                where scope = $1 and expires_at >= now()) < $5
             on conflict (scope, idempotency_key) do nothing",
        )
        .bind(scope)
        .bind(key)
        .bind(fingerprint)
        .bind(TTL.as_secs_f64())
        .bind(i64::from(quota))
        .execute(pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(Claim::Ours);
        }
        let row: Option<KeptRow> = sqlx::query_as(
            "select fingerprint, status, headers, body from idempotency.responses
                  where scope = $1 and idempotency_key = $2",
        )
        .bind(scope)
        .bind(key)
        .fetch_optional(pool)
        .await?;
        let Some(KeptRow {
            fingerprint: kept_fingerprint,
            status,
            headers,
            body,
        }) = row
        else {
            if let Some(wait) = over_quota(pool, scope, quota).await? {
                return Ok(Claim::OverQuota(wait));
            }
            continue;
        };
        if kept_fingerprint != fingerprint {
            return Ok(Claim::Mismatch);
        }
        return Ok(match status {
            None => Claim::InFlight,
            Some(_) => Claim::Replay(replay((status, headers, body))),
        });
    }
    Ok(Claim::InFlight)
}

/// When `scope` holds `quota` unexpired answers: how long until the oldest expires.
async fn over_quota(pool: &PgPool, scope: &str, quota: u32) -> Result<Option<Duration>, ApiError> {
    if quota == 0 {
        return Ok(None);
    }
    let (count, oldest_in): (i64, Option<f64>) = sqlx::query_as(
        "select count(*), extract(epoch from min(expires_at) - now())::float8
           from idempotency.responses where scope = $1 and expires_at >= now()",
    )
    .bind(scope)
    .fetch_one(pool)
    .await?;
    Ok((count >= i64::from(quota))
        .then(|| Duration::from_secs_f64(oldest_in.unwrap_or(1.0).max(1.0).ceil())))
}

fn replay((status, headers, body): Kept) -> Response {
    let status = status
        .and_then(|s| StatusCode::from_u16(s as u16).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = Response::new(Body::from(body.unwrap_or_default()));
    *response.status_mut() = status;
    let pairs: Vec<(String, String)> = headers
        .and_then(|h| serde_json::from_value(h).ok())
        .unwrap_or_default();
    for (name, value) in pairs {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(n, v);
        }
    }
    response.headers_mut().insert(
        IDEMPOTENT_REPLAYED.clone(),
        HeaderValue::from_static("true"),
    );
    response
}

/// The key held by a running request. Dropped without [`Held::keep`] (a 5xx, a panic, a
/// dropped connection), it lets go of the key so a retry runs.
struct Held {
    pool: PgPool,
    scope: String,
    key: String,
    armed: bool,
}

impl Held {
    async fn keep(mut self, status: StatusCode, headers: &HeaderMap, body: &Bytes) {
        let kept: Vec<(&str, &str)> = KEPT_HEADERS
            .iter()
            .flat_map(|name| {
                headers
                    .get_all(*name)
                    .iter()
                    .filter_map(move |v| v.to_str().ok().map(|v| (*name, v)))
            })
            .collect();
        let stored = sqlx::query(
            "update idempotency.responses set status = $3, headers = $4, body = $5
              where scope = $1 and idempotency_key = $2",
        )
        .bind(&self.scope)
        .bind(&self.key)
        .bind(status.as_u16() as i16)
        .bind(serde_json::json!(kept))
        .bind(body.as_ref())
        .execute(&self.pool)
        .await;
        match stored {
            Ok(_) => self.armed = false,
            // The answer still goes out; without a kept copy a retry runs the command again,
            // which is what a client without a key would get.
            Err(e) => tracing::warn!(error = %e, "could not keep an idempotent answer"),
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (pool, scope, key) = (self.pool.clone(), self.scope.clone(), self.key.clone());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let released = sqlx::query(
                    "delete from idempotency.responses
                      where scope = $1 and idempotency_key = $2 and status is null",
                )
                .bind(scope)
                .bind(key)
                .execute(&pool)
                .await;
                if let Err(e) = released {
                    tracing::warn!(error = %e, "could not release an idempotency key; it expires");
                }
            });
        }
    }
}

async fn keyed(state: AppState, req: Request, next: Next) -> Result<Response, ApiError> {
    let key = parse_key(req.headers())?;
    let (mut parts, body) = req.into_parts();
    let Some(scope) = scope_of(&mut parts, &state).await else {
        return Ok(next.run(Request::from_parts(parts, body)).await);
    };
    // Bounded by the same limit the body layer enforces; over it, the same 413.
    let body = axum::body::to_bytes(body, state.config.max_body_bytes)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?;
    let fingerprint = fingerprint(&parts, &body);
    let quota = state.config.idempotency_quota;
    match claim(&state.pool, &scope, &key, &fingerprint, quota).await? {
        Claim::Ours => {}
        Claim::OverQuota(retry_after) => {
            return Err(ApiError::TooManyRequests {
                code: "idempotency_quota_exceeded",
                detail: format!(
                    "this caller already has {quota} Idempotency-Key answers kept; retry later, or send the command without a key"
                ),
                retry_after,
            })
        }
        Claim::Replay(response) => return Ok(response),
        Claim::InFlight => {
            return Err(ApiError::conflict(
                "idempotency_key_in_flight",
                "a request with this Idempotency-Key is still being answered; retry shortly",
            ))
        }
        Claim::Mismatch => {
            return Err(ApiError::UnprocessableEntity {
                code: "idempotency_key_reused",
                detail: "this Idempotency-Key was used for a different request".into(),
                errors: vec![crate::error::FieldError::new(
                    "Idempotency-Key",
                    "already used with another method, path or body",
                )],
            })
        }
    }
    // The command's id derives from the key: should this request die after its command
    // appended (its gateway killed), the retry that runs once the claim's lease is over
    // decides the same command again, which the store and the use cases recognise.
    if let Some(id) = parts.extensions.get_mut::<RequestId>() {
        id.derive_command_id(&scope, &key);
    }
    let held = Held {
        pool: state.pool.clone(),
        scope,
        key,
        armed: true,
    };
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    if !response.status().is_success() {
        // `held` drops unkept: the key is free for the retry.
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return Err(ApiError::internal(format!("reading the answer: {e}"))),
    };
    held.keep(parts.status, &parts.headers, &body).await;
    Ok(Response::from_parts(parts, Body::from(body)))
}
