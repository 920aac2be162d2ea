//! Read-your-writes: every command answers with `X-Consistency-Token` (the `$all` position
//! of its last event); a query that sends it back waits, up to `CONSISTENCY_WAIT`, until the
//! read model it reads has applied that position.
//!
//! A token beyond the store's committed head names no write, so it is refused at once
//! (400 `invalid_consistency_token`) rather than waited on: waiting made every forged
//! token cost the server a full wait. Waits sleep until the read model's runner announces
//! a move (see `projections::checkpoint::waiter`), they do not poll the checkpoint table.

use axum::http::{HeaderMap, HeaderValue};
use commands::store::Position;

use crate::error::ApiError;
use crate::state::AppState;

pub const HEADER: &str = "x-consistency-token";

/// The `X-Consistency-Token` header of a command's answer: the position of its last event
/// (none when it appended nothing).
pub fn headers(position: Option<Position>) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Some(v) = position.and_then(|p| HeaderValue::from_str(&p.to_string()).ok()) {
        h.insert(HEADER, v);
    }
    h
}

/// The position a client's `X-Consistency-Token` names, if it sent one.
pub fn token(headers: &HeaderMap) -> Result<Option<Position>, ApiError> {
    let Some(token) = headers.get(HEADER) else {
        return Ok(None);
    };
    token
        .to_str()
        .ok()
        .and_then(|t| t.parse().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_consistency_token",
                "X-Consistency-Token must be <commit>/<prepare> as a command answered it",
            )
        })
}

/// Waits until `projection` covers the position in the request's `X-Consistency-Token`
/// (at once when there is none); 400 `invalid_consistency_token` when the store never gave
/// that position, 503 `projection_lag` when the read model does not reach it in time.
pub async fn caught_up(
    state: &AppState,
    headers: &HeaderMap,
    projection: &str,
) -> Result<(), ApiError> {
    reached(state, projection, token(headers)?).await
}

/// Waits until `projection` covers `target` (at once when `None`), as [`caught_up`] does
/// for a token: the console waits so before showing what a command of its own changed.
pub async fn reached(
    state: &AppState,
    projection: &str,
    target: Option<Position>,
) -> Result<(), ApiError> {
    let Some(target) = target else {
        return Ok(());
    };
    let deadline = tokio::time::Instant::now() + state.config.consistency_wait;
    // Often the read model is there already, and the waiter knows it without a query.
    if state.checkpoints.known(projection) >= target {
        return Ok(());
    }
    if target > state.store.committed_head().await? {
        return Err(ApiError::bad_request(
            "invalid_consistency_token",
            "X-Consistency-Token is beyond every write the store has: send back a token a command answered",
        ));
    }
    if state
        .checkpoints
        .wait_for(projection, target, deadline)
        .await?
    {
        return Ok(());
    }
    Err(ApiError::ServiceUnavailable {
        code: "projection_lag",
        detail: "the read model has not caught up with your last change yet; retry shortly".into(),
    })
}

/// How far `projection` has applied `$all`: an answer read after this reflects at least
/// that much, so a cache can tell whether it covers a client's token.
pub async fn applied(state: &AppState, projection: &str) -> Result<Position, ApiError> {
    Ok(projections::checkpoint::position(&state.pool, projection).await?)
}
